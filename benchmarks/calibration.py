"""The calibration experiment: sensitivity to planted biases and specificity on controls.

Runs the workflow on ``config/calibration.yaml`` (a β = 0.8 world and its β = 0 control, every
objective at two sizes and two seeds), then tabulates from the aggregate's tidy table:

- sensitivity: per objective × size, each planted test (β > 0) on the biased world is
  *detected* when, at the best layer (largest seed-mean d, per pooling), the seed-mean d > 0.5
  and the seed-mean p < 0.05;
- specificity: the share of model × test results with adjusted p < 0.05 among tests with
  β = 0 — every test of the control world, and the null / crossed tests of the biased world —
  at the final layer, and at the best layer with p Bonferroni-corrected over the layers
  searched (choosing the best of L layers needs that correction to stay honest).

    python benchmarks/calibration.py [--cores 2] [--skip-run] [--profile DIR]
        [--config BASE [OVERLAY ...]]

Several ``--config`` files merge as Snakemake merges several ``--configfile``s (later files
override earlier ones, nested mappings key by key): a variant of an experiment is an overlay
holding only what differs, e.g. ``--config config/calibration_wall.yaml
config/calibration_wall_tiny.yaml``. Only the models the merged config trains are tabulated,
so two experiments may share a results folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lowlevel_baseline import section as lowlevel_section

ROOT = Path(__file__).resolve().parents[1]
ALPHA = 0.05
MAIN_TESTS = ("Tone-Valence", "Gender-Career")


def run_workflow(configs: list[Path], cores: int, profile: Path | None = None
                 ) -> dict[str, float]:
    """Run Snakemake on the merged ``configs`` (with a workflow ``profile``, e.g. SLURM's);
    wall-clock and CPU seconds of everything it ran (on this machine)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    start, cpu0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = ["--workflow-profile", str(profile)] if profile else []
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *extra,
                    "--configfile", *map(str, configs)], cwd=ROOT, env=env, check=True)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"wall_s": time.time() - start, "cpu_s": cpu}


def merge_configs(paths: list[Path]) -> dict:
    """The config Snakemake sees for ``--configfile`` *paths*: each file updates the previous
    ones recursively (Snakemake's own ``update_config``, so the merge cannot drift from it)."""
    from snakemake.utils import update_config

    cfg: dict = {}
    for path in paths:
        update_config(cfg, yaml.safe_load(path.read_text()) or {})
    return cfg


