"""Patch masks and pixel targets for masked image modelling (MAE, SimMIM).

lightly's ``random_token_mask`` draws from the global RNG; these take an explicit
``torch.Generator`` so masks are reproducible and resumable. Shapes use L = number of patch
tokens (no class token) and P = patch_size² · channels.
"""

from __future__ import annotations

import torch
from lightly.models.utils import patchify
from torch import Tensor


def random_patch_mask(batch: int, num_patches: int, mask_ratio: float,
                      generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """MAE-style random masking -> ``(idx_keep (B, K), idx_mask (B, L-K))`` patch indices.

    Exactly ``round(L * mask_ratio)`` patches are masked in every image (at least one kept).
    """
    n_mask = min(num_patches - 1, max(0, round(num_patches * mask_ratio)))
    noise = torch.rand(batch, num_patches, generator=generator)
    order = noise.argsort(dim=1)
    return order[:, : num_patches - n_mask], order[:, num_patches - n_mask:]


def block_patch_mask(batch: int, grid: int, mask_ratio: float, block: int,
                     generator: torch.Generator) -> Tensor:
    """SimMIM-style mask (B, grid²) bool: random ``block``×``block`` groups of patches.

    SimMIM masks 32 px squares of a 16 px-patch ViT (block 2); the ratio is exact at block
    granularity. ``grid`` must be a multiple of ``block``.
    """
    if grid % block:
        raise ValueError(f"patch grid {grid} is not a multiple of mask block {block}")
    cells = (grid // block) ** 2
    _, idx_mask = random_patch_mask(batch, cells, mask_ratio, generator)
    coarse = torch.zeros(batch, cells, dtype=torch.bool)
    coarse.scatter_(1, idx_mask, True)
    coarse = coarse.view(batch, grid // block, grid // block)
    fine = coarse.repeat_interleave(block, dim=1).repeat_interleave(block, dim=2)
    return fine.reshape(batch, grid * grid)


def patch_targets(images: Tensor, patch_size: int, normalize: bool) -> Tensor:
    """Reconstruction targets (B, L, P) in timm's row-major patch order (lightly's patchify);
    ``normalize`` = MAE's per-patch normalised pixels."""
    target = patchify(images, patch_size)
    if normalize:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6).sqrt()
    return target


def masked_mean(per_patch: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``per_patch`` (B, L) over the patches where ``mask`` (B, L) is true."""
    weight = mask.to(per_patch.dtype)
    return (per_patch * weight).sum() / weight.sum().clamp_min(1.0)
