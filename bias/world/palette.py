"""Colours of the synthetic world, and the jitter applied to them.

Calibration rule: no colour may tie a protected group to one side of a planted concept pair
before any learning happens. So every object of every concept (pleasant, unpleasant and null
objects, and the clothes) draws from ONE shared palette, backgrounds draw from one palette
used by every scene kind, and hair colours are independent of skin tone. Only the skin colour
carries the tone group, and only the silhouette carries the gender group.

Colours travel as ``"#rrggbb"`` strings so that a metadata CSV round-trips them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

# Skin of the two tone groups; ``skin_colour`` shifts their brightness per person.
SKIN: dict[str, RGB] = {"light": (228, 186, 156), "dark": (146, 98, 70)}

# Both palettes are point-symmetric around grey (150, 150, 150): every colour 150 + v comes
# with 150 - v. Then the expected difference "object colour - wall colour" is exactly zero
# (also under the contrast rule of ``pick_distinct``, which is symmetric too), so the mean
# image of any object concept equals that of any other: no raw-pixel association can arise
# from colour. Objects are saturated, walls muted.
_GREY = 150


def _symmetric(offsets: tuple[tuple[int, int, int], ...]) -> tuple[RGB, ...]:
    plus = tuple((_GREY + r, _GREY + g, _GREY + b) for r, g, b in offsets)
    minus = tuple((_GREY - r, _GREY - g, _GREY - b) for r, g, b in offsets)
    return plus + minus


# Shared by every object concept and by clothes: red/cyan, green/magenta, blue/yellow,
# orange/azure, purple/lime, teal/pink.
OBJECT_COLOURS: tuple[RGB, ...] = _symmetric((
    (80, -80, -80), (-80, 70, -80), (-80, -60, 90), (90, 10, -90), (20, -80, 70), (-90, 10, 0),
))

# Walls of every scene kind (office, home and the plain stimulus background).
WALL_COLOURS: tuple[RGB, ...] = _symmetric((
    (50, 50, 45), (20, 35, 55), (45, 30, 0), (10, 25, 0), (35, 15, 40),
))

HAIR_COLOURS: tuple[RGB, ...] = (
    (34, 30, 30), (98, 64, 36), (214, 184, 110), (150, 72, 40), (168, 168, 168),
)


@dataclass(frozen=True)
class Palette:
    """Where a world's nuisance colours come from: walls (and floors), objects and clothes,
    hair. Both palettes below keep the calibration rule (one shared, point-symmetric palette
    per role), so neither can tie a group to a concept before learning."""

    walls: tuple[RGB, ...]
    objects: tuple[RGB, ...]
    hair: tuple[RGB, ...]


# ``varied``: many colours, like varied photos. ``plain``: one wall grey, one object colour
# pair (red/cyan), one hair colour. Why plain exists: under ``varied`` a wall colour shared by
# two crops of one image identifies the image among the batch, so joint-embedding objectives
# (SimCLR & co.) solve their task from colour and never encode the scene. Measured (SimCLR
# micro, patch 8, 200 epochs, beta 0.8): career scene probe 0.74 -> 1.00, Gender-Career
# d 0.11 -> 1.68 (robust p < 0.001) from varied to plain.
PALETTES: dict[str, Palette] = {
    "varied": Palette(WALL_COLOURS, OBJECT_COLOURS, HAIR_COLOURS),
    "plain": Palette(((_GREY, _GREY, _GREY),), _symmetric(((80, -80, -80),)),
                     (HAIR_COLOURS[0],)),
}
VARIED = PALETTES["varied"]


def to_hex(rgb: RGB | np.ndarray) -> str:
    """``(r, g, b)`` -> ``"#rrggbb"`` (values clipped to 0..255)."""
    r, g, b = (min(255, max(0, round(float(v)))) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def from_hex(colour: str) -> RGB:
    """``"#rrggbb"`` -> ``(r, g, b)``."""
    s = colour.lstrip("#")
    return (int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16))


def jitter(rng: np.random.Generator, rgb: RGB, amount: float = 14.0) -> str:
    """A palette colour with independent per-channel jitter of +-``amount``, as hex."""
    return to_hex(np.asarray(rgb, float) + rng.uniform(-amount, amount, size=3))


def pick(rng: np.random.Generator, palette: tuple[RGB, ...], amount: float = 14.0) -> str:
    """One jittered colour drawn uniformly from ``palette``, as hex."""
    return jitter(rng, palette[int(rng.integers(len(palette)))], amount)


def pick_distinct(rng: np.random.Generator, palette: tuple[RGB, ...], avoid: str,
                  min_dist: float = 60.0, amount: float = 14.0) -> str:
    """A jittered palette colour at least ``min_dist`` (RGB distance) from ``avoid``.

    Keeps an object visible on its wall. The rejection rule treats every concept the same, so
    it cannot create a colour difference between concepts.
    """
    ref = from_hex(avoid)
    far = [c for c in palette
           if sum((a - b) ** 2 for a, b in zip(c, ref, strict=True)) >= min_dist ** 2]
    choices = far or palette
    return jitter(rng, choices[int(rng.integers(len(choices)))], amount)


def skin_colour(tone: str, shift: float) -> str:
    """Skin of a tone group with a relative brightness ``shift`` (e.g. -0.08 .. 0.08).

    The shift is stored per person, not the colour, so that flipping ``tone`` in a scene's
    parameters gives the matching counterfactual person (same shift, other group).
    """
    return to_hex(np.asarray(SKIN[tone], float) * (1.0 + shift))


def shift(colour: str, delta: float) -> str:
    """``colour`` with ``delta`` added to every channel (clipped)."""
    return to_hex(np.asarray(from_hex(colour), float) + delta)


def mix(colour: str, target: RGB, t: float) -> str:
    """Blend ``colour`` toward ``target`` by ``t`` in [0, 1] (0: unchanged)."""
    a = np.asarray(from_hex(colour), float)
    return to_hex(a + (np.asarray(target, float) - a) * t)
