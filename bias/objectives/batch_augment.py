"""The per-sample PIL view transforms, replayed batched in torch with per-sample parameters.

:func:`build_batch_view_transform` does not restate any augmentation: it builds the PIL
transform of :func:`bias.objectives.augment.build_view_transform` and reads its steps
(torchvision / lightly transform objects, in order) into batched operations with the same
kinds and parameter ranges — random resized crop, flips, colour jitter in a random order
per sample, grayscale, Gaussian blur, solarization, normalisation. A step it does not know is
an :class:`UnsupportedAugmentation` (the training loop then keeps the PIL path), so the two
paths cannot drift apart silently.

Every op first draws its random parameters for n samples from one explicit
``torch.Generator`` (on the CPU), then applies them to a batch (on any device): the same
generator state gives the same views. The training loop draws a whole epoch at once in dataset
order (:class:`~bias.training.memory.MemoryBatches`), so a sample's views depend on (seed,
epoch, index) only, as in the PIL path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from bias.errors import VitbiasError
from bias.objectives import batch_ops as ops

Params = Any  # an op's random parameters: tensors (or nested tuples/lists) of first dim n


class UnsupportedAugmentation(VitbiasError):
    """A PIL transform step with no batched equivalent."""


def _rand(n: int, gen: torch.Generator) -> Tensor:
    return torch.rand(n, generator=gen)


def _uniform(n: int, bounds: Sequence[float], gen: torch.Generator) -> Tensor:
    lo, hi = float(bounds[0]), float(bounds[1])
    return lo + (hi - lo) * _rand(n, gen)


def take(params: Params, idx: Tensor) -> Params:
    """The rows ``idx`` of every tensor in (nested tuples / lists of) parameters."""
    if isinstance(params, Tensor):
        return params[idx]
    if isinstance(params, tuple | list):
        return type(params)(take(p, idx) for p in params)
    return params  # None


def _on_subset(x: Tensor, chosen: Tensor, fn: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """Apply ``fn(x[idx], idx)`` to the chosen samples only; the others stay bit-identical."""
    idx = chosen.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x
    dev_idx = idx.to(x.device)
    out = x.clone()
    out[dev_idx] = fn(x[dev_idx], idx)
    return out


class Op:
    """One step: ``draw`` parameters for n samples, ``apply`` them to a batch of n images."""

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Params:
        return None

    def apply(self, x: Tensor, params: Params) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class ResizedCrop(Op):
    """``RandomResizedCrop``: uint8 or float (B, 3, H, W) -> float (B, 3, S, S) in [0, 1]."""

    def __init__(self, size: int, scale: Sequence[float], ratio: Sequence[float],
                 mode: str) -> None:
        if mode not in ("bilinear", "bicubic"):
            raise UnsupportedAugmentation(f"RandomResizedCrop interpolation '{mode}' has no "
                                          "batched equivalent (bilinear, bicubic)")
        self.size, self.mode = int(size), mode
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Tensor:
        return ops.crop_boxes(n, hw[0], hw[1], self.scale, self.ratio, gen)  # (n, 4)

    def apply(self, x: Tensor, params: Tensor) -> Tensor:
        return ops.resized_crop(x, params, self.size, self.mode)


class Flip(Op):
    """``RandomHorizontalFlip`` (dim -1) / ``RandomVerticalFlip`` (dim -2) with probability p."""

    def __init__(self, p: float, dim: int) -> None:
        self.p, self.dim = float(p), dim

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Tensor:
        return _rand(n, gen) < self.p

    def apply(self, x: Tensor, params: Tensor) -> Tensor:
        return ops.flip(x, params, self.dim)


class ColorJitter(Op):
    """torchvision's ``ColorJitter``: brightness, contrast, saturation and hue factors drawn
    per sample from their ranges (None: not jittered), applied in a per-sample random order.

    At each of the four stages every sample gets the one adjustment its order names; the
    blends run on the whole batch with factor 1 (an exact no-op) for the other samples, the
    hue rotation (not exact at 0) on its samples only.
    """

    BLENDS = (ops.adjust_brightness, ops.adjust_contrast, ops.adjust_saturation)

    def __init__(self, ranges: Sequence[Sequence[float] | None]) -> None:
        self.ranges = list(ranges)  # brightness, contrast, saturation, hue

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Params:
        order = torch.rand(n, 4, generator=gen).argsort(dim=1)  # (n, 4) permutations
        return order, [None if r is None else _uniform(n, r, gen) for r in self.ranges]

    def apply(self, x: Tensor, params: Params) -> Tensor:
        order, factors = params
        hue = factors[3]
        for stage in range(4):
            for k, (fn, fac) in enumerate(zip(self.BLENDS, factors, strict=False)):
                if fac is not None:
                    x = fn(x, torch.where(order[:, stage] == k, fac, torch.ones_like(fac)))
            if hue is not None:
                x = _on_subset(x, order[:, stage] == 3,
                               lambda xs, idx: ops.adjust_hue(xs, hue[idx]))
        return x


class Apply(Op):
    """``RandomApply``: the inner steps run on a random subset (probability p per sample)."""

    def __init__(self, p: float, inner: list[Op]) -> None:
        self.p, self.inner = float(p), inner

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Params:
        return _rand(n, gen) < self.p, [op.draw(n, gen, hw) for op in self.inner]

    def apply(self, x: Tensor, params: Params) -> Tensor:
        chosen, inner = params

        def run(xs: Tensor, idx: Tensor) -> Tensor:
            for op, p in zip(self.inner, inner, strict=True):
                xs = op.apply(xs, take(p, idx))
            return xs

        return _on_subset(x, chosen, run)


class Grayscale(Op):
    """``RandomGrayscale`` with probability p."""

    def __init__(self, p: float) -> None:
        self.p = float(p)

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Tensor:
        return _rand(n, gen) < self.p

    def apply(self, x: Tensor, params: Tensor) -> Tensor:
        return _on_subset(x, params, lambda xs, _: ops.to_grayscale(xs))


class Blur(Op):
    """lightly's ``GaussianBlur``: probability p, sigma uniform in ``sigmas`` per sample."""

    def __init__(self, p: float, sigmas: Sequence[float]) -> None:
        self.p, self.sigmas = float(p), (float(sigmas[0]), float(sigmas[1]))

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Params:
        return _rand(n, gen) < self.p, _uniform(n, self.sigmas, gen)

    def apply(self, x: Tensor, params: Params) -> Tensor:
        chosen, sigma = params
        return _on_subset(x, chosen,
                          lambda xs, idx: ops.gaussian_blur(xs, sigma[idx], self.sigmas[1]))


