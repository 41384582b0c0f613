"""Crafted pickles are refused before any library unpickles them; nothing runs."""

from __future__ import annotations

import argparse
import pickle

import pytest
import torch

from bias.errors import VitbiasError
from bias.models import check_weights_file, load_model
from models.tiny import TIMM_ARCH, TINY, Evil, save_weights, tiny_open_clip_dir, tiny_timm


def crafted(tmp_path, how: str):
    """A weights file whose unpickling would run ``touch marker``; returns (file, marker)."""
    marker = tmp_path / "PWNED"
    payload = {"pos_embed": torch.zeros(1), "evil": Evil(marker)}
    path = tmp_path / f"evil_{how}.pth"
    if how == "torch":
        torch.save(payload, path)  # zip format, data.pkl inside
    else:  # a bare pickle, as an old or hand-made file would be (no tensors: plain pickle
        # stores those through a global that the check refuses before reaching the payload)
        with open(path, "wb") as f:
            protocol = 2 if how == "pickle2" else pickle.DEFAULT_PROTOCOL
            pickle.dump({"evil": payload["evil"]}, f, protocol=protocol)
    return path, marker


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["torch", "pickle2", "pickle"])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, how):
    path, marker = crafted(tmp_path, how)
    with pytest.raises(VitbiasError, match="refusing to load") as err:
        load_model(f"timm:{TIMM_ARCH}@{path}", **TINY)
    assert str(path) in str(err.value)
    if how != "pickle":  # protocol 4 is refused earlier, at its first unsupported opcode
        assert "posix.system" in str(err.value)
    assert "weights_only=False" not in str(err.value)  # never advise disabling the check
    assert not marker.exists()


def test_crafted_pickle_refused_for_open_clip_file_and_dir(tmp_path):
    path, marker = crafted(tmp_path, "torch")
    with pytest.raises(VitbiasError, match="refusing to load"):
        load_model(f"open_clip:ViT-B-32@{path}")
    folder = tiny_open_clip_dir(tmp_path / "oc")
    (folder / "open_clip_model.safetensors").unlink()
    path.rename(folder / "open_clip_pytorch_model.bin")
    with pytest.raises(VitbiasError, match="refusing to load"):
        load_model(f"open_clip:tiny@{folder}")
    assert not marker.exists()


def test_unreadable_files(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(VitbiasError, match=r"junk\.pth"):
        check_weights_file(junk)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(VitbiasError, match="not a readable safetensors"):
        check_weights_file(broken)


def test_plain_training_checkpoint_with_namespace_args_loads(tmp_path):
    # timm training checkpoints: {"state_dict": ..., "args": argparse.Namespace}; safe.
    src = tiny_timm(seed=6)
    path = save_weights({"state_dict": src.state_dict(), "args": argparse.Namespace(lr=1.0)},
                        tmp_path / "train.pth")
    loaded = load_model(f"timm:{TIMM_ARCH}@{path}", **TINY)
    assert torch.equal(loaded.module.cls_token, src.cls_token)


def test_legacy_torch_format_loads(tmp_path):
    src = tiny_timm(seed=7)
    path = tmp_path / "legacy.pth"
    torch.save(src.state_dict(), path, _use_new_zipfile_serialization=False)
    loaded = load_model(f"timm:{TIMM_ARCH}@{path}", **TINY)
    assert torch.equal(loaded.module.pos_embed, src.pos_embed)
