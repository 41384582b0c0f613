"""Edit QA: the pixel judge, flip scores, outside-mask change and the accept/drop rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bias.editing.data import load_images, read_data
from bias.editing.judge import (
    ClipJudge,
    PixelJudge,
    QAThresholds,
    flip_scores,
    load_pixel_judge,
    outside_mask_change,
    review,
    save_pixel_judge,
    train_pixel_judge,
)

from .helpers import make_world


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    world = make_world(tmp_path_factory.mktemp("judge") / "world", n=80, size=16, seed=3)
    data = read_data(world)
    images = load_images(data.root, data.table["file"].tolist())
    judge, report = train_pixel_judge(images, data.table, data.attributes, steps=80,
                                      batch_size=32, seed=0)
    return data, images, judge, report


def test_pixel_judge_learns_the_world_labels(judged):
    data, _, judge, report = judged
    assert report["n_val"] == 16 and report["n_train"] == 64
    # Held-out accuracy, and an independent count on a fresh world with another seed.
    assert min(report["val_accuracy"].values()) >= 0.9
    fresh = make_world(data.data_dir.parent / "fresh", n=40, size=16, seed=11)
    fdata = read_data(fresh)
    probs = judge.probabilities(load_images(fdata.root, fdata.table["file"].tolist()))
    for attr, values in fdata.attributes.items():
        predicted = [values[i] for i in probs[attr].argmax(1).tolist()]
        assert np.mean(np.array(predicted) == fdata.table[attr].to_numpy()) >= 0.9
        assert torch.allclose(probs[attr].sum(1), torch.ones(40))


def test_flip_score_is_the_probability_of_each_target(judged):
    _, images, judge, _ = judged
    probs = judge.probabilities(images[:4])["tone"]
    targets = ["dark", "light", "light", "dark"]
    expected = [float(probs[i, ["light", "dark"].index(t)]) for i, t in enumerate(targets)]
    assert flip_scores(judge, images[:4], "tone", targets).tolist() == pytest.approx(expected)


def test_judge_save_load_roundtrip(judged, tmp_path):
    _, images, judge, report = judged
    save_pixel_judge(judge, report, tmp_path / "j")
    again, meta = load_pixel_judge(tmp_path / "j")
    assert meta["report"] == report
    for attr, p in judge.probabilities(images[:5]).items():
        assert torch.equal(p, again.probabilities(images[:5])[attr])


def test_outside_mask_change_against_numpy():
    rng = np.random.default_rng(0)
    a = rng.random((3, 3, 8, 8)).astype(np.float32)
    b = rng.random((3, 3, 8, 8)).astype(np.float32)
    m = (rng.random((3, 1, 8, 8)) > 0.6).astype(np.float32)
    m[2] = 1.0  # everything inside the mask: nothing outside can change
    got = outside_mask_change(torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(m))
    for i in range(2):
        sel = m[i, 0] == 0
        expected = np.abs(b[i] - a[i]).mean(axis=0)[sel].mean()
        assert got[i].item() == pytest.approx(expected, rel=1e-5)
    assert got[2].item() == 0.0


def test_review_names_the_failed_check():
    t = QAThresholds(min_flip=0.6, max_outside_change=0.05)
    reasons = review(torch.tensor([0.9, 0.3, 0.8, 0.2]), torch.tensor([0.01, 0.01, 0.2, 0.2]), t)
    assert reasons == ["", "not_flipped", "outside_change", "not_flipped"]


def test_clip_judge_wraps_value_scores():
    class FakeScorer:
        def value_scores(self, images, values):
            return torch.tensor([[0.2, 0.8]]).expand(len(images), 2)

    judge = ClipJudge(FakeScorer(), {"gender": ["man", "woman"]})
    assert flip_scores(judge, torch.zeros(2, 3, 4, 4), "gender",
                       ["woman", "man"]).tolist() == pytest.approx([0.8, 0.2])
    assert isinstance(PixelJudge({"a": ["x", "y"]}), torch.nn.Module)
