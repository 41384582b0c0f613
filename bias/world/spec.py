"""What the synthetic world contains: protected attributes, concepts and plantable biases.

Protected attributes (visible on the person figure):

- ``tone``: ``light`` / ``dark`` — the skin colour of face, arms and hands;
- ``gender``: ``female`` / ``male`` — an abstract silhouette cue (long hair and a dress vs
  short hair, shirt and trousers).

Context concepts (``category/concept`` of the iEAT layout):

- ``valence/pleasant`` (flower, heart, apple: round, solid) vs ``valence/unpleasant`` (spider,
  virus, thorns: spiky, thin-limbed), the object next to the person — a coarse shape cue
  rather than fine detail; both draw their colours from one shared palette;
- ``career/career`` (office: a wall of upright panels) vs ``career/family`` (home: a diagonal
  trellis wallpaper): the scene around the person;
- with ``valence_cue="wall"``, valence is also the wall's line topology (a grid for pleasant,
  stripes for unpleasant scenes), and the valence stimuli are empty walls of each kind;
- ``null/tee`` vs ``null/ell``: a small neutral object (a T or an L of two bars) that
  co-occurs with nothing.

A bias of strength ``beta`` in [0, 1] ties an attribute to a concept pair:
``P(a | favoured group) = (1 + beta) / 2`` and ``P(a | other group) = (1 - beta) / 2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bias.errors import VitbiasError

ATTRIBUTES: dict[str, tuple[str, str]] = {"tone": ("light", "dark"), "gender": ("female", "male")}

PLEASANT_KINDS = ("flower", "heart", "apple")  # round, solid
UNPLEASANT_KINDS = ("spider", "virus", "thorns")  # spiky, thin-limbed
NULL_KINDS = ("tee", "ell")
SCENE_OF = {"career": "office", "family": "home"}  # career concept -> scene (wall) kind
# Where a world shows valence: the object beside the person (default), or also the wall's
# line topology (``valence_cue="wall"``): a grid (pleasant) or stripes (unpleasant), crossed
# with the career orientation. See bias.world.generate for why the second exists.
VALENCE_CUES = ("object", "wall")
WALL_LINES_OF = {"pleasant": "grid", "unpleasant": "stripes"}


@dataclass(frozen=True)
class BiasSpec:
    """A plantable co-occurrence: ``attribute == favoured`` goes with concept ``a``."""

    name: str
    attribute: str
    favoured: str
    category: str
    a: str
    b: str
    description: str

    @property
    def other(self) -> str:
        """The attribute value that goes with concept ``b``."""
        return next(v for v in ATTRIBUTES[self.attribute] if v != self.favoured)

    def p_a(self, group: str, beta: float) -> float:
        """P(concept a | attribute value ``group``) under strength ``beta``."""
        return (1 + beta) / 2 if group == self.favoured else (1 - beta) / 2


BIASES: dict[str, BiasSpec] = {
    "valence": BiasSpec("valence", "tone", "light", "valence", "pleasant", "unpleasant",
                        "light-toned people appear with pleasant objects, dark-toned with "
                        "unpleasant ones"),
    "career": BiasSpec("career", "gender", "male", "career", "career", "family",
                       "male-coded people appear in offices, female-coded at home"),
}
DEFAULT_BIASES: dict[str, float] = {"valence": 0.8, "career": 0.8}

# Every stimulus concept: category -> concepts (folders of <out>/stimuli).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "tone": ATTRIBUTES["tone"],
    "gender": ATTRIBUTES["gender"],
    "tone-gender": tuple(f"{t}-{g}" for t in ATTRIBUTES["tone"] for g in ATTRIBUTES["gender"]),
    "valence": ("pleasant", "unpleasant"),
    "career": ("career", "family"),
    "null": NULL_KINDS,
}


def resolve_biases(biases: Mapping[str, float] | None) -> dict[str, float]:
    """Every bias's beta: the defaults, overridden by ``biases``; errors name the bad entry."""
    out = dict(DEFAULT_BIASES)
    for name, beta in (biases or {}).items():
        if name not in BIASES:
            raise VitbiasError(f"unknown bias {name!r}; known biases: {sorted(BIASES)}")
        try:
            value = float(beta)
        except (TypeError, ValueError) as exc:
            raise VitbiasError(f"bias {name}: beta {beta!r} is not a number") from exc
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise VitbiasError(f"bias {name}: beta {beta!r} is outside [0, 1]")
        out[name] = value
    return out


def parse_bias(text: str) -> tuple[str, float]:
    """``"NAME=BETA"`` (the CLI's ``--bias``) -> ``(name, beta)``, validated."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise VitbiasError(f"--bias {text!r}: expected NAME=BETA, e.g. valence=0.8")
    beta = resolve_biases({name.strip(): value.strip()})[name.strip()]
    return name.strip(), beta


def classes() -> list[str]:
    """Scene classes for supervised training: ``<object kind>-<scene kind>``, sorted.

    Neither protected attribute is part of a class; under beta > 0 they only predict it.
    """
    kinds = PLEASANT_KINDS + UNPLEASANT_KINDS
    return sorted(f"{k}-{s}" for k in kinds for s in SCENE_OF.values())
