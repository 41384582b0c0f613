"""DiffEdit (Couairon et al., 2022), written once over any conditional noise-prediction model.

The model is a callable ``eps(x_t, t, cond) -> out``: ``x_t`` (B, C, H, W) in the model's space
(pixels in [-1, 1] for the built-in world editor, VAE latents for Stable Diffusion), ``t`` an
integer training timestep, ``cond`` an editor-specific batch of conditions (class ids (B,),
text embeddings (B, L, D), ...); ``out`` (B, C, H, W) is what the model was trained to predict
(epsilon or v, as its scheduler config says). Classifier-free guidance needs an unconditional
``uncond`` batch of the same kind.

The three steps of the paper:

1. **Mask**: noise the input to ``mask_encode_ratio`` several times, take the absolute difference
   of the predictions under the target and the source condition, average over draws
   and channels, optionally smooth it (``mask_blur``: single noisy cells, e.g. on textured
   backgrounds, then fall under the threshold), clamp at ``mask_clamp_ratio`` times its mean,
   scale to [0, 1], threshold and optionally dilate (``mask_dilate``: room for a changed
   silhouette). Where the two conditions disagree is where the edit must happen.
2. **Encode**: DDIM inversion (diffusers' ``DDIMInverseScheduler``) of the input under the source
   condition up to ``encode_ratio`` of the DDIM grid; every intermediate latent is kept.
3. **Decode**: DDIM denoising (``DDIMScheduler``) under the target condition with guidance; after
   every step the region outside the mask is replaced by the inverted latent of the same noise
   level, so that the background comes back exactly when the model is deterministic.

Every random draw comes from a per-item ``torch.Generator``, so an item's edit depends only on
its own seed, not on the batch it was processed in (which keeps resumed runs identical).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from bias.errors import VitbiasError

EpsFn = Callable[[Tensor, int, Any], Tensor]


@dataclass(frozen=True)
class DiffEditParams:
    """Every knob of one DiffEdit run (recorded next to the edits)."""

    num_steps: int = 20            # DDIM grid size over the training timesteps
    encode_ratio: float = 0.6      # fraction of the grid inverted (edit strength)
    guidance_scale: float = 3.0    # classifier-free guidance while decoding
    mask_draws: int = 4            # noise draws averaged for the mask
    mask_encode_ratio: float = 0.5  # noise level of the mask draws (fraction of training steps)
    mask_clamp_ratio: float = 3.0  # clamp the difference map at this multiple of its mean
    mask_threshold: float = 0.5    # binarise the normalised map above this value
    mask_blur: float = 0.0         # Gaussian sigma (cells) smoothing the map before the threshold
    mask_dilate: int = 0           # grow the binary mask by this many cells

    def __post_init__(self) -> None:
        checks = {
            "num_steps": self.num_steps >= 1,
            "encode_ratio": 0.0 < self.encode_ratio <= 1.0,
            "mask_draws": self.mask_draws >= 1,
            "mask_encode_ratio": 0.0 < self.mask_encode_ratio < 1.0,
            "mask_clamp_ratio": self.mask_clamp_ratio > 0,
            "mask_threshold": 0.0 <= self.mask_threshold < 1.0,
            "mask_blur": self.mask_blur >= 0,
            "mask_dilate": self.mask_dilate >= 0,
            "guidance_scale": self.guidance_scale >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise VitbiasError(f"DiffEdit parameter {name}={getattr(self, name)!r} is out "
                                   "of range")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> DiffEditParams:
        """Like the constructor, but an unknown name is a VitbiasError listing the known ones."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise VitbiasError(f"unknown DiffEdit parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**kwargs)


@dataclass
class DiffEditResult:
    """``edited`` (B, C, H, W) in model space; ``mask`` (B, 1, H, W) in {0, 1}; ``soft_mask``
    (B, 1, H, W) in [0, 1] before thresholding."""

    edited: Tensor
    mask: Tensor
    soft_mask: Tensor


