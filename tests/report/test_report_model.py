"""The single-model report of `vitbias audit`."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bias.errors import VitbiasError
from bias.report.model import layer_label, render_model_report

from .helpers import check_html, study_results

PROVENANCE = {"model": "ckpt:models/mae-micro", "weights_sha256": "ab" * 32, "layer_norm": True,
              "preprocessing": {"img_size": 32, "mean": [0.5, 0.5, 0.5]},
              "skipped_images": ["bad <img>.png"], "versions": {"torch": "2.9", "timm": "1.0"}}


def one_model(**kw) -> pd.DataFrame:
    return study_results(objectives=("mae",), sizes=("tiny",), datas=("original",), seeds=(0,),
                         **kw)


def test_model_report_renders(tmp_path: Path):
    res = one_model()
    out = render_model_report(res, PROVENANCE, tmp_path / "audit" / "report.html")
    assert out == tmp_path / "audit" / "report.html"
    doc = out.read_text()
    c = check_html(doc)
    assert len(c.imgs) == 2  # layer curves and forest plot
    text = " ".join(c.text)
    for test in ("Valence", "Career", "Null"):
        assert test in text
    assert "final layer (layer 3)" in text
    assert "bad &lt;img&gt;.png" in doc and "bad <img>.png" not in doc  # escaped
    assert "Monte Carlo with 10,000" in text and "holm" in text and "torch 2.9" in text
    assert {"summary", "tests", "layers", "forest", "all", "provenance"} <= set(c.ids)
    # the tests table holds the final layer's 6 rows (3 tests × 2 poolings), significant marked
    final = res[res["layer"] == 3]
    tests_table = doc.split('id="tests"')[1].split("</table>")[0]
    assert tests_table.count("<tr") - 1 == len(final)
    assert tests_table.count('class="sig"') == int((final["p_adjusted"] < 0.05).sum()) > 0
    assert f"{final['effect_size'].iloc[0]:.3f}" in tests_table
    assert not list(tmp_path.glob("audit/.*"))  # no temporary left behind


def test_model_report_best_layer_and_sparse_columns(tmp_path: Path):
    res = one_model()[["layer", "pooling", "test", "effect_size"]]  # no CI, no p-values
    out = render_model_report(res, {"spec": "timm:vit_tiny"}, tmp_path / "r.html", layer="best")
    c = check_html(out.read_text())
    text = " ".join(c.text)
    assert "best layer" in text and "no adjusted p-values" in text and "timm:vit_tiny" in text


def test_layer_label():
    sel = pd.DataFrame({"pooling": ["cls", "mean"], "layer": [3, 5], "model": ["m", "m"]})
    assert layer_label(sel, "final") == "final layer (cls: layer 3, mean: layer 5)"
    sel2 = pd.DataFrame({"pooling": ["cls", "cls"], "layer": [3, 5], "model": ["a", "b"]})
    assert layer_label(sel2, "final") == "final layer of each model"


def test_model_report_bad_input_leaves_nothing(tmp_path: Path):
    out = tmp_path / "r.html"
    with pytest.raises(VitbiasError, match="no rows"):
        render_model_report(one_model().iloc[:0], {}, out)
    with pytest.raises(VitbiasError, match="effect_size"):
        render_model_report(one_model().drop(columns="effect_size"), {}, out)
    two = study_results(objectives=("mae",), sizes=("tiny",), datas=("original",), seeds=(0, 1))
    with pytest.raises(VitbiasError, match="several models"):
        render_model_report(two, {}, out)
    assert list(tmp_path.iterdir()) == []


def test_model_report_is_reproducible(tmp_path: Path):
    res = one_model()
    a = render_model_report(res, PROVENANCE, tmp_path / "a.html").read_text()
    b = render_model_report(res, PROVENANCE, tmp_path / "b.html").read_text()
    assert a == b
    assert re.search(r"data:image/png;base64,", a)


def test_model_report_counts_robust_significance(tmp_path: Path):
    res = one_model()
    res["p_robust_adjusted"] = 1.0  # nothing survives permuting the attributes as well
    res.loc[res["test"].str.contains("Career"), "p_robust_adjusted"] = 0.001
    doc = render_model_report(res, PROVENANCE, tmp_path / "r.html").read_text()
    final = res[res["layer"] == 3]
    for pooling, g in final.groupby("pooling"):
        n = int((g["p_robust_adjusted"] < 0.05).sum())
        assert n > 0
        assert re.search(rf"{pooling}, final layer \(layer 3\): \d+ of \d+ tests significant "
                         rf"\(adjusted p &lt; 0\.05\), {n} with the robust p", doc)
    assert "robust adjusted p" in doc.split('id="tests"')[1].split("</table>")[0]