class Solarize(Op):
    """lightly's ``RandomSolarization``: probability p, PIL threshold on the 0-255 scale."""

    def __init__(self, p: float, threshold: float) -> None:
        self.p, self.threshold = float(p), float(threshold) / 255.0

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Tensor:
        return _rand(n, gen) < self.p

    def apply(self, x: Tensor, params: Tensor) -> Tensor:
        return _on_subset(x, params, lambda xs, _: ops.solarize(xs, self.threshold))


class Normalize(Op):
    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean, self.std = tuple(map(float, mean)), tuple(map(float, std))

    def apply(self, x: Tensor, params: None) -> Tensor:
        return ops.normalize(x, self.mean, self.std)


def _mode(interpolation: Any) -> str:
    return str(getattr(interpolation, "value", interpolation)).lower()


def _size(size: Any) -> int:
    sizes = (size, size) if isinstance(size, int) else tuple(size)
    if len(sizes) != 2 or sizes[0] != sizes[1]:
        raise UnsupportedAugmentation(f"RandomResizedCrop to non-square size {size}")
    return int(sizes[0])


def _rotation(t: Any) -> None:
    if float(getattr(t, "prob", 1.0)) > 0:
        raise UnsupportedAugmentation(f"{type(t).__name__} with probability > 0")


# PIL transform class name -> batched op (None: a step with nothing to do on tensors).
_STEPS: dict[str, Callable[[Any], Op | None]] = {
    "RandomResizedCrop": lambda t: ResizedCrop(_size(t.size), t.scale, t.ratio,
                                               _mode(t.interpolation)),
    "RandomHorizontalFlip": lambda t: Flip(t.p, -1),
    "RandomVerticalFlip": lambda t: Flip(t.p, -2),
    "RandomRotate": _rotation,
    "RandomRotateDegrees": _rotation,
    "RandomApply": lambda t: Apply(t.p, [op for s in t.transforms if (op := _step(s))]),
    "ColorJitter": lambda t: ColorJitter([t.brightness, t.contrast, t.saturation, t.hue]),
    "RandomGrayscale": lambda t: Grayscale(t.p),
    "GaussianBlur": lambda t: Blur(t.prob, t.sigmas),
    "RandomSolarization": lambda t: Solarize(t.prob, t.threshold),
    "ToTensor": lambda t: None,
    "Normalize": lambda t: Normalize(t.mean, t.std),
}


def _step(t: Any) -> Op | None:
    name = type(t).__name__
    if name not in _STEPS:
        raise UnsupportedAugmentation(f"augmentation step {name} has no batched equivalent; "
                                      f"known: {', '.join(_STEPS)}")
    return _STEPS[name](t)


def _steps(view: Any) -> list[Op]:
    """One view's Compose -> batched ops; the first must be the crop (it reads uint8)."""
    compose = getattr(view, "transform", view)
    steps = [op for t in getattr(compose, "transforms", [compose]) if (op := _step(t))]
    if not steps or not isinstance(steps[0], ResizedCrop):
        raise UnsupportedAugmentation("a view transform must start with RandomResizedCrop")
    return steps


class BatchViews:
    """A batched view transform: :meth:`draw` every random parameter for n samples, then
    :meth:`apply` them to uint8 images (B, 3, H, W) -> list of float views (B, 3, S, S),
    normalised like the PIL path. Drawing for a whole epoch in dataset order and taking the
    rows of a batch makes a sample's views independent of batching and process count."""

    def __init__(self, views: list[list[Op]]) -> None:
        self.views = views

    def draw(self, n: int, gen: torch.Generator, hw: tuple[int, int]) -> Params:
        return [[op.draw(n, gen, hw) for op in steps] for steps in self.views]

    def apply(self, images: Tensor, params: Params) -> list[Tensor]:
        out = []
        for steps, view_params in zip(self.views, params, strict=True):
            x = images
            for op, p in zip(steps, view_params, strict=True):
                x = op.apply(x, p)
            out.append(x)
        return out

    def __call__(self, images: Tensor, generator: torch.Generator) -> list[Tensor]:
        """Draw for this batch and apply: ``apply(images, draw(B, generator, (H, W)))``."""
        return self.apply(images, self.draw(images.shape[0], generator,
                                             (images.shape[-2], images.shape[-1])))


def batch_views_from(transform: Any) -> BatchViews:
    """Read a PIL view transform (``_OneView`` or lightly ``MultiViewTransform``)."""
    views = getattr(transform, "transforms", None) or [transform]
    return BatchViews([_steps(v) for v in views])


def build_batch_view_transform(spec: Any, img_size: int, mean: tuple[float, ...],
                               std: tuple[float, ...]) -> BatchViews:
    """The batched twin of :func:`~bias.objectives.augment.build_view_transform`."""
    from bias.objectives.augment import build_view_transform

    return batch_views_from(build_view_transform(spec, img_size, mean, std))
