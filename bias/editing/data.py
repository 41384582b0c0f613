"""Reading the images to edit (a synthetic world or an ImageFolder of photos) and writing edits.

Accepted inputs, both with the class folders under ``<dir>/train`` or directly under ``<dir>``
(a world's ``<world>/train`` folder may be given too: its labels are read from ``<world>``):

- a synthetic world (``bias.world``): ``metadata.csv`` (``file`` relative to the class-folder
  root, ``class``, one column per protected attribute, ``context``, ``x0,y0,x1,y1``) and
  ``world.json`` with ``"attributes": {attr: [values...]}``;
- an ImageFolder of photos without labels: the protected attribute is then scored zero-shot
  (see :mod:`bias.editing.selection`). A ``metadata.csv`` may still add columns such as
  ``caption``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from bias.errors import VitbiasError
from bias.io import atomic_file
from bias.stimuli import IMAGE_SUFFIXES


@dataclass
class ImageTable:
    """``table`` columns: ``file`` (relative to ``root``), ``class``, and, when known, one column
    per protected attribute in ``attributes`` plus any other metadata columns."""

    data_dir: Path
    root: Path
    table: pd.DataFrame
    attributes: dict[str, list[str]] = field(default_factory=dict)
    world: dict[str, Any] = field(default_factory=dict)


def _locate(data_dir: Path) -> tuple[Path, Path]:
    """(folder holding metadata.csv / world.json, folder holding the class folders)."""
    if (data_dir / "train").is_dir():
        return data_dir, data_dir / "train"
    parent = data_dir.parent
    if data_dir.name == "train" and (parent / "metadata.csv").is_file():
        return parent, data_dir  # <world>/train given: the labels live one level up
    return data_dir, data_dir


def _scan_image_folder(root: Path) -> pd.DataFrame:
    rows = [(f"{c.name}/{p.name}", c.name)
            for c in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
            for p in sorted(c.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not rows:
        raise VitbiasError(f"no images in class folders under {root} "
                           f"(expected <class>/*{{{','.join(IMAGE_SUFFIXES)}}})")
    return pd.DataFrame(rows, columns=["file", "class"])


def _read_world_json(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "world.json"
    if not path.is_file():
        return {}
    try:
        world = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise VitbiasError(f"{path} is not valid JSON: {exc}") from exc
    attrs = world.get("attributes", {})
    if not isinstance(attrs, dict) or not all(
            isinstance(v, list) and len(v) >= 2 for v in attrs.values()):
        raise VitbiasError(f"{path}: field 'attributes' must map each attribute to a list of "
                           f"at least two values, got {attrs!r}")
    return world


def read_data(data_dir: str | os.PathLike[str]) -> ImageTable:
    """The images of ``data_dir`` with their labels; errors name the missing folder/column."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise VitbiasError(f"data folder not found: {data_dir}")
    data_dir, root = _locate(data_dir)
    world = _read_world_json(data_dir)
    attributes = {k: [str(v) for v in vs] for k, vs in world.get("attributes", {}).items()}
    meta_path = data_dir / "metadata.csv"
    if not meta_path.is_file():
        return ImageTable(data_dir, root, _scan_image_folder(root), attributes, world)
    table = pd.read_csv(meta_path, dtype={"file": str, "class": str})
    for col in ("file", "class", *attributes):
        if col not in table.columns:
            raise VitbiasError(f"{meta_path} lacks column '{col}'")
    for attr, values in attributes.items():
        table[attr] = table[attr].astype(str)
        bad = sorted(set(table[attr]) - set(values))
        if bad:
            raise VitbiasError(f"{meta_path}: column '{attr}' has values {bad[:5]} not listed "
                               f"in world.json attributes {values}")
    return ImageTable(data_dir, root, table, attributes, world)


def load_image(path: Path, size: tuple[int, int] | None = None) -> Tensor:
    """(3, H, W) float32 in [0, 1]; a missing or corrupt file is a VitbiasError naming it."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BICUBIC)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except FileNotFoundError as exc:
        raise VitbiasError(f"image not found: {path}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise VitbiasError(f"cannot read image {path}: {exc}") from exc
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def load_images(root: Path, files: list[str], size: tuple[int, int] | None = None) -> Tensor:
    """(N, 3, H, W) float32 in [0, 1]; all images must share a size unless ``size`` is given."""
    images = [load_image(root / f, size) for f in files]
    shapes = {tuple(im.shape) for im in images}
    if len(shapes) > 1:
        raise VitbiasError(f"images under {root} differ in size {sorted(shapes)[:3]}; "
                           "pass a size to resize them")
    return torch.stack(images)


def save_png(image: Tensor, path: Path) -> None:
    """Write (3, H, W) in [0, 1] as an 8-bit PNG, atomically (a crash leaves no partial file)."""
    arr = (image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255.0).round()
    with atomic_file(path, suffix=".png") as tmp:
        Image.fromarray(arr.astype(np.uint8)).save(tmp, format="PNG")
