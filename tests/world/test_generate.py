"""Generating a world on disk: layout, contract, determinism, atomicity."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import folder_digest
from PIL import Image

from bias.errors import VitbiasError
from bias.world import SceneParams, generate_world, palette, render_scene
from bias.world import generate as generate_mod
from bias.world.spec import ATTRIBUTES, CONCEPTS

CONTRACT_COLUMNS = ["file", "class", "tone", "gender", "context", "x0", "y0", "x1", "y1"]


def _rows(world: Path) -> list[dict[str, str]]:
    with open(world / "metadata.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_layout_and_world_json_contract(small_world: Path) -> None:
    doc = json.loads((small_world / "world.json").read_text())
    assert doc["attributes"] == {k: list(v) for k, v in ATTRIBUTES.items()}
    assert doc["biases"] == {"valence": 0.8, "career": 0.8}
    assert (doc["size"], doc["seed"], doc["n_train"], doc["n_stimuli"]) == (32, 3, 240, 6)
    class_dirs = sorted(p.name for p in (small_world / "train").iterdir())
    assert doc["classes"] == class_dirs
    assert sum(doc["class_counts"].values()) == 240
    assert "numpy" in doc["versions"]
    for category, concepts in CONCEPTS.items():
        for concept in concepts:
            files = sorted((small_world / "stimuli" / category / concept).glob("*.png"))
            assert len(files) == 6, (category, concept)
    assert not list(small_world.parent.glob(".w.*")), "temporary folder left behind"


def test_metadata_rows_describe_their_images(small_world: Path) -> None:
    rows = _rows(small_world)
    assert len(rows) == 240
    assert set(CONTRACT_COLUMNS) <= set(rows[0]) and next(iter(rows[0])) == "file"
    for row in rows:
        path = small_world / "train" / row["file"]
        assert path.parent.name == row["class"] and path.is_file()
        assert row["tone"] in ATTRIBUTES["tone"] and row["gender"] in ATTRIBUTES["gender"]
        assert row["context"] == f"valence/{row['valence']}"
        assert row["class"] == f"{row['obj']}-{row['scene']}"
        x0, y0, x1, y1 = (int(row[k]) for k in ("x0", "y0", "x1", "y1"))
        assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32
    for row in rows[:25]:  # the stored parameters redraw the stored image exactly
        stored = np.asarray(Image.open(small_world / "train" / row["file"]).convert("RGB"))
        assert np.array_equal(np.asarray(render_scene(SceneParams.from_row(row))), stored)


def test_person_box_holds_the_person(small_world: Path) -> None:
    """Outside the box, a scene with and without its person is identical."""
    for row in _rows(small_world)[:20]:
        p = SceneParams.from_row(row)
        diff = np.any(np.asarray(render_scene(p)) != np.asarray(render_scene(p.replace(tone=""))),
                      axis=-1)
        ys, xs = np.nonzero(diff)
        x0, y0, x1, y1 = (int(row[k]) for k in ("x0", "y0", "x1", "y1"))
        assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1


def test_stimuli_table_matches_files(small_world: Path) -> None:
    with open(small_world / "stimuli.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 * sum(len(v) for v in CONCEPTS.values())
    for row in rows[::7]:
        stored = np.asarray(Image.open(small_world / "stimuli" / row["file"]).convert("RGB"))
        assert np.array_equal(np.asarray(render_scene(SceneParams.from_row(row))), stored)
        assert row["file"].startswith(row["concept"] + "/")


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    kw = {"n_train": 60, "n_stimuli": 3, "size": 32}
    a = folder_digest(generate_world(tmp_path / "a", seed=5, **kw))
    b = folder_digest(generate_world(tmp_path / "b", seed=5, **kw))
    c = folder_digest(generate_world(tmp_path / "c", seed=6, **kw))
    assert a == b
    assert a != c


def test_size_64_world(tmp_path: Path) -> None:
    out = generate_world(tmp_path / "big", size=64, n_train=20, n_stimuli=2)
    img = Image.open(next((out / "train").rglob("*.png")))
    assert img.size == (64, 64)
    assert all(int(r["x1"]) <= 64 for r in _rows(out))


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"size": 8}, "size"), ({"size": 32.0}, "size"), ({"n_train": 0}, "n_train"),
    ({"n_stimuli": 1}, "n_stimuli"), ({"seed": -1}, "seed"), ({"biases": {"age": 0.5}}, "age"),
    ({"biases": {"valence": 2}}, "valence"),
])
def test_bad_arguments_are_named_and_write_nothing(tmp_path: Path, kwargs: dict,
                                                   named: str) -> None:
    with pytest.raises(VitbiasError, match=named):
        generate_world(tmp_path / "w", **{"n_train": 10, "n_stimuli": 2, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = generate_mod.render_scene

    def flaky(params: SceneParams) -> Image.Image:
        calls["n"] += 1
        if calls["n"] > 30:
            raise OSError("disk full")
        return real(params)

    monkeypatch.setattr(generate_mod, "render_scene", flaky)
    with pytest.raises(OSError, match="disk full"):
        generate_world(tmp_path / "w", n_train=50, n_stimuli=2)
    assert list(tmp_path.iterdir()) == []


def test_previous_world_is_kept_when_regeneration_fails(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = generate_world(tmp_path / "w", n_train=10, n_stimuli=2, seed=1)
    before = folder_digest(out)
    monkeypatch.setattr(generate_mod, "render_scene", lambda p: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        generate_world(out, n_train=10, n_stimuli=2, seed=2)
    assert folder_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]


def test_refuses_to_replace_a_folder_that_is_not_a_world(tmp_path: Path) -> None:
    victim = tmp_path / "thesis"
    victim.mkdir()
    (victim / "chapter1.tex").write_text("precious")
    with pytest.raises(VitbiasError, match="thesis"):
        generate_world(victim, n_train=10, n_stimuli=2)
    assert (victim / "chapter1.tex").read_text() == "precious"


def test_rows_read_with_pandas_rerender_too(small_world: Path) -> None:
    """Downstream code reads metadata with pandas (NaN for absent parts, numpy scalars)."""
    pd = pytest.importorskip("pandas")
    for name, root in (("metadata.csv", "train"), ("stimuli.csv", "stimuli")):
        df = pd.read_csv(small_world / name)
        for _, row in df.iloc[::9].iterrows():
            stored = np.asarray(Image.open(small_world / root / row["file"]).convert("RGB"))
            redrawn = np.asarray(render_scene(SceneParams.from_row(row.to_dict())))
            assert np.array_equal(redrawn, stored), row["file"]


def _stimulus_rows(world: Path) -> list[dict[str, str]]:
    with open(world / "stimuli.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_object_scale_and_training_layout(tmp_path: Path) -> None:
    world = generate_world(tmp_path / "w", n_train=60, n_stimuli=8, seed=2, object_scale=2.0,
                           stimulus_layout="training")
    doc = json.loads((world / "world.json").read_text())
    assert (doc["object_scale"], doc["stimulus_layout"]) == (2.0, "training")
    radii = [float(r["obj_r"]) for r in _rows(world)]
    assert min(radii) >= 0.34 and max(radii) <= 0.44  # 2 x (0.17 .. 0.22)
    stim = _stimulus_rows(world)
    persons = [r for r in stim if r["tone"]]
    objects = [r for r in stim if r["concept"].startswith("valence/")]
    assert all(abs(float(r["person_x"]) - 0.27) <= 0.05 or abs(float(r["person_x"]) - 0.73)
               <= 0.05 for r in persons)
    assert {float(r["person_x"]) < 0.5 for r in persons} == {True, False}  # both sides
    assert all(min(abs(float(r["obj_x"]) - c) for c in (0.28, 0.72)) <= 0.05 for r in objects)
    assert all(0.34 <= float(r["obj_r"]) <= 0.44 for r in objects)
    # still matched: light person i and dark person i stand at the same place
    by_index = {}
    for r in persons:
        if r["concept"].startswith("tone/"):
            by_index.setdefault(r["file"][-7:], set()).add(r["person_x"])
    assert all(len(xs) == 1 for xs in by_index.values())


def test_default_geometry_spreads_stimuli_over_the_middle(small_world: Path) -> None:
    doc = json.loads((small_world / "world.json").read_text())
    assert (doc["object_scale"], doc["stimulus_layout"]) == (1.0, "centre")
    xs = [float(r["person_x"]) for r in _stimulus_rows(small_world) if r["tone"]]
    assert all(0.3 <= x <= 0.7 for x in xs)


def _near(colour: str, choices: tuple[palette.RGB, ...], jitter: float) -> bool:
    rgb = np.asarray(palette.from_hex(colour), float)
    return any(np.abs(rgb - np.asarray(c)).max() <= jitter + 0.5 for c in choices)


def test_plain_palette_draws_one_colour_per_role(tmp_path: Path) -> None:
    world = generate_world(tmp_path / "w", n_train=80, n_stimuli=6, seed=4, palette="plain")
    assert json.loads((world / "world.json").read_text())["palette"] == "plain"
    plain = palette.PALETTES["plain"]
    rows = _rows(world) + _stimulus_rows(world)
    assert all(_near(r["wall"], plain.walls, 14) for r in rows)
    assert all(_near(r["hair"], plain.hair, 10) for r in rows if r["tone"])
    assert all(_near(r["cloth"], plain.objects, 14) for r in rows if r["tone"])
    clear = [r for r in _rows(world) if float(r["obj_fade"]) == 0]  # faded ones mix with wall
    assert clear
    assert all(_near(r[c], plain.objects, 14) for r in clear for c in ("obj_c1", "obj_c2"))
    # the varied default really varies: more than one wall colour in the same number of rows
    varied = generate_world(tmp_path / "v", n_train=80, n_stimuli=6, seed=4)
    assert not all(_near(r["wall"], plain.walls, 14) for r in _rows(varied))


@pytest.mark.parametrize("name", sorted(palette.PALETTES))
def test_every_palette_keeps_the_calibration_rule(name: str) -> None:
    """Walls and objects are point-symmetric around grey (no mean colour difference between
    concepts can arise), hair is shared by both tone groups."""
    pal = palette.PALETTES[name]
    for colours in (pal.walls, pal.objects):
        mirrored = {tuple(2 * palette._GREY - v for v in c) for c in colours}
        assert mirrored == set(colours), name
    assert pal.hair


@pytest.mark.parametrize("kw, match", [({"object_scale": 3.0}, r"object_scale must be in"),
                                       ({"object_scale": "big"}, r"object_scale must be a"),
                                       ({"stimulus_layout": "left"}, r"stimulus_layout must"),
                                       ({"palette": "neon"}, r"palette must be one of"),
                                       ({"valence_cue": "floor"}, r"valence_cue must be one")])
def test_bad_geometry_is_named_and_leaves_nothing(tmp_path: Path, kw, match) -> None:
    with pytest.raises(VitbiasError, match=match):
        generate_world(tmp_path / "never", n_train=10, n_stimuli=2, **kw)
    assert not (tmp_path / "never").exists()


def test_wall_valence_cue_crosses_wall_lines_with_orientation(tmp_path: Path) -> None:
    """Training walls: grid iff pleasant. Valence stimuli: empty walls, pair i identical but
    for the lines, half office and half home. Career walls: half grid, half stripes."""
    world = generate_world(tmp_path / "w", n_train=120, n_stimuli=6, seed=2, valence_cue="wall")
    assert json.loads((world / "world.json").read_text())["valence_cue"] == "wall"
    rows = _rows(world)
    assert all(r["tex_lines"] == {"pleasant": "grid", "unpleasant": "stripes"}[r["valence"]]
               for r in rows)
    assert all(r["obj"] for r in rows)  # the object still shows valence too
    stim = _stimulus_rows(world)
    by_concept: dict[str, list[dict[str, str]]] = {}
    for r in stim:
        by_concept.setdefault(r["concept"], []).append(r)
    pleasant, unpleasant = by_concept["valence/pleasant"], by_concept["valence/unpleasant"]
    for p, u in zip(pleasant, unpleasant, strict=True):
        assert (p["tex_lines"], u["tex_lines"]) == ("grid", "stripes")
        assert not p["obj"] and not p["tone"]
        differ = {k for k in p if p[k] != u[k]} - {"file", "concept"}
        assert differ == {"tex_lines"}, differ
    assert sorted(r["scene"] for r in pleasant) == ["home"] * 3 + ["office"] * 3
    for concept in ("career/career", "career/family"):
        assert sorted(r["tex_lines"] for r in by_concept[concept]) == ["grid"] * 3 + ["stripes"] * 3
    for r in rows[:10] + stim[:10]:  # stored parameters still redraw the image
        folder = "train" if r in rows else "stimuli"
        stored = np.asarray(Image.open(world / folder / r["file"]).convert("RGB"))
        assert np.array_equal(np.asarray(render_scene(SceneParams.from_row(r))), stored)


def test_object_cue_worlds_keep_their_images(tmp_path: Path) -> None:
    """The default is the object cue: grid walls everywhere, the same bytes as naming it."""
    a = generate_world(tmp_path / "a", n_train=60, n_stimuli=4, seed=5)
    b = generate_world(tmp_path / "b", n_train=60, n_stimuli=4, seed=5, valence_cue="object")
    assert {r["tex_lines"] for r in _rows(a) + _stimulus_rows(a)} == {"grid"}
    assert folder_digest(a / "train") == folder_digest(b / "train")
    assert folder_digest(a / "stimuli") == folder_digest(b / "stimuli")
