"""Batched image augmentations with per-sample parameters: pure functions on tensors.

The in-memory training path augments a whole batch at once instead of one PIL image at a
time. Every function takes images ``x`` of shape (B, 3, H, W), float in [0, 1] (except
:func:`resized_crop`, which also reads uint8), and per-sample parameters as (B,) tensors, and
returns a new tensor (inputs are never modified). The arithmetic follows torchvision's tensor
kernels (``transforms.v2.functional``) and PIL's ImageEnhance, which the per-sample path uses:
grayscale weights 0.299/0.587/0.114, contrast blends with the mean gray level, saturation with
the gray image, hue rotates the HSV hue; results are clamped to [0, 1].

Random parameters are drawn by the callers (:mod:`bias.objectives.batch_augment`) from an
explicit ``torch.Generator``; :func:`crop_boxes` is torchvision's ``RandomResizedCrop``
sampler, vectorised.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601-2 luma, as PIL's convert("L")
CROP_ATTEMPTS = 10  # torchvision's RandomResizedCrop tries 10 boxes, then a centre crop


def _col(v: Tensor, x: Tensor) -> Tensor:
    """(B,) parameters -> (B, 1, 1, 1) on x's device and dtype, to broadcast over images."""
    return v.to(device=x.device, dtype=x.dtype).view(-1, 1, 1, 1)


def gray(x: Tensor) -> Tensor:
    """(B, 3, H, W) -> (B, 1, H, W) luma."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def _blend(x: Tensor, other: Tensor, factor: Tensor) -> Tensor:
    """f·x + (1 - f)·other, clamped; f = 1 returns x exactly (no lerp rounding)."""
    f = _col(factor, x)
    return torch.addcmul((1.0 - f) * other, f, x).clamp_(0.0, 1.0)


def adjust_brightness(x: Tensor, factor: Tensor) -> Tensor:
    """Multiply by ``factor`` (B,) (0: black, 1: unchanged)."""
    return (x * _col(factor, x)).clamp_(0.0, 1.0)


def adjust_contrast(x: Tensor, factor: Tensor) -> Tensor:
    """Blend with each image's mean gray level (0: flat gray, 1: unchanged)."""
    return _blend(x, gray(x).mean(dim=(1, 2, 3), keepdim=True), factor)


def adjust_saturation(x: Tensor, factor: Tensor) -> Tensor:
    """Blend with the image's grayscale version (0: gray, 1: unchanged)."""
    return _blend(x, gray(x), factor)


