"""Content-addressed cache of embedding tables.

An entry is the full :class:`~bias.embeddings.EmbeddingTable` (every requested layer and
pooling, image ids, provenance) stored as ``<cache_dir>/<key>.npz``. The key hashes what the
numbers depend on — the weights (state-dict hash), what else defines the network (arch,
constructor kwargs), the preprocessing, the layers, poolings, final-norm rule and autocast
dtype, and the bytes of every image with its id — never paths or times, so a moved stimulus
folder still hits and any changed pixel misses.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError

log = logging.getLogger(__name__)

# Bump when the extraction itself changes (pooling or norm semantics), to invalidate entries.
CACHE_FORMAT = "vitbias-embed-cache/1"


def default_cache_dir() -> Path:
    """``$VITBIAS_CACHE``, else ``~/.cache/vitbias/embeddings``."""
    env = os.environ.get("VITBIAS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vitbias" / "embeddings"


def file_sha256s(paths: list[Path]) -> list[str]:
    """SHA-256 of each file's bytes (a missing file is an error naming it)."""
    out = []
    for path in paths:
        try:
            out.append(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError as exc:
            raise VitbiasError(f"cannot read image {path}: {exc}") from exc
    return out


def cache_key(model_part: dict[str, Any], settings: dict[str, Any],
              images: list[tuple[str, str]]) -> str:
    """Hex key from the model identity, extraction settings and ``(image_id, sha256)`` pairs."""
    doc = {"format": CACHE_FORMAT, "model": model_part, "settings": settings, "images": images}
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


class EmbeddingCache:
    """Get and put tables by key in one folder; a corrupt entry is a miss, not an error."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).expanduser()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def get(self, key: str) -> EmbeddingTable | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            table = EmbeddingTable.load(path)
        except VitbiasError as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        log.info("embeddings from cache %s", path)
        return table

    def put(self, key: str, table: EmbeddingTable) -> Path:
        path = self.path(key)
        try:
            table.save(path)
        except OSError as exc:  # a full or read-only cache must not fail the run
            log.warning("could not write cache entry %s: %s", path, exc)
        return path
