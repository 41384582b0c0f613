"""Model sizes: named ViT presets for the synthetic world and timm's names for real scale.

Every backbone is a timm ``VisionTransformer`` built with ``pretrained=False``. A size resolves
to ``(arch, model_kwargs)`` such that ``timm.create_model(arch, pretrained=False,
**model_kwargs)`` rebuilds exactly the trained model: the kwargs spell out every architectural
field that differs from the arch's defaults (the presets override patch size, width, depth and
heads of a timm entrypoint), so a checkpoint's ``model.json`` needs nothing else.

Presets scaled for 32 px images (64 patch tokens at patch 4):

======  =====  =====  =====  =====
name    patch  depth  dim    heads
======  =====  =====  =====  =====
micro   4      4      64     2
tiny    4      6      128    4
small   4      8      192    6
======  =====  =====  =====  =====

Real scale: ``vit_tiny_patch16_224``, ``vit_small_patch16_224``, ``vit_base_patch16_224``,
``vit_large_patch16_224`` (224 px, patch 16 by default). Patch size and input resolution are
parameters for every size (Brinkmann et al. vary both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bias.errors import VitbiasError


@dataclass(frozen=True)
class SizePreset:
    """A named backbone: the timm entrypoint, its default resolution and patch, overrides."""

    name: str
    arch: str
    img_size: int
    patch_size: int
    overrides: tuple[tuple[str, Any], ...] = ()  # embed_dim, depth, num_heads, ...


def _preset(name: str, arch: str, depth: int, dim: int, heads: int) -> SizePreset:
    return SizePreset(name, arch, 32, 4, (("embed_dim", dim), ("depth", depth),
                                          ("num_heads", heads), ("mlp_ratio", 4.0)))


SIZES: dict[str, SizePreset] = {
    p.name: p for p in (
        _preset("micro", "vit_tiny_patch16_224", depth=4, dim=64, heads=2),
        _preset("tiny", "vit_tiny_patch16_224", depth=6, dim=128, heads=4),
        _preset("small", "vit_small_patch16_224", depth=8, dim=192, heads=6),
        SizePreset("vit_tiny_patch16_224", "vit_tiny_patch16_224", 224, 16),
        SizePreset("vit_small_patch16_224", "vit_small_patch16_224", 224, 16),
        SizePreset("vit_base_patch16_224", "vit_base_patch16_224", 224, 16),
        SizePreset("vit_large_patch16_224", "vit_large_patch16_224", 224, 16),
    )
}


def size_names() -> list[str]:
    """Every size name, presets first."""
    return list(SIZES)


def get_size(name: str) -> SizePreset:
    """The preset called ``name``; unknown names list the known ones (timm style)."""
    try:
        return SIZES[name]
    except KeyError:
        raise VitbiasError(f"unknown model size '{name}'; known sizes: "
                           f"{', '.join(SIZES)}") from None


def resolve_size(size: str, img_size: int | None = None, patch_size: int | None = None,
                 num_classes: int = 0) -> tuple[str, dict[str, Any]]:
    """``(arch, model_kwargs)`` that rebuild the backbone of ``size``; checks the geometry."""
    preset = get_size(size)
    img = preset.img_size if img_size is None else int(img_size)
    patch = preset.patch_size if patch_size is None else int(patch_size)
    if patch < 1 or img < 1:
        raise VitbiasError(f"--img-size {img} and --patch-size {patch} must be positive")
    if img % patch:
        raise VitbiasError(f"--img-size {img} is not a multiple of --patch-size {patch}")
    if num_classes < 0:
        raise VitbiasError(f"num_classes must be >= 0, got {num_classes}")
    kwargs: dict[str, Any] = {"img_size": img, "patch_size": patch, **dict(preset.overrides),
                              "num_classes": int(num_classes)}
    return preset.arch, kwargs


def build_backbone(size: str, img_size: int | None = None, patch_size: int | None = None,
                   num_classes: int = 0) -> tuple[Any, str, dict[str, Any]]:
    """A randomly initialised timm ViT of ``size`` -> ``(model, arch, model_kwargs)``.

    ``num_classes=0`` gives a headless backbone (forward -> pre-logits (B, D)); ``> 0`` adds
    timm's linear head (forward -> logits (B, num_classes)). Seed torch before calling for a
    reproducible initialisation.
    """
    import timm

    arch, kwargs = resolve_size(size, img_size, patch_size, num_classes)
    model = timm.create_model(arch, pretrained=False, **kwargs)
    return model, arch, kwargs


def param_count(model: Any, trainable_only: bool = False) -> int:
    """Number of parameters (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def describe_sizes(img_size: int | None = None,
                   patch_size: int | None = None) -> list[dict[str, Any]]:
    """One row per size: name, arch, img_size, patch_size, depth, dim, heads, params.

    Models are built on the ``meta`` device, so listing ViT-L costs no memory or time.
    """
    import timm
    import torch

    rows = []
    for name in SIZES:
        arch, kwargs = resolve_size(name, img_size, patch_size)
        with torch.device("meta"):
            model = timm.create_model(arch, pretrained=False, **kwargs)
        rows.append({"size": name, "arch": arch, "img_size": kwargs["img_size"],
                     "patch_size": kwargs["patch_size"], "depth": len(model.blocks),
                     "dim": model.embed_dim, "heads": model.blocks[0].attn.num_heads,
                     "params": param_count(model)})
    return rows
