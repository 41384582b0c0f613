"""Training data: ImageFolder roots, concatenated, turned into seeded views per sample.

Several roots (original images + counterfactuals, for counterfactual data augmentation) are
read with torchvision's ``ImageFolder`` and concatenated; their class lists must agree. The
data id recorded in model.json is the folder list plus a SHA-256 of the file list (relative
path, class and byte size of every file, in order) — cheap at ImageNet scale and it changes
when files are added, removed, relabelled or re-encoded.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from torch.utils.data import ConcatDataset, Dataset

from bias.errors import VitbiasError
from bias.objectives.augment import derive_seed, seeded_rngs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataInfo:
    """What the model was trained on: folders (absolute), classes, size, content hash, name."""

    folders: list[str]
    classes: list[str]
    n_images: int
    hash: str
    name: str


def load_rgb(path: str) -> Image.Image:
    """Decode an image file to RGB; an unreadable file is a VitbiasError naming it."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise VitbiasError(f"cannot read training image {path}: {exc}") from exc


def _image_folder(root: Path) -> Any:
    from torchvision.datasets import ImageFolder

    if not root.is_dir():
        raise VitbiasError(f"training data folder not found: {root}")
    try:
        return ImageFolder(str(root), loader=load_rgb)
    except (FileNotFoundError, RuntimeError) as exc:
        raise VitbiasError(f"training data folder {root} is not an ImageFolder layout "
                           f"(<root>/<class>/<image>): {exc}") from exc


def _check_classes(roots: Sequence[Path], class_lists: Sequence[list[str]]) -> None:
    for root, classes in zip(roots[1:], class_lists[1:], strict=True):
        if classes != class_lists[0]:
            missing = sorted(set(class_lists[0]) - set(classes))
            extra = sorted(set(classes) - set(class_lists[0]))
            raise VitbiasError(f"class folders of {root} differ from those of {roots[0]}: "
                               f"missing {missing}, extra {extra}")


def default_data_name(roots: Sequence[Path]) -> str:
    """``world/train`` for a root called ``train``, else the folder name; joined with ``+``."""
    names = [f"{r.parent.name}/{r.name}" if r.name in ("train", "images") else r.name
             for r in roots]
    return "+".join(names)


def open_folders(folders: Sequence[str], name: str | None = None) -> tuple[Dataset, DataInfo]:
    """Concatenated ImageFolders -> (dataset of (PIL image, class index), DataInfo)."""
    if not folders:
        raise VitbiasError("no training data: pass --data DIR (one or more)")
    roots = [Path(f).resolve() for f in folders]
    parts = [_image_folder(r) for r in roots]
    _check_classes(roots, [p.classes for p in parts])
    digest = hashlib.sha256()
    for i, (root, part) in enumerate(zip(roots, parts, strict=True)):
        for path, label in part.samples:
            rel = Path(path).relative_to(root).as_posix()
            digest.update(f"{i}\t{rel}\t{label}\t{Path(path).stat().st_size}\n".encode())
    dataset = ConcatDataset(parts)
    info = DataInfo(folders=[str(r) for r in roots], classes=list(parts[0].classes),
                    n_images=len(dataset), hash=digest.hexdigest(),
                    name=name or default_data_name(roots))
    log.info("training data %s: %d images, %d classes", info.name, info.n_images,
             len(info.classes))
    return dataset, info


class ViewDataset(Dataset):
    """Sample i of epoch e -> (list of view tensors, class index), seeded by (seed, e, i)."""

    def __init__(self, base: Dataset, transform: Callable[[Any], list[Any]], seed: int) -> None:
        self.base, self.transform, self.seed = base, transform, int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Call before building the epoch's DataLoader iterator (workers copy the dataset)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[list[Any], int]:
        img, label = self.base[index]
        with seeded_rngs(derive_seed(self.seed, self.epoch, index)):
            return self.transform(img), label
