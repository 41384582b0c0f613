"""benchmarks/calibration_combine.py: objectives of one report replace another's, and the
slot and specificity summaries are recomputed from the combined rows."""

from pathlib import Path

import pandas as pd


def sensitivity(found: dict[str, bool]) -> pd.DataFrame:
    return pd.DataFrame([
        {"objective": o, "size": "tiny", "test": test, "planted_beta": 0.8, "pooling": "cls",
         "layer": 3, "d": 1.2 if hit else 0.1, "p": 0.001 if hit else 0.4,
         "p_robust": 0.002 if hit else 0.5, "seeds": 2, "detected": hit,
         "detected_robust": hit}
        for o, hit in found.items() for test in ("Tone-Valence", "Gender-Career")])


def specificity(shares: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([
        {"family": "control world", "objective": o, "results": 100, "final_layer": s,
         "best_layer_bonferroni": s, "final_layer_robust": s / 2, "best_layer_robust": s / 2}
        for o, s in shares.items()])


def report(calibration, found, shares) -> str:
    return calibration.markdown(sensitivity(found), specificity(shares), None)


def test_later_reports_replace_objectives(combine, calibration):
    base = report(calibration, {"mae": False, "simclr": True, "supervised": True},
                  {"mae": 0.0, "simclr": 0.02, "supervised": 0.04})
    variant = report(calibration, {"mae": True}, {"mae": 0.30})
    sens, spec, source = combine.combine([base, variant])
    assert source == {"mae": 1, "simclr": 0, "supervised": 0}
    assert sens["detected"].dtype == bool and sens["d"].dtype == float
    assert set(sens.loc[sens["objective"] == "mae", "d"]) == {1.2}
    slots = calibration.by_slot(sens).set_index("test")["slots"]
    assert set(slots) == {"3 of 5"}  # mae now detects; simclr and supervised did already
    # pooled over 300 results: (0.30 + 0.02 + 0.04) x 100 significant
    assert "Control world and null pair (300 results): final layer 0.120" in (
        calibration._acceptance(spec))
    text = combine.markdown([Path("a.md"), Path("b.md")], sens, spec, source)
    assert "mae: `b.md`, simclr: `a.md`" in text and "| Tone-Valence  | tiny   | " in text
