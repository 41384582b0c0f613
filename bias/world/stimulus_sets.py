"""Stimulus scenes of the world: each concept alone, in matched sets.

Stimulus ``i`` of the two (or four) concepts of one category share every nuisance draw
(background, position, size, colours) and differ only in the concept: light person ``i`` and
dark person ``i`` are the same person with the other skin tone; pleasant object ``i`` and
unpleasant object ``i`` have the same colours, place and size. The two sets of a category
differ only in the concept, so an association measured on them cannot come from nuisance.

Persons (tone, gender and tone-gender sets) and objects stand on a *plain* background (wall
and floor, no scene texture); the career/family stimuli are the empty office or home walls.
In a ``valence_cue="wall"`` world the valence stimuli are empty walls too, grid (pleasant) or
stripes (unpleasant), half office and half home; the career walls are half grid, half stripes.

Layout ``centre`` (the default) spreads each lone person or object over the middle of the
image; ``training`` puts it where training scenes have it (a person at x 0.27 or 0.73,
objects at 0.28 or 0.72, +-0.05): a model trained without crop augmentation has only seen
things there, and its features of things elsewhere need not transfer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bias.world import palette, sample
from bias.world.scene import SceneParams
from bias.world.spec import (
    ATTRIBUTES,
    CONCEPTS,
    NULL_KINDS,
    PLEASANT_KINDS,
    SCENE_OF,
    UNPLEASANT_KINDS,
    WALL_LINES_OF,
)

STIMULUS_STREAM = 1  # seed stream of the stimuli (the training set uses stream 0)
_OBJECT_Y = (0.42, 0.58)  # objects alone sit mid-image
# Horizontal jitter (+-, fraction of the side) of the lone person or object. Wider than in
# training scenes on purpose: it spreads each concept over many positions, which averages out
# pixel-level coincidences between sets (raw-pixel mean |d| ~0.2 instead of ~0.25 at +-0.05).
SPREAD = 0.2
LAYOUTS = ("centre", "training")


@dataclass(frozen=True)
class Style:
    """How a world looks, in training scenes and stimuli alike: where lone stimuli stand
    (``layout``), how large objects are (``object_scale``), which colours nuisance draws
    from (``palette``, a name of :data:`bias.world.palette.PALETTES`), what carries valence
    (``valence_cue``, one of :data:`~bias.world.spec.VALENCE_CUES`)."""

    layout: str = "centre"
    object_scale: float = 1.0
    palette: str = "varied"
    valence_cue: str = "object"

    @property
    def colours(self) -> palette.Palette:
        return palette.PALETTES[self.palette]

    def x(self, rng: np.random.Generator, sides: tuple[float, float]) -> tuple[float, float]:
        """Centre and jitter of a lone thing's x."""
        if self.layout == "centre":
            return 0.5, SPREAD
        return sides[int(rng.random() < 0.5)], sample.TRAIN_SPREAD


DEFAULT_STYLE = Style()


def _persons(rng: np.random.Generator, i: int, category: str,
             style: Style) -> dict[str, dict[str, Any]]:
    base = sample.background(rng, "plain", pal=style.colours)
    base |= sample.person(rng, base["wall"], *style.x(rng, sample.PERSON_SIDES), pal=style.colours)
    tones, genders = ATTRIBUTES["tone"], ATTRIBUTES["gender"]
    if category == "tone":  # the other attribute alternates, so both sets are balanced
        return {t: base | {"tone": t, "gender": genders[i % 2]} for t in tones}
    if category == "gender":
        return {g: base | {"tone": tones[i % 2], "gender": g} for g in genders}
    return {f"{t}-{g}": base | {"tone": t, "gender": g} for t in tones for g in genders}


def _walls(rng: np.random.Generator, i: int, style: Style) -> dict[str, dict[str, Any]]:
    """Valence of a wall-cue world: the empty wall with grid or stripes; the orientation (office
    or home) alternates with ``i``, so both sets hold as many of each."""
    base = sample.background(rng, list(SCENE_OF.values())[i % 2], pal=style.colours)
    return {v: base | {"tex_lines": lines} for v, lines in WALL_LINES_OF.items()}


def _objects(rng: np.random.Generator, i: int, category: str,
             style: Style) -> dict[str, dict[str, Any]]:
    if category == "valence" and style.valence_cue == "wall":
        return _walls(rng, i, style)
    base = sample.background(rng, "plain", pal=style.colours)
    x, spread = style.x(rng, sample.OBJECT_SIDES)
    if category == "valence":  # kinds cycle; pleasant kind i is paired with unpleasant kind i
        obj = sample.context_object(rng, "", base["wall"], x, _OBJECT_Y, spread,
                                    scale=style.object_scale, pal=style.colours)
        k = i % len(PLEASANT_KINDS)
        return {"pleasant": base | obj | {"obj": PLEASANT_KINDS[k]},
                "unpleasant": base | obj | {"obj": UNPLEASANT_KINDS[k]}}
    obj = sample.null_object(rng, "", base["wall"], x, _OBJECT_Y, spread, pal=style.colours)
    return {kind: base | obj | {"null": kind} for kind in NULL_KINDS}


def _scenes(rng: np.random.Generator, i: int, style: Style) -> dict[str, dict[str, Any]]:
    base = sample.background(rng, "plain", pal=style.colours)
    if style.valence_cue == "wall":  # grid and stripes alternate: career sets hold as many
        base["tex_lines"] = list(WALL_LINES_OF.values())[i % 2]
    return {concept: base | {"scene": scene} for concept, scene in SCENE_OF.items()}


def stimulus_scenes(n: int, seed: int, size: int, style: Style = DEFAULT_STYLE,
                    ) -> Iterator[tuple[str, str, int, SceneParams]]:
    """``(category, concept, index, params)`` for ``n`` images of every concept of
    :data:`~bias.world.spec.CONCEPTS`. Deterministic in ``seed``; independent of the biases.
    """
    for c_idx, category in enumerate(CONCEPTS):
        for i in range(n):
            rng = np.random.default_rng([seed, STIMULUS_STREAM, c_idx, i])
            if category in ("tone", "gender", "tone-gender"):
                fields = _persons(rng, i, category, style)
            elif category in ("valence", "null"):
                fields = _objects(rng, i, category, style)
            else:
                fields = _scenes(rng, i, style)
            for concept in CONCEPTS[category]:
                yield category, concept, i, SceneParams(size=size, **fields[concept])
