"""``vitbias world`` end to end, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias.cli import main
from bias.stimuli import load_catalog


def test_world_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    rc = main(["-q", "world", "--out", str(out), "--size", "32", "--train", "40",
               "--stimuli", "3", "--bias", "valence=0.5", "--bias", "career=0", "--seed", "7"])
    assert rc == 0
    doc = json.loads((out / "world.json").read_text())
    assert doc["biases"] == {"valence": 0.5, "career": 0.0}
    assert (doc["seed"], doc["n_train"], doc["n_stimuli"]) == (7, 40, 3)
    assert len(list((out / "train").rglob("*.png"))) == 40
    planted = {t.name: t.planted_beta for t in load_catalog(out / "catalog.yaml")}
    assert planted["Tone-Valence"] == 0.5 and planted["Gender-Career"] == 0.0
    assert (doc["object_scale"], doc["stimulus_layout"]) == (1.0, "centre")


def test_world_command_choices_match_the_library() -> None:
    from bias.commands import world as command
    from bias.world.palette import PALETTES
    from bias.world.spec import VALENCE_CUES
    from bias.world.stimulus_sets import LAYOUTS

    assert command.LAYOUT_CHOICES == LAYOUTS
    assert set(command.PALETTE_CHOICES) == set(PALETTES)
    assert command.VALENCE_CUE_CHOICES == VALENCE_CUES


def test_world_command_geometry_flags(tmp_path: Path) -> None:
    out = tmp_path / "big"
    assert main(["-q", "world", "--out", str(out), "--train", "20", "--stimuli", "2",
                 "--object-scale", "1.5", "--stimulus-layout", "training"]) == 0
    doc = json.loads((out / "world.json").read_text())
    assert (doc["object_scale"], doc["stimulus_layout"]) == (1.5, "training")
    assert doc["palette"] == "varied"
    assert main(["-q", "world", "--out", str(out), "--train", "20", "--stimuli", "2",
                 "--palette", "plain"]) == 0
    assert json.loads((out / "world.json").read_text())["palette"] == "plain"
    assert json.loads((out / "world.json").read_text())["valence_cue"] == "object"
    assert main(["-q", "world", "--out", str(out), "--train", "20", "--stimuli", "2",
                 "--valence-cue", "wall"]) == 0
    assert json.loads((out / "world.json").read_text())["valence_cue"] == "wall"


@pytest.mark.parametrize(("argv", "named"), [
    (["--bias", "wealth=0.5"], "wealth"),
    (["--bias", "valence=1.2"], "1.2"),
    (["--bias", "valence"], "NAME=BETA"),
    (["--size", "4"], "size"),
    (["--train", "0"], "n_train"),
    (["--stimuli", "1"], "n_stimuli"),
])
def test_bad_input_exits_2_naming_it_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str) -> None:
    out = tmp_path / "w"
    rc = main(["world", "--out", str(out), "--train", "5", "--stimuli", "2", *argv])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ERROR" in err[0] and named in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_help_lists_world(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["world", "--help"])
    assert "--bias" in capsys.readouterr().out
