"""Aggregate association results across models: one tidy table and statistics by factor.

Inputs: tidy association CSVs (one row per model × layer × pooling × test, columns
``RESULT_COLUMNS``), optional model metadata (vitbias checkpoint folders, ``model.json`` files,
a folder of checkpoints, or a JSON mapping ``{model: {factor: value}}``) and an optional test
catalog (adds ``planted_beta``). Metadata overrides the factor columns of the results (it is
the more specific source; disagreements are logged).

Every statistic is taken at ONE layer per model and pooling (:func:`select_layer`: the final
layer by default), because d changes with depth and averaging over layers would mix that in:

- :func:`summarize`: mean d per factor level with a Student-t interval over the model × test
  cells (seeds and tests pooled, cells treated as independent), and the number of tests whose
  corrected p (``p_adjusted``) is below α.
- :func:`meta_analysis`: CEAT-style random-effects combined d per model across its tests
  (:mod:`bias.meta_analysis`: DerSimonian–Laird τ², inverse-variance weights); the variance
  of each d comes from its bootstrap CI, ((ci_high − ci_low) / (2·z))², or, without a CI,
  from the standard formula (n_x + n_y)/(n_x·n_y) + d²/(2(n_x + n_y)).
- :func:`regress`: OLS of d on categorical factors (+ test fixed effects), robust (HC3) SE.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bias.aggregate_io import (
    FAMILY,
    match_models,
    merge_catalogs,
    read_models_meta,
    read_results,
    write_aggregate,
)
from bias.errors import VitbiasError
from bias.meta_analysis import dersimonian_laird, effect_variance
from bias.stimuli import AssociationTest

log = logging.getLogger(__name__)

RESULT_COLUMNS = (
    "model", "objective", "size", "data", "seed", "layer", "pooling", "test", "x", "y", "a", "b",
    "n_x", "n_y", "n_a", "n_b", "effect_size", "ci_low", "ci_high", "p_value", "p_method",
    "n_permutations", "p_se", "p_adjusted", "alternative", "correction",
)
#: Model factors of the tidy table, in display order.
FACTORS = ("objective", "objective_family", "size", "data", "dataset", "patch_size", "img_size",
           "seed")
#: Factors entered in the regression (seed is replication, family is implied by objective).
REGRESSION_FACTORS = ("objective", "size", "data", "dataset", "patch_size", "img_size")
META_FIELDS = (*FACTORS, "param_count", "arch")
DATA_ALIASES = {"original": "original", "orig": "original", "baseline": "original",
                "1-sided": "1-sided", "one-sided": "1-sided", "1sided": "1-sided",
                "2-sided": "2-sided", "two-sided": "2-sided", "2sided": "2-sided"}
DATA_ORDER = ("original", "1-sided", "2-sided")
SIZE_ORDER = ("micro", "tiny", "small", "base", "large", "huge", "giant")


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def build_tidy(results: pd.DataFrame, models_meta: Mapping[str, Mapping[str, Any]] | None = None,
               catalog: Sequence[AssociationTest] | None = None) -> pd.DataFrame:
    """One row per model × layer × pooling × test with every factor.

    Columns: ``RESULT_COLUMNS`` + ``objective_family, param_count, patch_size, img_size, arch,
    layer_frac`` (layer / last layer of the model, to compare models of different depth)
    + ``planted_beta`` (from a catalog, or as the results carry it).
    Sorted by model, pooling, layer, test.
    """
    df = results.copy()
    for col in (*RESULT_COLUMNS, *META_FIELDS):
        if col not in df.columns:
            df[col] = pd.NA
    meta_of = dict(models_meta or {})
    models = df["model"].astype(str)
    keys = match_models(list(models.unique()), list(meta_of))
    unused = sorted(set(meta_of) - set(keys.values()))
    if unused:
        log.warning("model metadata for %s matches no model of the results", unused)
    for field in META_FIELDS:
        meta = models.map(lambda m, f=field: meta_of.get(keys.get(m), {}).get(f)).astype(object)
        given = df[field].astype(object)
        clash = sorted({m for m, a, b in zip(models, meta, given, strict=True)
                        if not (pd.isna(a) or pd.isna(b) or _same(a, b))})
        if clash:
            log.warning("results column %r differs from the model metadata for %s; using the "
                        "metadata", field, clash)
        df[field] = meta.where(meta.notna(), given)
    fam = df["objective"].map(lambda o: FAMILY.get(str(o).lower()))
    df["objective_family"] = df["objective_family"].where(df["objective_family"].notna(), fam)
    df["data"] = df["data"].map(lambda d: d if pd.isna(d) else DATA_ALIASES.get(str(d).lower(), d))
    for col in ("seed", "patch_size", "img_size", "param_count"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    last = df.groupby(["model", "pooling"])["layer"].transform("max")
    df["layer_frac"] = (df["layer"] / last.where(last > 0, 1)).astype(float)
    if catalog is not None:
        beta = {t.name: t.planted_beta for t in catalog}
        missing = sorted(set(df["test"]) - set(beta))
        if missing:
            log.warning("tests %s are not in the catalog: no planted_beta", missing)
        df["planted_beta"] = pd.to_numeric(df["test"].map(beta), errors="coerce")
    elif "planted_beta" in df:
        # `vitbias test` writes each row's β from the catalog it ran: worlds of different β
        # share test names, so β belongs to the result row, not to the test name.
        df["planted_beta"] = pd.to_numeric(df["planted_beta"], errors="coerce")
    front = ["model", *FACTORS, "param_count", "patch_size", "img_size", "arch"]
    cols = list(dict.fromkeys([*front, *RESULT_COLUMNS, *df.columns]))
    return df[cols].sort_values(["model", "pooling", "layer", "test"], ignore_index=True)


def select_layer(tidy: pd.DataFrame, layer: str | int = "final") -> pd.DataFrame:
    """Rows of one layer per model and pooling: ``final`` (the last layer), ``best`` (largest
    mean |d| over tests: optimistic, for exploration) or a layer index present in every model."""
    groups = ["model", "pooling"]
    if layer == "final":
        return tidy[tidy["layer"] == tidy.groupby(groups)["layer"].transform("max")].copy()
    if layer == "best":
        strength = tidy.assign(abs_d=tidy["effect_size"].abs()).groupby(
            [*groups, "layer"])["abs_d"].mean().reset_index()
        best = strength.loc[strength.groupby(groups)["abs_d"].idxmax(), [*groups, "layer"]]
        return tidy.merge(best, on=[*groups, "layer"])
    try:
        index = int(layer)
    except (TypeError, ValueError):
        raise VitbiasError(f"layer must be 'final', 'best' or an index, not {layer!r}") from None
    have = tidy.groupby(groups)["layer"].apply(lambda s: index in set(s))
    if not have.all():
        raise VitbiasError(f"layer {index} is absent from {sorted(have[~have].index.tolist())}")
    return tidy[tidy["layer"] == index].copy()


def level_order(values: pd.Series, factor: str, param_count: pd.Series | None = None) -> list:
    """Display order of a factor's levels: sizes by parameter count, data conditions as
    original → 1-sided → 2-sided, objectives with supervised first, others sorted."""
    levels = list(pd.unique(values.dropna()))
    if factor == "data":
        return sorted(levels, key=lambda v: (DATA_ORDER.index(v) if v in DATA_ORDER else 9, v))
    if factor == "size":
        params = {}
        if param_count is not None:
            params = pd.DataFrame({"s": values, "p": param_count}).groupby("s")["p"].median()
        return sorted(levels, key=lambda v: (
            float(params.get(v, np.nan)) if not pd.isna(params.get(v, np.nan)) else np.inf,
            SIZE_ORDER.index(v) if v in SIZE_ORDER else 99, str(v)))
    if factor == "objective":  # the supervised baseline first (the regression reference)
        return sorted(levels, key=lambda v: (v != "supervised", str(v)))
    return sorted(levels, key=str)


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval mean ± t_{(1+c)/2, n−1}·s/√n (NaN bounds when n < 2)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if x.size < 2:
        return m, np.nan, np.nan
    half = stats.t.ppf((1 + confidence) / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return m, m - half, m + half


def summarize(sel: pd.DataFrame, by: Sequence[str], *, alpha: float = 0.05,
              confidence: float = 0.95) -> pd.DataFrame:
    """Mean d per level of ``by`` (per pooling) over the model × test cells of ``sel``.

    Columns: pooling, *by, n_models, n_tests, n, mean_d, sd_d, ci_low, ci_high,
    n_significant (p_adjusted < alpha), n_with_p, frac_significant, median_param_count.
    """
    rows = []
    data = sel.dropna(subset=list(by))
    for key, g in data.groupby(["pooling", *by], sort=False):
        m, lo, hi = mean_ci(g["effect_size"], confidence)
        p = pd.to_numeric(g["p_adjusted"], errors="coerce")
        n_sig, n_p = int((p < alpha).sum()), int(p.notna().sum())
        rows.append({**dict(zip(["pooling", *by], key, strict=True)),
                     "n_models": g["model"].nunique(), "n_tests": g["test"].nunique(),
                     "n": len(g), "mean_d": m, "sd_d": g["effect_size"].std(ddof=1),
                     "ci_low": lo, "ci_high": hi, "n_significant": n_sig, "n_with_p": n_p,
                     "frac_significant": n_sig / n_p if n_p else np.nan,
                     "median_param_count": g["param_count"].median()})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for f in reversed(["pooling", *by]):  # stable sorts: last key first
        order = level_order(data[f], f, data.get("param_count"))
        out = out.sort_values(f, key=lambda s, o=order: s.map(o.index), kind="stable")
    return out.reset_index(drop=True)


def meta_analysis(sel: pd.DataFrame, *, confidence: float = 0.95,
                  ci_confidence: float = 0.95) -> pd.DataFrame:
    """Random-effects combined d per model × pooling (at the selected layer) across tests.

    Columns: model, pooling, layer, the model's factors, k, d_re, se, ci_low, ci_high, z,
    p_value, tau2, q, i2, d_fe, se_fe, variance_method."""
    v, method = effect_variance(sel, ci_confidence)
    data = sel.assign(_v=v, _method=method)
    rows = []
    for (model, pooling), g in data.groupby(["model", "pooling"], sort=True):
        ok = g[np.isfinite(g["_v"])]
        if len(ok) < len(g):
            log.warning("meta-analysis of %s/%s: %d test(s) without CI or set sizes left out",
                        model, pooling, len(g) - len(ok))
        if ok.empty:
            continue
        first = g.iloc[0]
        res = dersimonian_laird(ok["effect_size"], ok["_v"], confidence)
        methods = sorted(set(ok["_method"]))
        rows.append({"model": model, "pooling": pooling, "layer": first["layer"],
                     **{f: first[f] for f in (*FACTORS, "param_count")}, **res,
                     "variance_method": methods[0] if len(methods) == 1 else "mixed"})
    return pd.DataFrame(rows)


def regress(sel: pd.DataFrame, factors: Sequence[str] = REGRESSION_FACTORS, *,
            test_effects: bool = True, cov_type: str = "HC3") -> pd.DataFrame:
    """OLS of effect_size on categorical factors (+ test fixed effects), one fit per pooling.

    A factor enters when it has ≥ 2 levels and is not confounded with those already in (rank
    check). Reference level: the first of :func:`level_order` (e.g. the smallest size,
    ``original`` data). Columns: pooling, term, factor, level, reference, estimate, se, t,
    p_value, ci_low, ci_high, n_obs, r2, cov_type, formula."""
    import patsy
    import statsmodels.formula.api as smf

    tables = []
    for pooling, g in sel.groupby("pooling", sort=True):
        g = g.copy()
        terms, refs = [], {}
        candidates = [f for f in factors if g[f].nunique() >= 2]
        if test_effects and g["test"].nunique() >= 2:
            candidates.append("test")
        g = g.dropna(subset=[*candidates, "effect_size"])
        for f in candidates:
            order = level_order(g[f], f, g["param_count"])
            g[f] = pd.Categorical(g[f].astype(str), categories=[str(o) for o in order])
            trial = [*terms, f"C({f})"]
            x = patsy.dmatrix(" + ".join(["1", *trial]), g, return_type="dataframe")
            if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
                log.warning("regression (%s): factor %r is confounded with %s; left out",
                            pooling, f, terms)
                continue
            terms, refs[f] = trial, str(order[0])
        formula = "effect_size ~ " + (" + ".join(terms) if terms else "1")
        if len(g) <= len(terms) + 1:
            log.warning("regression (%s): %d rows are too few for %s", pooling, len(g), formula)
            continue
        fit = smf.ols(formula, g).fit(cov_type=cov_type, use_t=True)
        ci = fit.conf_int()
        for term in fit.params.index:
            m = re.fullmatch(r"C\((\w+)\)\[T\.(.*)\]", term)
            factor, level = (m.group(1), m.group(2)) if m else ("", "")
            tables.append({"pooling": pooling, "term": term, "factor": factor, "level": level,
                           "reference": refs.get(factor, ""), "estimate": fit.params[term],
                           "se": fit.bse[term], "t": fit.tvalues[term],
                           "p_value": fit.pvalues[term], "ci_low": ci.loc[term, 0],
                           "ci_high": ci.loc[term, 1], "n_obs": int(fit.nobs),
                           "r2": fit.rsquared, "cov_type": cov_type, "formula": formula})
    return pd.DataFrame(tables)


def aggregate(results: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
              models_meta: Sequence[str | os.PathLike[str]] = (),
              catalogs: Sequence[str | os.PathLike[str]] = (), layer: str | int = "final",
              alpha: float = 0.05, confidence: float = 0.95, cov_type: str = "HC3") -> Path:
    """Read, join and summarise; write the tables of :mod:`bias.aggregate_io` atomically."""
    frame, inputs = read_results(results)
    meta = read_models_meta(models_meta)
    tidy = build_tidy(frame, meta, merge_catalogs(catalogs) if catalogs else None)
    sel = select_layer(tidy, layer)
    kw = {"alpha": alpha, "confidence": confidence}
    tables = {"tidy": tidy}
    for f in FACTORS:
        if tidy[f].notna().any():
            tables[f"summary_by_{f}"] = summarize(sel, [f], **kw)
    tables["summary_by_test"] = summarize(sel, ["test"], **kw)
    if tidy["objective"].notna().any() and tidy["data"].notna().any():
        tables["summary_by_objective_data"] = summarize(sel, ["objective", "data"], **kw)
    if "planted_beta" in tidy and tidy["planted_beta"].notna().any():
        tables["calibration"] = summarize(sel, ["planted_beta"], **kw)
    tables["meta_analysis"] = meta_analysis(sel, confidence=confidence)
    tables["regression"] = regress(sel, cov_type=cov_type)
    settings = {"layer": layer, "alpha": alpha, "confidence": confidence, "cov_type": cov_type}
    return write_aggregate(out_dir, tables, inputs=inputs, models_meta=meta,
                           catalogs=catalogs, settings=settings)
