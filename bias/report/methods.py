"""Methods text generated from the results, the aggregation settings, provenance and config.

The methods section states what was computed, with the numbers actually used (permutation
counts, corrections, seeds, versions), read from the data rather than restated by hand, so a
report cannot describe a different analysis from the one it shows. Functions return plain-text
paragraphs; the HTML layer escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

#: Config keys (by their last dotted part) worth a line in the methods section.
CONFIG_KEYS = ("seed", "seeds", "permutations", "n_permutations", "correction", "alternative",
               "bootstrap", "n_bootstrap", "epochs", "objectives", "sizes", "data", "layers",
               "pooling", "poolings", "catalog", "img_size", "patch_size", "models", "alpha")


def _values(series: pd.Series) -> list[str]:
    """Levels in display order (sizes by parameters, original → 1-sided → 2-sided, ...)."""
    from bias.aggregate import level_order

    return [str(v) for v in level_order(series, str(series.name))]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def association_methods(results: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """How d, p and the intervals of ``results`` (tidy association rows) were obtained."""
    out = ["Effect size d (iEAT/WEAT, Caliskan et al. 2017; Steed & Caliskan 2021): the "
           "difference between targets X and Y of the mean association s(w, A, B) = mean cos(w, "
           "a) − mean cos(w, b), divided by the sample standard deviation of s over X ∪ Y."]
    methods = results["p_method"].value_counts() if "p_method" in results else pd.Series(dtype=int)
    parts = []
    if "exact" in methods:
        parts.append(f"exact enumeration of every re-partition of X ∪ Y for "
                     f"{_count(int(methods['exact']), 'test instance')}")
    if "monte-carlo" in methods:
        mc = results[results["p_method"] == "monte-carlo"]
        perms = ", ".join(f"{int(n):,}" for n in sorted(pd.unique(mc["n_permutations"].dropna())))
        parts.append(f"Monte Carlo with {perms or 'an unrecorded number of'} random "
                     f"re-partitions, p = (b + 1)/(m + 1) (Phipson & Smyth 2010), for "
                     f"{_count(int(methods['monte-carlo']), 'test instance')}")
    other = [m for m in methods.index if m not in ("exact", "monte-carlo")]
    parts += [f"method '{m}' for {_count(int(methods[m]), 'test instance')}" for m in other]
    alt = _values(results["alternative"]) if "alternative" in results else []
    if parts:
        out.append("p-values by permutation test: " + "; ".join(parts)
                   + (f"; alternative hypothesis: {', '.join(alt)}." if alt else "."))
    corr = _values(results["correction"]) if "correction" in results else []
    if corr:
        out.append(f"Multiple comparisons: {', '.join(corr)} correction over each family of "
                   f"tests (one model, layer and pooling); a test counts as significant when its "
                   f"adjusted p < α = {alpha:g}.")
    if "p_robust" in results and results["p_robust"].notna().any():
        out.append("Robust p: the same statistic with the attribute images A ∪ B re-partitioned "
                   "instead of the targets; p_robust = max of the two (an intersection-union "
                   "test, valid at level α). The iEAT p treats the attribute images as fixed, so "
                   "a model that separates X from Y almost perfectly gives |d| near 2 and a "
                   "tiny p for any A, B; p_robust asks that the association survive "
                   "resampling either set. Corrected like the iEAT p; significance marks in "
                   "the figures use it.")
    if "ci_low" in results and results["ci_low"].notna().any():
        extra = []
        if "confidence" in results and results["confidence"].notna().any():
            extra.append(", ".join(f"{float(c):.0%}" for c in pd.unique(
                results["confidence"].dropna())))
        if "n_bootstrap" in results and results["n_bootstrap"].notna().any():
            extra.append(", ".join(f"{int(n):,}" for n in sorted(pd.unique(
                results["n_bootstrap"].dropna()))) + " resamples")
        out.append("Intervals of d: bootstrap percentile intervals, resampling images within X, "
                   f"Y, A and B{' (' + '; '.join(extra) + ')' if extra else ''}.")
    if "test_seed" in results and results["test_seed"].notna().any():
        seeds = ", ".join(_values(results["test_seed"]))
        out.append(f"Seed of permutations and bootstrap: {seeds}.")
    return out


def aggregation_methods(settings: Mapping[str, Any]) -> list[str]:
    """The statistics of ``vitbias aggregate``, with its settings (layer, α, confidence, SE)."""
    conf = float(settings.get("confidence", 0.95))
    layer = settings.get("layer", "final")
    where = {"final": "the final layer of each model",
             "best": "each model's layer with the largest mean |d| (an optimistic choice)"}.get(
        str(layer), f"layer {layer} of every model")
    return [
        f"Across models, statistics are taken at {where}, per pooling; per-layer curves show "
        "every layer.",
        f"Mean effect sizes per factor level: mean over model × test cells (seeds and tests "
        f"pooled) with a {conf:.0%} Student-t interval, mean ± t·s/√n. Cells are treated as "
        "independent, which understates the uncertainty when the tests of one model are "
        "correlated.",
        "Combined effect size per model (CEAT-style random-effects meta-analysis across the "
        "model's tests): DerSimonian–Laird between-test variance τ², inverse-variance weights "
        "1/(v + τ²), normal interval. The variance v of each d is ((ci_high − ci_low)/(2·1.96))² "
        "from its bootstrap interval, or (n_x + n_y)/(n_x·n_y) + d²/(2(n_x + n_y)) where no "
        "interval was computed.",
        f"Regression: ordinary least squares of d on the categorical factors (objective, size, "
        f"training data, dataset, patch size, resolution; each with at least two levels and not "
        f"confounded with another) plus test fixed effects, with "
        f"{settings.get('cov_type', 'HC3')} heteroskedasticity-robust standard errors and "
        f"t intervals.",
    ]


def model_description(tidy: pd.DataFrame) -> list[str]:
    """Which models and factor levels the study holds (plain counts from the tidy table)."""
    out = [f"{_count(tidy['model'].nunique(), 'model')}, "
           f"{_count(tidy['test'].nunique(), 'test')}, poolings: "
           f"{', '.join(_values(tidy['pooling']))}."]
    labels = {"objective": "objectives", "size": "sizes", "data": "training data",
              "dataset": "datasets",
              "patch_size": "patch sizes", "img_size": "resolutions", "seed": "training seeds"}
    levels = [f"{label}: {', '.join(_values(tidy[c]))}" for c, label in labels.items()
              if c in tidy and tidy[c].notna().any()]
    if levels:
        out.append("; ".join(levels) + ".")
    return out


def versions_text(versions: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists stay values."""
    if not isinstance(doc, Mapping):
        return {prefix: doc} if prefix else {}
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out.update(flatten(v, key) if isinstance(v, Mapping) else {key: v})
    return out


def config_highlights(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config entries that shape the numbers (seeds, permutations, corrections, ...)."""
    return {k: v for k, v in flatten(config).items() if k.split(".")[-1] in CONFIG_KEYS}
