"""Drawing primitives of the synthetic world: objects, the person figure, wall textures.

Every function draws on a PIL ``ImageDraw`` in canvas pixels (the renderer supersamples and
scales down, so shapes are anti-aliased). Objects are drawn in a box of half-size ``r``
around ``(cx, cy)`` with a main colour ``c1`` and a detail colour ``c2``.

Calibration: the kinds of one concept pair (pleasant vs unpleasant, tee vs ell) are
rescaled by :func:`kind_scale` to cover the same area, so that neither side of a pair has more
coloured pixels than the other (a raw-pixel association would otherwise appear).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from bias.errors import VitbiasError

RGB = tuple[int, int, int]
DrawFn = Callable[[ImageDraw.ImageDraw, float, float, float, RGB, RGB], None]


def _circle(d: ImageDraw.ImageDraw, x: float, y: float, rad: float, fill: RGB) -> None:
    # PIL fills the bounding box's last row and column too: shrink it by half a pixel a side
    # so that the disk's area is pi * rad^2 (the wall textures rely on exact coverage).
    h = max(0.0, rad - 0.5)
    d.ellipse((x - h, y - h, x + h, y + h), fill=fill)


def _segment(d: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, width: float,
             fill: RGB) -> None:
    """A straight stroke of fractional ``width`` (PIL lines only take whole pixels, which
    would make thin-limbed kinds jump in area as the size varies). PIL also fills the outline
    pixels, so the polygon is inset by half a pixel a side."""
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    half = max(width - 1.0, 0.0) / 2
    nx, ny = -(y1 - y0) / length * half, (x1 - x0) / length * half
    d.polygon([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)],
              fill=fill)


def _flower(d, cx, cy, r, c1, c2):
    for k in range(5):
        a = math.radians(72 * k - 90)
        _circle(d, cx + 0.55 * r * math.cos(a), cy + 0.55 * r * math.sin(a), 0.42 * r, c1)
    _circle(d, cx, cy, 0.33 * r, c2)


def _heart(d, cx, cy, r, c1, c2):
    _circle(d, cx - 0.42 * r, cy - 0.28 * r, 0.5 * r, c1)
    _circle(d, cx + 0.42 * r, cy - 0.28 * r, 0.5 * r, c1)
    d.polygon([(cx - 0.9 * r, cy - 0.12 * r), (cx + 0.9 * r, cy - 0.12 * r), (cx, cy + 0.9 * r)],
              fill=c1)
    _circle(d, cx - 0.42 * r, cy - 0.35 * r, 0.17 * r, c2)


def _apple(d, cx, cy, r, c1, c2):
    _circle(d, cx - 0.28 * r, cy + 0.1 * r, 0.58 * r, c1)
    _circle(d, cx + 0.28 * r, cy + 0.1 * r, 0.58 * r, c1)
    _segment(d, cx, cy - 0.45 * r, cx + 0.1 * r, cy - 0.85 * r, 0.12 * r, c2)
    d.ellipse((cx + 0.12 * r, cy - 0.85 * r, cx + 0.55 * r, cy - 0.6 * r), fill=c2)


def _spider(d, cx, cy, r, c1, c2):
    for side in (-1, 1):
        for k in range(4):
            knee = (cx + side * 0.6 * r, cy + (k - 1.5) * 0.3 * r - 0.3 * r)
            foot = (cx + side * 0.95 * r, cy + (k - 1.5) * 0.5 * r + 0.2 * r)
            _segment(d, cx, cy, *knee, 0.12 * r, c1)
            _segment(d, *knee, *foot, 0.12 * r, c1)
            _circle(d, *knee, 0.06 * r, c1)
    d.ellipse((cx - 0.24 * r, cy - 0.2 * r, cx + 0.24 * r, cy + 0.45 * r), fill=c1)
    _circle(d, cx, cy - 0.35 * r, 0.17 * r, c2)


def _virus(d, cx, cy, r, c1, c2):
    for k in range(8):
        a = math.radians(45 * k + 22.5)
        tip = (cx + 0.8 * r * math.cos(a), cy + 0.8 * r * math.sin(a))
        _segment(d, cx, cy, *tip, 0.12 * r, c1)
        _circle(d, *tip, 0.13 * r, c2)
    _circle(d, cx, cy, 0.3 * r, c1)


def _thorns(d, cx, cy, r, c1, c2):
    # five spikes at pentagon angles: no preferred orientation (unlike the wall textures)
    for k in range(5):
        a = math.radians(72 * k - 90)
        tip = (cx + 0.95 * r * math.cos(a), cy + 0.95 * r * math.sin(a))
        base = (cx + 0.2 * r * math.cos(a + 0.9), cy + 0.2 * r * math.sin(a + 0.9))
        base2 = (cx + 0.2 * r * math.cos(a - 0.9), cy + 0.2 * r * math.sin(a - 0.9))
        d.polygon([base, tip, base2], fill=c1)
    _circle(d, cx, cy, 0.22 * r, c2)


# The null pair is built from the same two bars (one horizontal of 1.6 r, one vertical of
# 1.3 r): same area, same edge orientations, nothing round or spiky, so it shares no generic
# cue with either planted pair; only the arrangement differs.
def _bar(d: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, fill: RGB) -> None:
    """Filled axis-aligned box covering ~(x1 - x0)(y1 - y0) pixels (PIL adds its outline)."""
    d.polygon([(x0 + 0.5, y0 + 0.5), (x1 - 0.5, y0 + 0.5), (x1 - 0.5, y1 - 0.5),
               (x0 + 0.5, y1 - 0.5)], fill=fill)


def _tee(d, cx, cy, r, c1, c2):
    cy += 0.29 * r  # centre of mass at (cx, cy), like the ell
    _bar(d, cx - 0.8 * r, cy - 0.8 * r, cx + 0.8 * r, cy - 0.5 * r, c1)
    _bar(d, cx - 0.15 * r, cy - 0.5 * r, cx + 0.15 * r, cy + 0.8 * r, c1)


def _ell(d, cx, cy, r, c1, c2):
    cx, cy = cx + 0.29 * r, cy - 0.29 * r
    _bar(d, cx - 0.8 * r, cy - 0.8 * r, cx - 0.5 * r, cy + 0.5 * r, c1)
    _bar(d, cx - 0.8 * r, cy + 0.5 * r, cx + 0.8 * r, cy + 0.8 * r, c1)


# kind -> (drawing function, balance group). Kinds of one group are rescaled to equal area.
OBJECT_KINDS: dict[str, tuple[DrawFn, str]] = {
    "flower": (_flower, "valence"), "heart": (_heart, "valence"), "apple": (_apple, "valence"),
    "spider": (_spider, "valence"), "virus": (_virus, "valence"), "thorns": (_thorns, "valence"),
    "tee": (_tee, "null"), "ell": (_ell, "null"),
}

def kind_pixels(kind: str, r: float) -> float:
    """Mean number of canvas pixels ``kind`` covers when drawn at radius ``r`` (unscaled),
    averaged over sub-pixel offsets. Rasterisation does not scale (edges and thin limbs gain
    or lose whole pixels), so areas are measured at the size drawn, not extrapolated."""
    fn = OBJECT_KINDS[kind][0]
    side = 2 * math.ceil(r) + 8
    counts = []
    for ox in (0.0, 0.33, 0.67):
        for oy in (0.1, 0.45, 0.8):
            img = Image.new("RGB", (side, side), (0, 0, 0))
            fn(ImageDraw.Draw(img), side / 2 + ox, side / 2 + oy, r, (255,) * 3, (255,) * 3)
            counts.append(np.count_nonzero(np.asarray(img)[..., 0]))
    return float(np.mean(counts))


@cache
def _group_scales(group: str, r: int) -> dict[str, float]:
    """Size factors giving every kind of ``group`` the same area at radius ``r``: a first
    guess from areas at ``r``, then two corrections measured at the scaled sizes."""
    kinds = [k for k, (_, g) in OBJECT_KINDS.items() if g == group]
    area = {k: kind_pixels(k, r) for k in kinds}
    scale = {k: math.sqrt(np.mean(list(area.values())) / area[k]) for k in kinds}
    for _ in range(2):
        drawn = {k: kind_pixels(k, r * scale[k]) for k in kinds}
        target = np.mean(list(drawn.values()))
        scale = {k: scale[k] * math.sqrt(target / drawn[k]) for k in kinds}
    return scale


def kind_scale(kind: str, r: float) -> float:
    """Size factor that gives ``kind`` the area of the other kinds of its pair at radius
    ``r`` (canvas pixels; cached per whole pixel)."""
    return _group_scales(OBJECT_KINDS[kind][1], max(4, round(r)))[kind]


def draw_object(d: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float,
                c1: RGB, c2: RGB) -> None:
    """Draw one object of ``kind`` (area-balanced) centred at ``(cx, cy)``."""
    if kind not in OBJECT_KINDS:
        raise VitbiasError(f"unknown object kind {kind!r}; known: {sorted(OBJECT_KINDS)}")
    OBJECT_KINDS[kind][0](d, cx, cy, r * kind_scale(kind, r), c1, c2)


def person_box(cx: float, feet: float, h: float) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1) of a person of height ``h`` standing at ``(cx, feet)``.

    It is the same for both genders, so that an attribute flip keeps the box (and an editor's
    mask) unchanged.
    """
    return (cx - 0.28 * h, feet - h, cx + 0.28 * h, feet)


