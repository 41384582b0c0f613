"""Masks, pixel targets and seeded view transforms."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image

from bias.objectives.augment import ViewSpec, build_view_transform, derive_seed, seeded_rngs
from bias.objectives.masking import block_patch_mask, patch_targets, random_patch_mask


def test_random_patch_mask_partitions_patches_and_repeats_by_seed():
    keep, hidden = random_patch_mask(5, 64, 0.75, torch.Generator().manual_seed(0))
    assert keep.shape == (5, 16) and hidden.shape == (5, 48)
    for row in torch.cat([keep, hidden], 1):
        assert sorted(row.tolist()) == list(range(64))
    again, _ = random_patch_mask(5, 64, 0.75, torch.Generator().manual_seed(0))
    other, _ = random_patch_mask(5, 64, 0.75, torch.Generator().manual_seed(1))
    assert torch.equal(keep, again) and not torch.equal(keep, other)


def test_block_patch_mask_masks_whole_blocks_at_the_ratio():
    mask = block_patch_mask(4, 8, 0.5, 2, torch.Generator().manual_seed(0))
    assert mask.shape == (4, 64) and mask.dtype == torch.bool
    grid = mask.view(4, 8, 8)
    blocks = grid.view(4, 4, 2, 4, 2).permute(0, 1, 3, 2, 4).reshape(4, 16, 4)
    assert bool((blocks.all(-1) | ~blocks.any(-1)).all())  # each 2x2 block all or nothing
    assert mask.sum(1).tolist() == [32] * 4
    with pytest.raises(ValueError, match="multiple"):
        block_patch_mask(1, 7, 0.5, 2, torch.Generator())


def test_patch_targets_follow_timm_patch_order():
    x = torch.randn(2, 3, 8, 8)
    t = patch_targets(x, 4, normalize=False)
    assert t.shape == (2, 4, 48)
    for idx, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        patch = x[:, :, r * 4:(r + 1) * 4, c * 4:(c + 1) * 4].permute(0, 2, 3, 1).reshape(2, 48)
        assert torch.equal(t[:, idx], patch)
    # The same order as timm's patch embedding (a conv with stride = patch size).
    conv = torch.nn.Conv2d(3, 1, 4, 4, bias=False)
    tokens = conv(x).flatten(2).transpose(1, 2)[..., 0]  # (2, 4)
    weight = conv.weight[0].permute(1, 2, 0).reshape(48)
    assert torch.allclose(tokens, t @ weight, atol=1e-5)
    norm = patch_targets(x, 4, normalize=True)
    assert torch.allclose(norm.mean(-1), torch.zeros(2, 4), atol=1e-5)
    assert torch.allclose(norm.std(-1), torch.ones(2, 4), atol=1e-3)


def test_seeded_rngs_restores_global_state():
    torch.manual_seed(11)
    np.random.seed(11)  # noqa: NPY002
    random.seed(11)
    want = (torch.rand(1).item(), np.random.rand(), random.random())  # noqa: NPY002
    torch.manual_seed(11)
    np.random.seed(11)  # noqa: NPY002
    random.seed(11)
    with seeded_rngs(123):
        inside = torch.rand(1).item()
    assert (torch.rand(1).item(), np.random.rand(), random.random()) == want  # noqa: NPY002
    with seeded_rngs(123):
        assert torch.rand(1).item() == inside


def test_derive_seed_is_stable_and_decorrelated():
    assert derive_seed(0, 1, 2) == derive_seed(0, 1, 2)
    assert len({derive_seed(0, 0, i) for i in range(100)}) == 100
    assert derive_seed(0, 1, 2) != derive_seed(0, 1, 2, 0)
    assert 0 <= derive_seed(5, 5) < 2 ** 62


@pytest.mark.parametrize(("spec", "n"), [
    (ViewSpec("classify"), 1), (ViewSpec("masked"), 1), (ViewSpec("contrastive", 2), 2),
    (ViewSpec("asymmetric", 2), 2), (ViewSpec("multicrop", 2, min_scale=0.4, n_local=2), 4)])
def test_view_transforms_shapes_and_seeding(spec, n):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    transform = build_view_transform(spec, 32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    with seeded_rngs(7):
        a = transform(img)
    with seeded_rngs(7):
        b = transform(img)
    with seeded_rngs(8):
        c = transform(img)
    assert len(a) == n and all(v.shape == (3, 32, 32) and v.dtype == torch.float32 for v in a)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(torch.equal(u, v) for u, v in zip(a, c, strict=True))
