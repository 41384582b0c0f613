"""The CDA experiment: does counterfactual augmentation lower the planted bias it targets?

Runs the workflow on the demo config (``config/config.yaml``: a β = 0.8 world, the editor
flipping ``editor.attribute``, every objective trained on original, 1-sided and 2-sided data
for the same number of steps), then tabulates

- the edits: planned, accepted, dropped (and why), the judge's flip rate over all edits and
  the mean change outside the edit mask, per direction;
- d before and after: for each objective × size, the seed-mean effect size of every planted
  test the edit targets (the bias tied to the edited attribute, e.g. Gender-Career for
  gender), at the layer and pooling where the model without CDA shows it most (chosen on the
  original model only, then read at the same place for the CDA models), and at the final
  layer; the other planted tests are shown as a control that CDA should leave alone.

    python benchmarks/cda.py [--cores 2] [--skip-run] [--config config/config.yaml]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import run_and_tabulate

from bias.world.spec import BIASES

VARIANTS = ["original", "1-sided", "2-sided"]


def edits_table(results: Path) -> pd.DataFrame:
    """One row per dataset × direction from each counterfactual set's ``edits.json``."""
    rows = []
    for path in sorted((results / "counterfactuals").glob("*/*/edits.json")):
        doc = json.loads(path.read_text())
        counts, rates = doc["counts"], doc["rates"]
        planned = counts["planned"]
        rows.append({
            "dataset": path.parent.parent.name, "direction": path.parent.name,
            "attribute": doc["attribute"], "planned": planned, "accepted": counts["accepted"],
            "dropped": planned - counts["accepted"],
            "drop_reasons": ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()),
            "flip_rate_all_edits": rates["flip_rate_all"],
            "outside_change_accepted": rates["mean_outside_change_accepted"],
        })
    return pd.DataFrame(rows)


def targeted(tidy: pd.DataFrame, attribute: str) -> pd.Series:
    """Planted tests of the bias tied to ``attribute`` (their attributes' category)."""
    categories = {s.category for s in BIASES.values() if s.attribute == attribute}
    return tidy["a"].str.split("/").str[0].isin(categories)


def before_after(tidy: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """Seed-mean d per objective × size × test × variant at the original's best place and at
    the final layer (cls)."""
    planted = tidy[(tidy["planted_beta"] > 0) & tidy["data"].isin(VARIANTS)]
    planted = planted.assign(targeted=targeted(planted, attribute))
    keys = ["objective", "size", "test", "targeted", "pooling", "layer"]
    mean = (planted.groupby([*keys, "data"])["effect_size"].mean()
            .unstack("data").reindex(columns=VARIANTS).reset_index())
    group = ["objective", "size", "test"]
    best = mean.loc[mean.groupby(group)["original"].idxmax()].assign(at="best")
    final = mean[(mean["pooling"] == "cls")
                 & (mean["layer"] == mean.groupby(group)["layer"].transform("max"))]
    out = pd.concat([best, final.assign(at="final")])
    for variant in VARIANTS[1:]:
        out[f"lower_{variant}"] = out[variant] < out["original"]
    return out.sort_values(["targeted", "objective", "size", "test", "at"],
                           ascending=[False, True, True, True, True])


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per objective × size: how many targeted tests CDA lowered (at the best place)."""
    best = table[(table["at"] == "best") & table["targeted"]]
    return best.groupby(["objective", "size"]).agg(
        tests=("test", "size"), d_original=("original", "mean"),
        d_1_sided=("1-sided", "mean"), d_2_sided=("2-sided", "mean"),
        lower_1_sided=("lower_1-sided", "sum"), lower_2_sided=("lower_2-sided", "sum"),
    ).reset_index()


def markdown(edits: pd.DataFrame, table: pd.DataFrame, timing: dict | None) -> str:
    lines = ["# Counterfactual data augmentation on the synthetic world", ""]
    if timing:
        lines += [f"Workflow: {timing['wall_s'] / 60:.1f} min wall, "
                  f"{timing['cpu_s'] / 60:.1f} min CPU ({os.cpu_count()} cores).", ""]
    cols = ["objective", "size", "test", "at", "pooling", "layer", *VARIANTS]
    lines += ["## Edits", "", edits.to_markdown(index=False, floatfmt=".3g"), "",
              "Accepted edits are those the judge scores as flipped (flip probability >= "
              "min_flip) with little change outside the mask; `flip_rate_all_edits` is the "
              "share of all edits that flipped before any filtering.", "",
              "## Targeted planted tests: mean d over seeds", "",
              summary(table).to_markdown(index=False, floatfmt=".3f"), "",
              table[table["targeted"]][cols].to_markdown(index=False, floatfmt=".3f"), "",
              "## Other planted tests (not targeted by the edit)", "",
              table[~table["targeted"]][cols].to_markdown(index=False, floatfmt=".3f"), ""]
    return "\n".join(lines)


def main() -> int:
    return run_and_tabulate(__doc__, "config.yaml", "cda.md", lambda cfg, results, tidy, timing:
                            markdown(edits_table(results),
                                     before_after(tidy, cfg["editor"]["attribute"]), timing))


if __name__ == "__main__":
    sys.exit(main())
