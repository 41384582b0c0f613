"""The two ways an epoch's batches are made, behind one interface: ``batches.epoch(e)``.

- ``memory`` (:class:`~bias.training.memory.MemoryBatches`): images decoded once, each batch
  augmented at once in torch — small data (a synthetic world) on one machine;
- ``pil`` (:class:`PILBatches`): torchvision ``ImageFolder`` + per-sample PIL/lightly view
  transforms in DataLoader workers — data too large for memory (ImageNet scale).

``--data-path auto`` (the default) takes ``memory`` when the decoded images fit
``--memory-budget-gb`` and every augmentation step has a batched equivalent, else ``pil``.
Both yield ``(views: list of (B, 3, S, S) float, labels: (B,) int64)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch

from bias.objectives.augment import ViewSpec, build_view_transform
from bias.objectives.batch_augment import UnsupportedAugmentation, build_batch_view_transform
from bias.training.data import ViewDataset
from bias.training.memory import MemoryBatches, choose_path

log = logging.getLogger(__name__)


class PILBatches:
    """Per-sample views in a DataLoader; views seeded by (seed, epoch, sample index)."""

    path = "pil"

    def __init__(self, dataset: Any, spec: ViewSpec, img_size: int, mean: tuple[float, ...],
                 std: tuple[float, ...], batch_size: int, seed: int, workers: int,
                 rank: int, world_size: int, device: torch.device) -> None:
        self.data = ViewDataset(dataset, build_view_transform(spec, img_size, mean, std), seed)
        self.batch_size, self.seed, self.workers = batch_size, seed, workers
        self.rank, self.world_size, self.device = rank, world_size, device

    def epoch(self, epoch: int) -> Iterable[tuple[list[torch.Tensor], torch.Tensor]]:
        from torch.utils.data import DataLoader, DistributedSampler

        self.data.set_epoch(epoch)
        sampler = DistributedSampler(self.data, num_replicas=self.world_size, rank=self.rank,
                                     shuffle=True, seed=self.seed, drop_last=True)
        sampler.set_epoch(epoch)
        return DataLoader(self.data, batch_size=self.batch_size, sampler=sampler,
                          drop_last=True, num_workers=self.workers,
                          pin_memory=self.device.type == "cuda",
                          generator=torch.Generator().manual_seed(self.seed))


def make_batches(cfg: Any, dataset: Any, spec: ViewSpec, img_size: int,
                 mean: tuple[float, ...], std: tuple[float, ...], batch_size: int, rank: int,
                 world_size: int, device: torch.device) -> PILBatches | MemoryBatches:
    """The batch source of ``cfg.data_path`` (``auto``, ``memory`` or ``pil``)."""
    views = None
    if cfg.data_path != "pil":
        try:
            views = build_batch_view_transform(spec, img_size, mean, std)
        except UnsupportedAugmentation as exc:
            if cfg.data_path == "memory":
                raise
            log.info("per-sample PIL path: %s", exc)
    data = choose_path(cfg.data_path if views else "pil", dataset, cfg.memory_budget_gb)
    if data is None:
        return PILBatches(dataset, spec, img_size, mean, std, batch_size, cfg.seed,
                          cfg.workers, rank, world_size, device)
    if cfg.workers:
        log.info("--workers %d is unused: in-memory batches are augmented on the %s",
                 cfg.workers, device.type)
    return MemoryBatches(data, views, batch_size, cfg.seed, rank, world_size, device)
