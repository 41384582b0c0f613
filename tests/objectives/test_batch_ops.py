"""Batched augmentation ops against torchvision's per-image kernels (an independent method)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import RandomResizedCrop

from bias.objectives import batch_ops as ops


def images(n: int = 6, size: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("name", "theirs", "lo", "hi"), [
    ("adjust_brightness", TF.adjust_brightness, 0.2, 1.8),
    ("adjust_contrast", TF.adjust_contrast, 0.2, 1.8),
    ("adjust_saturation", TF.adjust_saturation, 0.2, 1.8),
    ("adjust_hue", TF.adjust_hue, -0.5, 0.5),
])
def test_colour_ops_match_torchvision_per_sample(name, theirs, lo, hi):
    x = images()
    factors = torch.linspace(lo, hi, x.shape[0])
    got = getattr(ops, name)(x, factors)
    want = torch.stack([theirs(img, float(f)) for img, f in zip(x, factors, strict=True)])
    # torchvision's luma weights are 0.2989/0.587/0.114, ours PIL's 0.299/0.587/0.114 (the
    # per-sample path runs PIL): a 1e-4 difference in the gray reference of contrast and
    # saturation.
    assert torch.allclose(got, want, atol=3e-4), (got - want).abs().max()
    if name != "adjust_hue":  # factor 1 leaves the image bit-identical
        assert torch.equal(getattr(ops, name)(x, torch.ones(6)), x)


def test_hsv_round_trip_and_gray_pixels():
    x = images(4)
    x[0] = 0.5  # gray: hue and saturation 0, no NaN
    hsv = ops.rgb_to_hsv(x)
    assert torch.isfinite(hsv).all() and hsv[0, :2].abs().max() == 0
    assert torch.allclose(ops.hsv_to_rgb(hsv), x, atol=1e-6)


def test_grayscale_solarize_normalize_match_pil_and_torchvision():
    from PIL import Image

    x = images()
    pixels = (x[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    pil_l = torch.from_numpy(np.array(Image.fromarray(pixels).convert("L"))).flatten().float()
    ours = ops.to_grayscale(torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255)
    assert (ours[0, 0].flatten() * 255 - pil_l).abs().max() <= 0.5 + 1e-3  # PIL rounds
    assert torch.equal(ours[:, 0], ours[:, 1]) and torch.equal(ours[:, 0], ours[:, 2])
    assert torch.allclose(ops.to_grayscale(x), TF.rgb_to_grayscale(x, num_output_channels=3),
                          atol=3e-4)
    assert torch.equal(ops.solarize(x, 0.5), TF.solarize(x, 0.5))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    assert torch.allclose(ops.normalize(x, mean, std), TF.normalize(x, mean, std), atol=1e-6)


def test_blur_matches_torchvision_per_sample_and_ignores_the_batch():
    x = images(5, 32)
    sigma = torch.tensor([0.3, 0.8, 1.2, 1.6, 2.0])
    got = ops.gaussian_blur(x, sigma, max_sigma=2.0)
    size = 2 * math.ceil(3 * 2.0) + 1
    want = torch.stack([TF.gaussian_blur(img, [size, size], [float(s), float(s)])
                        for img, s in zip(x, sigma, strict=True)])
    assert torch.allclose(got, want, atol=1e-5)
    alone = ops.gaussian_blur(x[1:2], sigma[1:2], max_sigma=2.0)
    assert torch.equal(alone, got[1:2])


def test_flip_mirrors_only_the_chosen_images():
    ramp = torch.arange(8.0).view(1, 1, 1, 8).expand(3, 3, 8, 8)  # value = column index
    out = ops.flip(ramp, torch.tensor([True, False, True]), dim=-1)
    assert torch.equal(out[0, 0, 0], torch.arange(7.0, -1, -1))
    assert torch.equal(out[1], ramp[1]) and torch.equal(out[2], out[0])


def test_crop_of_the_whole_image_at_its_own_size_is_exact():
    x = (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8)
    boxes = torch.tensor([[0, 0, 16, 16]] * 2)
    for mode in ("bilinear", "bicubic"):
        assert torch.allclose(ops.resized_crop(x, boxes, 16, mode), x.float() / 255, atol=1e-6)


def test_upscaled_crop_equals_crop_then_bilinear_resize():
    """A known pattern; crop + resize done by torchvision on the cropped tensor."""
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    pattern = torch.stack([xx / 31, yy / 31, ((xx + yy) % 7) / 6]).unsqueeze(0)
    boxes = torch.tensor([[3, 5, 12, 20], [0, 0, 32, 24], [10, 2, 22, 17]])
    x = pattern.expand(3, -1, -1, -1)
    got = ops.resized_crop(x, boxes, 32, "bilinear")
    for img, (top, left, h, w), out in zip(x, boxes.tolist(), got, strict=True):
        want = F.interpolate(img[:, top:top + h, left:left + w].unsqueeze(0), size=(32, 32),
                             mode="bilinear", align_corners=False)[0]
        assert torch.allclose(out, want, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_crops_match_pil_resize_up_and_down(mode):
    """What the per-sample path does: torchvision's resized_crop on a PIL image (PIL's
    filters, a = -0.5 bicubic, antialiased when shrinking). PIL rounds to uint8 after each
    of its two passes, hence the 1.5/255 tolerance."""
    from PIL import Image
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF1

    rng = np.random.default_rng(0)
    # Blocks (edges and flats) in [40, 215]: bicubic overshoot stays inside [0, 255], so PIL's
    # clipping between passes (whose order varies across Pillow versions) never triggers.
    small = rng.integers(40, 216, (12, 16, 3), dtype=np.uint8)
    pixels = small.repeat(4, axis=0).repeat(4, axis=1)  # (48, 64, 3)
    x = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).expand(4, -1, -1, -1)
    boxes = torch.tensor([[0, 0, 48, 64], [5, 9, 40, 30], [20, 33, 9, 12], [1, 2, 47, 20]])
    got = ops.resized_crop(x, boxes, 24, mode)
    pil = Image.fromarray(pixels)
    for box, out in zip(boxes.tolist(), got, strict=True):
        ref = TF1.resized_crop(pil, *box, [24, 24], InterpolationMode(mode), antialias=True)
        want = torch.from_numpy(np.array(ref)).permute(2, 0, 1).float() / 255
        assert (out - want).abs().max() <= 1.5 / 255, (box, (out - want).abs().max() * 255)


def test_crop_boxes_follow_torchvision_sampler():
    n, gen = 4000, torch.Generator().manual_seed(0)
    scale, ratio = (0.2, 1.0), (3 / 4, 4 / 3)
    ours = ops.crop_boxes(n, 32, 48, scale, ratio, gen)
    torch.manual_seed(0)
    ref = torch.tensor([RandomResizedCrop.get_params(torch.empty(3, 32, 48), list(scale),
                                                     list(ratio)) for _ in range(n)])
    for boxes in (ours, ref):
        top, left, h, w = boxes.T
        assert (h > 0).all() and (w > 0).all()
        assert (top + h <= 32).all() and (left + w <= 48).all()
    # Same distribution: means of area fraction, log aspect and centre agree within ~4 SE.
    def stats(b):
        top, left, h, w = b.T.double()
        return torch.stack([h * w / (32 * 48), torch.log(w / h), top + h / 2, left + w / 2])
    a, b = stats(ours), stats(ref)
    se = torch.sqrt(a.var(dim=1) / n + b.var(dim=1) / n)
    assert ((a.mean(dim=1) - b.mean(dim=1)).abs() < 4 * se).all()
    assert ours.unique(dim=0).shape[0] > 500  # per-sample boxes


def test_crop_boxes_fall_back_to_torchvision_centre_crop():
    gen = torch.Generator().manual_seed(0)
    ours = ops.crop_boxes(3, 4, 64, (0.9, 1.0), (3 / 4, 4 / 3), gen)
    ref = RandomResizedCrop.get_params(torch.empty(3, 4, 64), [0.9, 1.0], [3 / 4, 4 / 3])
    assert ours.tolist() == [list(ref)] * 3
