"""Parsing of the user's layer, pooling and device choices (CLI strings or Python lists)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from bias.embed.extract import POOLINGS
from bias.errors import VitbiasError

DEFAULT_POOLINGS = POOLINGS


def parse_layers(layers: str | Sequence[int], depth: int) -> list[int]:
    """Sorted block indices from ``"all"``, ``"0,5,11"`` or a list; negatives count from the end.

    ``-1`` is the last block. An index outside ``[-depth, depth)`` is an error naming it.
    """
    if isinstance(layers, str):
        text = layers.strip().lower()
        if text == "all":
            return list(range(depth))
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError as exc:
            raise VitbiasError(f"--layers must be 'all' or comma-separated integers, got "
                               f"{layers!r}") from exc
    else:
        values = [int(v) for v in layers]
    if not values:
        raise VitbiasError("no layers selected")
    bad = [v for v in values if not -depth <= v < depth]
    if bad:
        raise VitbiasError(f"layer(s) {bad} out of range: the model has {depth} blocks "
                           f"(0..{depth - 1}, or negative from the end)")
    return sorted({v % depth for v in values})


def parse_poolings(poolings: str | Sequence[str]) -> tuple[str, ...]:
    """Poolings from ``"cls,mean"`` or a list, in the canonical order; unknown names fail."""
    names = poolings.split(",") if isinstance(poolings, str) else list(poolings)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = sorted(set(names) - set(POOLINGS))
    if unknown or not names:
        raise VitbiasError(f"unknown pooling(s) {unknown or names}; known: {', '.join(POOLINGS)}")
    return tuple(p for p in POOLINGS if p in names)


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, else the CPU; an unavailable CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise VitbiasError(f"--device {name}: CUDA is not available on this machine")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise VitbiasError(f"unknown --device {name!r}: use auto, cpu or cuda[:N]") from exc


def default_workers() -> int:
    """DataLoader workers: decoding overlaps the forward pass, without oversubscribing."""
    return min(4, os.cpu_count() or 1)
