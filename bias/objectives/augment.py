"""View transforms: what each objective sees of one training image, reproducibly.

An objective declares its ``views`` (a :class:`ViewSpec`); :func:`build_view_transform` turns
that into a callable ``PIL.Image -> list[Tensor (3, S, S)]`` built from lightly's transforms
(SimCLR, BYOL/MoCo v3, DINO, MAE), tuned for small images where the ImageNet defaults do not
fit (no Gaussian blur below 64 px: it erases a 32 px scene).

Reproducibility: torchvision and lightly draw from the global torch / numpy / python RNGs, so
:func:`seeded_rngs` runs a transform under a seed derived from (run seed, epoch, sample index)
and restores the global state afterwards. A sample's views then depend on nothing else — not
on the number of DataLoader workers, the batch order or a resumed run.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bias.errors import VitbiasError

VIEW_KINDS = ("classify", "contrastive", "asymmetric", "multicrop", "masked")


@dataclass(frozen=True)
class ViewSpec:
    """The augmentation an objective needs.

    kind: ``classify`` (one light view), ``contrastive`` (two SimCLR views), ``asymmetric``
    (two BYOL/MoCo v3 views), ``multicrop`` (two global + ``n_local`` local DINO crops),
    ``masked`` (one crop-and-flip view for masked image modelling). ``min_scale`` is the
    smallest crop area of a (global) view. ``solarize`` is the probability of solarizing the
    second (global) view of ``asymmetric`` and ``multicrop`` views (the recipes' 0.2 by
    default). Solarizing inverts every pixel above mid-grey, so it maps light skin to a dark
    colour: a model trained to be invariant to it learns to ignore brightness, and with it
    skin tone where tone is brightness (as in the synthetic world).
    """

    kind: str
    n_views: int = 1
    min_scale: float = 0.2
    n_local: int = 0
    solarize: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.solarize <= 1.0:
            raise VitbiasError(f"views: solarize is a probability in [0, 1], got {self.solarize}")


def derive_seed(*keys: int) -> int:
    """A 62-bit seed from integer keys in [0, 2^32), e.g. (run seed, epoch, sample index).

    numpy's SeedSequence hashes the keys, so nearby keys give unrelated streams; the key count
    is hashed too, because SeedSequence alone ignores trailing zero keys.
    """
    seq = np.random.SeedSequence([len(keys), *keys])
    words = seq.generate_state(2, np.uint32).astype(np.uint64)
    return int(words[0]) << 30 | int(words[1]) >> 2


@contextlib.contextmanager
def seeded_rngs(seed: int) -> Iterator[None]:
    """Seed the CPU torch, numpy and python RNGs for a block; restore them afterwards.

    The legacy numpy global state is the point: lightly's blur and solarize draw from it.
    """
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002
    py_state = random.getstate()
    torch.default_generator.manual_seed(seed)  # CPU only: never touches CUDA RNGs
    np.random.seed(seed % (1 << 32))  # noqa: NPY002
    random.seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)


class _OneView:
    """A single-view transform as a picklable callable (DataLoader workers may pickle it)."""

    def __init__(self, transform: Callable[[Any], torch.Tensor]) -> None:
        self.transform = transform

    def __call__(self, img: Any) -> list[torch.Tensor]:
        return [self.transform(img)]


def _normalize(mean: tuple[float, ...], std: tuple[float, ...]) -> dict[str, list[float]]:
    return {"mean": list(mean), "std": list(std)}


def build_view_transform(spec: ViewSpec, img_size: int, mean: tuple[float, ...],
                         std: tuple[float, ...]) -> Callable[[Any], list[torch.Tensor]]:
    """``PIL.Image (RGB) -> list of spec.n_views (+ n_local) tensors (3, img_size, img_size)``.

    Tensors are normalised with ``mean``/``std`` (the data_config recorded in model.json).
    """
    from lightly.transforms import BYOLTransform, DINOTransform, SimCLRTransform
    from lightly.transforms.byol_transform import BYOLView1Transform, BYOLView2Transform
    from torchvision import transforms as T

    norm = _normalize(mean, std)
    blur = 0.0 if img_size < 64 else 0.5
    if spec.kind in ("classify", "masked"):
        return _OneView(T.Compose([
            T.RandomResizedCrop(img_size, scale=(spec.min_scale, 1.0),
                                interpolation=T.InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(mean, std),
        ]))
    if spec.kind == "contrastive":
        return SimCLRTransform(input_size=img_size, cj_strength=0.5, min_scale=spec.min_scale,
                               gaussian_blur=blur, normalize=norm)
    if spec.kind == "asymmetric":
        common = {"input_size": img_size, "min_scale": spec.min_scale, "normalize": norm}
        return BYOLTransform(
            view_1_transform=BYOLView1Transform(**common, gaussian_blur=2 * blur),
            view_2_transform=BYOLView2Transform(**common, gaussian_blur=0.2 * blur,
                                                solarization_prob=spec.solarize))
    if spec.kind == "multicrop":
        # Local crops keep the global resolution so the ViT needs no dynamic image size.
        return DINOTransform(global_crop_size=img_size, global_crop_scale=(spec.min_scale, 1.0),
                             local_crop_size=img_size,
                             local_crop_scale=(0.05, spec.min_scale), n_local_views=spec.n_local,
                             gaussian_blur=(2 * blur, 0.2 * blur, blur),
                             solarization_prob=spec.solarize, normalize=norm)
    raise VitbiasError(f"unknown view kind '{spec.kind}'; known: {', '.join(VIEW_KINDS)}")
