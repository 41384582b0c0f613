"""Counterfactuals of unlabelled photos: open_clip selection + SD DiffEdit + CLIP judge."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bias.editing import create_editor
from bias.editing.counterfactuals import CounterfactualConfig, run_counterfactuals
from bias.editing.judge import QAThresholds
from bias.errors import VitbiasError


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for cls in ("beach", "office"):
        (tmp_path / "photos" / "train" / cls).mkdir(parents=True)
        for i in range(3):
            rel = f"{cls}/{i}.png"
            Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(
                tmp_path / "photos" / "train" / rel)
            rows.append({"file": rel, "class": cls,
                         "caption": "A man and his dog on a beach" if i == 0 else ""})
    pd.DataFrame(rows).to_csv(tmp_path / "photos" / "metadata.csv", index=False)
    return tmp_path / "photos"


def test_photos_end_to_end(photos, tiny_sd_dir, tiny_clip_dir, tmp_path):
    editor = create_editor("diffedit", path=tiny_sd_dir, resolution=16, num_steps=3,
                           mask_draws=1)
    cfg = CounterfactualConfig(clip=str(tiny_clip_dir), min_person=0.0, min_confidence=0.0,
                               thresholds=QAThresholds(0.0, 1.0), image_size=16, batch_size=4)
    doc = run_counterfactuals(editor, photos, tmp_path / "out", cfg)
    meta = pd.read_csv(tmp_path / "out" / "metadata.csv", keep_default_na=False)
    assert doc["judge"]["kind"] == "clip" and doc["attribute"] == "gender"
    assert doc["counts"]["planned"] == len(meta) == 6
    assert (meta["gender"] == meta["to_value"]).all()
    assert set(meta["from_value"]) <= {"man", "woman"} and (meta["from_value"] !=
                                                           meta["to_value"]).all()
    for row in meta.to_dict("records"):
        im = Image.open(tmp_path / "out" / row["file"])
        assert im.size == (16, 16)
        if row["caption"]:
            assert row["source_prompt"] == "A man and his dog on a beach"
            assert row["target_prompt"] == "A woman and her dog on a beach"
        else:
            assert row["source_prompt"] == f"a photo of a {row['from_value']}"
            assert row["target_prompt"] == f"a photo of a {row['to_value']}"
    assert not (tmp_path / "out" / "world.json").exists()
    assert json.loads((tmp_path / "out" / "edits.json").read_text())["counts"]["skipped"] == \
        {"no_person": 0, "unclear_value": 0}


def test_photos_need_clip_and_people(photos, tiny_sd_dir, tiny_clip_dir, tmp_path):
    editor = create_editor("diffedit", path=tiny_sd_dir, resolution=16, num_steps=2)
    with pytest.raises(VitbiasError, match="--clip"):
        run_counterfactuals(editor, photos, tmp_path / "a", CounterfactualConfig())
    cfg = CounterfactualConfig(clip=str(tiny_clip_dir), min_person=1.01, image_size=16)
    with pytest.raises(VitbiasError, match="nothing to edit"):
        run_counterfactuals(editor, photos, tmp_path / "b", cfg)
    assert not (tmp_path / "b").exists()
