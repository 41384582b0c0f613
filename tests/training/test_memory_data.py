"""The in-memory data path: decoded images, path choice, epoch batches, CLI switch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import ImageFolder
from torchvision.transforms.functional import pil_to_tensor

from bias.cli import main
from bias.errors import VitbiasError
from bias.objectives.augment import ViewSpec
from bias.objectives.batch_augment import build_batch_view_transform
from bias.training.data import open_folders
from bias.training.memory import MemoryBatches, choose_path, decode_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_folder(root: Path, seed: int, classes=("b", "a", "c"), per_class: int = 5,
                 size: int = 16) -> Path:
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("mem")
    return [write_folder(base / "one" / "train", 0), write_folder(base / "two", 1, per_class=3)]


def test_decoded_images_and_labels_equal_imagefolder(folders):
    dataset, info = open_folders([str(f) for f in folders])
    data = decode_images(dataset)
    assert data.images.shape == (info.n_images, 3, 16, 16) and data.images.dtype == torch.uint8
    ref = [(pil_to_tensor(img.convert("RGB")), label)
           for folder in folders for img, label in ImageFolder(str(folder))]
    assert len(ref) == len(data) == 15 + 9
    for i, (img, label) in enumerate(ref):
        assert torch.equal(data.images[i], img) and int(data.labels[i]) == label


def test_path_choice_budget_and_mixed_sizes(folders, tmp_path):
    dataset, _ = open_folders([str(folders[0])])
    assert choose_path("pil", dataset, 2.0) is None
    assert choose_path("auto", dataset, 1e-9) is None  # over budget: PIL path
    assert choose_path("auto", dataset, 2.0) is not None
    assert choose_path("memory", dataset, 1e-9) is not None  # forced: budget ignored
    with pytest.raises(VitbiasError, match="--data-path must be one of"):
        choose_path("fast", dataset, 2.0)
    mixed = write_folder(tmp_path / "mixed", 2, per_class=2)
    Image.new("RGB", (20, 16)).save(mixed / "a" / "zz.png")
    mixed_ds, _ = open_folders([str(mixed)])
    assert choose_path("auto", mixed_ds, 2.0) is None
    with pytest.raises(VitbiasError, match="one size"):
        choose_path("memory", mixed_ds, 2.0)


def test_epoch_batches_follow_the_sampler_and_are_rank_independent(folders):
    from torch.utils.data import DistributedSampler

    dataset, _ = open_folders([str(f) for f in folders])
    data = decode_images(dataset)
    views = build_batch_view_transform(ViewSpec("contrastive", 2), 16, (0.5,) * 3, (0.5,) * 3)
    one = MemoryBatches(data, views, 4, seed=3, rank=0, world_size=1,
                        device=torch.device("cpu"))
    sampler = DistributedSampler(range(24), num_replicas=1, rank=0, shuffle=True, seed=3,
                                 drop_last=True)
    sampler.set_epoch(1)
    assert one.indices(1).tolist() == list(sampler)[:24]
    batches = list(one.epoch(1))
    assert len(batches) == 6
    order = one.indices(1)
    assert torch.equal(torch.cat([labels for _, labels in batches]), data.labels[order])
    again = list(one.epoch(1))
    assert all(torch.equal(a, b) for (va, _), (vb, _) in zip(batches, again, strict=True)
               for a, b in zip(va, vb, strict=True))
    assert not torch.equal(batches[0][0][0], next(iter(one.epoch(2)))[0][0])
    # Two processes: rank r's sample gets the views it gets in a one-process run.
    view_of = {int(i): v for i, v in zip(order, torch.cat([b[0][0] for b in batches]),
                                         strict=True)}
    for rank in (0, 1):
        part = MemoryBatches(data, views, 2, seed=3, rank=rank, world_size=2,
                             device=torch.device("cpu"))
        idx = part.indices(1)
        got = torch.cat([b[0][0] for b in part.epoch(1)])
        for i, v in zip(idx.tolist(), got, strict=True):
            assert torch.allclose(v, view_of[i], atol=1e-6)


def test_cli_data_path_and_threads_switches(folders, tmp_path):
    for path in ("pil", "memory"):
        out = tmp_path / path
        assert main(["train", "--objective", "simmim", "--size", "micro", "--data",
                     str(folders[0]), "--out", str(out), "--epochs", "1", "--batch-size", "5",
                     "--img-size", "16", "--data-path", path, "--threads", "1"]) == 0
        meta = json.loads((out / "model.json").read_text())
        assert meta["data_path"] == path and meta["threads"] == 1
    assert main(["train", "--objective", "mae", "--size", "micro", "--data", str(folders[0]),
                 "--out", str(tmp_path / "x"), "--threads", "0"]) == 2
    assert not (tmp_path / "x").exists()
