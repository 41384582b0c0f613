"""Reading stimulus images as RGB, and the dataset that decodes them in DataLoader workers.

Every image becomes 8-bit RGB the same way, whatever its file:

- EXIF orientation is applied (``ImageOps.exif_transpose``): phone photos are stored
  sideways with a rotation tag, and a person should be upright, as a viewer sees them;
- an animated GIF (or any multi-frame file) gives its first frame;
- transparency (RGBA, LA, palette with a transparent index) is composited on WHITE: stimulus
  images cut out on a transparent background are shown on white pages, which is what a
  viewer (and web-scraped training data) sees; black would put a dark frame around them;
- grayscale, palette, CMYK and 16-bit images are converted to RGB (16-bit scaled to 8).

A file that cannot be decoded is a :class:`VitbiasError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from bias.errors import VitbiasError

BACKGROUND = (255, 255, 255)


def load_rgb(path: str | Path) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image (see module doc for the rules)."""
    try:
        with Image.open(path) as img:
            img.seek(0)  # first frame of animations
            img.load()
            img = ImageOps.exif_transpose(img)
            return to_rgb(img)
    except VitbiasError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # PIL raises UnidentifiedImageError (an OSError) for unknown data, OSError for
        # truncated files, SyntaxError/ValueError from some plugins on corrupt headers.
        raise VitbiasError(f"cannot read image {path}: {exc}") from exc


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB version of any PIL mode; transparency is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # convert("L") would clip 16-bit values at 255; scale to 8 bits instead.
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray((arr / top * 255.0).round().astype(np.uint8), mode="L")
    if (img.mode == "P" and "transparency" in img.info) or img.mode in ("PA", "LA", "La"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "RGBa"):
        background = Image.new("RGBA", img.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, img.convert("RGBA")).convert("RGB")
    return img.convert("RGB")


class StimulusDataset(torch.utils.data.Dataset):
    """Item ``i``: ``(tensor (3, H, W), i, error)``, decoded in a DataLoader worker.

    A file that fails to decode yields a zero tensor and the error message instead of raising
    inside the worker, so that the caller decides: stop naming the file, or skip it.
    """

    def __init__(self, paths: Sequence[Path], transform: Callable[[Image.Image], Any],
                 shape: tuple[int, int, int]):
        self.paths = list(paths)
        self.transform = transform
        self.shape = shape

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, str]:
        try:
            tensor = self.transform(load_rgb(self.paths[i]))
        except VitbiasError as exc:
            return torch.zeros(self.shape), i, str(exc)
        return tensor, i, ""
