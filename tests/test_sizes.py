"""Size presets: geometry, errors, parameter counts against the ViT formula, rebuilds."""

from __future__ import annotations

import pytest
import timm
import torch

from bias.errors import VitbiasError
from bias.sizes import build_backbone, describe_sizes, param_count, resolve_size, size_names

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def vit_params(img: int, patch: int, dim: int, depth: int, classes: int = 0) -> int:
    """ViT parameter count by hand: patch conv, cls token, positions, blocks, norm, head."""
    tokens = (img // patch) ** 2 + 1
    block = 12 * dim * dim + 13 * dim  # qkv, proj, 4x MLP, two layer norms, biases
    head = classes * dim + classes if classes else 0
    return 3 * patch * patch * dim + dim + dim + tokens * dim + depth * block + 2 * dim + head


def test_names_and_unknown_size():
    assert size_names()[:3] == ["micro", "tiny", "small"]
    assert "vit_base_patch16_224" in size_names()
    with pytest.raises(VitbiasError, match=r"unknown model size 'huge'.*micro"):
        resolve_size("huge")


def test_geometry_parameters_and_errors():
    arch, kw = resolve_size("micro", img_size=64, patch_size=8, num_classes=5)
    assert arch.startswith("vit_") and kw["img_size"] == 64 and kw["patch_size"] == 8
    assert kw["num_classes"] == 5 and kw["embed_dim"] == 64 and kw["depth"] == 4
    assert resolve_size("vit_base_patch16_224")[1] == {"img_size": 224, "patch_size": 16,
                                                       "num_classes": 0}
    with pytest.raises(VitbiasError, match="--img-size 30 is not a multiple of --patch-size 4"):
        resolve_size("micro", img_size=30)
    with pytest.raises(VitbiasError, match="positive"):
        resolve_size("micro", patch_size=0)


@pytest.mark.parametrize(("size", "dim", "depth"), [("micro", 64, 4), ("tiny", 128, 6),
                                                   ("small", 192, 8)])
def test_presets_build_and_count(size, dim, depth):
    model, arch, kwargs = build_backbone(size, num_classes=3)
    assert param_count(model) == vit_params(32, 4, dim, depth, classes=3)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)
    # (arch, kwargs) rebuild exactly this architecture: the checkpoint contract.
    rebuilt = timm.create_model(arch, pretrained=False, **kwargs)
    assert rebuilt.load_state_dict(model.state_dict(), strict=True) is not None
    headless, _, _ = build_backbone(size, img_size=16)
    assert headless(torch.randn(1, 3, 16, 16)).shape == (1, dim)


def test_describe_sizes_matches_the_formula_for_every_size():
    rows = {r["size"]: r for r in describe_sizes()}
    assert set(rows) == set(size_names())
    for r in rows.values():
        assert r["params"] == vit_params(r["img_size"], r["patch_size"], r["dim"], r["depth"])
    assert rows["vit_base_patch16_224"]["params"] == 85_798_656  # ViT-B/16 without head
    assert rows["micro"]["params"] < rows["tiny"]["params"] < rows["small"]["params"]
    assert describe_sizes(img_size=64)[0]["img_size"] == 64
