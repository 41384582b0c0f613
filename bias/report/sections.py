"""Sections of the study report: each builder takes the :class:`Study` and returns an HTML
section plus the figures it drew (``[]`` when it only holds a table or a note)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bias.aggregate import FACTORS, level_order
from bias.report import figures, html, methods
from bias.report.figures import RenderedFigure

Section = tuple[str, str, str]
FACTOR_LABELS = {"objective": "objective", "objective_family": "objective family",
                 "size": "model size", "data": "training data", "dataset": "dataset",
                 "patch_size": "patch size", "img_size": "resolution", "seed": "training seed"}


@dataclass
class Study:
    """Everything a section may need. ``sel``: tidy rows at the summary layer."""

    tables: dict[str, pd.DataFrame]
    provenance: dict[str, Any]
    config: dict[str, Any]
    tidy: pd.DataFrame
    sel: pd.DataFrame
    pooling: str
    alpha: float
    label: str

    @property
    def conf(self) -> str:
        """Level of the aggregate's intervals, e.g. ``95%``."""
        return f"{float(self.provenance.get('settings', {}).get('confidence', 0.95)):.0%}"

    def table(self, name: str, pooling_only: bool = True) -> pd.DataFrame:
        """An aggregate table (empty when absent), restricted to the report's pooling."""
        t = self.tables.get(name, pd.DataFrame())
        if pooling_only and not t.empty and "pooling" in t:
            t = t[t["pooling"] == self.pooling]
        return t.reset_index(drop=True)


def _sorted_models(tidy: pd.DataFrame) -> list[str]:
    """Models ordered by objective, size (parameters), data condition, seed, name."""
    models = tidy.drop_duplicates("model").copy()
    for f in ("seed", "data", "size", "dataset", "objective"):
        order = level_order(models[f], f, models["param_count"])
        models = models.sort_values(f, key=lambda s, o=order: s.map(
            lambda v: o.index(v) if v in o else len(o)), kind="stable")
    return models["model"].tolist()


def overview(s: Study) -> tuple[Section, list[RenderedFigure]]:
    cols = ["model", *FACTORS, "param_count"]
    models = s.tidy.drop_duplicates("model").set_index("model").loc[_sorted_models(s.tidy)]
    models = models.reset_index()[[c for c in cols if s.tidy[c].notna().any()]]
    body = (html.paragraphs([*methods.model_description(s.tidy),
                             f"Summary statistics use the {s.label}."])
            + html.details(f"{len(models)} models", html.table(models)))
    return html.section("overview", "Overview", body), []


def _marked_p(sel: pd.DataFrame) -> tuple[str, str]:
    """The p-value behind significance marks: the robust one (targets and attributes
    permuted) when the results have it, else the iEAT's; and its name in captions."""
    if "p_robust_adjusted" in sel.columns and sel["p_robust_adjusted"].notna().any():
        return "p_robust_adjusted", ("robust adjusted p (targets and attributes permuted, "
                                     "see Methods)")
    return "p_adjusted", "adjusted p"


def heatmap(s: Study) -> tuple[Section, list[RenderedFigure]]:
    column, name = _marked_p(s.sel)
    sel = s.sel[s.sel["pooling"] == s.pooling].assign(
        sig=lambda t: pd.to_numeric(t[column], errors="coerce") < s.alpha)
    d = sel.pivot(index="test", columns="model", values="effect_size")
    d = d[[m for m in _sorted_models(s.tidy) if m in d.columns]]
    sig = sel.pivot(index="test", columns="model", values="sig").reindex_like(d)
    sig = sig.astype("boolean").fillna(False)
    tall = d.shape[1] > d.shape[0]  # many models: one row each, so labels stay readable
    d, sig = (d.T, sig.T) if tall else (d, sig)
    what = "models (rows) and tests (columns)" if tall else "tests (rows) and models (columns)"
    fig = figures.render(figures.heatmap(d, sig), "heatmap", (
        f"Effect size d of every pair of {what} at the {s.label}, pooling {s.pooling}; "
        f"* marks {name} < {s.alpha:g}."))
    return html.section("heatmap", "Tests × models", html.figure(fig)), [fig]


