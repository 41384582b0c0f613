"""Rendering one scene: determinism, round trip through metadata, counterfactual flips."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bias.errors import VitbiasError
from bias.world import SceneParams, flip_attribute, person_mask, render_person, render_scene
from bias.world.generate import train_scene
from bias.world.shapes import OBJECT_KINDS, draw_object, texture_mask
from bias.world.spec import DEFAULT_BIASES


def _scene(i: int = 0, size: int = 32) -> SceneParams:
    return train_scene(i, seed=11, size=size, biases=DEFAULT_BIASES)[1]


def test_render_is_deterministic_and_sized() -> None:
    p = _scene(1)
    a, b = np.asarray(render_scene(p)), np.asarray(render_scene(p))
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert render_scene(_scene(1, size=64)).size == (64, 64)


def test_params_round_trip_through_csv_text() -> None:
    """Metadata rows are CSV strings; from_row must rebuild the exact scene."""
    scenes = [_scene(i) for i in range(5)] + [SceneParams(tone="light", gender="male")]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(scenes[0].to_row()))
    writer.writeheader()
    writer.writerows(p.to_row() for p in scenes)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    for p, row in zip(scenes, rows, strict=True):
        q = SceneParams.from_row(row)
        assert q == p
        assert np.array_equal(np.asarray(render_scene(q)), np.asarray(render_scene(p)))


def test_from_row_reads_missing_parts_as_absent() -> None:
    row = {**_scene(0).to_row(), "obj": float("nan"), "null": None}
    q = SceneParams.from_row(row)
    assert q.obj == "" and q.null == ""


@pytest.mark.parametrize("attribute", ["tone", "gender"])
def test_flip_changes_only_the_person(attribute: str) -> None:
    for i in range(6):
        p = _scene(i)
        q = flip_attribute(p, attribute)
        assert getattr(q, attribute) != getattr(p, attribute)
        assert flip_attribute(q, attribute) == p
        diff = np.any(np.asarray(render_scene(p)) != np.asarray(render_scene(q)), axis=-1)
        assert diff.any()
        inside = person_mask(p) | person_mask(q)
        assert not (diff & ~inside).any(), "a flip changed pixels outside the person"
        x0, y0, x1, y1 = p.person_bbox()
        assert q.person_bbox() == (x0, y0, x1, y1)
        ys, xs = np.nonzero(inside)
        assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1


def test_flip_and_render_errors() -> None:
    with pytest.raises(VitbiasError, match="age"):
        flip_attribute(_scene(0), "age")
    with pytest.raises(VitbiasError, match="purple"):
        flip_attribute(_scene(0), "tone", "purple")
    with pytest.raises(VitbiasError, match="no person"):
        render_person(SceneParams())
    with pytest.raises(VitbiasError, match="blob"):
        render_scene(SceneParams(obj="blob"))
    with pytest.raises(VitbiasError, match="beach"):
        render_scene(SceneParams(scene="beach"))


def test_person_sprite_alpha_matches_mask() -> None:
    p = _scene(2)
    sprite = render_person(p)
    assert sprite.mode == "RGBA" and sprite.size == (32, 32)
    assert np.array_equal(np.asarray(sprite)[..., 3] > 0, person_mask(p))


def _coverage(draw_fn) -> float:
    img = Image.new("RGB", (128, 128), (0, 0, 0))
    draw_fn(ImageDraw.Draw(img))
    return float(np.asarray(img)[..., 0].astype(bool).mean())


@pytest.mark.parametrize(("group", "r"), [("valence", 21.0), ("valence", 25.0), ("null", 12.0)])
def test_object_kinds_of_a_pair_cover_equal_areas(group: str, r: float) -> None:
    """No concept may have more coloured pixels than its partner (a raw-pixel cue).

    Expected area over random placement: averaged over sub-pixel offsets and nearby sizes.
    """
    kinds = [k for k, (_, g) in OBJECT_KINDS.items() if g == group]
    areas = {}
    for k in kinds:
        areas[k] = np.mean([
            _coverage(lambda d, k=k, ox=ox, oy=oy, rr=rr: draw_object(
                d, k, 64 + ox, 64 + oy, rr, (255,) * 3, (255,) * 3))
            for ox in (0.0, 0.33, 0.67) for oy in (0.1, 0.45, 0.8) for rr in (r, r + 0.5, r + 1)])
    mean = np.mean(list(areas.values()))
    for k, a in areas.items():
        assert abs(a - mean) / mean < 0.04, (k, areas)


def test_office_and_home_textures_cover_equal_areas() -> None:
    rng = np.random.default_rng(0)
    cover: dict[str, list[float]] = {"office": [], "home": []}
    for _ in range(40):
        step, dx, dy = rng.uniform(28, 38), rng.uniform(0, 28), rng.uniform(0, 28)
        for scene in cover:
            cover[scene].append(texture_mask(scene, 128, 128, step, dx, dy).mean())
    office, home = np.mean(cover["office"]), np.mean(cover["home"])
    assert abs(office - 0.3276) < 0.01 and abs(home - 0.3276) < 0.01, (office, home)
    assert not texture_mask("plain", 128, 128, 30, 0, 0).any()


def test_stripes_cover_what_the_grid_covers_with_one_line_family() -> None:
    rng = np.random.default_rng(1)
    for scene in ("office", "home"):
        cover = []
        for _ in range(40):
            step, dx, dy = rng.uniform(28, 38), rng.uniform(0, 28), rng.uniform(0, 28)
            stripes = texture_mask(scene, 128, 128, step, dx, dy, "stripes")
            grid = texture_mask(scene, 128, 128, step, dx, dy)
            cover.append(stripes.mean())
            if scene == "office":  # upright stripes: every row is the same, columns alternate
                assert (stripes == stripes[:1]).all() and not (grid == grid[:1]).all()
        assert abs(np.mean(cover) - 0.33) < 0.01, (scene, np.mean(cover))
    with pytest.raises(VitbiasError, match="unknown texture lines 'dots'"):
        texture_mask("office", 64, 64, 20, 0, 0, "dots")
