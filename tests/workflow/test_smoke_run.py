"""The whole workflow runs on the smoke config: world, editor, counterfactuals, training,
embedding, association tests, aggregation and the report (a few minutes on a CPU)."""

import pandas as pd
import yaml

from .test_plan import ROOT, snakemake


def test_smoke_config_runs_end_to_end(tmp_path):
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["results"], cfg["reports"] = str(tmp_path / "results"), str(tmp_path / "reports")
    config = tmp_path / "smoke.yaml"
    config.write_text(yaml.safe_dump(cfg))
    proc = snakemake("--cores", "2", "--configfile", str(config))
    assert proc.returncode == 0, proc.stderr[-4000:]

    html = (tmp_path / "reports" / "index.html").read_text()
    assert html.count("<img") >= 4 and "Counterfactual augmentation" in html
    tidy = pd.read_csv(tmp_path / "results" / "aggregate" / "tables" / "tidy.csv")
    # 2 objectives x (original, 1-sided) on one world, every layer of the micro ViT
    assert sorted(tidy["model"].unique()) == sorted(
        [f"trained/tiny/{d}/{o}/micro/seed0" for d in ("original", "1-sided")
         for o in ("supervised", "mae")] + ["loaded/lowlevel"])
    # the low-level baseline: its two features at layer 0, and its report section
    base = tidy[tidy["model"] == "loaded/lowlevel"]
    assert set(base["pooling"]) == {"hog", "pixels"} and set(base["layer"]) == {0}
    assert "Omitted" not in html.split('id="baseline"')[1].split("</section>")[0]
    trained = tidy[tidy["model"] != "loaded/lowlevel"]
    assert set(trained["data"]) == {"original", "1-sided"}
    assert tidy["planted_beta"].notna().all()
    edits = yaml.safe_load((tmp_path / "results/counterfactuals/tiny/a-to-b/edits.json")
                           .read_text())
    assert edits["counts"]["accepted"] > 0
    logs = list((tmp_path / "results" / "logs").rglob("*.log"))
    assert len(logs) >= 9  # every job of every rule logged