def draw_person(d: ImageDraw.ImageDraw, cx: float, feet: float, h: float, gender: str,
                skin: RGB, hair: RGB, cloth: RGB, legs: RGB) -> None:
    """A standing figure: tone shows in face, arms and hands; gender in hair and silhouette.

    ``female``: long hair to the shoulders, a dress, bare legs. ``male``: short hair, shirt
    and trousers. Both have the same height, width and head.
    """
    top = feet - h
    y = lambda f: top + f * h  # noqa: E731 - fraction of height -> canvas y
    arm_w = max(1, round(0.08 * h))
    if gender == "female":
        d.ellipse((cx - 0.17 * h, y(0.0), cx + 0.17 * h, y(0.42)), fill=hair)
        for s in (-1, 1):
            d.line((cx + s * 0.08 * h, y(0.7), cx + s * 0.08 * h, y(1.0)), fill=skin,
                   width=max(1, round(0.08 * h)))
        body = [(cx - 0.14 * h, y(0.27)), (cx + 0.14 * h, y(0.27)),
                (cx + 0.25 * h, y(0.76)), (cx - 0.25 * h, y(0.76))]
    elif gender == "male":
        for x in (cx - 0.15 * h, cx + 0.02 * h):
            d.rectangle((x, y(0.55), x + 0.13 * h, y(1.0)), fill=legs)
        body = [(cx - 0.15 * h, y(0.27)), (cx + 0.15 * h, y(0.27)),
                (cx + 0.15 * h, y(0.6)), (cx - 0.15 * h, y(0.6))]
    else:
        raise VitbiasError(f"unknown gender {gender!r}; known: ['female', 'male']")
    for s in (-1, 1):
        d.line((cx + s * 0.16 * h, y(0.3), cx + s * 0.24 * h, y(0.6)), fill=skin, width=arm_w)
    d.polygon(body, fill=cloth)
    _circle(d, cx, y(0.15), 0.125 * h, skin)
    if gender == "female":
        d.chord((cx - 0.13 * h, y(0.02), cx + 0.13 * h, y(0.26)), 180, 360, fill=hair)
    else:
        d.chord((cx - 0.135 * h, y(0.015), cx + 0.135 * h, y(0.24)), 190, 350, fill=hair)