def ddim_schedulers(noise_config: dict[str, Any], num_steps: int) -> tuple[Any, Any]:
    """A DDIM sampler and its inverse on the same grid, built from the model's noise schedule.

    Sample clipping is off in both: clipping the predicted x0 makes inversion inexact.
    """
    from diffusers import DDIMInverseScheduler, DDIMScheduler

    keep = {k: v for k, v in noise_config.items()
            if k in ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule",
                     "trained_betas", "prediction_type", "steps_offset", "timestep_spacing",
                     "rescale_betas_zero_snr")}
    if keep.get("timestep_spacing") not in (None, "leading", "trailing"):
        keep["timestep_spacing"] = "leading"
    common = dict(keep, clip_sample=False, set_alpha_to_one=True)
    sampler = DDIMScheduler(**common)
    inverse = DDIMInverseScheduler(**common)
    if num_steps > sampler.config.num_train_timesteps:
        raise VitbiasError(f"DiffEdit num_steps={num_steps} exceeds the model's "
                           f"{sampler.config.num_train_timesteps} training timesteps")
    sampler.set_timesteps(num_steps)
    inverse.set_timesteps(num_steps)
    if not torch.equal(sampler.timesteps.flip(0), inverse.timesteps):
        raise VitbiasError(f"DDIM and inverse DDIM grids differ for {noise_config}")
    return sampler, inverse


def paired(eps: EpsFn, x: Tensor, t: int, cond_a: Any, cond_b: Any) -> tuple[Tensor, Tensor]:
    """The model under two conditions at the same ``x``: one call on a doubled batch when the
    conditions are tensors (cheaper than two calls), else two calls."""
    if isinstance(cond_a, Tensor) and isinstance(cond_b, Tensor):
        a, b = eps(torch.cat([x, x]), t, torch.cat([cond_a, cond_b])).chunk(2)
        return a, b
    return eps(x, t, cond_a), eps(x, t, cond_b)


def guided(eps: EpsFn, x: Tensor, t: int, cond: Any, uncond: Any, scale: float) -> Tensor:
    """Classifier-free guidance: uncond + scale * (cond - uncond); scale 1 is the plain model."""
    if scale == 1.0 or uncond is None:
        return eps(x, t, cond)
    out, base = paired(eps, x, t, cond, uncond)
    return base + scale * (out - base)


def per_item_noise(shape: Sequence[int], generators: Sequence[torch.Generator],
                   dtype: torch.dtype = torch.float32) -> Tensor:
    """Standard normal noise (B, *shape[1:]) with row i drawn from ``generators[i]``."""
    return torch.stack([torch.randn(tuple(shape[1:]), generator=g, dtype=dtype)
                        for g in generators])


def diffedit_mask(eps: EpsFn, x0: Tensor, source: Any, target: Any, uncond: Any,
                  sampler: Any, params: DiffEditParams,
                  generators: Sequence[torch.Generator]) -> tuple[Tensor, Tensor]:
    """(binary mask, soft mask), both (B, 1, H, W), from where source and target disagree."""
    n_train = sampler.config.num_train_timesteps
    t = min(round(params.mask_encode_ratio * n_train), n_train - 1)
    timesteps = torch.full((x0.shape[0],), t, dtype=torch.long)
    diff = torch.zeros(x0.shape[0], *x0.shape[2:], device=x0.device)
    for _ in range(params.mask_draws):
        noise = per_item_noise(x0.shape, generators, x0.dtype).to(x0.device)
        x_t = sampler.add_noise(x0, noise, timesteps)
        # No guidance here: with it the difference is guidance * (cond_t - cond_s) exactly,
        # the same map after normalisation, at twice the cost.
        e_src, e_tgt = paired(eps, x_t, t, source, target)
        diff += (e_tgt - e_src).abs().mean(dim=1).float()
    diff /= params.mask_draws
    if params.mask_blur > 0:
        diff = gaussian_blur(diff, params.mask_blur)
    # Clamping at a multiple of the mean keeps a few extreme pixels from flattening the map.
    clamp = (params.mask_clamp_ratio * diff.mean(dim=(1, 2), keepdim=True)).clamp_min(1e-12)
    soft = (diff.clamp(max=clamp) / clamp).clamp(0.0, 1.0).unsqueeze(1)
    mask = (soft > params.mask_threshold).to(x0.dtype)
    if params.mask_dilate:
        k = 2 * params.mask_dilate + 1
        mask = torch.nn.functional.max_pool2d(mask, k, stride=1, padding=params.mask_dilate)
    return mask, soft.to(x0.dtype)