def rgb_to_hsv(x: Tensor) -> Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> HSV, every channel in [0, 1] (hue in turns).

    Gray pixels (max = min) get hue and saturation 0: their numerators are 0 too.
    """
    r, g, b = x.unbind(dim=1)
    v = torch.maximum(torch.maximum(r, g), b)  # elementwise: much faster than max(dim=1)
    c = v - torch.minimum(torch.minimum(r, g), b)
    s = c / v.clamp_min(1e-12)
    safe = c.clamp_min(1e-12)
    h = torch.where(v == r, (g - b) / safe,
                    torch.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    return torch.stack(((h / 6.0).remainder(1.0), s, v), dim=1)


def hsv_to_rgb(x: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_hsv`: channel n of RGB is v - v·s·clamp(min(k, 4 - k), 0, 1)
    with k = (n + 6h) mod 6 and n = 5, 3, 1 for R, G, B."""
    h, s, v = (t.unsqueeze(1) for t in x.unbind(dim=1))
    n = torch.tensor([5.0, 3.0, 1.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    k = (n + 6.0 * h).remainder(6.0)
    return v - v * s * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


def adjust_hue(x: Tensor, shift: Tensor) -> Tensor:
    """Rotate the hue by ``shift`` (B,) turns, in [-0.5, 0.5]."""
    hsv = rgb_to_hsv(x)
    h = (hsv[:, 0:1] + _col(shift, x)).remainder(1.0)
    return hsv_to_rgb(torch.cat([h, hsv[:, 1:]], dim=1)).clamp(0.0, 1.0)


def to_grayscale(x: Tensor) -> Tensor:
    """Luma replicated to three channels (torchvision's ``RandomGrayscale``)."""
    return gray(x).expand(-1, 3, -1, -1).contiguous()


def flip(x: Tensor, which: Tensor, dim: int) -> Tensor:
    """Mirror the images where ``which`` (B,) is true along ``dim`` (-1: horizontal)."""
    return torch.where(which.to(x.device).view(-1, 1, 1, 1), x.flip(dim), x)


def solarize(x: Tensor, threshold: float) -> Tensor:
    """Invert the pixels at or above ``threshold`` (PIL's ``ImageOps.solarize``)."""
    return torch.where(x >= threshold, 1.0 - x, x)


def gaussian_kernels(sigma: Tensor, size: int) -> Tensor:
    """(B,) standard deviations -> (B, size) normalised 1-D Gaussian kernels (size odd)."""
    t = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    k = torch.exp(-0.5 * (t.view(1, -1) / sigma.float().view(-1, 1)) ** 2)
    return k / k.sum(dim=1, keepdim=True)


def gaussian_blur(x: Tensor, sigma: Tensor, max_sigma: float | None = None) -> Tensor:
    """Separable Gaussian blur with a per-sample ``sigma`` (B,), reflect padding.

    Kernels cover ±3·``max_sigma`` (default: the batch's largest sigma), at most the image;
    a fixed ``max_sigma`` makes each image's result independent of the rest of the batch.
    """
    b, c, h, w = x.shape
    widest = float(sigma.max()) if max_sigma is None else float(max_sigma)
    radius = min(math.ceil(3 * widest), (min(h, w) - 1) // 2)
    if radius < 1:
        return x.clone()
    k = gaussian_kernels(sigma, 2 * radius + 1).to(x)  # (B, K)
    weight = k.repeat_interleave(c, dim=0)  # (B·C, K): one kernel per image channel
    y = F.pad(x.reshape(1, b * c, h, w), (radius, radius, 0, 0), mode="reflect")
    y = F.conv2d(y, weight.view(b * c, 1, 1, -1), groups=b * c)
    y = F.pad(y, (0, 0, radius, radius), mode="reflect")
    y = F.conv2d(y, weight.view(b * c, 1, -1, 1), groups=b * c)
    return y.view(b, c, h, w)


def crop_boxes(n: int, height: int, width: int, scale: tuple[float, float],
               ratio: tuple[float, float], generator: torch.Generator) -> Tensor:
    """Random crop boxes (n, 4) int64 as ``(top, left, h, w)``: torchvision's
    ``RandomResizedCrop.get_params`` for n images at once.

    Each image tries 10 (area, log-aspect) draws and keeps the first box that fits; when none
    fits it falls back to the centre crop of the aspect ratio clamped into ``ratio``.
    """
    area = height * width
    lo, hi = math.log(ratio[0]), math.log(ratio[1])
    u = torch.rand(n, CROP_ATTEMPTS, 4, generator=generator, dtype=torch.float64)
    target = area * (scale[0] + (scale[1] - scale[0]) * u[..., 0])
    aspect = torch.exp(lo + (hi - lo) * u[..., 1])
    w = torch.round(torch.sqrt(target * aspect)).long()
    h = torch.round(torch.sqrt(target / aspect)).long()
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = fits.long().argmax(dim=1, keepdim=True)  # index of the first fitting attempt
    pick = lambda t: t.gather(1, first).squeeze(1)  # noqa: E731
    h, w, ui, uj = pick(h), pick(w), pick(u[..., 2]), pick(u[..., 3])
    top = torch.floor(ui * (height - h + 1)).long()
    left = torch.floor(uj * (width - w + 1)).long()
    box = torch.stack([top, left, h, w], dim=1)
    fallback = ~fits.any(dim=1)
    if fallback.any():
        box[fallback] = torch.tensor(_centre_box(height, width, ratio))
    return box


def _centre_box(height: int, width: int, ratio: tuple[float, float]) -> tuple[int, ...]:
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        w, h = round(height * max(ratio)), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _triangle(t: Tensor) -> Tensor:
    return (1.0 - t.abs()).clamp_min(0.0)


def _keys_cubic(t: Tensor) -> Tensor:
    """PIL's bicubic kernel (Keys, a = -0.5; torch's bicubic uses -0.75, a sharper one)."""
    a, t = -0.5, t.abs()
    near = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    far = (((t - 5.0) * t + 8.0) * t - 4.0) * a
    return torch.where(t < 1.0, near, torch.where(t < 2.0, far, torch.zeros_like(t)))


FILTERS = {"bilinear": _triangle, "bicubic": _keys_cubic}


def resample_weights(start: Tensor, length: Tensor, out: int, full: int,
                     mode: str) -> Tensor:
    """PIL's resampling along one axis as a matrix (B, out, full): output pixel o of image b
    is the weighted sum of input pixels ``[start, start + length)`` (the crop).

    As in PIL's ``ImagingResample``: output centre c = start + (o + 0.5)·scale with scale =
    length / out, weights kernel((i + 0.5 - c) / fs) with fs = max(scale, 1) (the kernel
    widens when shrinking: antialiasing), pixels outside the crop dropped, rows normalised.
    """
    kernel = FILTERS[mode]  # zero outside its support, so PIL's tap window needs no bounds
    dev = start.device
    first = start.view(-1, 1, 1).double()
    size = length.view(-1, 1, 1).double()
    scale = size / out
    fs = scale.clamp_min(1.0)
    centre = first + (torch.arange(out, device=dev, dtype=torch.float64).view(1, -1, 1)
                      + 0.5) * scale  # (B, out, 1)
    i = torch.arange(full, device=dev, dtype=torch.float64).view(1, 1, -1)
    w = kernel((i + 0.5 - centre) / fs)
    w = w * ((i >= first) & (i < first + size))
    return (w / w.sum(dim=-1, keepdim=True)).float()


def resized_crop(images: Tensor, boxes: Tensor, size: int, mode: str = "bilinear") -> Tensor:
    """Crop ``boxes`` (B, 4) ``(top, left, h, w)`` of ``images`` (B, 3, H, W) and resize each
    to ``size``×``size`` -> float (B, 3, size, size) in [0, 1]; uint8 input is scaled by 1/255.

    ``mode``: ``bilinear`` or ``bicubic``, PIL's filters with PIL's antialiasing when a crop
    shrinks (what torchvision's ``RandomResizedCrop`` does to a PIL image), computed as two
    batched matrix products ``Wy · image · Wxᵀ`` (:func:`resample_weights`). Like PIL, the
    horizontal pass is clipped to [0, 1] before the vertical one (bicubic overshoots); PIL
    also rounds it to uint8, this stays in float.
    """
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    boxes = boxes.to(x.device)
    wy = resample_weights(boxes[:, 0], boxes[:, 2], size, x.shape[-2], mode)  # (B, S, H)
    wx = resample_weights(boxes[:, 1], boxes[:, 3], size, x.shape[-1], mode)  # (B, S, W)
    rows = torch.matmul(x, wx.transpose(1, 2).unsqueeze(1)).clamp_(0.0, 1.0)  # (B, 3, H, S)
    return torch.matmul(wy.unsqueeze(1), rows).clamp_(0.0, 1.0)  # (B, 3, S, S)


def normalize(x: Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> Tensor:
    """(x - mean) / std per channel."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s
