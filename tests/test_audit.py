"""``vitbias audit`` end to end on a tiny checkpoint and a stimulus folder written here."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models.tiny import tiny_ckpt, tiny_open_clip_dir, write_images

from bias.cli import main
from bias.embeddings import EmbeddingTable

CONCEPTS = {"t/x": 4, "t/y": 4, "v/a": 4, "v/b": 5}
CATALOG = """version: 1
tests:
  - {name: XY-AB, x: t/x, y: t/y, a: v/a, b: v/b}
  - {name: YX-AB, x: t/y, y: t/x, a: v/a, b: v/b}
  - {name: Needs-Missing, x: t/x, y: t/y, a: v/a, b: v/missing}
"""


@pytest.fixture()
def setup(tmp_path):
    ckpt = tiny_ckpt(tmp_path / "ck", init_seed=8, objective="dino", size="tiny",
                     data="world-biased", seed=3)
    write_images(tmp_path / "stim", CONCEPTS, seed=1)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path, ckpt


def audit_args(tmp, model, out, *extra):
    return ["audit", "--model", model, "--stimuli", str(tmp / "stim"), "--catalog",
            str(tmp / "catalog.yaml"), "--permutations", "500", "--bootstrap", "40",
            "--workers", "0", "--cache-dir", str(tmp / "cache"), "--out", str(out), *extra]


def weat_d_and_p(x, y, a, b):
    """Effect size and exact one-sided p from first principles (loops over cosines)."""
    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    s = np.array([np.mean([cos(w, i) for i in a]) - np.mean([cos(w, j) for j in b])
                  for w in [*x, *y]])
    nx = len(x)
    d = (s[:nx].mean() - s[nx:].mean()) / s.std(ddof=1)
    stat = s[:nx].sum() - s[nx:].sum()
    null = [s[list(g)].sum() - (s.sum() - s[list(g)].sum())
            for g in itertools.combinations(range(len(s)), nx)]
    return d, np.mean(np.array(null) >= stat - 1e-9)


def test_audit_end_to_end(setup):
    tmp, ckpt = setup
    out = tmp / "audit"
    assert main(audit_args(tmp, f"ckpt:{ckpt}", out, "--layers", "0,2")) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "embeddings.npz", "provenance.json", "report.html", "results.csv"]
    df = pd.read_csv(out / "results.csv")
    # 2 runnable tests x (cls, mean at layers 0 and 2 + prelogits at 2) = 2 x 5 rows.
    assert len(df) == 10 and set(df["test"]) == {"XY-AB", "YX-AB"}
    assert (df[["objective", "size", "data", "seed"]].drop_duplicates().values.tolist()
            == [["dino", "tiny", "world-biased", 3]])
    assert df.columns[:5].tolist() == ["model", "objective", "size", "data", "seed"]
    assert (df["test_seed"] == 0).all() and (df["model"] == f"ckpt:{ckpt}").all()

    table = EmbeddingTable.load(out / "embeddings.npz")
    assert set(table.concept_names) == set(CONCEPTS)
    for row in df.itertuples():
        key = (row.pooling, row.layer)
        sets = [table.concept_array(c, key).astype(np.float64)
                for c in (row.x, row.y, row.a, row.b)]
        d, p = weat_d_and_p(*sets)
        assert row.effect_size == pytest.approx(d, abs=1e-6)
        assert row.p_method == "exact" and row.p_value == pytest.approx(p, abs=1e-9)
    pair = df.pivot_table(index=["pooling", "layer"], columns="test", values="effect_size")
    np.testing.assert_allclose(pair["XY-AB"], -pair["YX-AB"], atol=1e-9)

    prov = json.loads((out / "provenance.json").read_text())
    assert prov["tests"] == ["XY-AB", "YX-AB"] and prov["model_meta"]["objective"] == "dino"
    assert prov["weights_sha256"] == table.provenance["weights_sha256"]
    assert prov["statistics"]["n_permutations"] == 500 and prov["layer_norm"] is True
    html = (out / "report.html").read_text()
    assert "XY-AB" in html and "<html" in html.lower()


def test_audit_open_clip_folder_has_blank_factors(setup):
    tmp, _ = setup
    folder = tiny_open_clip_dir(tmp / "oc")
    out = tmp / "oc_audit"
    argv = audit_args(tmp, f"open_clip:tiny@{folder}", out, "--layers", "-1", "--pooling",
                      "cls", "--tests", "XY-AB")
    assert main(argv) == 0
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 1 and df.loc[0, "layer"] == 2
    assert df[["objective", "size", "data", "seed"]].isna().all().all()


@pytest.mark.parametrize("breakage", ["catalog", "image", "model"])
def test_failed_audit_leaves_no_folder(setup, capsys, breakage):
    tmp, ckpt = setup
    model = f"ckpt:{ckpt}"
    if breakage == "catalog":
        (tmp / "catalog.yaml").write_text("version: 1\ntests:\n  - {name: T, x: t/x}\n")
    elif breakage == "image":
        (tmp / "stim" / "v" / "b" / "img03.png").write_bytes(b"not a png")
    else:
        model = f"ckpt:{tmp / 'nowhere'}"
    out = tmp / "results" / "audit"
    assert main(audit_args(tmp, model, out)) == 2
    err = capsys.readouterr().err
    assert {"catalog": "field tests/0", "image": "img03.png", "model": "nowhere"}[breakage] in err
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.glob(".audit*"))


def test_audit_refuses_to_replace_a_foreign_folder(setup, capsys):
    tmp, ckpt = setup
    out = tmp / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    assert main(audit_args(tmp, f"ckpt:{ckpt}", out)) == 2
    assert "refusing to replace" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_rerun_replaces_previous_audit_and_uses_cache(setup):
    tmp, ckpt = setup
    out = tmp / "audit"
    argv = audit_args(tmp, f"ckpt:{ckpt}", out, "--layers", "1", "--pooling", "mean")
    assert main(argv) == 0
    first = (out / "results.csv").read_bytes()
    assert main(argv) == 0
    assert (out / "results.csv").read_bytes() == first
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["cache"]["hit"] is True
    assert Path(prov["cache"]["path"]).is_file()


def test_command_choices_match_the_engine():
    from bias.association import ALTERNATIVES, CORRECTIONS
    from bias.commands.audit import ALTERNATIVE_CHOICES, CORRECTION_CHOICES

    assert set(ALTERNATIVE_CHOICES) == set(ALTERNATIVES)
    assert set(CORRECTION_CHOICES) == set(CORRECTIONS)
