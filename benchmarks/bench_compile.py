"""Training with ``--compile`` (torch.compile, inductor) against the eager step, side by side.

For each objective, in one process on an otherwise idle machine: ``--epochs`` epochs (default
6) of the calibration recipe (micro preset, patch 8, 32 px, batch 64, bf16 autocast where the
CPU has it, one torch thread) on a generated plain-palette world, first eager, then compiled.
Reported per objective:

- the steady epoch: median wall seconds of epochs 2.. (after compilation), eager / compiled;
- the first epoch's extra wall seconds when compiled: the one-off compile (inductor compiles
  C++ in worker processes, so this is wall time, not this process's CPU time);
- the break-even: epochs after which the compiled run is ahead;
- the loss curves' relative gap (fused kernels round differently: close, not equal).

Usage: ``python benchmarks/bench_compile.py [--epochs 6] [--objectives mae simclr ...]``;
writes benchmarks/results/compile.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

import torch
from bench_train import EpochClock

from bias.training import TrainConfig, train
from bias.training.cpu import cpu_has_native_bf16

RESULTS = Path(__file__).resolve().parent / "results" / "compile.md"
OBJECTIVES = ["supervised", "simclr", "moco_v3", "dino", "mae", "simmim"]


def run(world: Path, out: Path, objective: str, epochs: int, backend: str | None) -> dict:
    cfg = TrainConfig(objective=objective, size="micro", data=[str(world)], out=str(out),
                      epochs=epochs, batch_size=64, patch_size=8, amp=True, threads=1,
                      keep_state=False, compile=backend)
    with EpochClock() as clock:
        train(cfg)
    walls = [w for _, w in clock.times]
    curve = json.loads((out / "model.json").read_text())["loss_curve"]
    return {"first": walls[0], "steady": statistics.median(walls[1:]), "curve": curve}


def row(objective: str, eager: dict[str, Any], comp: dict[str, Any]) -> str:
    speedup = eager["steady"] / comp["steady"]
    overhead = comp["first"] - comp["steady"] - (eager["first"] - eager["steady"])
    saved = eager["steady"] - comp["steady"]
    even = f"{math.ceil(overhead / saved)}" if saved > 0 else "never"
    gap = max(abs(c - e) / abs(e) for c, e in zip(comp["curve"], eager["curve"], strict=True))
    return (f"| {objective} | {eager['steady']:.2f} | {comp['steady']:.2f} | **{speedup:.2f}x** "
            f"| {overhead:.0f} | {even} | {100 * gap:.2f} % |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--objectives", nargs="+", default=OBJECTIVES)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        from bias.world import generate_world

        world = generate_world(Path(tmp) / "world", n_train=args.n_train, palette="plain")
        for obj in args.objectives:
            eager = run(world / "train", Path(tmp) / f"{obj}-eager", obj, args.epochs, None)
            comp = run(world / "train", Path(tmp) / f"{obj}-inductor", obj, args.epochs,
                       "inductor")
            lines.append(row(obj, eager, comp))
            print(lines[-1], flush=True)
    head = [
        "# torch.compile benchmark (`benchmarks/bench_compile.py`)", "",
        f"Run: `python benchmarks/bench_compile.py --epochs {args.epochs}` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, 1 thread, "
        f"bf16 autocast: {cpu_has_native_bf16()}; micro, patch 8, batch 64, {args.n_train} "
        f"images of a plain-palette world. Load average before/after: {load0:.1f} / "
        f"{os.getloadavg()[0]:.1f}.", "",
        "| objective | eager epoch, s | compiled epoch, s | speed-up | compile, s | break-even, "
        "epochs | largest loss gap |", "|---|---|---|---|---|---|---|"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(head + lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
