"""What the stimuli show before any learning: the world's tests on low-level features.

Runs every test of a synthetic world's catalog on the low-level features of its stimuli
(:mod:`bias.embed.lowlevel`: pixels, colour histogram, HOG, global orientation histogram)
and tabulates d, p and robust p. A test a feature already "detects" is confounded by the
stimulus images themselves: a model's effect on it is a learned association only where it
goes beyond what such features give (and the control world's models show whether training
alone produces it).

    python benchmarks/lowlevel_baseline.py WORLD_DIR [--out FILE.md]

``WORLD_DIR`` is a world folder of the workflow (``<results>/worlds/<name>``, holding
``stimuli/`` and ``catalog.yaml``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

PERMUTATIONS = 10_000


def lowlevel_results(world: Path, permutations: int = PERMUTATIONS) -> pd.DataFrame:
    """One row per catalog test × feature: planted β, d, p and robust p (seed 0)."""
    from bias.association import run_tests
    from bias.embed.lowlevel import lowlevel_table
    from bias.stimuli import load_catalog, scan_stimuli, select_tests

    stimuli = scan_stimuli(world / "stimuli")
    tests = select_tests(load_catalog(world / "catalog.yaml"), set(stimuli), None)
    table = lowlevel_table("lowlevel", stimuli)
    frame = run_tests({"lowlevel": table}, tests, n_permutations=permutations, n_bootstrap=0,
                      seed=0)
    beta = {t.name: t.planted_beta for t in tests}
    return (frame.assign(planted_beta=frame["test"].map(beta))
            .rename(columns={"pooling": "feature", "effect_size": "d", "p_value": "p"})
            [["test", "planted_beta", "feature", "d", "p", "p_robust"]])


def markdown(frame: pd.DataFrame) -> str:
    """Tests as rows, d per feature, then the robust p per feature."""
    wide = frame.pivot(index="test", columns="feature", values=["d", "p_robust"])
    wide.columns = [f"{feature} {stat}" for stat, feature in wide.columns]
    order = [f"{f} {s}" for s in ("d", "p_robust") for f in sorted(frame["feature"].unique())]
    beta = frame.groupby("test")["planted_beta"].first()
    return (wide[order].assign(planted_beta=beta)[["planted_beta", *order]].reset_index()
            .to_markdown(index=False, floatfmt=".3f"))


def section(results: Path, cfg: dict) -> str:
    """The calibration report's section: the baseline on the stimuli of the config's first
    world with a planted bias (every world of one seed shares its stimulus images)."""
    worlds = cfg["worlds"]
    name = next((w for w, spec in worlds.items() if any(spec["biases"].values())),
                next(iter(worlds)))
    return "\n".join([
        f"## What the stimuli show without learning (low-level features, world `{name}`)", "",
        "The same tests on features computed from the stimulus images without a model "
        f"(`--model lowlevel`, `bias/embed/lowlevel.py`; {PERMUTATIONS:,} permutations). "
        "An effect here "
        "is a property of the stimulus sets; the control world's models show whether "
        "training alone brings it into a model.", "",
        markdown(lowlevel_results(results / "worlds" / name)), ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("world", type=Path, help="<results>/worlds/<name>")
    ap.add_argument("--out", type=Path, default=None, help="markdown file to write")
    args = ap.parse_args()
    text = markdown(lowlevel_results(args.world)) + "\n"
    if args.out is not None:
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
