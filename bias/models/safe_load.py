"""Checks on weight files before any library reads them: never unpickle untrusted code.

safetensors files hold only tensors. Pickle-based files (``.pth``, ``.pt``, ``.bin``) are read
here with ``torch.load(weights_only=True)``, whose restricted unpickler refuses to import
anything but tensors and plain containers, so a crafted file is rejected before it can run
code, and timm / open_clip only ever see files that passed. (Both libraries load with
``weights_only=True`` themselves today; this check does not depend on them doing so.)
"""

from __future__ import annotations

import argparse
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

from bias.errors import VitbiasError

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
PICKLE_SUFFIXES = (".pth", ".pt", ".bin")


def check_weights_file(path: Path, suffixes: tuple[str, ...] = WEIGHT_SUFFIXES) -> Path:
    """Return ``path`` if it is an existing, readable weight file that runs no code on load."""
    if not path.is_file():
        raise VitbiasError(f"weights file not found: {path}")
    if path.suffix.lower() not in suffixes:
        raise VitbiasError(f"weights file {path}: unsupported type {path.suffix!r}; "
                           f"expected one of {', '.join(suffixes)}")
    if path.suffix.lower() == ".safetensors":
        safetensors_keys(path)
    else:
        load_pickle_weights(path, lazy=True)
    return path


def safetensors_keys(path: Path) -> list[str]:
    """Tensor names of a safetensors file (reads the header only)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return list(f.keys())
    except (SafetensorError, OSError, ValueError) as exc:
        raise VitbiasError(f"weights file {path} is not a readable safetensors file: "
                           f"{exc}") from exc


def load_pickle_weights(path: Path, lazy: bool = False) -> Any:
    """``torch.load(path, weights_only=True)``; a refused or unreadable file is an error.

    ``lazy`` memory-maps zip-format files so that checking a large file costs little.
    ``argparse.Namespace`` is allowed, as timm allows it: training checkpoints store their
    arguments that way, and it cannot run code.
    """
    import torch

    mmap = lazy and zipfile.is_zipfile(path)  # the legacy format cannot be memory-mapped
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        raise VitbiasError(
            f"refusing to load weights file {path}: it is not plain tensors "
            f"({_reason(str(exc))}); unpickling it could run code. Convert it to "
            f".safetensors from a trusted environment.") from exc
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise VitbiasError(f"weights file {path} is not a readable torch file: "
                           f"{_reason(str(exc))}") from exc


def _reason(message: str) -> str:
    """The informative line of torch's weights-only error (not its advice to disable it)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for pattern in (r"GLOBAL", r"[Uu]nsupported", r"error"):
        for line in lines:
            if re.search(pattern, line) and "weights_only" not in line:
                return line.rstrip(":")
    return lines[0] if lines else "unknown reason"
