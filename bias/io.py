"""Small I/O helpers shared by every stage: atomic outputs, provenance, hashing.

Every stage writes through :func:`atomic_file` or :func:`atomic_dir` so that a failure (bad
input, a crash, Ctrl-C) never leaves a partial output that a rerun or Snakemake would trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bias.errors import VitbiasError

_TRACKED_PACKAGES = (
    "vitbias", "numpy", "scipy", "pandas", "torch", "torchvision", "timm", "open_clip_torch",
    "diffusers", "safetensors", "scikit-learn", "scikit-image", "statsmodels",
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files: give them the usual umask mode so that reports and
    # results are readable by the group on a shared cluster.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; it replaces ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp gives 0700; see atomic_file
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as stable, human-readable JSON, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def versions() -> dict[str, str]:
    """Versions of Python and the packages whose behaviour shapes the numbers."""
    out = {"python": platform.python_version()}
    for name in _TRACKED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_folder_meta(folder: str | os.PathLike[str], what: str, files: tuple[str, ...],
                     meta: str, fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON document ``meta`` of a saved-model folder, after checking that the folder,
    each of ``files`` and each top-level ``fields`` exist; errors name ``what`` and the path.
    """
    d = Path(folder)
    if not d.is_dir():
        raise VitbiasError(f"{what} folder not found: {d}")
    for name in files:
        if not (d / name).is_file():
            raise VitbiasError(f"{what} {d} lacks {name}")
    try:
        doc = json.loads((d / meta).read_text())
    except json.JSONDecodeError as exc:
        raise VitbiasError(f"{what} {d / meta} is not valid JSON: {exc}") from exc
    for field in fields:
        if field not in doc:
            raise VitbiasError(f"{what} {d / meta} lacks field '{field}'")
    return doc
