"""Training speed: the in-memory batched data path against the per-sample PIL path.

Side by side in one process, on a generated synthetic world (default 3000 training images,
32 px) and the ``micro`` preset, batch 128, one torch thread, ``--workers 0``:

1. speed — one epoch per objective with (a) the per-sample PIL path (``--data-path pil``: the
   training code as it was before the fast path: ImageFolder, lightly/torchvision transforms
   per image), (b) the in-memory path (``--data-path memory``: decode once, augment per batch
   in torch) and (c) the in-memory path with bf16 autocast (``--amp``; only on a CPU with
   native bf16). The three runs of an objective follow each other, so they see the same
   machine load. Reported: CPU seconds of this process for the epoch (wall seconds in
   brackets) and images per CPU second, and the ratio to (a); the end-to-end ``train()`` call
   (scan, decode, model build, checkpoint) as wall seconds;
2. loss parity — the same configurations trained for ``--loss-epochs`` epochs (default 3):
   the loss curves should agree to within the run-to-run noise of different augmentation
   draws.

Times are CPU seconds (``time.process_time``) because the machine is shared: wall times drift
with other jobs while a one-thread process's CPU time does not.

Usage: ``python benchmarks/bench_train.py [--quick] [--world DIR] [--skip-loss]``;
writes benchmarks/results/train.md (``--quick``: 600 images, two objectives, 2 epochs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bias.training import TrainConfig, train
from bias.training import loop as loop_module
from bias.training.cpu import cpu_has_native_bf16

RESULTS = Path(__file__).resolve().parent / "results" / "train.md"
OBJECTIVES = ["supervised", "simmim", "mae", "simclr", "moco_v3", "dino"]
NOISE = ("PIL per-sample, seed 1", "in-memory batched, seed 1")
# (label, data_path, amp)
CONFIGS = [("PIL per-sample (before)", "pil", False), ("in-memory batched", "memory", False),
           ("in-memory + bf16 autocast", "memory", True)]


class EpochClock:
    """Wraps ``_Run.epoch`` to record (CPU s, wall s) of every epoch trained."""

    def __init__(self) -> None:
        self.times: list[tuple[float, float]] = []
        self._orig: Callable[..., float] = loop_module._Run.epoch

    def __enter__(self) -> EpochClock:
        orig, times = self._orig, self.times

        def timed(run: Any, epoch: int) -> float:
            cpu, wall = time.process_time(), time.perf_counter()
            out = orig(run, epoch)
            times.append((time.process_time() - cpu, time.perf_counter() - wall))
            return out

        loop_module._Run.epoch = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        loop_module._Run.epoch = self._orig  # type: ignore[method-assign]


def run_once(world: Path, out: Path, objective: str, path: str, amp: bool, epochs: int,
             batch: int, seed: int = 0) -> dict[str, Any]:
    cfg = TrainConfig(objective=objective, size="micro", data=[str(world)], out=str(out),
                      epochs=epochs, batch_size=batch, seed=seed, data_path=path, amp=amp,
                      keep_state=False, threads=1)
    with EpochClock() as clock:
        wall = time.perf_counter()
        train(cfg)
        wall = time.perf_counter() - wall
    meta = json.loads((out / "model.json").read_text())
    return {"epoch_cpu": clock.times[0][0], "epoch_wall": clock.times[0][1],
            "total_wall": wall, "curve": meta["loss_curve"], "path": meta["data_path"],
            "amp": meta["amp"], "n": meta["n_images"]}


def configs() -> list[tuple[str, str, bool]]:
    return CONFIGS if cpu_has_native_bf16() else CONFIGS[:2]


def speed(world: Path, work: Path, objectives: list[str], batch: int) -> list[dict[str, Any]]:
    rows = []
    for obj in objectives:
        for label, path, amp in configs():
            r = run_once(world, work / f"speed-{obj}-{path}-{amp}", obj, path, amp, 1, batch)
            rows.append({"objective": obj, "config": label, **r})
            print(f"{obj:<11} {label:<28} epoch {r['epoch_cpu']:6.2f} CPU s "
                  f"[{r['epoch_wall']:6.2f} wall]  end-to-end {r['total_wall']:6.2f} s",
                  flush=True)
    return rows


def losses(world: Path, work: Path, objectives: list[str], epochs: int,
           batch: int) -> list[dict[str, Any]]:
    """Every configuration at seed 0, and both paths at seed 1: the noise floor (another
    model initialisation, sample order and augmentation draws)."""
    rows = []
    extra = [(NOISE[0], "pil", False, 1), (NOISE[1], "memory", False, 1)]
    for obj in objectives:
        for label, path, amp, seed in [(*c, 0) for c in configs()] + extra:
            r = run_once(world, work / f"loss-{obj}-{path}-{amp}-{seed}", obj, path, amp,
                         epochs, batch, seed)
            rows.append({"objective": obj, "config": label, **r})
            print(f"{obj:<11} {label:<28} losses {[round(x, 4) for x in r['curve']]}",
                  flush=True)
    return rows


def speed_table(rows: list[dict[str, Any]]) -> list[str]:
    labels = [c[0] for c in configs()]
    head = "| objective | " + " | ".join(f"{lb}: CPU s [wall] | img/CPU s" for lb in labels)
    out = [head + " | " + " | ".join(f"speed-up {lb}" for lb in labels[1:]) + " |",
           "|---" * (1 + 2 * len(labels) + len(labels) - 1) + "|"]
    for obj in dict.fromkeys(r["objective"] for r in rows):
        by = {r["config"]: r for r in rows if r["objective"] == obj}
        cells = [f"{by[lb]['epoch_cpu']:.2f} [{by[lb]['epoch_wall']:.2f}] | "
                 f"{by[lb]['n'] / by[lb]['epoch_cpu']:.0f}" for lb in labels]
        base = by[labels[0]]["epoch_cpu"]
        ups = [f"**{base / by[lb]['epoch_cpu']:.2f}x**" for lb in labels[1:]]
        out.append(f"| {obj} | " + " | ".join(cells + ups) + " |")
    totals = {lb: sum(r["epoch_cpu"] for r in rows if r["config"] == lb) for lb in labels}
    out.append("| **all objectives** | " + " | ".join(
        f"{totals[lb]:.1f} | -" for lb in labels) + " | " + " | ".join(
        f"**{totals[labels[0]] / totals[lb]:.2f}x**" for lb in labels[1:]) + " |")
    out += ["", "End-to-end `train()` wall seconds for one epoch (folder scan, decoding, model "
            "build, checkpoint):", ""]
    out += ["| objective | " + " | ".join(labels) + " |", "|---" * (1 + len(labels)) + "|"]
    for obj in dict.fromkeys(r["objective"] for r in rows):
        by = {r["config"]: r for r in rows if r["objective"] == obj}
        out.append(f"| {obj} | " + " | ".join(f"{by[lb]['total_wall']:.1f}" for lb in labels)
                   + " |")
    return out


def loss_table(rows: list[dict[str, Any]]) -> list[str]:
    labels = [c[0] for c in configs()] + list(NOISE)
    out = ["| objective | " + " | ".join(labels) + " | memory - PIL, seed 0 | memory - PIL, "
           "seed 1 | seed 1 - seed 0, PIL |", "|---" * (4 + len(labels)) + "|"]
    for obj in dict.fromkeys(r["objective"] for r in rows):
        final = {r["config"]: r["curve"][-1] for r in rows if r["objective"] == obj}
        curves = [", ".join(f"{x:.3f}" for x in r["curve"]) for lb in labels
                  for r in rows if r["objective"] == obj and r["config"] == lb]

        def gap(a: str, b: str, final: dict[str, float] = final) -> str:
            return f"{100 * (final[a] - final[b]) / abs(final[b]):+.1f} %"

        gaps = [gap(labels[1], labels[0]), gap(NOISE[1], NOISE[0]), gap(NOISE[0], labels[0])]
        out.append(f"| {obj} | " + " | ".join(curves + gaps) + " |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="existing world (its train/ is used)")
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--objectives", nargs="+", default=OBJECTIVES)
    parser.add_argument("--loss-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--skip-loss", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.objectives, args.loss_epochs = 600, ["supervised", "simclr"], 2
    torch.set_num_threads(1)
    import lightly.transforms  # noqa: F401  # imported up front: not timed in the first run

    from bias.objectives import objective_class

    for name in args.objectives:
        objective_class(name)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = args.world
        if world is None:
            from bias.world import generate_world

            world = generate_world(work / "world", n_train=args.n_train, seed=0)
        train_dir = world / "train"
        speed_rows = speed(train_dir, work, args.objectives, args.batch_size)
        loss_rows = ([] if args.skip_loss else
                     losses(train_dir, work, args.objectives, args.loss_epochs,
                            args.batch_size))
    n = speed_rows[0]["n"]
    lines = [
        "# Training benchmark (`benchmarks/bench_train.py`)", "",
        f"Run: `python benchmarks/bench_train.py{' --quick' if args.quick else ''}` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, 1 thread, "
        f"`--workers 0`, CPU bf16 native: {cpu_has_native_bf16()}. Load average before/after: "
        f"{load0:.1f} / {os.getloadavg()[0]:.1f} (shared machine: CPU seconds of this process "
        "are the measure, wall seconds in brackets).", "",
        f"## 1. One epoch, micro preset, {n} images of the synthetic world, batch "
        f"{args.batch_size}", "",
        *speed_table(speed_rows), "",
    ]
    if loss_rows:
        lines += [f"## 2. Loss parity: mean loss per epoch, {args.loss_epochs} epochs",
                  "", "Seed 0 for every configuration, and both paths again at seed 1 (another "
                  "initialisation, sample order and augmentation draws): the gap between seeds "
                  "is the noise floor for the gap between paths. Gaps are relative, in the "
                  "final epoch's mean loss.", "", *loss_table(loss_rows), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