def baseline(s: Study) -> tuple[Section, list[RenderedFigure]]:
    """The tests on the stimuli's low-level features (``lowlevel`` specs) beside the models'
    mean d: an association the features already show is the stimuli's, not learned."""
    from bias.embed.lowlevel import FEATURES

    base = s.sel[s.sel["pooling"].isin(FEATURES)]
    if base.empty:
        return html.section("baseline", "Low-level baseline", html.note(
            "Omitted: no low-level baseline in the results (add a load entry with spec "
            "lowlevel to the config to see what the stimuli show without a model).")), []
    column, name = _marked_p(base)
    keys = ["dataset", "test"] if base["dataset"].nunique() > 1 else ["test"]
    d = base.pivot_table(index=keys, columns="pooling", values="effect_size")
    p = base.pivot_table(index=keys, columns="pooling", values=column, aggfunc="min")
    cells = d.map(lambda v: f"{v:.2f}" if pd.notna(v) else "").astype(object)
    cells[p.reindex_like(d) < s.alpha] += "*"
    models = s.sel[(s.sel["pooling"] == s.pooling) & s.sel["dataset"].isin(base["dataset"])]
    mean = models.groupby(keys)["effect_size"].mean().reindex(d.index)
    cells[f"models, mean d ({s.pooling})"] = mean.map(lambda v: f"{v:.2f}" if pd.notna(v)
                                                      else "")
    body = html.paragraphs([
        "Each test on features of the stimulus images computed without a model (pixels, "
        "colour histogram, HOG, global orientation histogram): an effect here is a property "
        f"of the stimulus sets. * marks {name} < {s.alpha:g}. Last column: the mean d of "
        f"the models at the {s.label}."]) + html.table(
            cells.reset_index(), formats={c: str for c in cells.columns})
    return html.section("baseline", "Low-level baseline", body), []


def forests(s: Study) -> tuple[Section, list[RenderedFigure]]:
    meta, by_test = s.table("meta_analysis", False), s.table("summary_by_test", False)
    parts, figs = [], []
    if not meta.empty:
        order = {m: i for i, m in enumerate(_sorted_models(s.tidy))}
        meta = meta.sort_values(["pooling", "model"], key=lambda c: c.map(order)
                                if c.name == "model" else c).assign(sig=meta["p_value"] < s.alpha)
        figs.append(figures.render(figures.forest(
            meta, label="model", panel="pooling", estimate="d_re", significant="sig",
            xlabel=f"combined d ({s.conf} CI)"), "forest_models", (
            "Random-effects (DerSimonian–Laird) combined effect size per model across its "
            f"tests, at the {s.label}; filled: p < {s.alpha:g}.")))
        parts += [html.figure(figs[-1]), html.details("Meta-analysis table", html.table(meta.drop(
            columns="sig")))]
    if not by_test.empty:
        figs.append(figures.render(figures.forest(
            by_test, label="test", panel="pooling", estimate="mean_d",
            xlabel=f"mean d over models (t {s.conf} CI)"), "forest_tests",
            f"Mean effect size of each test over all models at the {s.label}."))
        parts.append(html.figure(figs[-1]))
    body = "".join(parts) or html.note("Omitted: no meta-analysis or per-test summary tables.")
    return html.section("forest", "Forest plots", body), figs


def factors(s: Study) -> tuple[Section, list[RenderedFigure]]:
    panels, tables = [], []
    for f in ("size", "objective", "objective_family", "data", "dataset", "patch_size",
              "img_size"):
        t = s.table(f"summary_by_{f}")
        if t.empty or t[f].nunique() < 2:
            continue
        level = t[f].astype(str)
        if f == "size" and t["median_param_count"].notna().any():
            level = [f"{v} ({p / 1e6:.2g}M)" if pd.notna(p) else str(v)
                     for v, p in zip(t[f], t["median_param_count"], strict=True)]
        panels.append((FACTOR_LABELS[f], t.assign(level=level)))
        tables.append(html.details(f"By {FACTOR_LABELS[f]}", html.table(t)))
    if not panels:
        return html.section("factors", "Effect size by factor", html.note(
            "Omitted: no factor (size, objective, data, ...) has two or more levels.")), []
    fig = figures.render(figures.factor_effects(panels, ci=f"t {s.conf} CI"), "factors", (
        f"Mean effect size d per factor level over models × tests (pooling {s.pooling}, "
        f"{s.label}), Student-t {s.conf} interval; numbers: significant / tested."))
    return html.section("factors", "Effect size by factor", html.figure(fig) + "".join(tables)), [
        fig]


def layers(s: Study) -> tuple[Section, list[RenderedFigure]]:
    t = s.tidy[s.tidy["pooling"] == s.pooling].copy()
    have = [f for f in ("dataset", "size", "data") if t[f].nunique() >= 2]
    t["objective"] = t["objective"].astype(object).fillna("(unknown)")
    t["line"] = t[have].astype(str).agg(" · ".join, axis=1) if have else t["model"]
    keys = t.drop_duplicates("line").copy()
    for f in reversed(have):  # legend in size then data order
        order = level_order(keys[f], f, keys["param_count"])
        keys = keys.sort_values(f, key=lambda c, o=order: c.map(o.index), kind="stable")
    curve = t.groupby(["objective", "line", "layer_frac"], as_index=False)["effect_size"].mean()
    fig = figures.render(figures.curves(
        curve, x="layer_frac", line="line", panel="objective", line_order=keys["line"].tolist(),
        xlabel="relative depth (layer / last layer)", legend_title=" · ".join(have) or "model"),
        "layers", (
        f"Mean effect size over tests and seeds by relative depth, a panel per objective "
        f"(pooling {s.pooling}); one line per {' · '.join(have) or 'model'}."))
    return html.section("layers", "Effect size by layer", html.figure(fig)), [fig]


