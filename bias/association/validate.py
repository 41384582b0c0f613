"""Input checks for the association tests: every error names the concept it is about.

An embedding *set* is the stack of one concept's image embeddings at M (model, layer,
pooling) keys, shape (M, n, D); a single (n, D) matrix is promoted to M = 1. Sets need at
least two images (a set of one has no spread, and a bootstrap of one image is meaningless),
finite values and no zero vectors (cosine similarity is undefined for them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bias.errors import VitbiasError

MIN_IMAGES = 2
ALTERNATIVES = ("greater", "less", "two-sided")


def check_set(concept: str, values: object, where: str = "") -> np.ndarray:
    """One concept's embeddings as float64 (M, n, D); raise VitbiasError naming ``concept``.

    ``where`` (e.g. ``"model vit-s, key ('cls', 3)"``) is prefixed to messages so that an
    error in a large audit says which model and layer it came from.
    """
    prefix = f"{where}: " if where else ""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise VitbiasError(f"{prefix}concept {concept}: embeddings are not numeric "
                           f"({exc})") from exc
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise VitbiasError(f"{prefix}concept {concept}: expected an (n, D) or (M, n, D) array, "
                           f"got shape {arr.shape}")
    n_images, dim = arr.shape[1], arr.shape[2]
    if n_images == 0:
        raise VitbiasError(f"{prefix}concept {concept} is empty: it has no images")
    if n_images < MIN_IMAGES:
        raise VitbiasError(f"{prefix}concept {concept} has a single image; "
                           f"a test needs at least {MIN_IMAGES} per set")
    if dim == 0:
        raise VitbiasError(f"{prefix}concept {concept}: embeddings have dimension 0")
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argwhere(bad)[0][1])
        raise VitbiasError(f"{prefix}concept {concept}: image {row} has a non-finite value "
                           "(NaN or inf) in its embedding")
    norms = np.linalg.norm(arr, axis=-1)
    if (norms == 0).any():
        row = int(np.argwhere(norms == 0)[0][1])
        raise VitbiasError(f"{prefix}concept {concept}: image {row} has a zero embedding "
                           "vector; its cosine similarity is undefined")
    return arr


def check_sets(sets: Sequence[tuple[str, object]], where: str = "") -> list[np.ndarray]:
    """Check several concepts' sets at once: same stack size M and the same dimension D.

    sets: (concept, values) pairs (a list, not a dict: a test may name one concept twice).
    Returns float64 (M, n_concept, D) arrays in the input order.
    """
    checked = [check_set(concept, values, where) for concept, values in sets]
    prefix = f"{where}: " if where else ""
    first = sets[0][0]
    m0, d0 = checked[0].shape[0], checked[0].shape[2]
    for (concept, _), arr in zip(sets, checked, strict=True):
        if arr.shape[2] != d0:
            raise VitbiasError(f"{prefix}concept {concept} has dimension {arr.shape[2]}, "
                               f"but {first} has {d0}")
        if arr.shape[0] != m0:
            raise VitbiasError(f"{prefix}concept {concept} is stacked over {arr.shape[0]} "
                               f"embedding sets, but {first} over {m0}")
    return checked


def check_alternative(alternative: str) -> str:
    """The alternative hypothesis name, or an error listing the valid ones."""
    if alternative not in ALTERNATIVES:
        raise VitbiasError(f"unknown alternative {alternative!r}; choose one of {ALTERNATIVES}")
    return alternative


def check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise VitbiasError(f"confidence must be in (0, 1), got {confidence}")
    return float(confidence)


def check_count(name: str, value: int, minimum: int) -> int:
    if int(value) != value or value < minimum:
        raise VitbiasError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)
