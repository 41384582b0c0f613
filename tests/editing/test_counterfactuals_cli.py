"""`vitbias train-editor` + `vitbias counterfactuals` end to end on a tiny fake world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bias.cli import main

from .helpers import make_world

FAST = ["--steps", "4", "--mask-draws", "1", "--judge-steps", "30", "--batch-size", "3"]
ACCEPT_ALL = ["--min-flip", "0", "--max-outside-change", "1"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cf")
    world = make_world(tmp / "world", n=16, size=16)
    rc = main(["-q", "train-editor", "--world", str(world), "--out", str(tmp / "editor"),
               "--steps", "10", "--batch-size", "8", "--channels", "8,16"])
    assert rc == 0
    return tmp, world, tmp / "editor"


def cf(setup, out, *extra):
    tmp, world, editor = setup
    return main(["-q", "counterfactuals", "--editor", "diffedit", "--editor-path", str(editor),
                 "--data", str(world), "--out", str(tmp / out), *FAST, *extra])


def stamps(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*.png"))}


def test_resume_keeps_finished_images_and_matches_a_fresh_run(setup):
    tmp = setup[0]
    assert cf(setup, "resumed", "--limit", "5", *ACCEPT_ALL) == 0
    first = json.loads((tmp / "resumed" / "edits.json").read_text())
    assert first["counts"]["planned"] == 5 and first["counts"]["accepted"] == 5
    before = stamps(tmp / "resumed")
    assert len(before) == 5
    stale = tmp / "resumed" / "flower" / ".img_0009__tone-dark.png.tmp.png"
    stale.write_bytes(b"half an image from a killed run")

    assert cf(setup, "resumed", *ACCEPT_ALL) == 0
    doc = json.loads((tmp / "resumed" / "edits.json").read_text())
    assert doc["counts"] == {"planned": 16, "edited_this_run": 11, "resumed": 5,
                             "accepted": 16, "dropped": {}, "skipped": {},
                             "classes_without_edits": []}
    after = stamps(tmp / "resumed")
    assert {k: after[k] for k in before} == before  # not rewritten
    assert not stale.exists()
    assert len((tmp / "resumed" / ".journal.jsonl").read_text().splitlines()) == 16

    # Per-item seeds: an uninterrupted run with another batch size gives the same images, up
    # to float rounding of differently sized batches (at most one 8-bit level here and there).
    assert cf(setup, "fresh", "--batch-size", "16", *ACCEPT_ALL) == 0
    for rel in after:
        a = np.asarray(Image.open(tmp / "fresh" / rel), dtype=int)
        b = np.asarray(Image.open(tmp / "resumed" / rel), dtype=int)
        assert np.abs(a - b).max() <= 1 and (a != b).mean() < 0.01


def test_metadata_describes_every_accepted_edit(setup):
    tmp, world, _ = setup
    assert cf(setup, "meta", *ACCEPT_ALL) == 0
    out = tmp / "meta"
    meta = pd.read_csv(out / "metadata.csv")
    source = pd.read_csv(world / "metadata.csv").set_index("file")
    assert len(meta) == 16 and meta["accepted"].all()
    for row in meta.to_dict("records"):
        assert (out / row["file"]).is_file()
        assert row["file"].startswith(row["class"] + "/")
        src = source.loc[row["source_file"]]
        assert row["from_value"] == src["tone"] != row["to_value"] == row["tone"]
        assert row["gender"] == src["gender"] and row["x0"] == src["x0"]
        assert row["edited_attribute"] == "tone" and 0 <= row["flip_score"] <= 1
    assert json.loads((out / "world.json").read_text())["attributes"]["tone"] == \
        ["light", "dark"]
    doc = json.loads((out / "edits.json").read_text())
    assert doc["editor"]["params"]["num_steps"] == 4 and doc["config"]["seed"] == 0
    assert doc["judge"]["kind"] == "pixel-cnn" and (out / "judge.json").is_file()


def test_output_is_an_image_folder_with_the_world_classes(setup):
    """The contract with `vitbias train --data WORLD/train --data CF`: torchvision's
    ImageFolder reads the set directly and finds the same classes. The world's train/ folder
    itself is accepted as --data (labels read from its parent)."""
    from torchvision.datasets import ImageFolder

    tmp, world, editor = setup
    assert main(["-q", "counterfactuals", "--editor", "diffedit", "--editor-path", str(editor),
                 "--data", str(world / "train"), "--out", str(tmp / "folder"), "--limit", "4",
                 *FAST, *ACCEPT_ALL]) == 0
    cf, orig = ImageFolder(str(tmp / "folder")), ImageFolder(str(world / "train"))
    assert cf.classes == orig.classes and len(cf) == 4
    assert sorted(cf.targets) == [0, 0, 1, 1]  # --limit takes classes in turn


def test_strict_thresholds_drop_and_count(setup):
    tmp = setup[0]
    assert cf(setup, "strict", "--min-flip", "0.999", "--direction", "a-to-b") == 0
    out = tmp / "strict"
    doc = json.loads((out / "edits.json").read_text())
    meta, dropped = pd.read_csv(out / "metadata.csv"), pd.read_csv(out / "dropped.csv")
    assert doc["counts"]["planned"] == 8  # the 8 light-toned persons only
    assert set(meta["from_value"]) | set(dropped["from_value"]) == {"light"}
    assert len(meta) == doc["counts"]["accepted"]
    assert len(dropped) == sum(doc["counts"]["dropped"].values()) == 8 - len(meta)
    assert dropped["drop_reason"].isin(["not_flipped", "outside_change"]).all()
    assert (dropped["flip_score"] < 0.999).sum() == (dropped["drop_reason"] == "not_flipped").sum()
    assert doc["counts"]["classes_without_edits"] == sorted(
        {"flower", "tool"} - set(meta["class"]))
    assert len(list(out.rglob("*.png"))) == len(meta)


def test_changed_settings_are_refused(setup):
    assert cf(setup, "guarded", "--limit", "2") == 0
    assert cf(setup, "guarded", "--limit", "2", "--encode-ratio", "0.3") == 2
    assert cf(setup, "guarded", "--limit", "4") == 0  # a new limit is fine


def test_bad_inputs_fail_cleanly(setup, tmp_path, capsys):
    _, world, editor = setup
    base = ["counterfactuals", "--editor-path", str(editor), "--out", str(tmp_path / "o")]
    assert main([*base, "--editor", "nope", "--data", str(world)]) == 2
    assert main([*base, "--editor", "diffedit", "--data", str(tmp_path / "none")]) == 2
    assert "data folder not found" in capsys.readouterr().err
    assert main([*base, "--editor", "diffedit", "--data", str(world),
                 "--attribute", "height"]) == 2
    assert "attribute 'height' is not one of the world's" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

    broken = make_world(tmp_path / "broken", n=4, size=16)
    first = pd.read_csv(broken / "metadata.csv")["file"][0]
    (broken / "train" / first).write_bytes(b"not a png")
    assert main(["counterfactuals", "--editor", "diffedit", "--editor-path", str(editor),
                 "--data", str(broken), "--out", str(tmp_path / "b"), *FAST]) == 2
    assert f"cannot read image {broken / 'train' / first}" in capsys.readouterr().err
    assert not (tmp_path / "b" / "metadata.csv").exists()


def test_cli_directions_match_the_library():
    from bias.commands import counterfactuals as command
    from bias.editing import selection

    assert command.DIRECTIONS == selection.DIRECTIONS