def cda(s: Study) -> tuple[Section, list[RenderedFigure]]:
    t = s.table("summary_by_objective_data")
    if t.empty or t["data"].nunique() < 2:
        have = sorted(s.tidy["data"].dropna().astype(str).unique())
        return html.section("cda", "Counterfactual augmentation", html.note(
            f"Omitted: the comparison needs two or more training-data conditions (original, "
            f"1-sided, 2-sided); the results have {have or 'none'}.")), []
    x_order = level_order(t["objective"], "objective")
    hue_order = level_order(t["data"], "data")
    fig = figures.render(figures.grouped(t, x="objective", hue="data", hue_order=hue_order,
                                         x_order=x_order, ci=f"t {s.conf} CI"), "cda", (
        f"Mean effect size per objective trained on original data and on counterfactually "
        f"augmented data (1-sided, 2-sided), pooling {s.pooling}, {s.label}, t {s.conf} CI."))
    wide = t.pivot(index="objective", columns="data", values="mean_d").reindex(
        index=x_order, columns=hue_order)
    if "original" in wide:
        for c in [c for c in hue_order if c != "original"]:
            wide[f"{c} − original"] = wide[c] - wide["original"]
    body = html.figure(fig) + html.table(wide.reset_index()) + html.details(
        "Table", html.table(t))
    return html.section("cda", "Counterfactual augmentation", body), [fig]


def calibration(s: Study) -> tuple[Section, list[RenderedFigure]]:
    t = s.table("calibration")
    if t.empty or "planted_beta" not in s.sel:
        return html.section("calibration", "Calibration", html.note(
            "Omitted: no test has a planted β (aggregate with --catalog of a synthetic world "
            "to compare planted and detected bias).")), []
    cells = s.sel[(s.sel["pooling"] == s.pooling) & s.sel["planted_beta"].notna()]
    fig = figures.render(figures.calibration(cells, t.assign(level=t["planted_beta"]),
                                             ci=f"t {s.conf} CI"),
                         "calibration", (
        f"Planted bias strength β against detected effect size d (pooling {s.pooling}, "
        f"{s.label}); β = 0 are the null controls."))
    return html.section("calibration", "Calibration", html.figure(fig) + html.table(t)), [fig]


def regression(s: Study) -> tuple[Section, list[RenderedFigure]]:
    t = s.table("regression", False)
    if t.empty:
        return html.section("regression", "Regression", html.note(
            "Omitted: too few models or no factor with two levels for a regression.")), []
    main = t[t["factor"].fillna("") != "test"]
    info = t.drop_duplicates("pooling")[["pooling", "formula", "n_obs", "r2", "cov_type"]]
    body = (html.table(info) + html.table(main.drop(columns=["formula", "n_obs", "r2", "cov_type"]))
            + html.details("With test fixed effects", html.table(t.drop(columns="formula"))))
    return html.section("regression", "Regression", body), []


def methods_section(s: Study) -> tuple[Section, list[RenderedFigure]]:
    prov = s.provenance
    parts = [html.paragraphs([*methods.association_methods(s.tidy, s.alpha),
                              *methods.aggregation_methods(prov.get("settings", {}))])]
    inputs = {i.get("path", "?"): f"sha256 {i.get('sha256', '')}, {i.get('rows', '?')} rows"
              for i in prov.get("inputs", [])}
    if inputs:
        parts.append("<h3>Inputs</h3>" + html.kv_table(inputs))
    if prov.get("versions"):
        parts.append(html.paragraphs([f"Versions: {methods.versions_text(prov['versions'])}."]))
    if s.config:
        parts.append("<h3>Configuration</h3>" + html.kv_table(methods.config_highlights(
            s.config)) + html.details("Full configuration", html.pre(
                json.dumps(s.config, indent=2, sort_keys=True, default=str))))
    else:
        parts.append(html.note("No workflow configuration given (vitbias report --config)."))
    return html.section("methods", "Methods", "".join(parts)), []


BUILDERS: tuple[Callable[[Study], tuple[Section, list[RenderedFigure]]], ...] = (
    overview, heatmap, baseline, forests, factors, layers, cda, calibration, regression,
    methods_section)
