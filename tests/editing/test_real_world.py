"""The editing stage on a real (small) generated world from bias.world."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import bias.world as world_mod
from bias.cli import main
from bias.editing.data import load_images, read_data
from bias.editing.judge import flip_scores, train_pixel_judge


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "world"
    return world_mod.generate_world(out, size=32, n_train=300, n_stimuli=2, seed=0)


def render(params) -> torch.Tensor:
    arr = np.asarray(world_mod.render_scene(params), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)


def test_judge_recognises_ground_truth_counterfactuals(world):
    """The world can re-render a scene with one attribute flipped: a perfect edit. The judge,
    trained on the world's labels only, must call (nearly) all of them flipped."""
    data = read_data(world)
    images = load_images(data.root, data.table["file"].tolist())
    judge, _ = train_pixel_judge(images, data.table, data.attributes, steps=200,
                                      batch_size=32, seed=0)
    rows = data.table.tail(40).to_dict("records")
    for attr in data.attributes:
        flipped = [world_mod.flip_attribute(world_mod.SceneParams.from_row(r), attr)
                   for r in rows]
        scores = flip_scores(judge, torch.stack([render(p) for p in flipped]), attr,
                             [getattr(p, attr) for p in flipped])
        assert (scores > 0.5).float().mean() >= 0.9, attr
        originals = torch.stack([render(world_mod.SceneParams.from_row(r)) for r in rows])
        assert torch.allclose(originals, load_images(data.root, [r["file"] for r in rows]),
                              atol=1 / 255 + 1e-6)  # re-rendering reproduces the image


def test_cli_on_a_generated_world(world, tmp_path):
    assert main(["-q", "train-editor", "--world", str(world), "--out", str(tmp_path / "ed"),
                 "--steps", "6", "--batch-size", "8", "--channels", "8,16"]) == 0
    assert main(["-q", "counterfactuals", "--editor", "diffedit", "--editor-path",
                 str(tmp_path / "ed"), "--data", str(world), "--out", str(tmp_path / "cf"),
                 "--attribute", "gender", "--limit", "4", "--steps", "3", "--mask-draws", "1",
                 "--judge-steps", "20", "--min-flip", "0", "--max-outside-change", "1"]) == 0
    meta = pd.read_csv(tmp_path / "cf" / "metadata.csv")
    source = pd.read_csv(world / "metadata.csv").set_index("file")
    assert len(meta) == 4
    for row in meta.to_dict("records"):
        src = source.loc[row["source_file"]]
        assert row["gender"] != src["gender"] and row["tone"] == src["tone"]
        assert row["scene"] == src["scene"] and row["person_x"] == src["person_x"]
        assert row["class"] == src["class"]
        img = load_images(tmp_path / "cf", [row["file"]])
        assert img.shape == (1, 3, 32, 32)
    doc = json.loads((tmp_path / "cf" / "edits.json").read_text())
    assert doc["values"] == ["female", "male"] and doc["attribute"] == "gender"


class _Oracle:
    """Returns the world's own re-render with the attribute flipped: a perfect editor."""

    def __init__(self, rows_by_image):
        self.rows = rows_by_image

    def edit(self, images, requests, seeds):
        from bias.editing.base import EditOutput
        from bias.editing.evaluate import ground_truth

        rows = [self.rows[s] for s in seeds]
        gt, person = ground_truth(rows, requests[0].attribute)
        return EditOutput(images=gt, masks=person)

    def describe(self):
        return {"editor": "oracle"}


class _Identity:
    def edit(self, images, requests, seeds):
        from bias.editing.base import EditOutput

        return EditOutput(images=images.clone(), masks=torch.zeros_like(images[:, :1]))

    def describe(self):
        return {"editor": "identity"}


def test_evaluation_scores_perfect_and_null_editors(world):
    from bias.editing.evaluate import evaluate_world_edits
    from bias.editing.plan import plan_edits

    data = read_data(world)
    judge, _ = train_pixel_judge(load_images(data.root, data.table["file"].tolist()),
                                 data.table, data.attributes, steps=200, batch_size=32, seed=0)
    jobs = plan_edits(data.table, "gender", ("female", "male"), "both", [], 0,
                      list(data.attributes), 32)
    oracle = _Oracle({j.seed: data.table.iloc[j.row].to_dict() for j in jobs})
    perfect = evaluate_world_edits(oracle, world, "gender", n=32, judge=judge, batch_size=8)
    assert perfect["person_error_edit"] == pytest.approx(0.0, abs=1e-6)
    assert perfect["person_error_ratio"] == pytest.approx(0.0, abs=1e-6)
    assert perfect["flip_rate"] == perfect["gt_flip_rate"] >= 0.9
    assert perfect["mask_iou"] == pytest.approx(1.0) and perfect["mask_recall"] == 1.0
    null = evaluate_world_edits(_Identity(), world, "gender", n=32, judge=judge)
    assert null["person_error_ratio"] == pytest.approx(1.0)
    assert null["flip_rate"] <= 0.1 and null["outside_change"] == 0.0
    assert null["mask_iou"] == 0.0
