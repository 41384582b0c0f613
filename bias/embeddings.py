"""The embedding table: the contract between the embed stage and the association tests.

An :class:`EmbeddingTable` holds, for one model, the embeddings of every stimulus image at
every requested (pooling, layer), the image ids and concepts, and the provenance. It is stored
as one ``.npz`` file (no pickle) with

- ``emb/<pooling>/<layer>``: float32 array of shape (N, D) — row i is image i;
- ``image_ids``: (N,) str, ``category/concept/file`` relative to the stimulus root;
- ``concepts``: (N,) str, ``category/concept``;
- ``provenance``: a JSON string (model spec, weight hash, preprocessing, versions, ...).

User-supplied embeddings (``<root>/<category>/<concept>.{npy,csv,parquet}``) load into the same
table with pooling ``given`` and layer ``-1``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bias.errors import VitbiasError
from bias.io import atomic_file

log = logging.getLogger(__name__)

GIVEN_POOLING = "given"
GIVEN_LAYER = -1
EMBEDDING_SUFFIXES = (".npy", ".csv", ".parquet")

Key = tuple[str, int]  # (pooling, layer)


@dataclass
class EmbeddingTable:
    """Embeddings of N images at several (pooling, layer) keys, each an (N, D) array."""

    arrays: dict[Key, np.ndarray]
    image_ids: list[str]
    concepts: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.image_ids)
        if len(self.concepts) != n:
            raise VitbiasError(f"embedding table: {len(self.concepts)} concepts for {n} images")
        for key, arr in self.arrays.items():
            if arr.ndim != 2 or arr.shape[0] != n:
                raise VitbiasError(
                    f"embedding table: array {key} has shape {arr.shape}, expected ({n}, D)"
                )

    @property
    def keys(self) -> list[Key]:
        """(pooling, layer) keys, sorted by pooling then layer."""
        return sorted(self.arrays)

    @property
    def concept_names(self) -> list[str]:
        return sorted(set(self.concepts))

    def rows(self, concept: str) -> np.ndarray:
        """Row indices (int64) of the images of one ``category/concept``."""
        return np.flatnonzero(np.asarray(self.concepts) == concept)

    def concept_array(self, concept: str, key: Key) -> np.ndarray:
        """(n_concept, D) embeddings of one concept at one key."""
        return self.arrays[key][self.rows(concept)]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the table atomically as ``.npz`` (float32, no pickled objects)."""
        payload: dict[str, np.ndarray] = {
            f"emb/{pool}/{layer}": np.ascontiguousarray(arr, dtype=np.float32)
            for (pool, layer), arr in self.arrays.items()
        }
        payload["image_ids"] = np.asarray(self.image_ids, dtype=np.str_)
        payload["concepts"] = np.asarray(self.concepts, dtype=np.str_)
        payload["provenance"] = np.asarray(json.dumps(self.provenance, sort_keys=True,
                                                      default=str))
        with atomic_file(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, **payload)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmbeddingTable:
        """Read a table written by :meth:`save`; a missing or corrupt file is an error."""
        path = Path(path)
        if not path.is_file():
            raise VitbiasError(f"embedding file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {}
                for name in z.files:
                    if name.startswith("emb/"):
                        _, pool, layer = name.split("/")
                        arrays[(pool, int(layer))] = z[name]
                ids = [str(s) for s in z["image_ids"]]
                concepts = [str(s) for s in z["concepts"]]
                provenance = json.loads(str(z["provenance"]))
        except (OSError, ValueError, KeyError) as exc:
            raise VitbiasError(f"cannot read embedding file {path}: {exc}") from exc
        return cls(arrays=arrays, image_ids=ids, concepts=concepts, provenance=provenance)


def _read_matrix(path: Path) -> np.ndarray:
    """One concept's user-supplied embeddings as a float64 (n, D) matrix."""
    import pandas as pd

    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
            # Non-numeric columns (file names, ids) are metadata, not dimensions; so is a
            # leftover pandas index column such as "Unnamed: 0".
            numeric = frame.select_dtypes(include="number")
            numeric = numeric.loc[:, ~numeric.columns.astype(str).str.startswith("Unnamed:")]
            arr = numeric.to_numpy()
    except (OSError, ValueError) as exc:
        raise VitbiasError(f"cannot read embeddings {path}: {exc}") from exc
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise VitbiasError(f"embeddings {path}: expected one row per image, got shape {arr.shape}")
    return arr


def load_embedding_dir(root: str | os.PathLike[str],
                       concepts: Iterable[str] | None = None) -> EmbeddingTable:
    """Load ``<root>/<category>/<concept>.{npy,csv,parquet}`` into a table (pooling ``given``).

    Only the concepts named in ``concepts`` are read when given (others are ignored); a
    concept present in two formats is an error, as the choice would be silent.
    """
    root = Path(root)
    if not root.is_dir():
        raise VitbiasError(f"embeddings folder not found: {root}")
    found: dict[str, Path] = {}
    for path in sorted(root.glob("*/*")):
        if path.suffix.lower() not in EMBEDDING_SUFFIXES or not path.is_file():
            continue
        concept = f"{path.parent.name}/{path.stem}"
        if concept in found:
            raise VitbiasError(f"concept {concept} has two embedding files: {found[concept]}"
                               f" and {path}")
        found[concept] = path
    if not found:
        raise VitbiasError(f"no embeddings in {root}: expected "
                           "<category>/<concept>.npy|csv|parquet")
    wanted = sorted(found if concepts is None else set(concepts) & set(found))
    blocks, ids, names = [], [], []
    for concept in wanted:
        mat = _read_matrix(found[concept])
        if blocks and mat.shape[1] != blocks[0].shape[1]:
            raise VitbiasError(f"concept {concept} has dimension {mat.shape[1]}, "
                               f"but {names[0]} has {blocks[0].shape[1]}")
        blocks.append(mat)
        ids += [f"{concept}/{i}" for i in range(len(mat))]
        names += [concept] * len(mat)
    dim = blocks[0].shape[1] if blocks else 0
    data = np.concatenate(blocks) if blocks else np.zeros((0, dim))
    return EmbeddingTable(arrays={(GIVEN_POOLING, GIVEN_LAYER): data}, image_ids=ids,
                          concepts=names, provenance={"source": str(root)})
