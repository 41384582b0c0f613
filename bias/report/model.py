"""The single-model report of ``vitbias audit``: one self-contained HTML page.

Input: the tidy association results of ONE model (rows = layer × pooling × test; columns as in
:data:`bias.aggregate.RESULT_COLUMNS`, at least ``layer, pooling, test, effect_size``) and the
audit's provenance dict (model spec, weights hash, preprocessing, versions, ...).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bias.aggregate import RESULT_COLUMNS, select_layer
from bias.errors import VitbiasError
from bias.io import atomic_file
from bias.report import figures, html
from bias.report.methods import association_methods, flatten, versions_text

log = logging.getLogger(__name__)

REQUIRED = ("layer", "pooling", "test", "effect_size")
TEST_COLUMNS = {"pooling": "pooling", "test": "test", "x": "X", "y": "Y", "a": "A", "b": "B",
                "n_x": "|X|", "n_y": "|Y|", "n_a": "|A|", "n_b": "|B|", "effect_size": "d",
                "ci": "CI", "p_value": "p", "p_adjusted": "adjusted p",
                "p_robust_adjusted": "robust adjusted p", "p_method": "p method",
                "n_permutations": "permutations"}


def _prepare(results: pd.DataFrame, provenance: Mapping[str, Any], alpha: float) -> pd.DataFrame:
    if results.empty:
        raise VitbiasError("model report: the results table has no rows")
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise VitbiasError(f"model report: results lack column(s) {missing}")
    df = results.copy()
    for col in (*RESULT_COLUMNS, "p_robust_adjusted"):
        if col not in df.columns:
            df[col] = pd.NA
    if df["model"].isna().all():
        df["model"] = str(provenance.get("model") or provenance.get("spec") or "model")
    if df["model"].nunique() > 1:
        raise VitbiasError(f"model report: results hold several models "
                           f"{sorted(df['model'].unique())}; give one model's rows")
    for col in ("layer", "effect_size", "ci_low", "ci_high", "p_value", "p_adjusted",
                "p_robust_adjusted"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["significant"] = (df["p_adjusted"] < alpha).fillna(False).astype(bool)
    df["ci"] = [f"[{lo:.3f}, {hi:.3f}]" if pd.notna(lo) and pd.notna(hi) else ""
                for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)]
    return df.sort_values(["pooling", "layer", "test"], ignore_index=True)


def layer_label(sel: pd.DataFrame, layer: str | int) -> str:
    """Which layer the summary figures use, in words (e.g. ``final layer (layer 11)``)."""
    kind = {"final": "final layer", "best": "best layer (largest mean |d|)"}.get(
        str(layer), "chosen layer")
    per_pool = sel.groupby("pooling")["layer"].unique()
    if any(len(v) > 1 for v in per_pool):  # models of different depth
        return f"{kind} of each model"
    where = (f"layer {int(per_pool.iloc[0][0])}" if per_pool.map(tuple).nunique() == 1 else
             ", ".join(f"{p}: layer {int(v[0])}" for p, v in per_pool.items()))
    return f"{kind} ({where})"


def _summary(df: pd.DataFrame, sel: pd.DataFrame, label: str, alpha: float) -> list[str]:
    layers = df["layer"].dropna()
    out = [f"{df['test'].nunique()} tests at layers {int(layers.min())}–{int(layers.max())}, "
           f"poolings {', '.join(map(str, pd.unique(df['pooling'])))}."]
    for pooling, g in sel.groupby("pooling", sort=False):
        size = g["effect_size"].abs()
        top = (f"largest |d|: {g.loc[size.idxmax(), 'test']} "
               f"(d = {g.loc[size.idxmax(), 'effect_size']:.3f})" if size.notna().any() else
               "d undefined for every test (all images give the same association score)")
        n_p = int(g["p_adjusted"].notna().sum())
        sig = (f"{int(g['significant'].sum())} of {n_p} tests significant (adjusted p < "
               f"{alpha:g})" if n_p else "no adjusted p-values")
        if g["p_robust_adjusted"].notna().any():
            sig += f", {int((g['p_robust_adjusted'] < alpha).sum())} with the robust p"
        out.append(f"{pooling}, {label}: {sig}; {top}.")
    return out


def _figures(df: pd.DataFrame, sel: pd.DataFrame, label: str) -> list[figures.RenderedFigure]:
    curve = figures.curves(df, x="layer", line="test", panel="pooling",
                           significant="significant", xlabel="layer (block output)")
    forest = figures.forest(sel, label="test", panel="pooling", significant="significant",
                            title=f"at the {label}")
    return [
        figures.render(curve, "layer_curves", "Effect size d by layer, one line per test and a "
                       "panel per pooling; filled markers: significant after correction."),
        figures.render(forest, "forest", f"Effect size d with its bootstrap interval per test "
                       f"at the {label}; filled markers: significant after correction."),
    ]


def _provenance_html(provenance: Mapping[str, Any], results: pd.DataFrame, alpha: float) -> str:
    flat = flatten({k: v for k, v in provenance.items() if k != "versions"})
    parts = [html.paragraphs(association_methods(results, alpha))]
    if flat:
        parts.append(html.kv_table({k: v for k, v in flat.items() if not isinstance(v, list)
                                    or len(v) <= 20}))
    if isinstance(provenance.get("versions"), Mapping):
        parts.append(html.paragraphs([f"Versions: {versions_text(provenance['versions'])}."]))
    parts.append(html.details("Full provenance (JSON)", html.pre(
        json.dumps(provenance, indent=2, sort_keys=True, default=str))))
    return "".join(parts)


def render_model_report(results: pd.DataFrame, provenance: Mapping[str, Any],
                        out_path: str | os.PathLike[str], *, layer: str | int = "final",
                        alpha: float = 0.05, title: str | None = None) -> Path:
    """Write a self-contained HTML report of one model's association results; returns its path.

    Sections: summary, the table of tests at the summary layer (``final`` by default, or
    ``best``, or an index), d by layer per test and pooling, a forest plot at that layer, every
    layer's rows, provenance and methods. Written atomically."""
    df = _prepare(results, provenance, alpha)
    sel = select_layer(df, layer)
    label = layer_label(sel, layer)
    model = str(df["model"].iloc[0])
    figs = _figures(df, sel, label)
    levels = pd.to_numeric(df["confidence"], errors="coerce").dropna().unique() if (
        "confidence" in df) else []
    cols = {**TEST_COLUMNS, "ci": f"{levels[0]:.0%} CI" if len(levels) == 1 else "CI"}
    sections = [
        html.section("summary", "Summary", html.paragraphs(_summary(df, sel, label, alpha))),
        html.section("tests", f"Tests at the {label}", html.table(
            sel, columns=cols, highlight=sel["significant"].tolist())
            + html.note("Highlighted rows: adjusted p < α; d > 0 means X is closer to A "
                        "than Y is.")),
        html.section("layers", "Effect size by layer", html.figure(figs[0], files=False)),
        html.section("forest", "Forest plot", html.figure(figs[1], files=False)),
        html.section("all", "All layers", html.details(
            f"{len(df)} rows (layer × pooling × test)", html.table(
                df, columns={"layer": "layer", **cols}, highlight=df["significant"].tolist()))),
        html.section("provenance", "Provenance and methods",
                     _provenance_html(provenance, df, alpha)),
    ]
    doc = html.page(title or f"vitbias audit: {model}", sections,
                    subtitle=f"Association tests of {model}, α = {alpha:g}")
    out = Path(out_path)
    with atomic_file(out) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    log.info("wrote model report %s", out)
    return out
