"""Tiny models, weight files and stimulus folders that the tests build themselves (no downloads).

Shared by tests/models, tests/embed and tests/test_audit.py (``from models.tiny import ...``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

TIMM_ARCH = "vit_tiny_patch16_224"
TINY = {"img_size": 32, "patch_size": 8, "depth": 3, "embed_dim": 32, "num_heads": 2}

OPEN_CLIP_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 3, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
}
OPEN_CLIP_PP = {"mean": [0.1, 0.2, 0.3], "std": [0.5, 0.25, 0.5], "interpolation": "bilinear",
                "resize_mode": "squash"}


def tiny_timm(seed: int = 0, **overrides: Any) -> torch.nn.Module:
    """A random-init tiny timm ViT (32 px, 8 px patches, 3 blocks, width 32)."""
    import timm

    torch.manual_seed(seed)
    return timm.create_model(TIMM_ARCH, pretrained=False, **{**TINY, **overrides}).eval()


def save_weights(state: dict[str, torch.Tensor], path: Path) -> Path:
    """Write a state dict as .safetensors, or with torch.save for any other suffix."""
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path


def tiny_ckpt(out: Path, init_seed: int = 0, **meta: Any) -> Path:
    """A vitbias checkpoint folder of a tiny ViT with 4 classes (``meta`` goes to model.json)."""
    from bias.checkpoint import save_checkpoint

    kwargs = {**TINY, "num_classes": 4}
    return save_checkpoint(tiny_timm(init_seed, num_classes=4), out, TIMM_ARCH, kwargs, **meta)


def tiny_open_clip(seed: int = 0) -> torch.nn.Module:
    """The full tiny CLIP (image + text towers) built from :data:`OPEN_CLIP_CFG`."""
    from open_clip.model import CLIP

    torch.manual_seed(seed)
    return CLIP(**OPEN_CLIP_CFG).eval()


def register_tiny_open_clip(config_dir: Path, name: str = "vitbias-tiny-clip") -> str:
    """Register the tiny config with open_clip under ``name`` (like a built-in arch)."""
    import open_clip

    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{name}.json"
    path.write_text(json.dumps(OPEN_CLIP_CFG))
    open_clip.add_model_config(path)
    return name


def tiny_open_clip_dir(out: Path, seed: int = 0, weights: str = "open_clip_model.safetensors"
                       ) -> Path:
    """A Hugging Face-style folder: ``open_clip_config.json`` (model + preprocess) + weights."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {"model_cfg": OPEN_CLIP_CFG, "preprocess_cfg": OPEN_CLIP_PP}
    (out / "open_clip_config.json").write_text(json.dumps(doc))
    save_weights(tiny_open_clip(seed).state_dict(), out / weights)
    return out


def write_images(root: Path, concepts: dict[str, int], seed: int = 0,
                 size: tuple[int, int] = (40, 48)) -> dict[str, list[Path]]:
    """Random RGB PNGs: ``{category/concept: n}`` -> ``{concept: paths}`` under ``root``."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[Path]] = {}
    for concept, n in concepts.items():
        folder = root / concept
        folder.mkdir(parents=True, exist_ok=True)
        out[concept] = []
        for i in range(n):
            path = folder / f"img{i:02d}.png"
            Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
            out[concept].append(path)
    return out


class Evil:
    """Unpickling this runs ``touch <marker>``: the payload of a crafted checkpoint."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))
