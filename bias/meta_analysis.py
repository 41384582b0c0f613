"""Random-effects meta-analysis of effect sizes: the statistics behind
:func:`bias.aggregate.meta_analysis` (CEAT-style combined d of a model across its tests).

Pure functions of arrays and tidy rows; checked in tests against metafor's published
DerSimonian–Laird results (BCG vaccine trials).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def dersimonian_laird(d: Sequence[float], v: Sequence[float],
                      confidence: float = 0.95) -> dict[str, float]:
    """Random-effects combined effect (DerSimonian & Laird 1986) of effects ``d`` (k,) with
    within-study variances ``v`` (k,), all > 0. Returns k, d_re, se, ci_low, ci_high, z,
    p_value (two-sided), tau2, q (Cochran), i2, d_fe, se_fe."""
    d, v = np.asarray(d, np.float64), np.asarray(v, np.float64)
    if d.size == 0 or d.shape != v.shape or not (np.all(v > 0) and np.all(np.isfinite(v))):
        raise ValueError("need k >= 1 effects with finite variances > 0")
    w = 1.0 / v
    d_fe = float(w @ d / w.sum())
    q = float(w @ (d - d_fe) ** 2)
    c = float(w.sum() - (w**2).sum() / w.sum())
    k = d.size
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 and c > 0 else 0.0
    w_re = 1.0 / (v + tau2)
    d_re = float(w_re @ d / w_re.sum())
    se = float(np.sqrt(1.0 / w_re.sum()))
    zc = stats.norm.ppf((1 + confidence) / 2)
    return {"k": k, "d_re": d_re, "se": se, "ci_low": d_re - zc * se, "ci_high": d_re + zc * se,
            "z": d_re / se, "p_value": float(2 * stats.norm.sf(abs(d_re / se))), "tau2": tau2,
            "q": q, "i2": max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0, "d_fe": d_fe,
            "se_fe": float(np.sqrt(1.0 / w.sum()))}


def effect_variance(df: pd.DataFrame, ci_confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Variance of each d (rows of ``df``) and how it was obtained (``bootstrap-ci``/``formula``).

    Bootstrap: ((ci_high − ci_low) / (2·z))², z the normal quantile of the interval's level
    (the row's ``confidence`` column when present, else ``ci_confidence``; 1.96 for 95%);
    formula: (n_x + n_y)/(n_x·n_y) + d²/(2(n_x + n_y)) (Hedges & Olkin, for a standardised
    mean difference); NaN when neither is available."""
    def num(col: str) -> np.ndarray:
        if col not in df:
            return np.full(len(df), np.nan)
        return pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64)

    level = num("confidence")
    level = np.where(np.isfinite(level) & (level > 0) & (level < 1), level, ci_confidence)
    z = stats.norm.ppf((1 + level) / 2)
    boot = ((num("ci_high") - num("ci_low")) / (2 * z)) ** 2
    nx, ny, d = num("n_x"), num("n_y"), num("effect_size")
    with np.errstate(divide="ignore", invalid="ignore"):
        formula = (nx + ny) / (nx * ny) + d**2 / (2 * (nx + ny))
    use_boot = np.isfinite(boot) & (boot > 0)
    ok_formula = np.isfinite(formula) & (formula > 0)
    v = np.where(use_boot, boot, np.where(ok_formula, formula, np.nan))
    method = np.where(use_boot, "bootstrap-ci", np.where(ok_formula, "formula", ""))
    return v, method
