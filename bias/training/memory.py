"""The small-data fast path: every image decoded once into memory, views made per batch.

For a synthetic world (thousands of 32 px PNGs) decoding and augmenting one PIL image at a
time costs as much as the ViT's forward pass. When the decoded data fit a budget (2 GB by
default), :func:`decode_images` reads the ImageFolders once into a uint8 tensor (N, 3, H, W)
in dataset order, and :class:`MemoryBatches` cuts each epoch into batches — the same shuffled
order as the PIL path's ``DistributedSampler`` — and augments each batch at once on the
training device (:mod:`bias.objectives.batch_augment`).

Reproducibility: an epoch's augmentation parameters are drawn for all N images, in dataset
order, from one generator seeded by (seed, epoch); a batch takes its rows. A sample's views
therefore depend on (seed, epoch, index) only — not on the batch size, the number of
processes or a resumed run — as in the PIL path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from bias.errors import VitbiasError
from bias.objectives.augment import derive_seed
from bias.objectives.batch_augment import BatchViews, take

log = logging.getLogger(__name__)

DATA_PATHS = ("auto", "memory", "pil")
AUGMENT_STREAM = 2  # derive_seed tag of the batch augmentation (1: the objective's masks)


@dataclass(frozen=True)
class MemoryImages:
    """Decoded training data: images uint8 (N, 3, H, W), labels int64 (N,), in dataset order."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _samples(dataset: Any) -> list[tuple[str, int]]:
    """(path, label) of every image of a ConcatDataset of ImageFolders (or one), in order."""
    parts = getattr(dataset, "datasets", [dataset])
    return [s for part in parts for s in part.samples]


def decoded_bytes(dataset: Any) -> tuple[int, tuple[int, int]]:
    """Estimated uint8 size of the decoded data: N · 3 · H · W of the first image's (H, W)."""
    from PIL import Image

    samples = _samples(dataset)
    path = samples[0][0]
    try:
        with Image.open(path) as img:  # reads the header only
            w, h = img.size
    except OSError as exc:
        raise VitbiasError(f"cannot read training image {path}: {exc}") from exc
    return len(samples) * 3 * h * w, (h, w)


def decode_images(dataset: Any) -> MemoryImages | None:
    """Decode every image of ``dataset`` (items ``(PIL image, label)``) into memory.

    Returns None when the images differ in size (they cannot share one tensor); a file that
    cannot be decoded is a VitbiasError naming it (raised by the dataset's loader).
    """
    _, (h, w) = decoded_bytes(dataset)
    n = len(dataset)
    images = torch.empty(n, 3, h, w, dtype=torch.uint8)
    labels = torch.empty(n, dtype=torch.int64)
    for i in tqdm(range(n), desc="decoding images", unit="img", leave=False, mininterval=1):
        img, label = dataset[i]
        if img.size != (w, h):
            log.info("image %s is %dx%d, not %dx%d like the first: no in-memory path",
                     _samples(dataset)[i][0], *img.size, w, h)
            return None
        images[i] = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)
        labels[i] = int(label)
    return MemoryImages(images, labels)


def choose_path(requested: str, dataset: Any, budget_gb: float) -> MemoryImages | None:
    """``auto``: decode into memory when the data fit ``budget_gb``; ``memory``: always (an
    error when impossible); ``pil``: never. Returns the decoded data or None (PIL path)."""
    if requested not in DATA_PATHS:
        raise VitbiasError(f"--data-path must be one of {', '.join(DATA_PATHS)}, "
                           f"got '{requested}'")
    if requested == "pil":
        return None
    size, (h, w) = decoded_bytes(dataset)
    if requested == "auto" and size > budget_gb * 1e9:
        log.info("decoded data would take %.2f GB > budget %.2f GB: per-sample PIL path",
                 size / 1e9, budget_gb)
        return None
    data = decode_images(dataset)
    if data is None and requested == "memory":
        raise VitbiasError("--data-path memory needs images of one size; "
                           f"the first is {w}x{h} but others differ")
    if data is not None:
        log.info("in-memory data path: %d images of %dx%d (%.1f MB)", len(data), w, h,
                 data.images.numel() / 1e6)
    return data


class MemoryBatches:
    """An epoch of ``(views, labels)`` batches from decoded images, augmented per batch.

    views: list of float (B, 3, S, S) on ``device``; labels: int64 (B,) on ``device``.
    Indices follow ``DistributedSampler(shuffle=True, seed, drop_last=True)`` and the batches
    drop the last partial one, as the PIL path's DataLoader does.
    """

    path = "memory"

    def __init__(self, data: MemoryImages, views: BatchViews, batch_size: int, seed: int,
                 rank: int, world_size: int, device: torch.device) -> None:
        self.views, self.batch_size, self.seed = views, int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.images = data.images.to(device)
        self.labels = data.labels.to(device)
        self.n = len(data)

    def indices(self, epoch: int) -> Tensor:
        """This rank's sample order for ``epoch`` (int64, length a multiple of batch size)."""
        from torch.utils.data import DistributedSampler

        sampler = DistributedSampler(range(self.n), num_replicas=self.world_size,
                                     rank=self.rank, shuffle=True, seed=self.seed,
                                     drop_last=True)
        sampler.set_epoch(epoch)
        order = torch.tensor(list(sampler), dtype=torch.int64)
        return order[: len(order) // self.batch_size * self.batch_size]

    def epoch(self, epoch: int) -> Iterator[tuple[list[Tensor], Tensor]]:
        gen = torch.Generator().manual_seed(derive_seed(self.seed, epoch, AUGMENT_STREAM))
        params = self.views.draw(self.n, gen, tuple(self.images.shape[-2:]))
        for batch in self.indices(epoch).split(self.batch_size):
            on_device = batch.to(self.images.device)
            yield (self.views.apply(self.images[on_device], take(params, batch)),
                   self.labels[on_device])
