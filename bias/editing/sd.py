"""DiffEdit with Stable Diffusion from a local diffusers folder (real photos, text prompts).

The folder is a diffusers Stable Diffusion layout (``model_index.json``, ``unet/``, ``vae/``,
``text_encoder/``, ``tokenizer/``, ``scheduler/``), e.g. a copy of SD 1.5/2.1 on the cluster.
Components are loaded one by one from safetensors only (a folder with only ``.bin`` weights is
refused: converting it is one ``save_pretrained(safe_serialization=True)`` away) and the
generic algorithm of :mod:`bias.editing.diffedit` runs in VAE latent space, conditioned on the
CLIP text embeddings of the source and target prompts; guidance uses the empty prompt.

diffusers ships a ``StableDiffusionDiffEditPipeline``, but in its ``deprecated`` package (0.42);
the generic implementation is the one vitbias tests on every model it edits with.

Extra parameters besides :class:`~bias.editing.diffedit.DiffEditParams`: ``resolution`` (images
are resized to it, a multiple of 8, and back), ``paste_back`` (outside the mask the output is
the input's pixels, not the VAE's reconstruction of them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from bias.editing.base import EditOutput, EditRequest, generators, resize
from bias.editing.diffedit import DiffEditParams, diffedit
from bias.errors import VitbiasError
from bias.io import sha256_file

# diffusers' DiffEdit defaults for Stable Diffusion (Couairon et al. settings).
SD_DEFAULTS = {"num_steps": 50, "encode_ratio": 0.8, "guidance_scale": 7.5,
               "mask_draws": 10, "mask_encode_ratio": 0.5}
COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")


def check_diffusers_folder(path: str | os.PathLike[str], components: tuple[str, ...]) -> Path:
    """The folder, after checking it holds ``model_index.json`` and every component."""
    folder = Path(path)
    if not folder.is_dir():
        raise VitbiasError(f"model folder not found: {folder}")
    if not (folder / "model_index.json").is_file():
        raise VitbiasError(f"{folder} is not a diffusers model folder (no model_index.json)")
    missing = [c for c in components if not (folder / c).is_dir()]
    if missing:
        raise VitbiasError(f"diffusers folder {folder} lacks component folder(s) {missing}")
    return folder


def load_sd_components(path: str | os.PathLike[str]) -> dict[str, Any]:
    """{unet, vae, text_encoder, tokenizer, noise_config} from a local folder, safetensors
    only, nothing downloaded."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = check_diffusers_folder(path, COMPONENTS)
    kw = {"use_safetensors": True, "local_files_only": True}
    try:
        parts = {
            "unet": UNet2DConditionModel.from_pretrained(folder, subfolder="unet", **kw),
            "vae": AutoencoderKL.from_pretrained(folder, subfolder="vae", **kw),
            "text_encoder": CLIPTextModel.from_pretrained(folder / "text_encoder", **kw),
            "tokenizer": CLIPTokenizer.from_pretrained(folder / "tokenizer",
                                                       local_files_only=True),
        }
        parts["noise_config"] = json.loads(
            (folder / "scheduler" / "scheduler_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise VitbiasError(f"cannot load Stable Diffusion components from {folder} "
                           f"(safetensors weights required): {exc}") from exc
    for name in ("unet", "vae", "text_encoder"):
        parts[name].eval().requires_grad_(False)
    return parts


class SDDiffEditEditor:
    """DiffEdit on Stable Diffusion components; requests need source and target prompts."""

    name = "diffedit"

    def __init__(self, path: str | os.PathLike[str], resolution: int = 512,
                 paste_back: bool = True, **params: Any):
        if resolution % 8:
            raise VitbiasError(f"SD DiffEdit resolution must be a multiple of 8, got "
                               f"{resolution}")
        self.path = Path(path)
        self.parts = load_sd_components(self.path)
        self.resolution, self.paste_back = int(resolution), bool(paste_back)
        self.params = DiffEditParams.from_kwargs(**{**SD_DEFAULTS, **params})

    @torch.no_grad()
    def encode_prompts(self, prompts: list[str]) -> Tensor:
        """(B, L, D) CLIP text embeddings."""
        tok = self.parts["tokenizer"]
        ids = tok(prompts, padding="max_length", max_length=tok.model_max_length,
                  truncation=True, return_tensors="pt").input_ids
        return self.parts["text_encoder"](ids)[0]

    @torch.no_grad()
    def encode_images(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 4, H/8, W/8) scaled latents (posterior mean, so
        deterministic)."""
        vae = self.parts["vae"]
        dist = vae.encode(images * 2.0 - 1.0).latent_dist
        return dist.mean * vae.config.scaling_factor

    @torch.no_grad()
    def decode_latents(self, latents: Tensor) -> Tensor:
        vae = self.parts["vae"]
        return ((vae.decode(latents / vae.config.scaling_factor).sample + 1.0) / 2.0).clamp(0, 1)

    def _eps(self, x: Tensor, t: int, cond: Tensor) -> Tensor:
        return self.parts["unet"](x, t, encoder_hidden_states=cond).sample

    @torch.no_grad()
    def edit(self, images: Tensor, requests: list[EditRequest], seeds: list[int]) -> EditOutput:
        """``images`` (B, 3, H, W) in [0, 1] -> edited (B, 3, H, W), masks (B, 1, H, W)."""
        if any(not r.source_prompt or not r.target_prompt for r in requests):
            raise VitbiasError("Stable Diffusion DiffEdit needs a source and a target prompt "
                               "for every image")
        x = resize(images, (self.resolution, self.resolution)).clamp(0, 1)
        z0 = self.encode_images(x)
        src = self.encode_prompts([r.source_prompt for r in requests])
        tgt = self.encode_prompts([r.target_prompt for r in requests])
        uncond = self.encode_prompts([""] * len(requests))
        res = diffedit(self._eps, z0, src, tgt, uncond, self.parts["noise_config"],
                       self.params, generators(seeds))
        out = self.decode_latents(res.edited)
        mask = torch.nn.functional.interpolate(res.mask, size=out.shape[-2:], mode="nearest")
        if self.paste_back:
            out = mask * out + (1.0 - mask) * x
        size = tuple(images.shape[-2:])
        return EditOutput(images=resize(out, size).clamp(0, 1),
                          masks=torch.nn.functional.interpolate(mask, size=size, mode="nearest"),
                          extra={"latents": res.edited, "latent_mask": res.mask, "z0": z0})

    def describe(self) -> dict[str, Any]:
        return {"editor": self.name, "kind": "stable-diffusion", "path": str(self.path),
                "unet_config_sha256": sha256_file(self.path / "unet" / "config.json"),
                "resolution": self.resolution, "paste_back": self.paste_back,
                "params": self.params.to_dict()}
