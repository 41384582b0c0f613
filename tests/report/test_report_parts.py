"""Building blocks of the reports: HTML helpers, figures, methods text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bias.report import figures, html, methods

from .helpers import check_html, study_results


def test_escaping_and_numbers():
    assert html.esc("<a href='x'>") == "&lt;a href=&#x27;x&#x27;&gt;"
    assert html.esc(None) == html.esc(float("nan")) == html.esc(pd.NA) == ""
    assert [html.fmt_num(v) for v in (3, 0.12345, 2.5e-7, float("nan"), "abc", -1.0)] == [
        "3", "0.123", "2.50e-07", "", "abc", "-1"]


def test_table_escapes_highlights_and_drops_empty_columns():
    df = pd.DataFrame({"test": ["<b>", "ok"], "d": [0.5, -0.25], "empty": [np.nan, np.nan]})
    out = html.table(df, columns={"test": "Test", "d": "d", "empty": "E"},
                     highlight=[True, False])
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert out.count('class="sig"') == 1 and ">E<" not in out
    assert "0.500" in out and "-0.250" in out
    assert ">E<" in html.table(df, columns={"empty": "E"}, drop_empty=False)


def test_page_is_valid_and_self_contained():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"layer": np.tile(np.arange(4), 2), "test": ["A"] * 4 + ["B"] * 4,
                          "pooling": "cls", "effect_size": rng.normal(size=8)})
    fig = figures.render(figures.curves(frame, x="layer", line="test", panel="pooling"),
                         "c", "a caption with <tags>")
    doc = html.page("T <1>", [html.section("one", "One", html.figure(fig)),
                              html.section("two", "Two", html.note("nothing & more"))])
    c = check_html(doc)
    assert set(c.ids) == {"fig-c", "one", "two"}
    assert "T &lt;1&gt;" in doc and "nothing &amp; more" in doc


def test_figures_are_deterministic_and_handle_gaps():
    res = study_results(objectives=("mae",), sizes=("tiny",), datas=("original",), seeds=(0,))
    res["significant"] = res["p_adjusted"] < 0.05
    res.loc[res.index[:3], ["ci_low", "ci_high"]] = np.nan  # missing intervals: no bars
    # a test missing from the first panel must still reach the legend
    res = res[~((res["pooling"] == "cls") & (res["test"] == "Null"))]
    draw = lambda: figures.curves(  # noqa: E731
        res, x="layer", line="test", panel="pooling", significant="significant")
    fig = draw()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Career", "Null", "Valence"]
    a, b = figures.render(fig, "x", "x"), figures.render(draw(), "x", "x")
    assert a.png == b.png and a.svg == b.svg
    final = res[res["layer"] == 3]
    forest = figures.render(figures.forest(final, label="test", panel="pooling"), "f", "f")
    assert forest.png[:4] == b"\x89PNG"
    values = pd.DataFrame([[0.5, np.nan], [-1.5, 2.5]], index=["t1", "t2"], columns=["m1", "m2"])
    sig = pd.DataFrame([[True, False], [False, True]], index=values.index,
                       columns=values.columns)
    heat = figures.heatmap(values, sig)
    assert [t.get_text() for t in heat.axes[0].texts] == ["0.50*", "", "-1.50", "2.50*"]
    assert figures.render(heat, "h", "h").svg.startswith(b"<?xml")


def test_methods_text_reads_the_numbers():
    res = pd.DataFrame({"p_method": ["exact", "monte-carlo", "monte-carlo"],
                        "n_permutations": [12870, 100000, 100000],
                        "alternative": "greater", "correction": "bh",
                        "ci_low": [0.1, 0.2, np.nan], "confidence": 0.9,
                        "n_bootstrap": 1000, "test_seed": 7})
    text = " ".join(methods.association_methods(res, alpha=0.01))
    assert "exact enumeration" in text and "for 1 test instance" in text
    assert "100,000 random re-partitions" in text and "for 2 test instances" in text
    assert "bh correction" in text and "α = 0.01" in text
    assert "90%" in text and "1,000 resamples" in text and "Seed of permutations" in text
    agg = " ".join(methods.aggregation_methods({"layer": "best", "confidence": 0.9,
                                                "cov_type": "HC1"}))
    assert "optimistic" in agg and "90%" in agg and "HC1" in agg
    cfg = {"seed": 3, "train": {"epochs": 2, "lr": 0.1}, "association": {"permutations": 99}}
    assert methods.config_highlights(cfg) == {"seed": 3, "train.epochs": 2,
                                              "association.permutations": 99}