def trained_here(tidy: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The rows of the models ``cfg`` trains (objective × size × seed); a results folder
    shared by two experiments holds the other's too. Raises SystemExit when none is left."""
    train = cfg["train"]
    keep = (tidy["objective"].isin(train["objectives"]) & tidy["size"].isin(train["sizes"])
            & tidy["seed"].isin(train["seeds"]))
    if not keep.any():
        raise SystemExit(f"the aggregate table holds none of this config's models "
                         f"({train['objectives']} x {train['sizes']} x seeds {train['seeds']}); "
                         "run without --skip-run to rebuild it")
    return tidy[keep]


def seed_means(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean d, p and robust p over seeds per world × objective × size × pooling × layer ×
    test (p_robust: targets and attributes permuted, see bias.association.run)."""
    keys = ["dataset", "objective", "size", "pooling", "layer", "test", "planted_beta"]
    return (tidy.groupby(keys, dropna=False)
            .agg(d=("effect_size", "mean"), p=("p_value", "mean"),
                 p_robust=("p_robust", "mean"), seeds=("seed", "nunique"))
            .reset_index())


def sensitivity(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per objective × size × planted test: the seed-mean d and p at the best (pooling,
    layer) — the largest seed-mean d — and whether d > 0.5 with p < 0.05 there."""
    planted = seed_means(tidy[tidy["planted_beta"] > 0])
    keys = ["objective", "size", "test"]
    best = planted.loc[planted.groupby(keys)["d"].idxmax()]
    best = best.assign(detected=(best["d"] > 0.5) & (best["p"] < ALPHA),
                       detected_robust=(best["d"] > 0.5) & (best["p_robust"] < ALPHA))
    return best[[*keys, "planted_beta", "pooling", "layer", "d", "p", "p_robust", "seeds",
                 "detected", "detected_robust"]]


def by_objective(sens: pd.DataFrame) -> pd.DataFrame:
    """Share of (size × test) detected per objective: the two single-attribute planted tests
    and all planted tests (with the intersectional ones)."""
    main = sens[sens["test"].isin(MAIN_TESTS)]
    return pd.concat([main.groupby("objective")["detected"].mean().rename("main"),
                      main.groupby("objective")["detected_robust"].mean().rename("main_robust"),
                      sens.groupby("objective")["detected"].mean().rename("all"),
                      sens.groupby("objective")["detected_robust"].mean().rename("all_robust")],
                     axis=1)


# The five objectives: one slot may be filled by either of two alternatives.
SLOTS = {"supervised": ("supervised",), "contrastive": ("simclr",),
         "self-distillation": ("moco_v3", "dino"), "masked autoencoding": ("mae",),
         "masked image modelling": ("simmim", "beit")}


def by_slot(sens: pd.DataFrame, column: str = "detected") -> pd.DataFrame:
    """Per main planted test × size: which objectives detect it, and how many of the five
    :data:`SLOTS` are filled (a slot counts when either of its objectives detects)."""
    rows = []
    for (test, size), g in sens[sens["test"].isin(MAIN_TESTS)].groupby(["test", "size"]):
        found = set(g.loc[g[column], "objective"])
        slots = [name for name, members in SLOTS.items() if found & set(members)]
        rows.append({"test": test, "size": size, "detected by": ", ".join(sorted(found)) or "-",
                     "slots": f"{len(slots)} of {len(SLOTS)}"})
    return pd.DataFrame(rows, columns=["test", "size", "detected by", "slots"])


def null_kind(tidy: pd.DataFrame) -> pd.Series:
    """Which β = 0 family a result belongs to: ``control world`` (every test of a world with
    no planted bias), ``null pair`` (a test with the tee/ell pair) or ``crossed`` (targets
    and attributes of two different planted biases, e.g. tone with career)."""
    control = tidy.groupby("dataset")["planted_beta"].transform(lambda b: (b == 0).all())
    null = tidy["x"].str.startswith("null/") | tidy["a"].str.startswith("null/")
    kind = pd.Series("crossed", index=tidy.index)
    kind[null] = "null pair"
    kind[control] = "control world"
    return kind


def specificity(tidy: pd.DataFrame) -> pd.DataFrame:
    """Share of significant β = 0 results per family × objective, final and best layer.

    The acceptance families are ``control world`` and ``null pair``; ``crossed`` (β = 0
    tests on the biased world whose targets carry the other planted bias) is shown apart:
    there the target groups are encoded by the model, which the iEAT's permutation null
    (exchangeable targets) does not allow for.
    """
    # The family needs the whole table: a world is a control when none of its tests is planted
    null = tidy.assign(family=null_kind(tidy))[tidy["planted_beta"] == 0]
    keys = ["family", "dataset", "objective", "size", "seed", "pooling", "test"]
    last = null[null["layer"] == null.groupby(keys[:-1])["layer"].transform("max")]
    n_layers = null.groupby(keys)["layer"].transform("nunique")
    searched = null.assign(p_best=(null["p_adjusted"] * n_layers).clip(upper=1.0),
                           p_best_robust=(null["p_robust_adjusted"] * n_layers).clip(upper=1.0))
    best = searched.loc[searched.groupby(keys)["effect_size"].idxmax()]
    by = ["family", "objective"]

    def share(frame: pd.DataFrame, col: str) -> pd.Series:
        return frame.groupby(by)[col].apply(lambda p: (p < ALPHA).mean())

    return pd.concat([last.groupby(by).size().rename("results"),
                      share(last, "p_adjusted").rename("final_layer"),
                      share(best, "p_best").rename("best_layer_bonferroni"),
                      share(last, "p_robust_adjusted").rename("final_layer_robust"),
                      share(best, "p_best_robust").rename("best_layer_robust")],
                     axis=1).reset_index()


PROBE_PAIRS = {"tone": ("tone/light", "tone/dark"), "gender": ("gender/male", "gender/female"),
               "valence": ("valence/pleasant", "valence/unpleasant"),
               "career": ("career/career", "career/family"), "null": ("null/tee", "null/ell")}


def probes(results: Path, tidy: pd.DataFrame) -> pd.DataFrame:
    """Final-layer linear-probe accuracy of each concept pair, mean over seeds, per world ×
    objective × size × pooling: does the model encode the concepts an iEAT relates?"""
    from bias.association.probe import probe_table
    from bias.embeddings import EmbeddingTable

    frames = []
    for model, meta in tidy.groupby("model")[["dataset", "objective", "size"]].first().iterrows():
        table = EmbeddingTable.load(results / "embeddings" / f"{model}.npz")
        last = max(layer for _, layer in table.keys)
        keys = [k for k in table.keys if k[1] == last]
        acc = probe_table(table, PROBE_PAIRS.values(), keys=keys)
        acc["concept"] = acc["x"].str.split("/").str[0]
        frames.append(acc.assign(**meta.to_dict()))
    acc = pd.concat(frames)
    return (acc.pivot_table(index=["dataset", "objective", "size", "pooling"],
                            columns="concept", values="accuracy", aggfunc="mean")
            .reset_index()[["dataset", "objective", "size", "pooling", *PROBE_PAIRS]])


def markdown(sens: pd.DataFrame, spec: pd.DataFrame, timing: dict | None,
             probe: pd.DataFrame | None = None) -> str:
    by_obj = by_objective(sens)
    lines = ["# Calibration on the synthetic world", ""]
    if timing:
        # A resumed run times only the jobs this invocation ran, and says so.
        lines += [f"Workflow (this invocation): {timing['wall_s'] / 60:.1f} min wall, "
                  f"{timing['cpu_s'] / 60:.1f} min CPU ({os.cpu_count()} cores).", ""]
    lines += ["## Sensitivity (β = 0.8 world; best layer; mean over seeds)", "",
              sens.to_markdown(index=False, floatfmt=".3f"), "",
              "Share detected per objective over sizes × tests (`main`: Tone-Valence and "
              "Gender-Career; `all`: with the intersectional planted tests; `_robust`: with "
              "p_robust, targets and attributes permuted):", "",
              by_obj.to_markdown(floatfmt=".2f"), "",
              f"Objectives detecting the main planted tests in most cases (iEAT p): "
              f"{int((by_obj['main'] > 0.5).sum())} of {len(by_obj)}; with p_robust: "
              f"{int((by_obj['main_robust'] > 0.5).sum())}.", "",
              "By the acceptance's five objectives (moco_v3 or dino, simmim or beit fill one "
              "slot each), per main planted test and size (`slots`: iEAT p; "
              "`slots (robust)`: p_robust):", "",
              _slot_table(sens).to_markdown(index=False), "",
              "## Specificity (β = 0 tests: share significant at adjusted p < 0.05)", "",
              spec.to_markdown(index=False, floatfmt=".3f"), "",
              _acceptance(spec), ""]
    if probe is not None:
        lines += ["## What the models encode (final layer, linear probe, mean over seeds)", "",
                  "Cross-validated accuracy of a logistic probe telling the two concepts of "
                  "each pair apart (matched pairs kept in one fold; chance 0.5). A small d "
                  "with a probe near 0.5: the concepts are not encoded; with a high probe: "
                  "encoded but not associated.", "",
                  probe.to_markdown(index=False, floatfmt=".2f"), ""]
    return "\n".join(lines)


def _slot_table(sens: pd.DataFrame) -> pd.DataFrame:
    plain, robust = by_slot(sens), by_slot(sens, "detected_robust")
    return plain.assign(**{"slots (robust)": robust["slots"].to_numpy()})


def _overall(spec: pd.DataFrame, col: str) -> float:
    return float((spec[col] * spec["results"]).sum() / spec["results"].sum())


def _acceptance(spec: pd.DataFrame) -> str:
    """The acceptance numbers: control world and null pair pooled; crossed apart."""
    accepted = spec[spec["family"].isin(["control world", "null pair"])]
    crossed = spec[spec["family"] == "crossed"]
    def shares(frame: pd.DataFrame) -> str:
        return (f"final layer {_overall(frame, 'final_layer'):.3f} (robust "
                f"{_overall(frame, 'final_layer_robust'):.3f}), best layer with Bonferroni over "
                f"layers {_overall(frame, 'best_layer_bonferroni'):.3f} (robust "
                f"{_overall(frame, 'best_layer_robust'):.3f})")

    text = (f"Control world and null pair ({int(accepted['results'].sum())} results): "
            f"{shares(accepted)}; goal: at most 0.10.")
    if len(crossed):
        text += (f" Crossed tests on the biased world ({int(crossed['results'].sum())} "
                 f"results): {shares(crossed)}.")
    return text


def run_and_tabulate(doc: str, config: str, out: str,
                     tabulate: Callable[[dict, Path, pd.DataFrame, dict | None], str]) -> int:
    """The CLI of a workflow experiment: run the workflow on ``--config`` (unless
    ``--skip-run``), read its tidy table, write ``tabulate(config, results, tidy, timing)`` to
    ``--out`` and stdout."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--config", type=Path, nargs="+", default=[ROOT / "config" / config],
                    help="config file(s); later ones override earlier ones, as in Snakemake")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--skip-run", action="store_true", help="tabulate existing results only")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="Snakemake workflow profile, e.g. workflow/profiles/slurm")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / out)
    args = ap.parse_args()
    timing = None if args.skip_run else run_workflow(args.config, args.cores, args.profile)
    cfg = merge_configs(args.config)
    results = ROOT / cfg["results"]
    tidy = pd.read_csv(results / "aggregate" / "tables" / "tidy.csv")
    text = tabulate(cfg, results, tidy, timing)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    sys.stdout.write(text)
    return 0


def main() -> int:
    def tabulate(cfg: dict, results: Path, tidy: pd.DataFrame, timing: dict | None) -> str:
        tidy = trained_here(tidy, cfg)
        return (markdown(sensitivity(tidy), specificity(tidy), timing, probes(results, tidy))
                + "\n" + lowlevel_section(results, cfg))

    return run_and_tabulate(__doc__, "calibration.yaml", "calibration.md", tabulate)


if __name__ == "__main__":
    sys.exit(main())
