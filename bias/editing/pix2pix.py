"""InstructPix2Pix (Brooks et al., 2023) from a local diffusers folder: edit by instruction.

diffusers' ``StableDiffusionInstructPix2PixPipeline`` does the work; each request's
``instruction`` ("make the person a woman") is the prompt. The model has no notion of a mask,
so the QA mask is where the edit changed the pixels: mean |edited - input| over channels above
``mask_pixel_threshold`` (in [0, 1] units), dilated by ``mask_dilate`` pixels so that the
outside-mask change measures spill-over away from the edit, not its soft border.

Parameters: ``num_steps`` (50), ``guidance_scale`` (7.5, text), ``image_guidance_scale`` (1.5),
``resolution`` (512, a multiple of 8; images are resized to it and back),
``mask_pixel_threshold`` (0.1), ``mask_dilate`` (1).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from bias.editing.base import EditOutput, EditRequest, generators, resize
from bias.editing.sd import check_diffusers_folder
from bias.errors import VitbiasError
from bias.io import sha256_file


@dataclass(frozen=True)
class Pix2PixParams:
    num_steps: int = 50
    guidance_scale: float = 7.5
    image_guidance_scale: float = 1.5
    resolution: int = 512
    mask_pixel_threshold: float = 0.1
    mask_dilate: int = 1

    def __post_init__(self) -> None:
        if self.num_steps < 1 or self.resolution % 8 or self.mask_dilate < 0:
            raise VitbiasError(f"InstructPix2Pix parameters out of range: {self}")


def difference_mask(original: Tensor, edited: Tensor, threshold: float, dilate: int) -> Tensor:
    """(B, 1, H, W) in {0, 1}: where mean |edited - original| over channels exceeds
    ``threshold``, grown by ``dilate`` pixels (max-pooling)."""
    mask = ((edited - original).abs().mean(dim=1, keepdim=True) > threshold).to(original.dtype)
    if dilate:
        mask = torch.nn.functional.max_pool2d(mask, 2 * dilate + 1, stride=1, padding=dilate)
    return mask


class InstructPix2PixEditor:
    """Requests need an ``instruction``."""

    name = "instruct-pix2pix"

    def __init__(self, path: str | os.PathLike[str], **params: Any):
        from diffusers import StableDiffusionInstructPix2PixPipeline

        known = set(Pix2PixParams.__dataclass_fields__)
        if set(params) - known:
            raise VitbiasError(f"unknown InstructPix2Pix parameter(s) "
                               f"{sorted(set(params) - known)}; known: {sorted(known)}")
        self.params = Pix2PixParams(**params)
        self.path = check_diffusers_folder(path, ("unet", "vae", "text_encoder", "tokenizer",
                                                  "scheduler"))
        try:
            self.pipe = StableDiffusionInstructPix2PixPipeline.from_pretrained(
                self.path, use_safetensors=True, local_files_only=True, safety_checker=None,
                feature_extractor=None, requires_safety_checker=False)
        except (OSError, ValueError) as exc:
            raise VitbiasError(f"cannot load InstructPix2Pix from {self.path} (safetensors "
                               f"weights required): {exc}") from exc
        self.pipe.set_progress_bar_config(disable=True)

    @torch.no_grad()
    def edit(self, images: Tensor, requests: list[EditRequest], seeds: list[int]) -> EditOutput:
        """``images`` (B, 3, H, W) in [0, 1] -> edited (B, 3, H, W), masks (B, 1, H, W)."""
        if any(not r.instruction for r in requests):
            raise VitbiasError("InstructPix2Pix needs an instruction for every image")
        p = self.params
        x = resize(images, (p.resolution, p.resolution)).clamp(0, 1)
        out = self.pipe(prompt=[r.instruction for r in requests], image=x,
                        num_inference_steps=p.num_steps, guidance_scale=p.guidance_scale,
                        image_guidance_scale=p.image_guidance_scale,
                        generator=generators(seeds), output_type="pt").images
        edited = resize(out.float().cpu(), tuple(images.shape[-2:])).clamp(0, 1)
        mask = difference_mask(images, edited, p.mask_pixel_threshold, p.mask_dilate)
        return EditOutput(images=edited, masks=mask)

    def describe(self) -> dict[str, Any]:
        return {"editor": self.name, "kind": "instruct-pix2pix", "path": str(self.path),
                "unet_config_sha256": sha256_file(self.path / "unet" / "config.json"),
                "params": asdict(self.params)}
