"""One scene of the synthetic world: its parameters, and rendering them to an image.

:class:`SceneParams` holds every random choice behind one image (flat fields, so one
metadata row holds one scene). ``render_scene(params)`` redraws the image byte for byte, and
``flip_attribute(params, "tone")`` gives the same scene with one protected attribute changed:
a ground-truth counterfactual for checking image editors.

Positions and sizes are fractions of the image side (so a scene renders at any ``size``);
colours are ``"#rrggbb"``. Floats are rounded to 4 decimals when sampled, so the values
written to CSV are the values drawn with. Empty ``tone`` / ``obj`` / ``null`` mean "absent"
(stimulus images show one thing alone).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bias.errors import VitbiasError
from bias.world import palette
from bias.world.shapes import draw_object, draw_person, person_box, texture_mask
from bias.world.spec import ATTRIBUTES

SUPERSAMPLE = 4  # draw at 4x the size, then box-filter down: anti-aliased shapes


@dataclass(frozen=True)
class SceneParams:
    """All parameters of one image. Geometry in fractions of ``size``; colours as hex."""

    size: int = 32
    scene: str = "plain"  # wall texture: office (career), home (family) or plain
    wall: str = "#cccccc"
    floor: str = "#888888"
    floor_y: float = 0.85
    texture: str = "#aaaaaa"
    tex_step: float = 0.2
    tex_dx: float = 0.0
    tex_dy: float = 0.0
    tex_lines: str = "grid"  # wall lines: grid (two families) or stripes (one)
    tone: str = ""  # "" = no person
    gender: str = ""
    person_x: float = 0.5  # centre
    person_feet: float = 0.93
    person_h: float = 0.65
    skin_shift: float = 0.0
    hair: str = "#222222"
    cloth: str = "#3060d0"
    obj: str = ""  # object kind ("" = none)
    obj_x: float = 0.5
    obj_y: float = 0.6
    obj_r: float = 0.17
    obj_c1: str = "#d03030"
    obj_c2: str = "#f0c040"
    null: str = ""  # null object kind ("" = none)
    null_x: float = 0.5
    null_y: float = 0.2
    null_r: float = 0.1
    null_c1: str = "#30a040"

    def replace(self, **changes: Any) -> SceneParams:
        return dataclasses.replace(self, **changes)

    @property
    def has_person(self) -> bool:
        return bool(self.tone)

    def person_bbox(self) -> tuple[int, int, int, int]:
        """Person box ``(x0, y0, x1, y1)`` in pixels of the ``size`` image, clipped."""
        x0, y0, x1, y1 = person_box(self.person_x, self.person_feet, self.person_h)
        s = self.size
        return (max(0, math.floor(x0 * s)), max(0, math.floor(y0 * s)),
                min(s, math.ceil(x1 * s)), min(s, math.ceil(y1 * s)))

    def to_row(self) -> dict[str, Any]:
        """Flat dict of every field (metadata columns)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SceneParams:
        """Rebuild from a metadata row (extra columns ignored; NaN/None read as absent)."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in row:
                continue
            value = row[f.name]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            cast = {"int": int, "float": float, "str": str}[str(f.type)]
            kwargs[f.name] = "" if missing and cast is str else cast(value)
        return cls(**kwargs)


def flip_attribute(params: SceneParams, attribute: str, value: str | None = None) -> SceneParams:
    """The same scene with the person's ``attribute`` set to ``value`` (default: the other).

    Everything else (position, skin brightness shift, hair, clothes, context) is kept, so the
    two renders differ only where the attribute shows.
    """
    if attribute not in ATTRIBUTES:
        raise VitbiasError(f"unknown attribute {attribute!r}; known: {sorted(ATTRIBUTES)}")
    if not params.has_person:
        raise VitbiasError("flip_attribute: the scene has no person")
    values = ATTRIBUTES[attribute]
    current = getattr(params, attribute)
    new = value if value is not None else next(v for v in values if v != current)
    if new not in values:
        raise VitbiasError(f"attribute {attribute}: unknown value {new!r}; known: {list(values)}")
    return params.replace(**{attribute: new})


def _rgb(colour: str) -> tuple[int, int, int]:
    return palette.from_hex(colour)


def _draw_person(d: ImageDraw.ImageDraw, p: SceneParams, w: float) -> None:
    skin = _rgb(palette.skin_colour(p.tone, p.skin_shift))
    legs = _rgb(palette.mix(p.cloth, (0, 0, 0), 0.45))
    draw_person(d, p.person_x * w, p.person_feet * w, p.person_h * w, p.gender, skin,
                _rgb(p.hair), _rgb(p.cloth), legs)


def render_scene(params: SceneParams) -> Image.Image:
    """Draw the scene as an RGB image of ``params.size`` squared pixels."""
    p = params
    if p.tone and p.tone not in ATTRIBUTES["tone"]:
        raise VitbiasError(f"scene: unknown tone {p.tone!r}; known: {list(ATTRIBUTES['tone'])}")
    w = p.size * SUPERSAMPLE
    img = Image.new("RGB", (w, w), _rgb(p.wall))
    mask = texture_mask(p.scene, w, p.floor_y * w, p.tex_step * w, p.tex_dx * w, p.tex_dy * w,
                        p.tex_lines)
    img.paste(_rgb(p.texture), mask=Image.fromarray(mask))
    d = ImageDraw.Draw(img)
    d.rectangle((0, p.floor_y * w, w, w), fill=_rgb(p.floor))
    if p.null:
        draw_object(d, p.null, p.null_x * w, p.null_y * w, p.null_r * w, _rgb(p.null_c1),
                    _rgb(p.null_c1))
    if p.obj:
        draw_object(d, p.obj, p.obj_x * w, p.obj_y * w, p.obj_r * w, _rgb(p.obj_c1),
                    _rgb(p.obj_c2))
    if p.has_person:
        _draw_person(d, p, w)
    return img.resize((p.size, p.size), Image.Resampling.BOX)


def render_person(params: SceneParams) -> Image.Image:
    """The person of a scene alone, as an RGBA sprite (transparent elsewhere), ``size`` px.

    Its alpha channel is the person's soft mask, e.g. for an editor's inpainting region.
    """
    if not params.has_person:
        raise VitbiasError("render_person: the scene has no person")
    w = params.size * SUPERSAMPLE
    img = Image.new("RGBA", (w, w), (0, 0, 0, 0))
    _draw_person(ImageDraw.Draw(img), params, w)
    return img.resize((params.size, params.size), Image.Resampling.BOX)


def person_mask(params: SceneParams, threshold: float = 0.0) -> np.ndarray:
    """(size, size) bool array: pixels the person covers (alpha > ``threshold`` * 255)."""
    alpha = np.asarray(render_person(params))[..., 3]
    return alpha > threshold * 255
