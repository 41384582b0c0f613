"""Association scores and effect sizes of the iEAT/WEAT and the single-category SC-EAT.

Everything works on stacks: a concept's embeddings at M (model, layer, pooling) keys as a
float64 array (M, n, D). The per-image association score reduces each test to a matrix
(M, n) that no longer depends on D, which is what lets one permutation pass serve models of
different widths (see :mod:`bias.association.permutation`).

- WEAT score of a target image w: s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)
  = unit(w) . (mean_a unit(a) - mean_b unit(b)).
- WEAT effect size: d = (mean_{x in X} s(x) - mean_{y in Y} s(y)) / std_{w in X u Y} s(w),
  with the sample standard deviation (ddof=1), as in Caliskan et al. (2017) and iEAT.
- SC-EAT score of an attribute image t: c(t) = mean_{w in X} cos(w, t); its effect size is
  the same formula over the attribute split A | B.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def unit_rows(v: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in float64; shape (..., n, D) is kept."""
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _stack(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v[None] if v.ndim == 2 else v


def weat_scores(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """s(w, A, B) for w in X then Y: (M, nx + ny) from stacks (M, n_set, D) or (n_set, D)."""
    x, y, a, b = (_stack(v) for v in (x, y, a, b))
    direction = unit_rows(a).mean(axis=1) - unit_rows(b).mean(axis=1)  # (M, D)
    targets = unit_rows(np.concatenate([x, y], axis=1))  # (M, nx + ny, D)
    return np.einsum("mnd,md->mn", targets, direction)


def sc_scores(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c(t) = mean_{w in X} cos(w, t) for t in A then B: (M, na + nb)."""
    x, a, b = (_stack(v) for v in (x, a, b))
    centroid = unit_rows(x).mean(axis=1)  # (M, D)
    attributes = unit_rows(np.concatenate([a, b], axis=1))  # (M, na + nb, D)
    return np.einsum("mnd,md->mn", attributes, centroid)


def effect_size_from_scores(scores: np.ndarray, n_first: int) -> np.ndarray:
    """Standardised mean difference of scores[:, :n_first] vs the rest: (M, n) -> (M,).

    A stack row whose scores are all equal has no defined effect size; it gets NaN (and a
    warning) rather than an error, so that one degenerate layer does not stop an audit.
    """
    scores = np.asarray(scores, dtype=np.float64)
    diff = scores[:, :n_first].mean(axis=1) - scores[:, n_first:].mean(axis=1)
    spread = scores.std(axis=1, ddof=1)
    flat = spread == 0
    if flat.any():
        log.warning("%d embedding set(s) give identical association scores for every image;"
                    " their effect size is undefined (NaN)", int(flat.sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flat, np.nan, diff / np.where(flat, 1.0, spread))


def weat_effect_size(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """iEAT/WEAT effect size d of each stack row: (M,)."""
    return effect_size_from_scores(weat_scores(x, y, a, b), _stack(x).shape[1])


def sc_effect_size(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SC-EAT effect size of target set X against A vs B, per stack row: (M,)."""
    return effect_size_from_scores(sc_scores(x, a, b), _stack(a).shape[1])
