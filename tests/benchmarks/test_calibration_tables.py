"""benchmarks/calibration.py: which results count as sensitivity and specificity, and how."""

from pathlib import Path

import pandas as pd
import pytest


def row(dataset, test, x, a, beta, layer, d, p, seed=0):
    return {"dataset": dataset, "objective": "mae", "size": "micro", "seed": seed,
            "pooling": "cls", "layer": layer, "test": test, "x": x, "a": a,
            "planted_beta": beta, "effect_size": d, "p_value": p, "p_adjusted": p,
            # robust p: permuting the attributes as well only ever makes p larger
            "p_robust": min(1.0, 2 * p), "p_robust_adjusted": min(1.0, 2 * p)}


def tidy():
    rows = []
    for layer, (d, p) in enumerate([(0.2, 0.30), (0.9, 0.004)]):  # planted: found at layer 1
        rows.append(row("biased", "Tone-Valence", "tone/light", "valence/pleasant", 0.8,
                        layer, d, p))
        rows.append(row("biased", "Tone-Null", "tone/light", "null/tee", 0.0, layer, d, p))
        rows.append(row("biased", "Tone-Career", "tone/light", "career/career", 0.0, layer,
                        0.1, 0.4))
        rows.append(row("control", "Tone-Valence", "tone/light", "valence/pleasant", 0.0,
                        layer, 0.1, [0.5, 0.03][layer]))
    return pd.DataFrame(rows)


def test_null_families(calibration):
    t = tidy()
    kinds = dict(zip(t["dataset"] + ":" + t["test"], calibration.null_kind(t), strict=True))
    assert kinds == {"biased:Tone-Valence": "crossed", "biased:Tone-Null": "null pair",
                     "biased:Tone-Career": "crossed", "control:Tone-Valence": "control world"}


def test_sensitivity_takes_the_best_layer(calibration):
    sens = calibration.sensitivity(tidy())
    assert len(sens) == 1
    got = sens.iloc[0]
    assert got["layer"] == 1 and got["d"] == 0.9 and bool(got["detected"])
    assert got["p_robust"] == 0.008 and bool(got["detected_robust"])
    table = calibration.by_objective(sens)
    assert table.loc["mae", "main"] == 1.0 and table.loc["mae", "all_robust"] == 1.0


def test_specificity_final_layer_and_bonferroni_over_layers(calibration):
    spec = calibration.specificity(tidy()).set_index("family")
    # null pair: significant at the final layer (p 0.004); best layer p 0.004 x 2 = 0.008
    assert spec.loc["null pair", "final_layer"] == 1.0
    assert spec.loc["null pair", "best_layer_bonferroni"] == 1.0
    # control: final layer p 0.03 is significant; best-by-d layer is the first maximum
    # (both d = 0.1, layer 0, p 0.5) -> not significant after choosing it
    assert spec.loc["control world", "final_layer"] == 1.0
    assert spec.loc["control world", "best_layer_bonferroni"] == 0.0
    assert spec.loc["crossed", "final_layer"] == 0.0
    # robust: control final p 0.06 -> not significant; null pair 0.008 (x2 layers) still is
    assert spec.loc["control world", "final_layer_robust"] == 0.0
    assert spec.loc["null pair", "best_layer_robust"] == 1.0
    text = calibration._acceptance(calibration.specificity(tidy()))
    assert "Control world and null pair (2 results): final layer 1.000 (robust 0.500)" in text


def test_probe_table_reads_each_models_final_layer(calibration, tmp_path):
    import numpy as np

    from bias.embeddings import EmbeddingTable

    rng = np.random.default_rng(0)
    concepts = [c for pair in calibration.PROBE_PAIRS.values() for c in pair]
    names = [c for c in concepts for _ in range(10)]
    base = rng.normal(size=(len(names), 6))
    tone = np.array([1.0 if n == "tone/light" else -1.0 if n == "tone/dark" else 0.0
                     for n in names])
    early, final = base.copy(), base.copy()
    final[:, 0] += 50 * tone  # tone decodable at the final layer only
    table = EmbeddingTable(arrays={("cls", 0): early, ("cls", 3): final},
                           image_ids=[f"i{k}" for k in range(len(names))], concepts=names)
    model = "trained/biased/original/mae/micro/seed0"
    (tmp_path / "embeddings" / model).parent.mkdir(parents=True)
    table.save(tmp_path / "embeddings" / f"{model}.npz")
    tidy_rows = pd.DataFrame([{"model": model, "dataset": "biased", "objective": "mae",
                               "size": "micro"}])
    out = calibration.probes(tmp_path, tidy_rows).iloc[0]
    assert out["tone"] == 1.0
    assert max(out[c] for c in ("gender", "valence", "career", "null")) < 0.8


