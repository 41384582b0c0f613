"""vitbias checkpoints: ``<dir>/model.safetensors`` + ``<dir>/model.json``.

``model.safetensors`` holds the state dict of the timm VisionTransformer built by
``timm.create_model(meta["arch"], pretrained=False, **meta["model_kwargs"])``: the backbone
(and a supervised head, when there is one). Objective-specific modules (projectors, decoders)
live only in the training state, not here, so that any checkpoint loads as a plain timm ViT.

``model.json`` holds at least ``format``, ``arch``, ``model_kwargs``; training adds
``objective, size, data, seed, epochs, loss_curve, final_loss, versions, data_config``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bias.errors import VitbiasError
from bias.io import atomic_file, read_folder_meta, versions, write_json

FORMAT = "vitbias-checkpoint/1"
WEIGHTS = "model.safetensors"
META = "model.json"


def save_checkpoint(model: Any, out_dir: str | os.PathLike[str], arch: str,
                    model_kwargs: dict[str, Any], **meta: Any) -> Path:
    """Write ``model`` (a timm VisionTransformer) and its metadata; returns ``out_dir``."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_file(out / WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT, "arch": arch})
    doc = {"format": FORMAT, "arch": arch, "model_kwargs": model_kwargs,
           "versions": versions(), **meta}
    write_json(out / META, doc)
    return out


def read_meta(ckpt_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Validated ``model.json`` of a checkpoint folder."""
    return read_folder_meta(ckpt_dir, "checkpoint", (WEIGHTS, META), META,
                            ("arch", "model_kwargs"))


def load_checkpoint(ckpt_dir: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Rebuild the timm model of a checkpoint folder and load its weights (no pickle)."""
    import timm
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(ckpt_dir)
    meta = read_meta(d)
    try:
        model = timm.create_model(meta["arch"], pretrained=False, **meta["model_kwargs"])
    except (RuntimeError, TypeError, ValueError) as exc:
        raise VitbiasError(f"checkpoint {d}: cannot build {meta['arch']} with "
                           f"{meta['model_kwargs']}: {exc}") from exc
    try:
        state = load_file(str(d / WEIGHTS))
    except (SafetensorError, OSError) as exc:
        raise VitbiasError(f"checkpoint {d / WEIGHTS} is not a readable safetensors file: "
                           f"{exc}") from exc
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise VitbiasError(f"checkpoint {d / WEIGHTS} does not match {meta['arch']}: "
                           f"missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]}")
    return model.eval(), meta
