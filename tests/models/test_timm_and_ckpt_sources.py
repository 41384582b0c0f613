"""Model specs, the timm sources (local files through timm's pretrained path) and ckpt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bias.errors import VitbiasError
from bias.models import SOURCES, load_model, parse_spec, state_dict_sha256
from models.tiny import TIMM_ARCH, TINY, save_weights, tiny_ckpt, tiny_timm

SPEC = f"timm:{TIMM_ARCH}"


def backbone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith("head.")}


def test_parse_spec_forms():
    assert parse_spec("timm:vit_small_patch16_224") == parse_spec("timm:vit_small_patch16_224")
    s = parse_spec("timm:vit_small_patch16_224@/w/a@b.pth")
    assert (s.source, s.name, s.location) == ("timm", "vit_small_patch16_224", "/w/a@b.pth")
    assert parse_spec("timm:vit_small_patch16_224").location is None
    c = parse_spec("ckpt:models/x@1")
    assert (c.source, c.path) == ("ckpt", Path("models/x@1"))
    o = parse_spec("open_clip:ViT-B-32@openai")
    assert (o.name, o.location) == ("ViT-B-32", "openai")


@pytest.mark.parametrize("spec", ["hub:vit", "vit_small_patch16_224", "torch:resnet"])
def test_unknown_source_lists_known(spec):
    with pytest.raises(VitbiasError) as err:
        parse_spec(spec)
    for known in sorted(SOURCES):
        assert known in str(err.value)


@pytest.mark.parametrize("spec", ["timm:", "open_clip:ViT-B-32", "timm:@w.pth"])
def test_incomplete_spec(spec):
    with pytest.raises(VitbiasError, match="incomplete"):
        parse_spec(spec)


def test_unknown_timm_model_suggests():
    with pytest.raises(VitbiasError, match="vit_tiny_patch16_224"):
        load_model("timm:vit_tiny_patch16_22")


@pytest.mark.parametrize("suffix", [".safetensors", ".pth", ".bin"])
def test_local_file_loads_through_timm_and_drops_head(tmp_path, suffix):
    # Saved with a 7-class head; loaded with num_classes=0: timm drops the head.
    src = tiny_timm(seed=1, num_classes=7)
    path = save_weights(src.state_dict(), tmp_path / f"w{suffix}")
    loaded = load_model(f"{SPEC}@{path}", **TINY)
    state = loaded.module.state_dict()
    assert "head.weight" not in state and isinstance(loaded.module.head, torch.nn.Identity)
    expected = backbone(src.state_dict())
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    assert loaded.weights_sha256 == state_dict_sha256(loaded.module)
    assert not loaded.module.training


def test_same_weights_same_hash_across_formats(tmp_path):
    src = tiny_timm(seed=2)
    a = load_model(f"{SPEC}@{save_weights(src.state_dict(), tmp_path / 'w.safetensors')}", **TINY)
    b = load_model(f"{SPEC}@{save_weights(src.state_dict(), tmp_path / 'w.pth')}", **TINY)
    c = load_model(f"{SPEC}@{save_weights(tiny_timm(seed=3).state_dict(), tmp_path / 'v.pth')}",
                   **TINY)
    assert a.weights_sha256 == b.weights_sha256 != c.weights_sha256


def test_checkpoint_filter_fn_runs(tmp_path):
    """timm's filter strips an open_clip 'visual.trunk.' prefix inside a 'model' wrapper and
    resamples the position embedding to another image size."""
    from timm.layers import resample_abs_pos_embed

    src = tiny_timm(seed=4)
    wrapped = {"model": {f"visual.trunk.{k}": v for k, v in src.state_dict().items()}}
    path = save_weights(wrapped, tmp_path / "wrapped.pth")
    same = load_model(f"{SPEC}@{path}", **TINY).module.state_dict()
    assert all(torch.equal(same[k], v) for k, v in backbone(src.state_dict()).items())

    bigger = load_model(f"{SPEC}@{path}", **{**TINY, "img_size": 48})
    pos = bigger.module.pos_embed.detach()
    assert pos.shape == (1, 1 + 6 * 6, TINY["embed_dim"])  # 4x4 grid resampled to 6x6
    expected = resample_abs_pos_embed(src.pos_embed.detach(), new_size=(6, 6),
                                      num_prefix_tokens=1)
    torch.testing.assert_close(pos, expected)
    assert bigger.preprocessing["input_size"] == [3, 48, 48]


def test_file_that_does_not_match_is_refused(tmp_path):
    path = save_weights({"foo": torch.zeros(3)}, tmp_path / "other.safetensors")
    with pytest.raises(VitbiasError, match="does not match"):
        load_model(f"{SPEC}@{path}", **TINY)
    deeper = save_weights(tiny_timm(depth=4).state_dict(), tmp_path / "deeper.safetensors")
    with pytest.raises(VitbiasError, match="does not match"):
        load_model(f"{SPEC}@{deeper}", **TINY)
    wider = save_weights(tiny_timm(embed_dim=48).state_dict(), tmp_path / "wider.safetensors")
    with pytest.raises(VitbiasError, match=re.escape(str(wider))):
        load_model(f"{SPEC}@{wider}", **TINY)


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(VitbiasError, match="not found"):
        load_model(f"{SPEC}@{tmp_path / 'nope.safetensors'}")
    (tmp_path / "w.ckpt").write_bytes(b"x")
    with pytest.raises(VitbiasError, match="unsupported type"):
        load_model(f"{SPEC}@{tmp_path / 'w.ckpt'}")


def test_timm_preprocessing_recorded(tmp_path):
    path = save_weights(tiny_timm().state_dict(), tmp_path / "w.safetensors")
    pp = load_model(f"{SPEC}@{path}", **TINY).preprocessing
    # vit_tiny_patch16_224's default tag normalises with 0.5; the size follows img_size=32.
    assert pp["input_size"] == [3, 32, 32] and pp["mean"] == [0.5, 0.5, 0.5]
    assert {"interpolation", "crop_pct", "crop_mode", "std"} <= set(pp)


def test_ckpt_source_uses_meta_and_data_config(tmp_path):
    src = tiny_ckpt(tmp_path / "ck", init_seed=5, objective="mae", size="tiny", seed=1,
                    data_config={"mean": [0.2, 0.3, 0.4], "std": [0.1, 0.1, 0.1]})
    loaded = load_model(f"ckpt:{src}")
    assert loaded.meta["objective"] == "mae" and loaded.source == "ckpt"
    assert loaded.preprocessing["mean"] == [0.2, 0.3, 0.4]
    assert loaded.preprocessing["source"] == "model.json data_config"
    assert loaded.preprocessing["input_size"] == [3, 32, 32]
    expected = tiny_timm(seed=5, num_classes=4).state_dict()
    assert all(torch.equal(loaded.module.state_dict()[k], v) for k, v in expected.items())
    with pytest.raises(VitbiasError, match="own model arguments"):
        load_model(f"ckpt:{src}", img_size=64)
    with pytest.raises(VitbiasError, match="not found"):
        load_model(f"ckpt:{tmp_path / 'missing'}")


OFFLINE_SCRIPT = """
from bias.errors import VitbiasError
from bias.models import load_model
for spec in ("timm:vit_tiny_patch16_224", "open_clip:ViT-B-32@openai"):
    try:
        load_model(spec)
        print("LOADED", spec)
    except VitbiasError as exc:
        print("ERROR", exc)
"""


def test_offline_without_cache_says_how_to_pass_a_file(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "TORCH_HOME": str(tmp_path / "torch"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    out = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300).stdout.splitlines()
    assert len(out) == 2 and all(line.startswith("ERROR") for line in out), out
    assert "timm:vit_tiny_patch16_224@/path/to/weights.safetensors" in out[0]
    assert "open_clip:ViT-B-32@/path/to/weights.safetensors" in out[1]
    assert not list((tmp_path / "hf").rglob("*.safetensors"))