def test_slots_count_either_alternative_once(calibration):
    sens = pd.DataFrame([
        {"objective": o, "size": "micro", "test": "Gender-Career", "detected": hit,
         "detected_robust": hit and o != "dino"}
        for o, hit in [("supervised", True), ("simclr", False), ("moco_v3", True),
                       ("dino", True), ("mae", True), ("simmim", False)]]
        + [{"objective": "mae", "size": "micro", "test": "Tone-Valence", "detected": False,
            "detected_robust": False},
           {"objective": "mae", "size": "micro", "test": "Intersectional-X", "detected": True,
            "detected_robust": True}])  # not a main test: left out
    got = calibration.by_slot(sens).set_index("test")
    assert list(got.index) == ["Gender-Career", "Tone-Valence"]
    # moco_v3 and dino share a slot: 3 slots (supervised, self-distillation, MAE), not 4
    assert got.loc["Gender-Career", "slots"] == "3 of 5"
    assert got.loc["Gender-Career", "detected by"] == "dino, mae, moco_v3, supervised"
    assert got.loc["Tone-Valence", "slots"] == "0 of 5"
    assert got.loc["Tone-Valence", "detected by"] == "-"
    robust = calibration.by_slot(sens, "detected_robust").set_index("test")
    assert robust.loc["Gender-Career", "slots"] == "3 of 5"  # moco_v3 alone keeps the slot


def test_overlay_configs_merge_as_snakemake_does(calibration, tmp_path):
    base, overlay = tmp_path / "base.yaml", tmp_path / "overlay.yaml"
    base.write_text("results: r\nreports: a\ntrain: {objectives: [mae, simclr], sizes: [micro], "
                    "seeds: [0, 1], epochs: 200}\n")
    overlay.write_text("reports: b\ntrain: {sizes: [tiny]}\n")
    cfg = calibration.merge_configs([base, overlay])
    # nested mappings merge key by key; scalars and lists are replaced
    assert cfg == {"results": "r", "reports": "b",
                   "train": {"objectives": ["mae", "simclr"], "sizes": ["tiny"],
                             "seeds": [0, 1], "epochs": 200}}


def test_only_the_configs_models_are_tabulated(calibration):
    t = pd.concat([tidy(), tidy().assign(size="tiny"), tidy().assign(seed=7)])
    cfg = {"train": {"objectives": ["mae"], "sizes": ["tiny"], "seeds": [0, 1]}}
    kept = calibration.trained_here(t, cfg)
    assert len(kept) == len(tidy()) and set(kept["size"]) == {"tiny"}
    assert set(kept["seed"]) == {0}
    with pytest.raises(SystemExit, match="none of this config's models"):
        calibration.trained_here(t, {"train": {**cfg["train"], "objectives": ["dino"]}})


def test_workflow_call_carries_the_configs_and_profile(calibration, monkeypatch):
    calls = []
    monkeypatch.setattr(calibration.subprocess, "run", lambda args, **kw: calls.append(args))
    calibration.run_workflow([Path("base.yaml"), Path("overlay.yaml")], 4,
                             Path("workflow/profiles/slurm"))
    calibration.run_workflow([Path("base.yaml")], 2)
    with_profile, plain = calls
    assert with_profile[-5:] == ["--workflow-profile", "workflow/profiles/slurm",
                                 "--configfile", "base.yaml", "overlay.yaml"]
    assert "--cores" in with_profile and "4" in with_profile
    assert "--workflow-profile" not in plain and plain[-2:] == ["--configfile", "base.yaml"]
