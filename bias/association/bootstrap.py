"""Percentile bootstrap confidence intervals of the effect size, vectorised over resamples.

Images are resampled with replacement within each set (X, Y, A, B for the WEAT; X, A, B for
the SC-EAT). A resample is a vector of counts per image (multinomial), so a resampled effect
size is a weighted one: the cosine matrix between the compared images ("rows": X u Y, or
A u B) and the averaged images ("columns": A u B with signs, or X) is computed once, and
all resamples of a block are one matrix product (M, rows, cols) @ (cols, R).

The counts depend only on the seed and the set sizes, so every stack row (model, layer,
pooling) of a test is resampled the same way, whatever else is in the stack.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from bias.association.effect import unit_rows
from bias.association.validate import check_confidence, check_count

log = logging.getLogger(__name__)

BLOCK_ELEMENTS = 1 << 22


def draw_counts(rng: np.random.Generator, sizes: tuple[int, ...], n_bootstrap: int,
                ) -> list[np.ndarray]:
    """Resampling counts, one (n_bootstrap, size) int matrix per set; each row sums to size."""
    return [rng.multinomial(size, np.full(size, 1.0 / size), size=n_bootstrap)
            for size in sizes]


def weighted_effect_sizes(cos: np.ndarray, col_weights: np.ndarray, row_counts: np.ndarray,
                          n_first: int) -> np.ndarray:
    """Effect sizes of R weighted resamples: (M, R).

    cos: (M, rows, cols) cosine similarities; col_weights: (R, cols), so that the score of
    row i in resample r is sum_j cos[:, i, j] * col_weights[r, j]; row_counts: (R, rows)
    multiplicities of the compared images, the first n_first being group 1. The effect size
    is the count-weighted mean difference over the count-weighted sample std (ddof=1).
    """
    m, n_rows, _ = cos.shape
    n_res = col_weights.shape[0]
    out = np.empty((m, n_res))
    block = max(1, BLOCK_ELEMENTS // max(1, m * n_rows))
    for r0 in range(0, n_res, block):
        w = col_weights[r0:r0 + block]
        c = row_counts[r0:r0 + block].astype(np.float64)  # (r, rows)
        # one 2-D gemm: numpy's stacked matmul does not reach BLAS for this broadcast
        s = (cos.reshape(m * n_rows, -1) @ w.T).reshape(m, n_rows, -1)  # (M, rows, r)
        n1 = c[:, :n_first].sum(axis=1)
        n2 = c[:, n_first:].sum(axis=1)
        mean1 = np.einsum("mir,ri->mr", s[:, :n_first], c[:, :n_first]) / n1
        mean2 = np.einsum("mir,ri->mr", s[:, n_first:], c[:, n_first:]) / n2
        total = n1 + n2
        mu = (mean1 * n1 + mean2 * n2) / total
        var = np.einsum("mir,ri->mr", (s - mu[:, None, :]) ** 2, c) / (total - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, r0:r0 + block] = np.where(var > 0, (mean1 - mean2) / np.sqrt(var), np.nan)
    return out


def weat_bootstrap_effect_sizes(x, y, a, b, counts: list[np.ndarray]) -> np.ndarray:
    """Resampled WEAT effect sizes (M, R) for counts [cX, cY, cA, cB] from :func:`draw_counts`."""
    x, y, a, b = (unit_rows(v if np.ndim(v) == 3 else np.asarray(v)[None]) for v in (x, y, a, b))
    cx, cy, ca, cb = counts
    rows = np.concatenate([x, y], axis=1)
    cols = np.concatenate([a, b], axis=1)
    cos = rows @ np.swapaxes(cols, 1, 2)  # (M, nx + ny, na + nb)
    col_w = np.concatenate([ca / a.shape[1], -cb / b.shape[1]], axis=1)
    return weighted_effect_sizes(cos, col_w, np.concatenate([cx, cy], axis=1), x.shape[1])


def sc_bootstrap_effect_sizes(x, a, b, counts: list[np.ndarray]) -> np.ndarray:
    """Resampled SC-EAT effect sizes (M, R) for counts [cX, cA, cB]."""
    x, a, b = (unit_rows(v if np.ndim(v) == 3 else np.asarray(v)[None]) for v in (x, a, b))
    cx, ca, cb = counts
    rows = np.concatenate([a, b], axis=1)
    cos = rows @ np.swapaxes(x, 1, 2)  # (M, na + nb, nx)
    return weighted_effect_sizes(cos, cx / x.shape[1], np.concatenate([ca, cb], axis=1),
                                 a.shape[1])


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) percentile bounds over the last axis, ignoring NaN resamples: (M,), (M,)."""
    confidence = check_confidence(confidence)
    tail = 100 * (1 - confidence) / 2
    undefined = np.isnan(samples).mean(axis=-1)
    if undefined.any():
        log.warning("up to %.1f%% of bootstrap resamples had no spread (effect size "
                    "undefined) and were left out of the interval", 100 * undefined.max())
    # All-NaN rows (a fully degenerate set) correctly give NaN bounds; numpy's warning
    # about them would only repeat the one logged above.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=-1)
    return low, high


def bootstrap_ci(kind: str, sets: list[np.ndarray], *, n_bootstrap: int = 1000,
                 confidence: float = 0.95,
                 seed: int | np.random.SeedSequence | np.random.Generator | None = 0,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile CI of the effect size per stack row: ((M,), (M,)).

    kind: ``weat`` with sets [X, Y, A, B] or ``sc`` with sets [X, A, B]; each set (M, n, D)
    or (n, D). n_bootstrap = 0 gives NaN bounds (no interval requested).
    """
    n_bootstrap = check_count("n_bootstrap", n_bootstrap, 0)
    m = np.asarray(sets[0]).shape[0] if np.ndim(sets[0]) == 3 else 1
    if n_bootstrap == 0:
        return np.full(m, np.nan), np.full(m, np.nan)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    counts = draw_counts(rng, tuple(np.shape(s)[-2] for s in sets), n_bootstrap)
    if kind == "weat":
        samples = weat_bootstrap_effect_sizes(*sets, counts)
    elif kind == "sc":
        samples = sc_bootstrap_effect_sizes(*sets, counts)
    else:
        raise ValueError(f"unknown bootstrap kind {kind!r}; use 'weat' or 'sc'")
    return percentile_interval(samples, confidence)
