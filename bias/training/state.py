"""The resumable training state: ``<out>/state/last.pt``.

Written with ``torch.save`` of tensors and primitive containers only, so it loads with
``torch.load(weights_only=True)`` (never unpickling code): objective (backbone + heads +
teachers + buffers), optimizer, scheduler, epochs done, optimizer steps done, loss curve,
every global RNG (torch CPU/CUDA, numpy, python) and the run identity it belongs to. (The
objective's mask generator needs no saving: the loop reseeds it from (seed, epoch, rank).)
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bias.errors import VitbiasError
from bias.io import atomic_file

STATE_DIR = "state"
STATE_FILE = "last.pt"


def state_path(out: str | Path) -> Path:
    """Where the resumable state of the run writing to ``out`` lives."""
    return Path(out) / STATE_DIR / STATE_FILE


def rng_state() -> dict[str, Any]:
    """Global RNG states as tensors and primitives (numpy's as a tensor + fields)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                  "has_gauss": has_gauss, "gauss": gauss},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],  # noqa: NPY002
                         n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


def save_state(out: str | Path, *, objective: torch.nn.Module, optimizer: Any, scheduler: Any,
               epoch: int, step: int, loss_curve: list[float],
               identity: dict[str, Any]) -> Path:
    """Atomically write the state after ``epoch`` completed epochs (``step`` optimizer steps)."""
    path = state_path(out)
    state = {
        "epoch": int(epoch), "step": int(step), "loss_curve": [float(x) for x in loss_curve],
        "objective": objective.state_dict(), "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(), "rng": rng_state(),
        "identity": identity,
    }
    with atomic_file(path) as tmp:
        torch.save(state, tmp)
    return path


def load_state(path: str | Path) -> dict[str, Any]:
    """Read a state file without unpickling code; a corrupt file is a VitbiasError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise VitbiasError(f"training state {path} is unreadable or unsafe ({exc}); delete it "
                           "to restart the run from scratch") from exc


def restore(state: dict[str, Any], *, objective: torch.nn.Module, optimizer: Any,
            scheduler: Any) -> None:
    """Load a state into freshly built objective / optimizer / scheduler and the RNGs."""
    objective.load_state_dict(state["objective"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
