"""Aggregation: numbers against independent computations, joins, errors, the CLI."""

from __future__ import annotations

import json
import logging
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bias.aggregate import (
    build_tidy,
    level_order,
    mean_ci,
    meta_analysis,
    regress,
    select_layer,
    summarize,
)
from bias.aggregate_io import (
    match_models,
    merge_catalogs,
    model_factors,
    read_models_meta,
    read_results,
)
from bias.cli import main
from bias.errors import VitbiasError
from bias.meta_analysis import dersimonian_laird, effect_variance
from bias.stimuli import AssociationTest

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): treated TB+, TB-, control TB+, TB-
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
       (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892),
       (29, 7470, 45, 7232), (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338),
       (27, 16886, 29, 17825)]


def results_frame(seed: int = 0, objectives=("supervised", "mae"), sizes=("micro", "tiny"),
                  datas=("original", "1-sided"), seeds=(0, 1), tests=("Valence", "Null", "NA"),
                  poolings=("cls", "mean")) -> pd.DataFrame:
    """Tidy results: depth 3 (micro) or 4 (tiny); d grows with depth, falls with CDA."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in objectives:
        for s in sizes:
            for dc in datas:
                for sd in seeds:
                    for pool in poolings:
                        depth = {"micro": 3, "tiny": 4}[s]
                        for layer in range(depth):
                            for k, t in enumerate(tests):
                                d = (1.0 - 0.4 * k) * (layer + 1) / depth * (
                                    1.0 if dc == "original" else 0.6) + rng.normal(0, 0.2)
                                w = rng.uniform(0.2, 0.5)
                                p = float(min(1.0, math.exp(-3 * d)))
                                rows.append({
                                    "model": f"{o}-{s}-{dc}-s{sd}", "objective": o, "size": s,
                                    "data": dc, "seed": sd, "layer": layer, "pooling": pool,
                                    "test": t, "x": "p/x", "y": "p/y", "a": "v/a", "b": "v/b",
                                    "n_x": 12, "n_y": 10, "n_a": 8, "n_b": 8, "effect_size": d,
                                    "ci_low": d - w, "ci_high": d + w * 1.2, "p_value": p,
                                    "p_method": "exact", "n_permutations": 646646, "p_se": 0.0,
                                    "p_adjusted": min(1.0, 3 * p), "alternative": "greater",
                                    "correction": "holm"})
    return pd.DataFrame(rows)


# --- DerSimonian–Laird ---------------------------------------------------------------------

def test_dersimonian_laird_hand_example():
    # d = (0, 1, 2), v = (1/4, 1/4, 1/2): w = (4, 4, 2), sum 10, fixed effect 8/10 = 0.8;
    # Q = 4·0.64 + 4·0.04 + 2·1.44 = 5.6; C = 10 − 36/10 = 6.4; τ² = (5.6 − 2)/6.4 = 9/16;
    # w* = 1/(v + 9/16) = (16/13, 16/13, 16/17): d_RE = (16/13 + 32/17)/(32/13 + 16/17) = 43/47,
    # SE² = 1/Σw* = 221/752; I² = (5.6 − 2)/5.6 = 9/14.
    w_star = [Fraction(16, 13), Fraction(16, 13), Fraction(16, 17)]
    d_re = sum(w * d for w, d in zip(w_star, (0, 1, 2), strict=True)) / sum(w_star)
    assert d_re == Fraction(43, 47)
    r = dersimonian_laird([0.0, 1.0, 2.0], [0.25, 0.25, 0.5])
    se = math.sqrt(221 / 752)
    assert r["d_re"] == pytest.approx(43 / 47, abs=1e-12)
    assert r["tau2"] == pytest.approx(9 / 16, abs=1e-12)
    assert r["q"] == pytest.approx(5.6, abs=1e-12)
    assert r["i2"] == pytest.approx(9 / 14, abs=1e-12)
    assert r["d_fe"] == pytest.approx(0.8, abs=1e-12)
    assert r["se"] == pytest.approx(se, abs=1e-12)
    assert r["ci_low"] == pytest.approx(43 / 47 - 1.959963984540054 * se, abs=1e-9)
    assert r["ci_high"] == pytest.approx(43 / 47 + 1.959963984540054 * se, abs=1e-9)
    assert r["p_value"] == pytest.approx(math.erfc(abs(43 / 47 / se) / math.sqrt(2)), rel=1e-9)


def test_dersimonian_laird_bcg_textbook():
    """Published DL results on the BCG data (metafor rma(method="DL"), log risk ratios)."""
    a = np.array(BCG, dtype=float)
    tp, tn, cp, cn = a.T
    y = np.log((tp / (tp + tn)) / (cp / (cp + cn)))
    v = 1 / tp - 1 / (tp + tn) + 1 / cp - 1 / (cp + cn)
    r = dersimonian_laird(y, v)
    assert r["d_re"] == pytest.approx(-0.7141, abs=5e-5)
    assert r["se"] == pytest.approx(0.1787, abs=5e-5)
    assert r["tau2"] == pytest.approx(0.3088, abs=5e-5)
    assert r["q"] == pytest.approx(152.2330, abs=5e-4)
    assert r["i2"] == pytest.approx(0.9212, abs=5e-5)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((-1.0644, -0.3638), abs=5e-5)
    # a third, separately written implementation agrees to machine precision
    from statsmodels.stats.meta_analysis import combine_effects

    sm = combine_effects(y, v, method_re="dl")
    assert r["d_re"] == pytest.approx(sm.mean_effect_re, abs=1e-12)
    assert r["tau2"] == pytest.approx(sm.tau2, abs=1e-12)
    assert r["se"] == pytest.approx(sm.sd_eff_w_re, abs=1e-12)


def test_dersimonian_laird_edge_cases():
    one = dersimonian_laird([0.7], [0.04])
    assert (one["d_re"], one["tau2"], one["se"]) == pytest.approx((0.7, 0.0, 0.2))
    same = dersimonian_laird([0.5, 0.5, 0.5], [0.1, 0.2, 0.3])  # no heterogeneity: τ² = 0
    assert same["tau2"] == 0.0 and same["d_re"] == pytest.approx(0.5)
    assert same["d_re"] == pytest.approx(same["d_fe"])
    for d, v in (([], []), ([1.0], [0.0]), ([1.0, 2.0], [0.1, np.nan])):
        with pytest.raises(ValueError):
            dersimonian_laird(d, v)


def test_effect_variance_bootstrap_and_formula():
    df = pd.DataFrame({"effect_size": [0.5, 1.0, 0.2, 0.5], "ci_low": [0.1, np.nan, 0.2, 0.1],
                       "ci_high": [0.9, np.nan, 0.2, 0.9], "n_x": [10, 8, 6, 10],
                       "n_y": [10, 12, 6, 10]})
    v, method = effect_variance(df)
    assert v[0] == pytest.approx((0.8 / (2 * 1.959963984540054)) ** 2)
    assert v[1] == pytest.approx(20 / 96 + 1.0 / 40)  # (8+12)/(8·12) + 1²/(2·20)
    assert v[2] == pytest.approx(12 / 36 + 0.04 / 24)  # zero-width CI: the formula instead
    assert method.tolist() == ["bootstrap-ci", "formula", "formula", "bootstrap-ci"]
    v90, _ = effect_variance(df.assign(confidence=[0.95, 0.95, 0.95, 0.90]))
    assert v90[0] == pytest.approx(v[0])
    assert v90[3] == pytest.approx((0.8 / (2 * 1.6448536269514722)) ** 2)  # z(0.95) for 90%


def test_meta_analysis_per_model_matches_statsmodels():
    from statsmodels.stats.meta_analysis import combine_effects

    sel = select_layer(build_tidy(results_frame()))
    meta = meta_analysis(sel)
    assert len(meta) == sel.groupby(["model", "pooling"]).ngroups
    row = meta.iloc[5]
    g = sel[(sel["model"] == row["model"]) & (sel["pooling"] == row["pooling"])]
    v = ((g["ci_high"] - g["ci_low"]) / (2 * 1.959963984540054)) ** 2
    sm = combine_effects(g["effect_size"].to_numpy(), v.to_numpy(), method_re="dl")
    assert row["d_re"] == pytest.approx(sm.mean_effect_re, abs=1e-12)
    assert row["k"] == 3 and row["variance_method"] == "bootstrap-ci"
    assert row["layer"] == g["layer"].max()


# --- means, summaries, regression -----------------------------------------------------------

def test_mean_ci_against_t_table():
    m, lo, hi = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, df=4) from a table
    assert (m, lo, hi) == pytest.approx((3.0, 3.0 - half, 3.0 + half), abs=1e-12)
    assert np.isnan(mean_ci([2.0])[1]) and np.isnan(mean_ci([])[0])


def test_summarize_against_plain_loops():
    sel = select_layer(build_tidy(results_frame()))
    out = summarize(sel, ["data"], alpha=0.05)
    assert out["data"].tolist() == ["original", "1-sided", "original", "1-sided"]  # per pooling
    for _, row in out.iterrows():
        cells = [r for _, r in sel.iterrows()
                 if r["pooling"] == row["pooling"] and r["data"] == row["data"]]
        ds = [r["effect_size"] for r in cells]
        assert row["n"] == len(cells) == 8 * 3  # 8 models × 3 tests
        assert row["mean_d"] == pytest.approx(sum(ds) / len(ds), abs=1e-12)
        assert row["n_significant"] == sum(r["p_adjusted"] < 0.05 for r in cells)
        assert row["n_models"] == len({r["model"] for r in cells})
        sd = math.sqrt(sum((x - row["mean_d"]) ** 2 for x in ds) / (len(ds) - 1))
        assert row["sd_d"] == pytest.approx(sd, abs=1e-12)


def _design(frame: pd.DataFrame, factors: list[str]) -> np.ndarray:
    """Intercept + treatment dummies (reference: first display level), built by hand."""
    cols = [np.ones(len(frame))]
    for f in factors:
        levels = level_order(frame[f], f, frame["param_count"])
        cols += [(frame[f] == lv).to_numpy(float) for lv in levels[1:]]
    return np.column_stack(cols)


def test_regression_against_lstsq_and_hc3_by_hand():
    sel = select_layer(build_tidy(results_frame(seed=3)))
    table = regress(sel, test_effects=True, cov_type="HC3")
    cls = table[table["pooling"] == "cls"]
    g = sel[sel["pooling"] == "cls"]
    x = _design(g, ["objective", "size", "data", "test"])
    y = g["effect_size"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    np.testing.assert_allclose(cls["estimate"].to_numpy(), beta, atol=1e-10)
    bread = np.linalg.inv(x.T @ x)
    e = y - x @ beta
    h = np.einsum("ij,jk,ik->i", x, bread, x)
    meat = x.T @ (x * (e**2 / (1 - h) ** 2)[:, None])
    np.testing.assert_allclose(cls["se"].to_numpy(), np.sqrt(np.diag(bread @ meat @ bread)),
                               rtol=1e-8)
    r2 = 1 - (e @ e) / ((y - y.mean()) @ (y - y.mean()))
    assert cls["r2"].iloc[0] == pytest.approx(r2, abs=1e-12)
    assert cls["term"].iloc[0] == "Intercept"
    data_row = cls[cls["factor"] == "data"].iloc[0]
    assert (data_row["level"], data_row["reference"]) == ("1-sided", "original")
    assert data_row["estimate"] < 0  # the planted CDA reduction is recovered
    assert set(cls[cls["factor"] == "objective"]["reference"]) == {"supervised"}


def test_regression_leaves_out_confounded_factor(caplog):
    tidy = build_tidy(results_frame())
    tidy["patch_size"] = tidy["size"].map({"micro": 4, "tiny": 8}).astype("Int64")  # = size
    with caplog.at_level(logging.WARNING):
        table = regress(select_layer(tidy))
    assert "patch_size" not in set(table["factor"]) and "size" in set(table["factor"])
    assert "confounded" in caplog.text


# --- tidy table, layers, metadata -------------------------------------------------------------

def test_build_tidy_joins_metadata(caplog):
    res = results_frame(objectives=("supervised",), sizes=("micro",), datas=("original",),
                        seeds=(0,))
    res["model"] = "ckpt:models/m0"
    res[["objective", "size", "data", "seed"]] = [None, None, None, 7]
    meta = {"m0": model_factors({"arch": "vit_small_patch16_224", "model_kwargs": {
        "img_size": 32}, "objective": "mae", "size": "micro", "param_count": 12345,
        "data_condition": "two-sided", "seed": 3})}
    catalog = [AssociationTest("Valence", "p/x", "p/y", "v/a", "v/b", planted_beta=0.8)]
    with caplog.at_level(logging.WARNING):
        tidy = build_tidy(res, meta, catalog)
    row = tidy.iloc[0]
    assert (row["objective"], row["objective_family"], row["data"]) == (
        "mae", "generative", "2-sided")
    assert (row["patch_size"], row["img_size"], row["param_count"]) == (16, 32, 12345)
    assert row["seed"] == 3 and "seed" in caplog.text  # metadata wins, the clash is logged
    assert tidy.groupby("test")["planted_beta"].first().to_dict()["Valence"] == 0.8
    assert tidy["planted_beta"][tidy["test"] == "Null"].isna().all()
    assert tidy["layer_frac"].min() == 0 and tidy["layer_frac"].max() == 1


def test_select_layer_modes():
    tidy = build_tidy(results_frame())
    final = select_layer(tidy, "final")
    assert set(final[final["size"] == "micro"]["layer"]) == {2}
    assert set(final[final["size"] == "tiny"]["layer"]) == {3}
    assert len(select_layer(tidy, 1)) == len(final)
    best = select_layer(tidy, "best")
    for (model, pool), g in tidy.groupby(["model", "pooling"]):
        strength = g.groupby("layer")["effect_size"].apply(lambda s: s.abs().mean())
        chosen = best[(best["model"] == model) & (best["pooling"] == pool)]["layer"].unique()
        assert chosen.tolist() == [strength.idxmax()]
    with pytest.raises(VitbiasError, match="layer 3 is absent"):
        select_layer(tidy, 3)
    with pytest.raises(VitbiasError, match="'final', 'best'"):
        select_layer(tidy, "last")


def test_level_order():
    assert level_order(pd.Series(["2-sided", "original", "1-sided"]), "data") == [
        "original", "1-sided", "2-sided"]
    sizes = pd.Series(["small", "micro", "tiny"])
    assert level_order(sizes, "size") == ["micro", "tiny", "small"]
    assert level_order(sizes, "size", pd.Series([1, 3, 2])) == ["small", "tiny", "micro"]


def test_model_factors_from_arch_and_kwargs():
    f = model_factors({"arch": "vit_base_patch16_224.augreg_in21k", "objective": "dino"})
    assert (f["patch_size"], f["img_size"], f["objective_family"]) == (16, 224,
                                                                       "discriminative")
    f = model_factors({"arch": "vit_tiny_patch16_224", "model_kwargs": {"patch_size": 4}})
    assert f["patch_size"] == 4 and f["data"] is None


def test_read_models_meta_layouts(tmp_path: Path):
    for name, obj in (("a", "mae"), ("deep/b", "simclr")):
        (tmp_path / "models" / name).mkdir(parents=True)
        (tmp_path / "models" / name / "model.json").write_text(json.dumps(
            {"arch": "vit_tiny_patch16_224", "model_kwargs": {"img_size": 32, "patch_size": 4},
             "objective": obj, "data": [{"path": "world/train", "hash": "x"}]}))
    (tmp_path / "map.json").write_text(json.dumps(
        {"loaded/hub": {"objective": "clip", "size": "B", "dataset": "photos"}}))
    meta = read_models_meta([tmp_path / "models", tmp_path / "models" / "a",
                             tmp_path / "map.json"])
    root = (tmp_path / "models").as_posix()
    assert sorted(meta) == [f"{root}/a", f"{root}/deep/b", "loaded/hub"]
    assert meta[f"{root}/deep/b"]["objective_family"] == "discriminative"
    assert meta[f"{root}/a"]["data"] is None  # a list of data ids is not a condition
    assert meta["loaded/hub"]["dataset"] == "photos"
    (tmp_path / "bad.json").write_text(json.dumps({"m": {"objectiv": "mae"}}))
    with pytest.raises(VitbiasError, match="objectiv"):
        read_models_meta([tmp_path / "bad.json"])
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(VitbiasError, match=r"broken\.json"):
        read_models_meta([tmp_path / "broken.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(VitbiasError, match=r"no model\.json"):
        read_models_meta([tmp_path / "empty"])
    with pytest.raises(VitbiasError, match="not found"):
        read_models_meta([tmp_path / "nope"])


def test_match_models_never_guesses():
    keys = ["results/models/world/original/mae/micro/seed0",
            "results/models/world/2-sided/mae/micro/seed0", "loaded/clip"]
    got = match_models(["ckpt:results/models/world/original/mae/micro/seed0",
                        "world/2-sided/mae/micro/seed0", "loaded/clip", "timm:vit_base"], keys)
    assert got == {"ckpt:results/models/world/original/mae/micro/seed0": keys[0],
                   "world/2-sided/mae/micro/seed0": keys[1], "loaded/clip": "loaded/clip"}
    with pytest.raises(VitbiasError, match="several"):
        match_models(["mae/micro/seed0"], keys)  # original or 2-sided? refuse to guess


def test_merge_catalogs(tmp_path: Path):
    head = "version: 1\ntests:\n"
    (tmp_path / "a.yaml").write_text(head + "  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b, "
                                     "planted_beta: 0.8}\n")
    (tmp_path / "b.yaml").write_text(head + "  - {name: U, x: c/x, y: c/y, a: c/a, b: c/b}\n")
    (tmp_path / "c.yaml").write_text(head + "  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b, "
                                     "planted_beta: 0.2}\n")
    tests = merge_catalogs([tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "a.yaml"])
    assert [(t.name, t.planted_beta) for t in tests] == [("T", 0.8), ("U", None)]
    with pytest.raises(VitbiasError, match=r"planted_beta 0\.8 and 0\.2"):
        merge_catalogs([tmp_path / "a.yaml", tmp_path / "c.yaml"])


def test_read_results_errors(tmp_path: Path):
    good = results_frame(objectives=("mae",), sizes=("micro",), datas=("original",), seeds=(0,))
    good.to_csv(tmp_path / "r.csv", index=False)
    frame, inputs = read_results([tmp_path / "r.csv"])
    assert set(frame["test"]) == {"Valence", "Null", "NA"}  # names that pandas would eat
    assert inputs[0]["rows"] == len(good) and len(inputs[0]["sha256"]) == 64
    cases = {
        "missing.csv": None,
        "nocol.csv": good.drop(columns="effect_size"),
        "text.csv": good.assign(effect_size=["big"] + [0.1] * (len(good) - 1)),
        "blank.csv": good.assign(pooling=[None] + ["cls"] * (len(good) - 1)),
    }
    messages = {"missing.csv": "not found", "nocol.csv": "effect_size", "text.csv": "'big'",
                "blank.csv": "pooling is blank on line 2"}
    for name, df in cases.items():
        if df is not None:
            df.to_csv(tmp_path / name, index=False)
        with pytest.raises(VitbiasError, match=messages[name]):
            read_results([tmp_path / name])
    with pytest.raises(VitbiasError, match="same model"):
        read_results([tmp_path / "r.csv", tmp_path / "r.csv"])
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(VitbiasError, match=r"empty\.csv"):
        read_results([tmp_path / "empty.csv"])


# --- CLI --------------------------------------------------------------------------------------

def test_cli_aggregate_end_to_end(tmp_path: Path):
    res = results_frame()
    half = res["objective"] == "mae"
    res[half].to_csv(tmp_path / "mae.csv", index=False)
    res[~half].to_csv(tmp_path / "sup.csv", index=False)
    (tmp_path / "cat.yaml").write_text(
        "version: 1\ntests:\n"
        "  - {name: Valence, x: p/x, y: p/y, a: v/a, b: v/b, planted_beta: 0.8}\n"
        "  - {name: 'Null', x: p/x, y: p/y, a: v/a, b: v/b, planted_beta: 0.0}\n"
        "  - {name: 'NA', x: p/x, y: p/y, a: v/a, b: v/b, planted_beta: 0.4}\n")
    args = ["aggregate", "--results", str(tmp_path / "mae.csv"), str(tmp_path / "sup.csv"),
            "--catalog", str(tmp_path / "cat.yaml"), "--out"]
    assert main([*args, str(tmp_path / "agg")]) == 0
    assert main([*args, str(tmp_path / "agg2")]) == 0
    files = sorted(p.name for p in (tmp_path / "agg").iterdir())
    for name in ("tidy.csv", "summary_by_size.csv", "summary_by_data.csv", "calibration.csv",
                 "summary_by_objective_data.csv", "meta_analysis.csv", "regression.csv",
                 "provenance.json"):
        assert name in files
    for name in files:  # reproducible: byte-identical reruns
        assert (tmp_path / "agg" / name).read_bytes() == (tmp_path / "agg2" / name).read_bytes()
    tidy = pd.read_csv(tmp_path / "agg" / "tidy.csv", keep_default_na=False, na_values=[""])
    assert len(tidy) == len(res)
    calib = pd.read_csv(tmp_path / "agg" / "calibration.csv")
    assert calib["planted_beta"].tolist() == [0.0, 0.4, 0.8, 0.0, 0.4, 0.8]
    prov = json.loads((tmp_path / "agg" / "provenance.json").read_text())
    assert prov["settings"]["layer"] == "final" and len(prov["inputs"]) == 2
    # a bad input: error exit 2, no output folder
    assert main(["aggregate", "--results", str(tmp_path / "nope.csv"), "--out",
                 str(tmp_path / "agg3")]) == 2
    assert not (tmp_path / "agg3").exists()
    with pytest.raises(SystemExit):
        main(["aggregate", "--results", str(tmp_path / "mae.csv"), "--layer", "last", "--out",
              str(tmp_path / "agg4")])


def test_workflow_style_mapping(tmp_path: Path):
    """The workflow keys metadata by model id; factors of model.json + the data variant."""
    res = results_frame(objectives=("mae",), sizes=("micro",), datas=("original",), seeds=(0,))
    res = pd.concat([res.assign(model=f"trained/world/{v}/mae/micro/seed0") for v in
                     ("original", "2-sided")] + [res.assign(model="loaded/clip")])
    res[["objective", "size", "data", "seed"]] = None
    doc = model_factors({"arch": "vit_tiny_patch16_224", "objective": "mae", "size": "micro",
                         "model_kwargs": {"img_size": 32, "patch_size": 4}, "seed": 0})
    mapping = {f"trained/world/{v}/mae/micro/seed0": {**doc, "data": v, "dataset": "world"}
               for v in ("original", "2-sided")}
    mapping["loaded/clip"] = {"objective": "clip", "size": "B", "data": None,
                              "dataset": "photos"}
    (tmp_path / "models.json").write_text(json.dumps(mapping))
    tidy = build_tidy(res, read_models_meta([tmp_path / "models.json"]))
    got = tidy.drop_duplicates("model").set_index("model")
    assert got.loc["trained/world/2-sided/mae/micro/seed0", "data"] == "2-sided"
    assert got.loc["trained/world/original/mae/micro/seed0", "patch_size"] == 4
    assert got.loc["loaded/clip", "dataset"] == "photos"
    assert got.loc["loaded/clip", "objective_family"] == "discriminative"
    assert pd.isna(got.loc["loaded/clip", "data"])


def test_planted_beta_from_results_rows_differs_by_world():
    """Two worlds share a test name with different β; the rows keep their own β."""
    from bias.aggregate import build_tidy

    rows = pd.DataFrame({"model": ["w1/m", "w2/m"], "layer": [3, 3], "pooling": ["cls", "cls"],
                         "test": ["Valence", "Valence"], "effect_size": [1.2, 0.1],
                         "planted_beta": ["0.8", "0"]})
    tidy = build_tidy(rows)
    assert tidy.set_index("model")["planted_beta"].to_dict() == {"w1/m": 0.8, "w2/m": 0.0}