TEXTURE_LINE = 0.18  # line width / line spacing: both textures cover 33% of the wall
STRIPE_LINE = 0.33  # stripes (one line family) are wider, to cover the same 33% as a grid
TEXTURE_LINES = ("grid", "stripes")


@cache
def _pixel_centres(width: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:width, 0:width] + 0.5
    return x, y


def texture_mask(scene: str, width: int, wall_h: float, step: float, dx: float,
                 dy: float, lines: str = "grid") -> np.ndarray:
    """(width, width) bool mask of a scene kind's wall texture (rows = y), wall only.

    ``office`` (career): a grid of upright panels; ``home`` (family): a diagonal trellis
    wallpaper; ``plain``: nothing. Both are lines of the same width and spacing, sampled at
    pixel centres, so they cover the same fraction of the wall (33%: bold enough to be learned
    early) and differ only in orientation. (Lines vs dots would share a cue with spiky vs round
    objects, tying the career and valence concepts together before any training.)

    ``lines="stripes"`` keeps one of the two line families (upright for the office, one
    diagonal for home), wider so that it still covers 33%: a second wall property crossed with
    the orientation, which survives crops, flips and colour jitter as the orientation does
    (the ``valence_cue="wall"`` worlds carry valence by it).
    """
    if scene not in ("office", "home", "plain"):
        raise VitbiasError(f"unknown scene kind {scene!r}; known: ['home', 'office', 'plain']")
    if lines not in TEXTURE_LINES:
        raise VitbiasError(f"unknown texture lines {lines!r}; known: {list(TEXTURE_LINES)}")
    if scene == "plain":
        return np.zeros((width, width), bool)
    x, y = _pixel_centres(width)
    rows = max(0, min(width, math.ceil(wall_h - 0.5)))  # rows whose centre is on the wall
    x, y = x[:rows], y[:rows]
    if scene == "home":  # the same lines, coordinates turned by 45 degrees
        x, y = (x + y) * math.sqrt(0.5), (x - y) * math.sqrt(0.5)
    mask = np.zeros((width, width), bool)
    if lines == "stripes":
        mask[:rows] = (x - dx) % step < STRIPE_LINE * step
        return mask
    lw = TEXTURE_LINE * step
    mask[:rows] = ((x - dx) % step < lw) | ((y - dy) % step < lw)
    return mask
