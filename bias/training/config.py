"""The arguments of one training run, and the subset that identifies its result.

The *identity* of a run — objective and its arguments, size, geometry, optimisation settings,
seed, epochs and the training data (folders + content hash) — is stored in ``model.json``
(``train_config``) and in the resumable state. A rerun with the same identity and a complete
``model.json`` is a no-op; a state written under another identity is never resumed.
Device, workers, threads, AMP, compilation, the data path (in-memory batches or per-sample
PIL) and output options do not change what is being trained, so they are not part of it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

IDENTITY_FIELDS = ("objective", "objective_kwargs", "size", "img_size", "patch_size", "epochs",
                   "batch_size", "lr", "weight_decay", "warmup_epochs", "clip_grad", "seed",
                   "samples_per_epoch")


@dataclass
class TrainConfig:
    """``vitbias train`` arguments. ``data``: ImageFolder roots, concatenated in this order."""

    objective: str
    size: str
    data: list[str]
    out: str
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    clip_grad: float | None = None
    seed: int = 0
    # Images drawn (a fresh random subset each epoch) per epoch; None: all of them. Fixing it
    # to the size of the original data gives CDA runs the same number of optimiser steps as
    # the run without counterfactuals, so a change in bias is not a change in training length.
    samples_per_epoch: int | None = None
    img_size: int | None = None
    patch_size: int | None = None
    objective_kwargs: dict[str, Any] = field(default_factory=dict)
    data_name: str | None = None
    workers: int = 0
    data_path: str = "auto"  # auto | memory | pil, see bias.training.loaders
    memory_budget_gb: float = 2.0  # auto: decode into memory when the images fit this
    threads: int | None = None  # torch CPU threads; None: torch's default (OMP_NUM_THREADS)
    amp: bool = False
    compile: str | None = None  # torch.compile backend (e.g. inductor); None: eager
    device: str = "auto"
    keep_state: bool = True
    overwrite: bool = False

    def identity(self, data_folders: list[str], data_hash: str,
                 model_kwargs: dict[str, Any]) -> dict[str, Any]:
        """JSON-normalised identity of the run (compare with ``==``).

        Geometry is taken from the resolved ``model_kwargs``, so ``--img-size 32`` and the
        preset default 32 are the same run.
        """
        values = {k: v for k, v in asdict(self).items() if k in IDENTITY_FIELDS}
        values.update(data_folders=data_folders, data_hash=data_hash,
                      img_size=model_kwargs["img_size"], patch_size=model_kwargs["patch_size"])
        return json.loads(json.dumps(values, sort_keys=True))


def identity_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Human-readable list of the fields that differ: ``field: old -> new``."""
    keys = sorted(set(old) | set(new))
    return "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys
                     if old.get(k) != new.get(k))
