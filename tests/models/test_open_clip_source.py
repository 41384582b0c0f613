"""open_clip image towers: a registered tiny arch from a file, a local folder, preprocessing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from bias.errors import VitbiasError
from bias.models import load_model
from bias.models.open_clip_source import file_preprocessing
from models.tiny import (
    OPEN_CLIP_PP,
    register_tiny_open_clip,
    save_weights,
    tiny_open_clip,
    tiny_open_clip_dir,
)


@pytest.fixture(scope="module")
def arch(tmp_path_factory):
    return register_tiny_open_clip(tmp_path_factory.mktemp("oc_configs"))


def visual_equal(loaded, clip) -> bool:
    ref = clip.visual.state_dict()
    got = loaded.module.state_dict()
    return got.keys() == ref.keys() and all(torch.equal(got[k], ref[k]) for k in ref)


def test_file_loads_image_tower(tmp_path, arch):
    clip = tiny_open_clip(seed=1)
    path = save_weights(clip.state_dict(), tmp_path / "clip.safetensors")
    loaded = load_model(f"open_clip:{arch}@{path}")
    assert loaded.family == "open_clip" and visual_equal(loaded, clip)
    assert not loaded.module.training
    # No config next to the file and no pretrained tags: open_clip's default, said so.
    assert loaded.preprocessing["source"] == "open_clip default"
    assert loaded.preprocessing["size"] == [32, 32]


def test_config_next_to_file_gives_preprocessing(tmp_path, arch):
    clip = tiny_open_clip(seed=2)
    path = save_weights(clip.state_dict(), tmp_path / "clip.pth")
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"preprocess_cfg": OPEN_CLIP_PP}))
    loaded = load_model(f"open_clip:{arch}@{path}")
    assert loaded.preprocessing["mean"] == OPEN_CLIP_PP["mean"]
    assert loaded.preprocessing["resize_mode"] == "squash"
    assert visual_equal(loaded, clip)


def test_local_dir_like_hub_snapshot(tmp_path):
    folder = tiny_open_clip_dir(tmp_path / "snapshot", seed=3)
    loaded = load_model(f"open_clip:anything@{folder}")
    assert visual_equal(loaded, tiny_open_clip(seed=3))
    pp = loaded.preprocessing
    assert pp["mean"] == OPEN_CLIP_PP["mean"] and pp["std"] == OPEN_CLIP_PP["std"]
    # The transform really normalises with them: a constant image v gives (v - mean) / std.
    x = loaded.transform(Image.new("RGB", (50, 40), (51, 102, 153)))
    assert x.shape == (3, 32, 32)
    expected = (np.array([0.2, 0.4, 0.6]) - OPEN_CLIP_PP["mean"]) / np.array(OPEN_CLIP_PP["std"])
    np.testing.assert_allclose(x.mean(dim=(1, 2)).numpy(), expected, atol=1e-5)


def test_weights_file_of_known_arch_gets_its_tags_preprocessing(tmp_path):
    """SigLIP normalises with 0.5 and squashes; open_clip's file default would not."""
    pp, source = file_preprocessing("ViT-B-16-SigLIP", tmp_path / "w.safetensors")
    assert pp["mean"] == (0.5, 0.5, 0.5) and pp["resize_mode"] == "squash"
    assert source == "pretrained tags of ViT-B-16-SigLIP"
    pp, _ = file_preprocessing("ViT-B-32", tmp_path / "w.safetensors")
    assert pp["mean"] == pytest.approx((0.48145466, 0.4578275, 0.40821073))


def test_open_clip_errors(tmp_path, arch):
    with pytest.raises(VitbiasError, match="unknown open_clip arch"):
        load_model("open_clip:ViT-Q-99@openai")
    with pytest.raises(VitbiasError, match="laion2b_s34b_b79k"):  # lists the known tags
        load_model("open_clip:ViT-B-32@no_such_tag")
    with pytest.raises(VitbiasError, match="file or folder not found"):
        load_model(f"open_clip:ViT-B-32@{tmp_path / 'gone' / 'w'}")
    with pytest.raises(VitbiasError, match=r"lacks open_clip_config\.json"):
        load_model(f"open_clip:ViT-B-32@{tmp_path}")
    wrong = save_weights(tiny_open_clip().visual.state_dict(), tmp_path / "visual_only.pth")
    with pytest.raises(VitbiasError, match="cannot load open_clip model"):
        load_model(f"open_clip:{arch}@{wrong}")
