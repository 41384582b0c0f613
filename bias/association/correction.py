"""Multiple-comparison correction of a family of p-values.

Registry names: ``holm`` (family-wise error, Holm 1979), ``bh`` (false discovery rate,
Benjamini & Hochberg 1995) and ``none`` (adjusted = raw). The family is decided by the
caller; :func:`bias.association.run.run_tests` uses all tests of one model, layer and pooling.

Written in numpy rather than calling statsmodels' ``multipletests``: the latter runs
``gc.collect()`` on every Holm call (~0.1 s in a large process), which dominated an audit
with hundreds of families. The tests check both against hand computations and statsmodels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bias.errors import VitbiasError


def _holm(p: np.ndarray) -> np.ndarray:
    """Step-down: p_(i) * (K - i + 1), made monotone from the smallest p up."""
    k = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(p[order] * np.arange(k, 0, -1))
    out = np.empty(k)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """Step-up: p_(i) * K / i, made monotone from the largest p down."""
    k = len(p)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * k / np.arange(1, k + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(k)
    out[order] = np.minimum(adjusted, 1.0)
    return out


CORRECTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "holm": _holm, "bh": _bh, "none": lambda p: p.copy()}


def check_correction(name: str) -> str:
    if name not in CORRECTIONS:
        raise VitbiasError(f"unknown correction {name!r}; choose one of {sorted(CORRECTIONS)}")
    return name


def adjust_pvalues(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family, same shape (K,) and order as ``p_values``.

    NaN p-values (tests that could not be computed) are left out of the family and stay NaN.
    """
    check_correction(method)
    p = np.asarray(p_values, dtype=np.float64)
    out = p.copy()
    keep = ~np.isnan(p)
    if keep.any():
        out[keep] = CORRECTIONS[method](p[keep])
    return out
