"""The batched view transforms: read from the PIL pipelines, seeded, per-sample."""

from __future__ import annotations

import pytest
import torch
from torchvision import transforms as T

from bias.errors import VitbiasError
from bias.objectives.augment import ViewSpec, build_view_transform
from bias.objectives.batch_augment import (
    Apply,
    Blur,
    ColorJitter,
    Flip,
    Grayscale,
    ResizedCrop,
    Solarize,
    UnsupportedAugmentation,
    batch_views_from,
    build_batch_view_transform,
    take,
)
from bias.objectives.batch_ops import solarize

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SPECS = [ViewSpec("classify", 1, 0.35), ViewSpec("contrastive", 2), ViewSpec("asymmetric", 2),
         ViewSpec("multicrop", 2, 0.4, n_local=2), ViewSpec("masked", 1, 0.67)]


def scene(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """uint8 (n, 3, size, size): colourful random blocks, so colour ops show."""
    g = torch.Generator().manual_seed(seed)
    small = torch.randint(0, 256, (n, 3, size // 4, size // 4), generator=g, dtype=torch.uint8)
    return small.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_views_shapes_ranges_and_seeds(spec):
    views = build_batch_view_transform(spec, 24, MEAN, STD)
    x = scene(8)
    out = views(x, gen(0))
    assert len(out) == spec.n_views + spec.n_local
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    for v in out:
        assert v.shape == (8, 3, 24, 24) and v.dtype == torch.float32
        pixels = v * std + mean  # undo the normalisation
        assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5
    again = views(x, gen(0))
    assert all(torch.equal(a, b) for a, b in zip(out, again, strict=True))
    other = views(x, gen(1))
    assert not any(torch.equal(a, b) for a, b in zip(out, other, strict=True))


@pytest.mark.parametrize("spec", SPECS[1:3], ids=lambda s: s.kind)
def test_parameters_differ_within_a_batch(spec):
    x = scene(1).expand(32, -1, -1, -1)  # one image, 32 times
    for v in build_batch_view_transform(spec, 32, MEAN, STD)(x, gen(0)):
        assert v.flatten(1).unique(dim=0).shape[0] == 32


def test_a_sample_views_do_not_depend_on_its_batch():
    """Draw for the epoch, take a batch's rows: sample i's views are the same in any batch
    (what keeps one- and multi-process training equal)."""
    views = build_batch_view_transform(ViewSpec("asymmetric", 2), 32, MEAN, STD)
    x = scene(12)
    params = views.draw(12, gen(3), (32, 32))
    full = views.apply(x, params)
    idx = torch.tensor([7, 2, 9])
    part = views.apply(x[idx], take(params, idx))
    for a, b in zip(full, part, strict=True):
        assert torch.allclose(a[idx], b, atol=1e-6)


def test_steps_and_ranges_are_read_from_the_pil_pipeline():
    byol = batch_views_from(build_view_transform(ViewSpec("asymmetric", 2, 0.3), 32, MEAN, STD))
    v1, v2 = byol.views
    assert [type(op) for op in v2] == [ResizedCrop, Flip, Flip, Apply, Grayscale, Blur,
                                        Solarize, type(v2[-1])]
    crop, hflip, vflip, jitter = v2[:4]
    assert crop.scale == (0.3, 1.0) and crop.mode == "bilinear" and crop.size == 32
    assert (hflip.p, hflip.dim, vflip.p) == (0.5, -1, 0.0)
    assert jitter.p == 0.8 and isinstance(jitter.inner[0], ColorJitter)
    assert jitter.inner[0].ranges == [(0.6, 1.4), (0.6, 1.4), (0.8, 1.2), (-0.1, 0.1)]
    assert v2[4].p == 0.2 and v2[5].p == 0.0  # no blur below 64 px
    assert v1[6].p == 0.0 and v2[6].p == 0.2  # solarize only the second view
    cls = batch_views_from(build_view_transform(ViewSpec("classify", 1, 0.35), 32, MEAN, STD))
    assert cls.views[0][0].mode == "bicubic" and cls.views[0][0].scale == (0.35, 1.0)
    dino = batch_views_from(build_view_transform(SPECS[3], 32, MEAN, STD))
    assert [v[0].scale for v in dino.views] == [(0.4, 1.0)] * 2 + [(0.05, 0.4)] * 2


def test_blur_appears_at_64_px_and_probabilities_hold():
    views = build_batch_view_transform(ViewSpec("contrastive", 2), 64, MEAN, STD)
    assert views.views[0][5].p == 0.5  # lightly's SimCLR blur, on at 64 px
    n = 2000
    params = views.draw(n, gen(0), (64, 64))
    flips, jitter, gray = params[0][1], params[0][3], params[0][4]
    for drawn, p in ((flips, 0.5), (jitter[0], 0.8), (gray, 0.2)):
        assert abs(drawn.float().mean().item() - p) < 4 * (p * (1 - p) / n) ** 0.5


def test_grayscale_share_of_outputs():
    views = build_batch_view_transform(ViewSpec("contrastive", 2), 16, (0.0,) * 3, (1.0,) * 3)
    out = views(scene(1, 16).expand(1000, -1, -1, -1), gen(0))[0]
    gray = ((out[:, 0] - out[:, 1]).abs().amax(dim=(1, 2)) < 1e-6).float().mean().item()
    assert abs(gray - 0.2) < 0.05


def test_unknown_step_is_refused_by_name():
    pipeline = T.Compose([T.RandomResizedCrop(32), T.RandomRotation(10), T.ToTensor()])
    with pytest.raises(UnsupportedAugmentation, match="RandomRotation"):
        batch_views_from(pipeline)
    with pytest.raises(UnsupportedAugmentation, match="must start with RandomResizedCrop"):
        batch_views_from(T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]))


@pytest.mark.parametrize("kind", ["asymmetric", "multicrop"])
def test_solarize_sets_the_second_views_probability(kind):
    """``solarize`` reaches the second view of BYOL/MoCo v3 and DINO views (the first stays
    unsolarized), and solarizing does map a light skin colour to a dark one."""
    for prob in (0.0, 0.7):
        spec = ViewSpec(kind, 2, 0.4, solarize=prob)
        views = batch_views_from(build_view_transform(spec, 32, MEAN, STD)).views
        sol = [[op.p for op in v if isinstance(op, Solarize)] for v in views[:2]]
        assert sol == [[0.0], [prob]]
    light, dark = torch.tensor([[228, 186, 156], [146, 98, 70]]) / 255  # the world's skins
    solarized = solarize(torch.stack([light, dark]), 0.5).mean(dim=1)
    assert solarized[0] < solarized[1] and light.mean() > dark.mean()  # the order flips


def test_solarize_outside_zero_one_is_refused():
    with pytest.raises(VitbiasError, match="solarize"):
        ViewSpec("asymmetric", 2, solarize=1.5)
