"""Combine calibration tables: one experiment's objectives with another's, from their reports.

A calibration variant often retrains one objective only (e.g. MAE for longer); its results
folder then holds that objective, and the other objectives' models are another experiment's
with the same worlds, seeds and options. This reads both reports' sensitivity and
specificity tables (``benchmarks/results/*.md``, written by ``calibration.py``), takes every
objective of the later report and the others from the earlier one, and recomputes the slot
table and the pooled specificity exactly as ``calibration.py`` does.

    python benchmarks/calibration_combine.py BASE.md VARIANT.md [VARIANT.md ...] --out OUT.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import _acceptance, _slot_table, by_objective

BOOL = {"True": True, "False": False}


def read_table(text: str, heading: str) -> pd.DataFrame:
    """The first markdown table after ``heading`` (a ``## `` line), typed: numbers as
    floats, True/False as booleans."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    frame = pd.DataFrame(rows[2:], columns=rows[0])  # rows[1]: the |:---| separator
    for col in frame.columns:
        values = frame[col]
        if values.isin(list(BOOL)).all():
            frame[col] = values.map(BOOL)
        else:
            numbers = pd.to_numeric(values, errors="coerce")
            frame[col] = numbers if numbers.notna().all() else values
    return frame


def combine(reports: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Sensitivity and specificity rows, each objective from the last report that has it;
    and which report (index) each objective came from."""
    source: dict[str, int] = {}
    tables = [(read_table(r, "Sensitivity"), read_table(r, "Specificity")) for r in reports]
    for i, (sens, _) in enumerate(tables):
        source.update(dict.fromkeys(sens["objective"], i))
    sens = pd.concat([s[s["objective"].map(source) == i] for i, (s, _) in enumerate(tables)])
    spec = pd.concat([p[p["objective"].map(source) == i] for i, (_, p) in enumerate(tables)])
    return sens.reset_index(drop=True), spec.reset_index(drop=True), source


def markdown(paths: list[Path], sens: pd.DataFrame, spec: pd.DataFrame,
             source: dict[str, int]) -> str:
    origin = ", ".join(f"{o}: `{paths[i].name}`" for o, i in sorted(source.items()))
    sens = sens.sort_values(["objective", "size", "test"])
    return "\n".join([
        "# Calibration on the synthetic world, combined", "",
        f"Each objective's rows from its report ({origin}); same worlds, seeds and options. "
        "Recomputed from those reports' tables by `benchmarks/calibration_combine.py`.", "",
        "## Sensitivity (β = 0.8 world; best layer; mean over seeds)", "",
        sens.to_markdown(index=False, floatfmt=".3f"), "",
        by_objective(sens).to_markdown(floatfmt=".2f"), "",
        "By the acceptance's five objectives, per main planted test and size:", "",
        _slot_table(sens).to_markdown(index=False), "",
        "## Specificity (β = 0 tests: share significant at adjusted p < 0.05)", "",
        spec.sort_values(["family", "objective"]).to_markdown(index=False, floatfmt=".3f"), "",
        _acceptance(spec), ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", type=Path, nargs="+",
                    help="calibration reports; later ones replace earlier ones' objectives")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    sens, spec, source = combine([p.read_text() for p in args.reports])
    text = markdown(args.reports, sens, spec, source)
    args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
