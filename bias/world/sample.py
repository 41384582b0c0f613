"""Random draws of scene parameters: layout, colours and jitter.

Each function takes a ``numpy.random.Generator`` and returns field values for
:class:`~bias.world.scene.SceneParams`. Which group and which concepts an image shows is
decided by the caller (the training set plants biases; stimulus sets fix one concept); here
only the nuisance variation is drawn, the same way for every group and concept, so that the
nuisance cannot carry an association.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bias.world import palette
from bias.world.spec import ATTRIBUTES

PERSON_SIDES = (0.27, 0.73)  # x of the person in training scenes
OBJECT_SIDES = (0.28, 0.72)  # x of the objects (the other half)
TRAIN_SPREAD = 0.05  # +- jitter of x in training scenes


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Uniform draw rounded to 4 decimals (the value stored is the value drawn with)."""
    return round(float(rng.uniform(lo, hi)), 4)


def fade(rng: np.random.Generator, hard_fraction: float) -> float:
    """How much a context cue fades into the wall: 0 (clear), or with probability
    ``hard_fraction`` 0.7-0.95 (barely visible).

    Hard examples are what makes a supervised model lean on the person: when the object or
    the wall texture is hard to see, the person's group is the best remaining guess of the
    label, which under beta > 0 is exactly the planted shortcut (and useless at beta = 0).
    """
    return _u(rng, 0.7, 0.95) if rng.random() < hard_fraction else 0.0


def background(rng: np.random.Generator, scene: str, fade: float = 0.0,
               pal: palette.Palette = palette.VARIED) -> dict[str, Any]:
    """Wall, floor and wall texture (contrast reduced by ``fade``). ``scene``: office, home or
    plain."""
    wall = palette.pick(rng, pal.walls)
    floor = palette.mix(palette.pick(rng, pal.walls), (0, 0, 0), 0.3)
    # Darker or lighter than the wall with equal odds: texture pixels average to the wall.
    sign = 1.0 if rng.random() < 0.5 else -1.0
    step = _u(rng, 0.22, 0.3)
    return {
        "scene": scene, "wall": wall, "floor": floor, "floor_y": _u(rng, 0.8, 0.88),
        "texture": palette.shift(wall, 64.0 * sign * (1.0 - fade)), "tex_step": step,
        "tex_dx": _u(rng, 0.0, step), "tex_dy": _u(rng, 0.0, step),
    }


def person(rng: np.random.Generator, wall: str, x: float, spread: float = TRAIN_SPREAD,
           pal: palette.Palette = palette.VARIED) -> dict[str, Any]:
    """A person's nuisance: position ``x +- spread``, height, skin shift and colours.

    ``tone`` and ``gender`` are set by the caller.
    """
    return {
        "person_x": _u(rng, x - spread, x + spread), "person_feet": _u(rng, 0.9, 0.97),
        "person_h": _u(rng, 0.58, 0.72), "skin_shift": _u(rng, -0.08, 0.08),
        "hair": palette.pick(rng, pal.hair, 10.0),
        "cloth": palette.pick_distinct(rng, pal.objects, wall),
    }


def context_object(rng: np.random.Generator, kind: str, wall: str, x: float,
                   y: tuple[float, float] = (0.52, 0.68), spread: float = TRAIN_SPREAD,
                   fade: float = 0.0, scale: float = 1.0,
                   pal: palette.Palette = palette.VARIED) -> dict[str, Any]:
    """The context object (valence concept) of ``kind`` at ``x +- spread``, two colours
    (blended toward the wall by ``fade``), radius 0.17-0.22 of the side times ``scale``."""
    c1 = palette.pick_distinct(rng, pal.objects, wall)
    c2 = palette.pick_distinct(rng, pal.objects, c1)
    to_wall = palette.from_hex(wall)
    return {
        "obj": kind, "obj_x": _u(rng, x - spread, x + spread), "obj_y": _u(rng, *y),
        "obj_r": _u(rng, 0.17 * scale, 0.22 * scale), "obj_c1": palette.mix(c1, to_wall, fade),
        "obj_c2": palette.mix(c2, to_wall, fade),
    }


def null_object(rng: np.random.Generator, kind: str, wall: str, x: float,
                y: tuple[float, float] = (0.13, 0.22), spread: float = 0.07,
                pal: palette.Palette = palette.VARIED) -> dict[str, Any]:
    """The small neutral object (null concept) of ``kind`` at ``x +- spread``."""
    return {
        "null": kind, "null_x": _u(rng, x - spread, x + spread), "null_y": _u(rng, *y),
        "null_r": _u(rng, 0.085, 0.11),
        "null_c1": palette.pick_distinct(rng, pal.objects, wall),
    }


def training_layout(rng: np.random.Generator) -> tuple[float, float]:
    """x of the person and of the objects: on opposite halves, either way round."""
    left = rng.random() < 0.5
    return (PERSON_SIDES[0], OBJECT_SIDES[1]) if left else (PERSON_SIDES[1], OBJECT_SIDES[0])


def group(rng: np.random.Generator) -> dict[str, str]:
    """Protected attributes of one person: each value equally likely, independent."""
    return {attr: values[int(rng.integers(len(values)))] for attr, values in ATTRIBUTES.items()}
