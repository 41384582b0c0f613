"""Atomic outputs: appear whole on success, vanish on failure, with the usual permissions."""

import os
import stat

import pytest

from bias.errors import VitbiasError
from bias.io import atomic_dir, atomic_file, read_folder_meta


def test_atomic_file_appears_only_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists() and list((tmp_path / "sub").iterdir()) == []
    with atomic_file(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"


def test_atomic_dir_replaces_whole_folder(tmp_path):
    target = tmp_path / "d"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(ValueError), atomic_dir(target) as tmp:
        (tmp / "b").write_text("2")
        raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_read_folder_meta_names_what_is_wrong(tmp_path):
    """The one check behind checkpoints, world editors and judges, every failure named."""
    d = tmp_path / "ckpt"
    args = ("checkpoint", ("w.safetensors", "m.json"), "m.json", ("arch",))
    with pytest.raises(VitbiasError, match=r"checkpoint folder not found: .*ckpt"):
        read_folder_meta(d, *args)
    d.mkdir()
    (d / "m.json").write_text("{")
    with pytest.raises(VitbiasError, match=r"checkpoint .*ckpt lacks w\.safetensors"):
        read_folder_meta(d, *args)
    (d / "w.safetensors").write_bytes(b"")
    with pytest.raises(VitbiasError, match=r"checkpoint .*m\.json is not valid JSON"):
        read_folder_meta(d, *args)
    (d / "m.json").write_text('{"size": 1}')
    with pytest.raises(VitbiasError, match=r"checkpoint .*m\.json lacks field 'arch'"):
        read_folder_meta(d, *args)
    (d / "m.json").write_text('{"arch": "vit"}')
    assert read_folder_meta(d, *args) == {"arch": "vit"}
