"""Low-level image features: a baseline for the association tests that learned nothing.

An iEAT effect can come from the stimuli rather than from what a model learned: when the
images of one target concept share colours or edge orientations with those of one attribute
concept, any representation that keeps such features shows the "bias". The same tests on
features computed without learning tell the two apart: an effect that raw pixels or
gradient histograms already show is a property of the stimulus sets, and a model's effect
is evidence of a learned association only beyond it.

Spec: ``lowlevel`` (every feature) or ``lowlevel:<feature>[,<feature>...]``, usable wherever
a model spec is (``vitbias audit``/``embed``, the workflow's ``load`` entries). Each feature
is one key of the embedding table, ``(<feature>, 0)``: the feature name stands where a
pooling does, at layer 0.

- ``pixels``: the image at 32 x 32 RGB in [0, 1], flattened (3072,): the "tiny images"
  representation;
- ``colour``: joint RGB histogram, 8 bins per channel (512,), normalised to sum 1;
- ``hog``: histogram of oriented gradients (scikit-image; Dalal & Triggs: 9 orientations,
  8 x 8-pixel cells, 2 x 2-cell blocks, L2-Hys) of the image at 64 x 64 (1764,);
- ``orientations``: one gradient-orientation histogram of the whole 64 x 64 image (9,): the
  edge orientations present, wherever they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from bias.embed.images import load_rgb
from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError
from bias.io import versions

log = logging.getLogger(__name__)

PREFIX = "lowlevel"
PIXELS_SIZE = 32
HOG_SIZE = 64
COLOUR_BINS = 8


def _resized(img: Image.Image, size: int) -> np.ndarray:
    """(size, size, 3) float32 in [0, 1]; the box filter averages, so small text or texture
    does not alias into the features."""
    small = img.resize((size, size), Image.Resampling.BOX if min(img.size) >= size
                       else Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32) / 255.0


def pixels(img: Image.Image) -> np.ndarray:
    """(3072,) the image at 32 x 32 RGB, flattened."""
    return _resized(img, PIXELS_SIZE).reshape(-1)


def colour(img: Image.Image) -> np.ndarray:
    """(512,) joint RGB histogram, 8 bins per channel, summing to 1."""
    rgb = np.asarray(img, dtype=np.uint8).reshape(-1, 3) // (256 // COLOUR_BINS)
    index = (rgb[:, 0].astype(np.int64) * COLOUR_BINS + rgb[:, 1]) * COLOUR_BINS + rgb[:, 2]
    counts = np.bincount(index, minlength=COLOUR_BINS**3).astype(np.float32)
    return counts / counts.sum()


def _hog(img: Image.Image, cell: int, block: int, norm: str) -> np.ndarray:
    """scikit-image's HOG of the image at 64 x 64: 9 orientations, ``cell``-pixel cells,
    ``block`` x ``block``-cell blocks."""
    from skimage.feature import hog as skimage_hog

    return skimage_hog(_resized(img, HOG_SIZE), orientations=9, pixels_per_cell=(cell, cell),
                       cells_per_block=(block, block), block_norm=norm,
                       channel_axis=-1).astype(np.float32)


def hog(img: Image.Image) -> np.ndarray:
    """(1764,) Dalal-Triggs HOG of the image at 64 x 64 (7 x 7 blocks x 2 x 2 cells x 9)."""
    return _hog(img, cell=8, block=2, norm="L2-Hys")


def orientations(img: Image.Image) -> np.ndarray:
    """(9,) one histogram of gradient orientations over the whole 64 x 64 image."""
    return _hog(img, cell=HOG_SIZE, block=1, norm="L1")


FEATURES: dict[str, Callable[[Image.Image], np.ndarray]] = {
    "pixels": pixels, "colour": colour, "hog": hog, "orientations": orientations}


def is_lowlevel(spec: str) -> bool:
    """Whether ``spec`` names the low-level baseline rather than a model."""
    return spec == PREFIX or spec.startswith(PREFIX + ":")


def parse_lowlevel(spec: str) -> list[str]:
    """Feature names of ``lowlevel[:a,b]``; an unknown one is an error listing the known."""
    _, _, rest = spec.partition(":")
    names = [n.strip() for n in rest.split(",") if n.strip()] if rest else list(FEATURES)
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        raise VitbiasError(f"unknown low-level feature(s) {unknown} in model spec {spec!r}; "
                           f"known: {', '.join(FEATURES)} (form: lowlevel[:name,name...])")
    return list(dict.fromkeys(names))


def lowlevel_table(spec: str, stimuli: Mapping[str, Sequence[Path]], *,
                   skip_bad_images: bool = False) -> EmbeddingTable:
    """Features of every image of ``stimuli`` (``{"category/concept": [paths]}``) for the
    spec's features; a corrupt image is an error naming it unless ``skip_bad_images``."""
    names = parse_lowlevel(spec)
    items = [(c, p) for c in sorted(stimuli) for p in stimuli[c]]
    rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    ids, concepts, skipped = [], [], []
    for concept, path in tqdm(items, desc=f"embed {spec}", unit="img"):
        try:
            img = load_rgb(path)
        except VitbiasError as exc:
            if not skip_bad_images:
                raise VitbiasError(f"{exc} (use --skip-bad-images to skip such files)") from exc
            log.warning("skipping unreadable image %s", path)
            skipped.append({"image": str(path), "error": str(exc)})
            continue
        for n in names:
            rows[n].append(FEATURES[n](img))
        ids.append(f"{concept}/{Path(path).name}")  # as bias.embed.embed_stimuli names them
        concepts.append(concept)
    if not ids:
        raise VitbiasError(f"model spec {spec!r}: no readable stimulus image to embed")
    arrays = {(n, 0): np.stack(rows[n]) for n in names}
    provenance = {"model": spec, "features": names, "pixels_size": PIXELS_SIZE,
                  "hog_size": HOG_SIZE, "colour_bins": COLOUR_BINS,
                  "layering": "layer 0: the feature itself (no model)",
                  "skipped_images": skipped, "versions": versions()}
    return EmbeddingTable(arrays=arrays, image_ids=ids, concepts=concepts,
                          provenance=provenance)
