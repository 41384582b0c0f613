"""One pass gives every layer: each equals a separate forward truncated at that layer."""

from __future__ import annotations

import pytest
import torch
from models.tiny import (
    OPEN_CLIP_CFG,
    TIMM_ARCH,
    TINY,
    save_weights,
    tiny_open_clip_dir,
    tiny_timm,
)

from bias.embed import extract_batch, model_depth, parse_layers, parse_poolings
from bias.embed.extract import check_poolings
from bias.errors import VitbiasError
from bias.models import load_model

ATOL = 1e-5


def timm_loaded(tmp_path, **overrides):
    model = tiny_timm(seed=11, **overrides)
    path = save_weights(model.state_dict(), tmp_path / "w.safetensors")
    return load_model(f"timm:{TIMM_ARCH}@{path}", **{**TINY, **overrides})


def truncated_timm(m, x, layer):
    """Tokens after blocks[:layer+1] with the final norm, run from scratch (B, L, D)."""
    h = m.norm_pre(m.patch_drop(m._pos_embed(m.patch_embed(x))))
    for blk in m.blocks[: layer + 1]:
        h = blk(h)
    return m.norm(h) if not isinstance(m.norm, torch.nn.Identity) else m.fc_norm(h)


@pytest.mark.parametrize("overrides", [{}, {"reg_tokens": 2}])
def test_timm_layers_equal_truncated_forward(tmp_path, overrides):
    loaded = timm_loaded(tmp_path, **overrides)
    m = loaded.module
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        feats = extract_batch(loaded, x, [0, 1, 2], ["cls", "mean", "prelogits"])
        n_prefix = 1 + overrides.get("reg_tokens", 0)
        for layer in range(3):
            h = truncated_timm(m, x, layer)
            torch.testing.assert_close(feats[("cls", layer)], h[:, 0], atol=ATOL, rtol=0)
            torch.testing.assert_close(feats[("mean", layer)], h[:, n_prefix:].mean(1),
                                       atol=ATOL, rtol=0)
        # num_classes=0: the model's own output is its pre-logits feature.
        torch.testing.assert_close(feats[("prelogits", 2)], m(x), atol=ATOL, rtol=0)
    assert set(feats) == {(p, i) for p in ("cls", "mean") for i in range(3)} | {("prelogits", 2)}


def test_avg_pool_model_uses_fc_norm(tmp_path):
    loaded = timm_loaded(tmp_path, class_token=False, global_pool="avg", fc_norm=True)
    m = loaded.module
    assert isinstance(m.norm, torch.nn.Identity)
    with pytest.raises(VitbiasError, match="no class token"):
        check_poolings(loaded, ["cls", "mean"])
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        feats = extract_batch(loaded, x, [1, 2], ["mean", "prelogits"])
        torch.testing.assert_close(feats[("mean", 1)], truncated_timm(m, x, 1).mean(1),
                                   atol=ATOL, rtol=0)
        torch.testing.assert_close(feats[("prelogits", 2)], m(x), atol=ATOL, rtol=0)


def test_open_clip_layers_equal_truncated_forward(tmp_path):
    loaded = load_model(f"open_clip:tiny@{tiny_open_clip_dir(tmp_path / 'oc', seed=4)}")
    v = loaded.module
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        feats = extract_batch(loaded, x, [0, 2], ["cls", "mean", "prelogits"])
        for layer in (0, 2):
            h = v._embeds(x)
            for blk in v.transformer.resblocks[: layer + 1]:
                h = blk(h)
            h = v.ln_post(h)
            torch.testing.assert_close(feats[("cls", layer)], h[:, 0], atol=ATOL, rtol=0)
            torch.testing.assert_close(feats[("mean", layer)], h[:, 1:].mean(1), atol=ATOL,
                                       rtol=0)
        torch.testing.assert_close(feats[("prelogits", 2)], v(x), atol=ATOL, rtol=0)
    assert ("cls", 1) not in feats and model_depth(loaded) == 3


def test_open_clip_timm_trunk(tmp_path):
    """An open_clip tower around a timm ViT (timm's 6-block ``test_vit``; avg pool + linear
    projection, as in many configs): the trunk's fc_norm is the final norm applied to every
    layer, and prelogits is the tower's projected output."""
    import json

    from open_clip.model import CLIP

    cfg = {**OPEN_CLIP_CFG, "vision_cfg": {"timm_model_name": "test_vit", "image_size": 160}}
    folder = tmp_path / "timm_tower"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg}))
    torch.manual_seed(5)
    save_weights(CLIP(**cfg).state_dict(), folder / "open_clip_model.safetensors")
    loaded = load_model(f"open_clip:tower@{folder}")
    trunk = loaded.module.trunk
    x = torch.randn(2, 3, 160, 160)
    with torch.inference_mode():
        feats = extract_batch(loaded, x, [3], ["cls", "mean", "prelogits"])
        h = truncated_timm(trunk, x, 3)  # norm is the identity: fc_norm per token
        torch.testing.assert_close(feats[("cls", 3)], h[:, 0], atol=ATOL, rtol=0)
        torch.testing.assert_close(feats[("mean", 3)], h[:, 1:].mean(1), atol=ATOL, rtol=0)
        torch.testing.assert_close(feats[("prelogits", 5)], loaded.module(x), atol=ATOL,
                                   rtol=0)


def test_one_forward_call_per_batch(tmp_path):
    loaded = timm_loaded(tmp_path)
    calls = []
    loaded.module.patch_embed.register_forward_hook(lambda *a: calls.append(1))
    with torch.inference_mode():
        extract_batch(loaded, torch.randn(2, 3, 32, 32), [0, 1, 2], ["cls", "mean", "prelogits"])
    assert len(calls) == 1


def test_parse_layers_and_poolings():
    assert parse_layers("all", 4) == [0, 1, 2, 3]
    assert parse_layers("3, 0,-1", 4) == [0, 3]
    assert parse_layers([1, -4], 4) == [0, 1]
    for bad in ("4", "-5", "a,b", ""):
        with pytest.raises(VitbiasError):
            parse_layers(bad, 4)
    assert parse_poolings("prelogits,cls") == ("cls", "prelogits")
    with pytest.raises(VitbiasError, match="attention"):
        parse_poolings("cls,attention")
