"""The objective-agnostic training loop behind ``vitbias train``.

One function, :func:`train`: validate the inputs (nothing is written before they pass), build
backbone + objective under the run seed, resume from ``<out>/state/last.pt`` when present,
train with AdamW + warmup-cosine (timm's optimizer factory and scheduler), save the state
after every epoch and, at the end, the checkpoint (``model.safetensors``, then ``model.json``
last). A folder with a complete ``model.json`` of the same run identity is left alone.

Batches come from :mod:`bias.training.loaders`: small data are decoded once and augmented a
batch at a time in torch, large data per image with PIL in DataLoader workers (``data_path``).

Determinism on CPU: the model is initialised under ``torch.manual_seed(seed)``, the sampler
shuffles by (seed, epoch), every sample's views are seeded by (seed, epoch, index) and the
objective's masks by (seed, epoch, rank); deterministic algorithms are switched on for CPU
runs. The same command therefore gives bit-identical weights, and a resumed run equals an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from bias.checkpoint import META, WEIGHTS, save_checkpoint
from bias.errors import VitbiasError
from bias.io import versions
from bias.objectives import create_objective, objective_class
from bias.objectives.augment import derive_seed
from bias.sizes import build_backbone, get_size, param_count, resolve_size
from bias.training import dist
from bias.training.config import TrainConfig, identity_diff
from bias.training.cpu import amp_enabled, check_backend, compiled, thread_budget, unfuse_attention
from bias.training.data import DataInfo, open_folders
from bias.training.loaders import make_batches
from bias.training.state import load_state, restore, save_state, state_path

log = logging.getLogger(__name__)

# Normalisation of every vitbias-trained model (timm's ImageNet defaults), in model.json.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if name not in ("auto", "cpu", "cuda"):
        raise VitbiasError(f"--device must be auto, cpu or cuda, got '{name}'")
    if name == "cuda" and not torch.cuda.is_available():
        raise VitbiasError("--device cuda requested but no CUDA device is available")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@contextlib.contextmanager
def deterministic(enabled: bool) -> Iterator[None]:
    """Deterministic kernels for the block (warn-only: never fail on an op without one)."""
    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)


def _complete(out: Path, identity: dict[str, Any], overwrite: bool) -> bool:
    """True when ``out`` already holds this run; errors when it holds another one."""
    meta_path = out / META
    if not meta_path.is_file() or not (out / WEIGHTS).is_file():
        return False
    try:
        old = json.loads(meta_path.read_text()).get("train_config", {})
    except json.JSONDecodeError:
        old = {}
    if old == identity:
        return True
    if not overwrite:
        raise VitbiasError(f"{out} holds a model trained with other arguments "
                           f"({identity_diff(old, identity)}); use another --out or --overwrite")
    meta_path.unlink()  # from now on the folder no longer looks complete
    return False


def _resume_state(out: Path, identity: dict[str, Any], overwrite: bool) -> dict[str, Any] | None:
    path = state_path(out)
    if not path.is_file():
        return None
    state = load_state(path)
    if state.get("identity") == identity:
        return state
    if overwrite:
        log.warning("discarding %s: it belongs to a run with other arguments", path)
        return None
    raise VitbiasError(f"{path} belongs to a run with other arguments "
                       f"({identity_diff(state.get('identity', {}), identity)}); "
                       "use --overwrite to start afresh or another --out")


def _objective_kwargs(cfg: TrainConfig) -> dict[str, Any]:
    if "seed" in cfg.objective_kwargs:
        raise VitbiasError("objective argument 'seed' is set by --seed, not --objective-arg")
    return dict(cfg.objective_kwargs)


class _Run:
    """Everything built for one run; :meth:`epoch` trains one pass over the data."""

    def __init__(self, cfg: TrainConfig, dataset: Any, info: DataInfo, arch: str,
                 kwargs: dict[str, Any], env: dist.DistEnv, device: torch.device) -> None:
        from timm.optim import create_optimizer_v2
        from timm.scheduler import CosineLRScheduler

        self.cfg, self.env, self.device = cfg, env, device
        torch.manual_seed(cfg.seed)
        backbone, _, _ = build_backbone(cfg.size, cfg.img_size, cfg.patch_size,
                                        kwargs["num_classes"])
        self.objective = create_objective(cfg.objective, backbone, seed=cfg.seed,
                                          **_objective_kwargs(cfg)).to(device)
        if device.type == "cpu" and amp_enabled(cfg.amp, device):
            unfuse_attention(self.objective)
        self.img_size = kwargs["img_size"]
        per_rank = cfg.batch_size // env.world_size
        if per_rank < 2:
            raise VitbiasError(f"--batch-size {cfg.batch_size} gives {per_rank} image(s) per "
                               "process; at least 2 are needed")
        self.per_rank = per_rank
        if cfg.samples_per_epoch is not None and cfg.samples_per_epoch < 1:
            raise VitbiasError(f"--samples-per-epoch must be >= 1, got {cfg.samples_per_epoch}")
        per_epoch = min(info.n_images, cfg.samples_per_epoch or info.n_images)
        # Both batch sources shuffle every image each epoch; taking the first steps_per_epoch
        # batches of that order draws a fresh random subset when samples_per_epoch is set.
        self.steps_per_epoch = (per_epoch // env.world_size) // per_rank
        if self.steps_per_epoch == 0:
            raise VitbiasError(f"{info.n_images} training images are fewer than one batch of "
                               f"{cfg.batch_size}; lower --batch-size")
        self.batches = make_batches(cfg, dataset, self.objective.views, self.img_size, MEAN,
                                    STD, per_rank, env.rank, env.world_size, device)
        self.total = self.steps_per_epoch * cfg.epochs
        warmup = min(round(cfg.warmup_epochs * self.steps_per_epoch), self.total // 2)
        # Fused AdamW: one kernel for all parameters (4x faster steps than the per-tensor loop
        # on the CPU; a ~1 % share of a micro step, but free).
        self.optimizer = create_optimizer_v2(self.objective, "adamw", lr=cfg.lr,
                                             weight_decay=cfg.weight_decay,
                                             fused=device.type in ("cpu", "cuda"))
        self.scheduler = CosineLRScheduler(
            self.optimizer, t_initial=max(1, self.total - warmup), lr_min=cfg.lr * 0.01,
            warmup_t=warmup, warmup_lr_init=cfg.lr * 0.01, warmup_prefix=True,
            t_in_epochs=False)
        self.model: torch.nn.Module = self.objective
        if env.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            # Projection heads' batch norm sees the global batch on GPUs (SyncBatchNorm is
            # CUDA-only; gloo on CPU keeps per-process statistics).
            module, ids = self.objective, None
            if device.type == "cuda":
                module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
                ids = [env.local_rank]
            self.model = DistributedDataParallel(module, device_ids=ids,
                                                 find_unused_parameters=True)
        if cfg.compile:
            self.model = compiled(self.model, cfg.compile)

    def epoch(self, epoch: int) -> float:
        """Train one epoch; returns its mean loss over steps and processes."""
        cfg, dev = self.cfg, self.device
        self.model.train()
        self.objective.generator.manual_seed(derive_seed(cfg.seed, epoch, self.env.rank, 1))
        step0, seen, start = epoch * self.steps_per_epoch, 0, time.perf_counter()
        loss_sum = torch.zeros((), device=dev)  # summed on device: no host sync per step
        amp = amp_enabled(cfg.amp, dev)
        bar = tqdm(self.batches.epoch(epoch), total=self.steps_per_epoch, leave=False,
                   mininterval=1,
                   desc=f"{cfg.objective} epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   disable=not self.env.is_main)
        for i, (views, labels) in zip(range(self.steps_per_epoch), bar, strict=False):
            views = [v.to(dev, non_blocking=True) for v in views]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                loss = self.model((views, labels.to(dev, non_blocking=True)))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_grad:
                torch.nn.utils.clip_grad_norm_(self.objective.parameters(), cfg.clip_grad)
            self.optimizer.step()
            self.scheduler.step_update(step0 + i + 1)
            self.objective.momentum_update(step0 + i, self.total)
            loss_sum += loss.detach().float()
            seen += views[0].shape[0] * self.env.world_size
            if i % 10 == 0 or i + 1 == self.steps_per_epoch:
                rate = seen / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f"{loss.item():.4f}", img_s=f"{rate:.0f}")
        bar.close()
        mean = dist.mean_across(loss_sum / self.steps_per_epoch, self.env)
        if not math.isfinite(mean):
            raise VitbiasError(f"training diverged at epoch {epoch + 1} (loss {mean}); "
                               "lower --lr or set --clip-grad")
        log.info("%s epoch %d/%d: loss %.4f, %.0f images/s", cfg.objective, epoch + 1,
                 cfg.epochs, mean, seen / max(time.perf_counter() - start, 1e-9))
        return mean


def _meta(run: _Run, info: DataInfo, identity: dict[str, Any], curve: list[float],
          seconds: float) -> dict[str, Any]:
    from importlib.metadata import version

    cfg, obj = run.cfg, run.objective
    return {
        "objective": cfg.objective, "objective_family": obj.family,
        "objective_paradigm": obj.paradigm, "objective_config": obj.config(),
        "size": cfg.size, "param_count": param_count(obj.backbone),
        "param_count_with_heads": param_count(obj),
        "img_size": run.img_size, "patch_size": int(obj.backbone.patch_embed.patch_size[0]),
        "data": info.name, "data_folders": info.folders, "data_hash": info.hash,
        "n_images": info.n_images, "classes": info.classes, "seed": cfg.seed,
        "epochs": cfg.epochs, "batch_size": cfg.batch_size,
        "samples_per_epoch": run.steps_per_epoch * cfg.batch_size, "lr": cfg.lr,
        "weight_decay": cfg.weight_decay, "steps": run.total, "loss_curve": curve,
        "final_loss": curve[-1], "warnings": obj.learning_warnings(curve),
        "data_config": {"input_size": [3, run.img_size, run.img_size], "mean": list(MEAN),
                        "std": list(STD), "interpolation": "bicubic", "crop_pct": 1.0,
                        "crop_mode": "center"},
        "train_config": identity, "device": run.device.type, "world_size": run.env.world_size,
        "data_path": run.batches.path, "threads": torch.get_num_threads(),
        "amp": amp_enabled(cfg.amp, run.device), "compile": cfg.compile,
        "train_seconds": round(seconds, 3),
        "versions": {**versions(), "lightly": version("lightly")},
    }


def train(cfg: TrainConfig, *, stop_after_epochs: int | None = None) -> Path | None:
    """Train (or resume, or skip) the run described by ``cfg``; returns the checkpoint folder.

    ``stop_after_epochs`` ends the call after that many epochs of this invocation, state saved,
    no checkpoint written (returns None): the same as being killed at an epoch boundary.
    """
    out = Path(cfg.out)
    if cfg.epochs < 1:
        raise VitbiasError(f"--epochs must be >= 1, got {cfg.epochs}")
    if cfg.compile:
        check_backend(cfg.compile)
    uses_labels = objective_class(cfg.objective).uses_labels
    get_size(cfg.size)  # unknown names fail before the data are scanned
    dataset, info = open_folders(cfg.data, cfg.data_name)
    arch, kwargs = resolve_size(cfg.size, cfg.img_size, cfg.patch_size,
                                len(info.classes) if uses_labels else 0)
    identity = cfg.identity(info.folders, info.hash, kwargs)
    if _complete(out, identity, cfg.overwrite):
        log.info("%s is already trained with these arguments: nothing to do", out)
        return out
    device = resolve_device(cfg.device)
    if cfg.amp and not amp_enabled(cfg.amp, device):
        log.warning("--amp needs CUDA or a CPU with native bfloat16 (AVX512-BF16 / AMX); "
                    "training on %s in float32", device.type)
    env = dist.setup(device.type)
    try:
        with thread_budget(cfg.threads):
            log.info("training on %s with %d CPU thread(s)%s", device.type,
                     torch.get_num_threads(), ", bf16 autocast" if amp_enabled(cfg.amp, device)
                     else "")
            return _train(cfg, dataset, info, arch, kwargs, identity, env, device,
                          stop_after_epochs)
    finally:
        dist.teardown(env)


def _train(cfg: TrainConfig, dataset: Any, info: DataInfo, arch: str, kwargs: dict[str, Any],
           identity: dict[str, Any], env: dist.DistEnv, device: torch.device,
           stop_after_epochs: int | None) -> Path | None:
    out = Path(cfg.out)
    run = _Run(cfg, dataset, info, arch, kwargs, env, device)
    state = _resume_state(out, identity, cfg.overwrite)
    start, curve = 0, []
    if state is not None:
        restore(state, objective=run.objective, optimizer=run.optimizer, scheduler=run.scheduler)
        start, curve = int(state["epoch"]), list(state["loss_curve"])
        log.info("resuming %s after epoch %d/%d", out, start, cfg.epochs)
    began = time.perf_counter()
    with deterministic(device.type == "cpu"):
        for epoch in range(start, cfg.epochs):
            if stop_after_epochs is not None and epoch - start >= stop_after_epochs:
                return None
            curve.append(run.epoch(epoch))
            if env.is_main:
                save_state(out, objective=run.objective, optimizer=run.optimizer,
                           scheduler=run.scheduler, epoch=epoch + 1,
                           step=(epoch + 1) * run.steps_per_epoch, loss_curve=curve,
                           identity=identity)
            dist.barrier(env)
    if env.is_main:
        meta = _meta(run, info, identity, curve, time.perf_counter() - began)
        save_checkpoint(run.objective.backbone, out, arch, kwargs, **meta)  # model.json last
        for warning in meta["warnings"]:
            log.warning("%s: %s", out, warning)
        if not cfg.keep_state:
            shutil.rmtree(out / "state", ignore_errors=True)
        log.info("wrote %s (%s, %s, %d parameters, final loss %.4f)", out, cfg.objective,
                 cfg.size, meta["param_count"], curve[-1])
    dist.barrier(env)
    return out
