"""Embedding a stimulus folder: images -> DataLoader -> one forward pass per batch -> table."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from bias.embed.cache import EmbeddingCache, cache_key, default_cache_dir, file_sha256s
from bias.embed.extract import (
    check_poolings,
    extract_batch,
    model_depth,
    num_prefix_tokens,
    token_norm,
)
from bias.embed.images import StimulusDataset
from bias.embed.options import (
    DEFAULT_POOLINGS,
    default_workers,
    parse_layers,
    parse_poolings,
    resolve_device,
)
from bias.embeddings import EmbeddingTable, Key
from bias.errors import VitbiasError
from bias.io import versions
from bias.models.loaded import LoadedModel

log = logging.getLogger(__name__)

LAYER_NUMBERING = "layer i = output of block i (0..depth-1); prelogits at depth-1"


@dataclass(frozen=True)
class EmbedOptions:
    """How to embed: which keys, batching, device, precision, bad images, cache."""

    layers: str | Sequence[int] = "all"
    poolings: str | Sequence[str] = DEFAULT_POOLINGS
    batch_size: int = 32
    num_workers: int | None = None  # None: min(4, cpu count)
    device: str = "auto"
    bf16: bool = False
    skip_bad_images: bool = False
    cache_dir: str | Path | None = None  # None: $VITBIAS_CACHE or ~/.cache/vitbias/embeddings
    use_cache: bool = True


def embed_stimuli(model: LoadedModel, stimuli: Mapping[str, Sequence[Path]],
                  options: EmbedOptions | None = None) -> EmbeddingTable:
    """Embed every image of ``stimuli`` (``{"category/concept": [image paths]}``).

    Returns a table with rows in concept order then file order, image ids
    ``category/concept/file``, arrays ``(pooling, layer) -> (N, D) float32`` and provenance.
    A rerun with the same weights, preprocessing, settings and image bytes reads the cache
    and runs no forward pass.
    """
    opts = options or EmbedOptions()
    depth = model_depth(model)
    layers, poolings = parse_layers(opts.layers, depth), parse_poolings(opts.poolings)
    check_poolings(model, poolings)
    device = resolve_device(opts.device)
    if opts.bf16 and device.type != "cuda":
        raise VitbiasError("--bf16 needs a CUDA device (bf16 autocast is for GPUs)")
    paths, ids, concepts = _flatten(stimuli)
    settings = {"layers": layers, "poolings": list(poolings), "layer_norm": True,
                "layer_norm_module": token_norm(model), "autocast": "bf16" if opts.bf16 else None,
                "skip_bad_images": opts.skip_bad_images,
                "device_type": device.type}  # GPU kernels (TF32 convs) change the last digits
    hashes = file_sha256s(paths)
    key = cache_key({"weights_sha256": model.weights_sha256, "identity": model.identity,
                     "preprocessing": model.preprocessing, "family": model.family},
                    settings, list(zip(ids, hashes, strict=True)))
    cache = EmbeddingCache(opts.cache_dir or default_cache_dir()) if opts.use_cache else None
    if cache is not None and (hit := cache.get(key)) is not None:
        hit.provenance["cache"] = {"key": key, "hit": True, "path": str(cache.path(key))}
        return hit
    arrays, bad = _run(model, paths, layers, poolings, device, opts)
    provenance = {**model.provenance(), **settings, "depth": depth,
                  "num_prefix_tokens": num_prefix_tokens(model), "layering": LAYER_NUMBERING,
                  "device": str(device), "versions": versions(),
                  "images_sha256": hashlib.sha256("".join(hashes).encode()).hexdigest(),
                  "cache": {"key": key, "hit": False}}
    table = _table(arrays, bad, paths, ids, concepts, provenance)
    if cache is not None:
        cache.put(key, table)
    return table


def embed_spec(spec: str, stimuli: Mapping[str, Sequence[Path]],
               options: EmbedOptions | None = None) -> tuple[EmbeddingTable, dict[str, Any]]:
    """Embed ``stimuli`` with the model ``spec`` names, or with the low-level baseline
    (``lowlevel[:features]``, :mod:`bias.embed.lowlevel`); returns the table and the model's
    metadata (a checkpoint's ``model.json``; ``objective: lowlevel`` for the baseline)."""
    from bias.embed.lowlevel import is_lowlevel, lowlevel_table
    from bias.models import load_model

    opts = options or EmbedOptions()
    if is_lowlevel(spec):
        log.info("%s: low-level features, not a model; --layers and --pooling do not apply",
                 spec)
        return (lowlevel_table(spec, stimuli, skip_bad_images=opts.skip_bad_images),
                {"objective": "lowlevel"})
    model = load_model(spec)
    return embed_stimuli(model, stimuli, opts), model.meta


def _table(arrays: dict[Key, np.ndarray], bad: dict[int, str], paths: list[Path],
           ids: list[str], concepts: list[str], provenance: dict[str, Any]) -> EmbeddingTable:
    """The table without the rows of unreadable images, which provenance lists."""
    keep = np.asarray([i not in bad for i in range(len(paths))])
    if not keep.any():
        raise VitbiasError("no readable image to embed")
    skipped = [{"image": str(paths[i]), "error": bad[i]} for i in sorted(bad)]
    return EmbeddingTable(arrays={k: v[keep] for k, v in arrays.items()},
                          image_ids=[i for i, k in zip(ids, keep, strict=True) if k],
                          concepts=[c for c, k in zip(concepts, keep, strict=True) if k],
                          provenance={**provenance, "skipped_images": skipped})


def _flatten(stimuli: Mapping[str, Sequence[Path]]) -> tuple[list[Path], list[str], list[str]]:
    paths, ids, concepts = [], [], []
    for concept in sorted(stimuli):
        for path in stimuli[concept]:
            paths.append(Path(path))
            ids.append(f"{concept}/{Path(path).name}")
            concepts.append(concept)
    if not paths:
        raise VitbiasError("no stimulus images to embed")
    return paths, ids, concepts


def _run(model: LoadedModel, paths: list[Path], layers: list[int], poolings: Sequence[str],
         device: torch.device, opts: EmbedOptions) -> tuple[dict[Key, np.ndarray], dict[int, str]]:
    """Forward every batch once; returns arrays for all rows and ``{row: error}`` of bad ones."""
    size = tuple(model.preprocessing.get("input_size") or (3, *_size(model)))
    loader = torch.utils.data.DataLoader(
        StimulusDataset(paths, model.transform, size), batch_size=opts.batch_size,
        shuffle=False, num_workers=default_workers() if opts.num_workers is None
        else opts.num_workers, pin_memory=device.type == "cuda")
    chunks: dict[Key, list[np.ndarray]] = {}
    bad: dict[int, str] = {}
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if opts.bf16
                else contextlib.nullcontext())
    module = model.module.to(device).eval()
    try:
        with torch.inference_mode(), tqdm(total=len(paths), unit="img",
                                          desc=f"embed {model.spec}") as bar:
            for x, index, errors in loader:
                for i, err in zip(index.tolist(), errors, strict=True):
                    if err and not opts.skip_bad_images:
                        raise VitbiasError(f"{err} (use --skip-bad-images to skip such files)")
                    if err:
                        bad[i] = err
                with autocast:
                    feats = extract_batch(model, x.to(device, non_blocking=True), layers,
                                          poolings)
                for k, v in feats.items():
                    chunks.setdefault(k, []).append(v.float().cpu().numpy())
                bar.update(len(index))
    finally:
        module.to("cpu")
    if bad:
        log.warning("skipped %d unreadable image(s): %s", len(bad),
                    "; ".join(bad[i] for i in sorted(bad)))
    return {k: np.concatenate(v).astype(np.float32, copy=False) for k, v in chunks.items()}, bad


def _size(model: LoadedModel) -> tuple[int, int]:
    """Input (H, W) for open_clip towers, whose preprocess_cfg names it ``size``."""
    size: Any = model.preprocessing.get("size", 224)
    return (size, size) if isinstance(size, int) else tuple(size)
