"""The built-in world editor: attribute codec, training, saving and loading without pickle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from bias.editing.base import EditRequest
from bias.editing.conditional_unet import AttributeCodec, load_world_editor, train_world_editor
from bias.editing.world_editor import WorldDiffEditEditor
from bias.errors import VitbiasError

from .helpers import make_world

TINY_UNET = {"block_out_channels": [8, 16], "down_block_types": ["DownBlock2D"] * 2,
             "up_block_types": ["UpBlock2D"] * 2, "norm_num_groups": 4}


def test_codec_enumerates_every_combination_plus_null():
    codec = AttributeCodec({"tone": ["light", "dark"], "gender": ["a", "b", "c"]})
    ids = [codec.encode({"tone": t, "gender": g}) for t in ("light", "dark")
           for g in ("a", "b", "c")]
    assert ids == list(range(6))
    assert codec.null_id == 6 and codec.num_class_embeds == 7
    assert all(codec.encode(codec.decode(i)) == i for i in range(6))
    with pytest.raises(VitbiasError, match="purple"):
        codec.encode({"tone": "purple", "gender": "a"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("editor")
    world = make_world(tmp / "world", n=24, size=16)
    doc = train_world_editor(world, tmp / "editor", steps=40, batch_size=8, lr=3e-3, seed=0,
                             unet=TINY_UNET)
    return world, tmp / "editor", doc


def test_training_loss_is_finite_and_falls(trained):
    _, _, doc = trained
    losses = doc["train"]["losses"]
    assert len(losses) == 40 and all(math.isfinite(x) for x in losses)
    # eps-prediction starts near E|eps|^2 = 1 and must drop well below it.
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:5]) / 5


def test_saved_editor_reloads_identically_from_safetensors(trained):
    _, editor_dir, _ = trained
    assert sorted(p.name for p in editor_dir.iterdir()) == ["editor.json", "unet.safetensors"]
    meta = json.loads((editor_dir / "editor.json").read_text())
    assert meta["attributes"] == {"tone": ["light", "dark"], "gender": ["a", "b"]}
    assert meta["unet_config"]["num_class_embeds"] == 5 and meta["image_size"] == 16
    unet_a, _ = load_world_editor(editor_dir)
    unet_b, _ = load_world_editor(editor_dir)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(unet_a(x, 10, class_labels=torch.tensor([0, 4])).sample,
                       unet_b(x, 10, class_labels=torch.tensor([0, 4])).sample)


def test_same_seed_same_weights(trained, tmp_path):
    world, editor_dir, doc = trained
    doc2 = train_world_editor(world, tmp_path / "again", steps=40, batch_size=8, lr=3e-3,
                              seed=0, unet=TINY_UNET)
    assert doc2["train"]["losses"] == doc["train"]["losses"]
    assert (tmp_path / "again" / "unet.safetensors").read_bytes() == \
        (editor_dir / "unet.safetensors").read_bytes()


def test_editor_edits_world_images(trained):
    from bias.editing.data import load_images, read_data

    world, editor_dir, _ = trained
    editor = WorldDiffEditEditor(editor_dir, num_steps=5, mask_draws=1)
    data = read_data(world)
    rows = data.table.head(2).to_dict("records")
    x = load_images(data.root, [r["file"] for r in rows])
    reqs = [EditRequest("tone", {"tone": r["tone"], "gender": r["gender"]},
                        {"tone": "dark" if r["tone"] == "light" else "light",
                         "gender": r["gender"]}) for r in rows]
    out = editor.edit(x, reqs, [0, 1])
    assert out.images.shape == x.shape and out.masks.shape == (2, 1, 16, 16)
    assert out.images.min() >= 0 and out.images.max() <= 1
    outside = (out.masks == 0).expand_as(x)
    assert torch.allclose(out.images[outside], x[outside], atol=1e-5)
    assert editor.describe()["params"]["num_steps"] == 5


def test_corrupt_or_unsafe_weights_are_refused(trained, tmp_path):
    _, editor_dir, _ = trained
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "editor.json").write_text((editor_dir / "editor.json").read_text())
    import pickle
    (bad / "unet.safetensors").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(VitbiasError, match="safetensors"):
        load_world_editor(bad)
    (bad / "editor.json").write_text("{not json")
    with pytest.raises(VitbiasError, match=r"editor\.json"):
        load_world_editor(bad)


def test_bad_world_leaves_no_output(tmp_path):
    world = make_world(tmp_path / "world", n=8, size=16)
    (world / "world.json").unlink()
    with pytest.raises(VitbiasError, match="attributes"):
        train_world_editor(world, tmp_path / "out", steps=2, unet=TINY_UNET)
    assert not (tmp_path / "out").exists()
    with pytest.raises(VitbiasError, match="not found"):
        train_world_editor(tmp_path / "nowhere", tmp_path / "out", steps=2)
    assert not Path(tmp_path / "out").exists()
