"""The study report: renders, self-contained, figures as PNG and SVG, sections omitted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from bias.aggregate import aggregate
from bias.cli import main
from bias.errors import VitbiasError
from bias.report.study import render_study_report

from .helpers import check_html, study_results, with_lowlevel

FIGURES = {"heatmap", "forest_models", "forest_tests", "factors", "layers", "cda", "calibration"}
CONFIG = "seed: 1234\nassociation:\n  permutations: 10000\n  correction: holm\nnote: <b>x</b>\n"


def aggregate_and_report(results: pd.DataFrame, tmp_path: Path) -> str:
    """`vitbias aggregate` then `vitbias report` on a results frame; the report's HTML."""
    results.to_csv(tmp_path / "r.csv", index=False)
    assert main(["aggregate", "--results", str(tmp_path / "r.csv"), "--out",
                 str(tmp_path / "agg")]) == 0
    assert main(["report", "--aggregate", str(tmp_path / "agg"), "--out",
                 str(tmp_path / "rep")]) == 0
    return (tmp_path / "rep" / "index.html").read_text()


@pytest.fixture(scope="module")
def full_report(study_csv, tmp_path_factory) -> Path:
    results, catalog = study_csv
    d = tmp_path_factory.mktemp("full")
    (d / "config.yaml").write_text(CONFIG)
    (d / "reports").mkdir()
    (d / "reports" / "README.md").write_text("keep me\n")
    assert main(["aggregate", "--results", str(results), "--catalog", str(catalog),
                 "--out", str(d / "agg")]) == 0
    assert main(["report", "--aggregate", str(d / "agg"), "--config", str(d / "config.yaml"),
                 "--out", str(d / "reports")]) == 0
    return d


def test_full_report_is_self_contained(full_report: Path):
    doc = (full_report / "reports" / "index.html").read_text()
    c = check_html(doc)
    assert len(c.imgs) == len(FIGURES)
    assert {f"fig-{n}" for n in FIGURES} <= set(c.ids)
    assert {"overview", "heatmap", "forest", "factors", "layers", "cda", "calibration",
            "regression", "methods"} <= set(c.ids)
    assert "Omitted" not in doc
    assert (full_report / "reports" / "README.md").read_text() == "keep me\n"