def gaussian_blur(maps: Tensor, sigma: float) -> Tensor:
    """(B, H, W) maps smoothed by a separable Gaussian (radius 2 sigma, reflect padding)."""
    radius = max(1, int(2 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    out = torch.nn.functional.pad(maps[:, None], (radius,) * 4, mode="reflect")
    out = torch.nn.functional.conv2d(out, kernel.view(1, 1, 1, -1))
    return torch.nn.functional.conv2d(out, kernel.view(1, 1, -1, 1))[:, 0]


@torch.no_grad()
def ddim_invert(eps: EpsFn, x0: Tensor, cond: Any, inverse: Any, n_steps: int) -> list[Tensor]:
    """Latents [x0, x_{t_0}, ..., x_{t_{n-1}}] of DDIM inversion under ``cond`` along the first
    ``n_steps`` timesteps t_i of ``inverse`` (grid already set): entry i + 1 is at noise level
    t_i, the level that the sampler's step at t_{i+1} lands on (entry 0 is the clean input)."""
    latents = [x0]
    x = x0
    for t in inverse.timesteps[:n_steps].tolist():
        x = inverse.step(eps(x, t, cond), t, x).prev_sample
        latents.append(x)
    return latents


@torch.no_grad()
def ddim_masked_decode(eps: EpsFn, inverted: list[Tensor], mask: Tensor, target: Any,
                       uncond: Any, sampler: Any, guidance_scale: float) -> Tensor:
    """Denoise from ``inverted[-1]`` under ``target`` with guidance; outside ``mask`` the result
    of each step is replaced by the inverted latent of the same noise level. The last n steps
    of the sampler's grid run from t_{n-1} down to 0: its step i lands where inversion step
    n - 1 - i started, ``inverted[n - 1 - i]``."""
    n_steps = len(inverted) - 1
    timesteps = sampler.timesteps[len(sampler.timesteps) - n_steps:].tolist()
    x = inverted[-1]
    for i, t in enumerate(timesteps):
        x = sampler.step(guided(eps, x, t, target, uncond, guidance_scale), t, x).prev_sample
        keep = inverted[n_steps - 1 - i]
        x = mask * x + (1.0 - mask) * keep
    return x


@torch.no_grad()
def diffedit(eps: EpsFn, x0: Tensor, source: Any, target: Any, uncond: Any,
             noise_config: dict[str, Any], params: DiffEditParams,
             generators: Sequence[torch.Generator], mask: Tensor | None = None) -> DiffEditResult:
    """Edit ``x0`` (B, C, H, W, model space) from ``source`` to ``target`` conditions.

    ``mask`` (B, 1, H, W) overrides the computed mask (an all-zero mask must return ``x0``).
    """
    if len(generators) != x0.shape[0]:
        raise VitbiasError(f"DiffEdit needs one generator per item: {len(generators)} for a "
                           f"batch of {x0.shape[0]}")
    sampler, inverse = ddim_schedulers(noise_config, params.num_steps)
    if mask is None:
        mask, soft = diffedit_mask(eps, x0, source, target, uncond, sampler, params, generators)
    else:
        soft = mask
    n_steps = max(1, round(params.encode_ratio * params.num_steps))
    inverted = ddim_invert(eps, x0, source, inverse, n_steps)
    edited = ddim_masked_decode(eps, inverted, mask, target, uncond, sampler,
                                params.guidance_scale)
    return DiffEditResult(edited=edited, mask=mask, soft_mask=soft)