def test_figures_exist_as_png_and_svg(full_report: Path):
    figdir = full_report / "reports" / "figures"
    assert {p.stem for p in figdir.glob("*.png")} == FIGURES
    assert {p.stem for p in figdir.glob("*.svg")} == FIGURES
    for svg in figdir.glob("*.svg"):
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
    assert (figdir / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_numbers_come_from_the_tables(full_report: Path):
    doc = (full_report / "reports" / "index.html").read_text()
    agg = full_report / "agg"
    by_od = pd.read_csv(agg / "summary_by_objective_data.csv")
    cls = by_od[by_od["pooling"] == "cls"].set_index(["objective", "data"])["mean_d"]
    delta = cls[("mae", "2-sided")] - cls[("mae", "original")]
    assert delta < 0  # the planted CDA reduction
    cda = doc.split('id="cda"')[1].split("</section>")[0]
    assert f"{delta:.3f}" in cda and "2-sided − original" in cda
    methods = doc.split('id="methods"')[1]
    assert "1234" in methods and "&lt;b&gt;x&lt;/b&gt;" in methods  # config shown, escaped
    assert "DerSimonian" in methods and "HC3" in methods
    sha = pd.read_json(agg / "provenance.json", typ="series")["inputs"][0]["sha256"]
    assert sha in methods


def test_report_is_reproducible(full_report: Path, tmp_path: Path):
    again = render_study_report(full_report / "agg", tmp_path / "rep",
                                config=full_report / "config.yaml")
    assert again.read_text() == (full_report / "reports" / "index.html").read_text()
    for name in FIGURES:
        assert ((tmp_path / "rep" / "figures" / f"{name}.svg").read_bytes()
                == (full_report / "reports" / "figures" / f"{name}.svg").read_bytes())


def test_sections_without_data_are_omitted(tmp_path: Path):
    res = study_results(objectives=("mae",), datas=("original",), seeds=(0,))
    res.to_csv(tmp_path / "r.csv", index=False)
    aggregate([tmp_path / "r.csv"], tmp_path / "agg")
    index = render_study_report(tmp_path / "agg", tmp_path / "rep")
    doc = index.read_text()
    c = check_html(doc)
    cda = doc.split('id="cda"')[1].split("</section>")[0]
    assert "Omitted" in cda and "original" in cda
    assert "Omitted" in doc.split('id="calibration"')[1].split("</section>")[0]
    assert "No workflow configuration given" in doc
    names = {p.stem for p in (tmp_path / "rep" / "figures").glob("*.png")}
    assert names == {"heatmap", "forest_models", "forest_tests", "factors", "layers"}
    assert len(c.imgs) == len(names)


def test_minimal_study_one_model_one_test(tmp_path: Path):
    res = study_results(objectives=("mae",), sizes=("micro",), datas=("original",), seeds=(0,),
                        poolings=("mean",))
    res = res[res["test"] == "Valence"].drop(columns=["objective", "size", "data", "seed"])
    doc = aggregate_and_report(res, tmp_path)
    check_html(doc)
    for sid in ("factors", "cda", "calibration", "regression"):
        assert "Omitted" in doc.split(f'id="{sid}"')[1].split("</section>")[0], sid


def test_report_errors_leave_no_output(full_report: Path, tmp_path: Path):
    with pytest.raises(VitbiasError, match=r"lacks tidy\.csv"):
        render_study_report(tmp_path / "nothing", tmp_path / "rep")
    with pytest.raises(VitbiasError, match="pooling 'prelogits'"):
        render_study_report(full_report / "agg", tmp_path / "rep", pooling="prelogits")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(VitbiasError, match=r"bad\.yaml"):
        render_study_report(full_report / "agg", tmp_path / "rep", config=tmp_path / "bad.yaml")
    assert not (tmp_path / "rep" / "index.html").exists()
    assert not (tmp_path / "rep" / "figures").exists()


def test_heatmap_marks_follow_the_robust_p_when_present():
    from bias.report.sections import _marked_p

    res = study_results()
    assert _marked_p(res) == ("p_adjusted", "adjusted p")
    res["p_robust"] = res["p_value"]
    res["p_robust_adjusted"] = res["p_adjusted"] * 2
    column, name = _marked_p(res)
    assert column == "p_robust_adjusted" and name.startswith("robust adjusted p")


def test_report_explains_the_robust_p(tmp_path: Path):
    results = study_results()
    results["p_robust"] = results["p_value"]
    results["p_robust_adjusted"] = results["p_adjusted"]
    doc = aggregate_and_report(results, tmp_path)
    assert "* marks robust adjusted p (targets and attributes permuted" in doc
    assert "intersection-union test" in doc


def test_lowlevel_baseline_sits_beside_the_models(tmp_path: Path):
    res = study_results(objectives=("mae",), datas=("original",), seeds=(0,))
    doc = aggregate_and_report(with_lowlevel(res), tmp_path)
    check_html(doc)
    section = doc.split('id="baseline"')[1].split("</section>")[0]
    assert "Omitted" not in section
    assert "1.50*" in section and "-0.20<" in section  # marked only where p < 0.05
    models = res[(res["pooling"] == "cls") & (res["layer"] == res.groupby("model")["layer"]
                                              .transform("max"))]
    mean = models[models["test"] == "Valence"]["effect_size"].mean()
    row = section.split("Valence")[1].split("</tr>")[0]
    assert f"{mean:.2f}" in row
    # the baseline does not enter the single-pooling figures' models
    heat = doc.split('id="heatmap"')[1].split("</section>")[0]
    assert "lowlevel" not in heat


def test_report_without_baseline_says_how_to_add_it(tmp_path: Path):
    doc = aggregate_and_report(study_results(objectives=("mae",), datas=("original",),
                                             seeds=(0,)), tmp_path)
    section = doc.split('id="baseline"')[1].split("</section>")[0]
    assert "Omitted" in section and "spec lowlevel" in section
