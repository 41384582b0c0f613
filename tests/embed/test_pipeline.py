"""embed_stimuli and ``vitbias embed``: rows, odd images, bad images, cache, provenance."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from models.tiny import TIMM_ARCH, TINY, save_weights, tiny_ckpt, tiny_timm, write_images
from PIL import Image

from bias.cli import main
from bias.embed import EmbedOptions, embed_stimuli, extract_batch
from bias.embed.images import load_rgb
from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError
from bias.models import load_model
from bias.stimuli import scan_stimuli


@pytest.fixture()
def model(tmp_path):
    path = save_weights(tiny_timm(seed=21).state_dict(), tmp_path / "w.safetensors")
    return load_model(f"timm:{TIMM_ARCH}@{path}", **TINY)


def odd_folder(root):
    """One concept of every odd image kind, one plain concept."""
    write_images(root, {"cat/plain": 3})
    odd = root / "cat" / "odd"
    odd.mkdir(parents=True)
    Image.new("L", (40, 30), 90).save(odd / "gray.png")
    Image.new("P", (40, 30), 3).save(odd / "palette.png")
    Image.new("CMYK", (40, 30), (10, 200, 30, 5)).save(odd / "cmyk.jpg")
    Image.new("RGBA", (40, 30), (200, 10, 10, 100)).save(odd / "alpha.png")
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.new("RGB", (40, 30), (1, 2, 3)).save(odd / "rotated.jpg", exif=exif)
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(odd / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("RGB", (40, 30), (5, 150, 5)).save(odd / "pic.webp")
    Image.new("RGB", (40, 30), (5, 5, 150)).save(odd / "pic.bmp")
    return root


def opts(tmp_path, **kw):
    return EmbedOptions(num_workers=0, batch_size=4, cache_dir=tmp_path / "cache", **kw)


def test_table_rows_and_values(tmp_path, model):
    stimuli = scan_stimuli(odd_folder(tmp_path / "stim"))
    table = embed_stimuli(model, stimuli, opts(tmp_path, layers="0,2", poolings="cls,mean"))
    n = sum(len(v) for v in stimuli.values())
    assert len(table.image_ids) == n == 11 and table.keys == [
        ("cls", 0), ("cls", 2), ("mean", 0), ("mean", 2)]
    assert table.image_ids[0] == "cat/odd/alpha.png" and table.concepts[-1] == "cat/plain"
    assert all(a.dtype == np.float32 and a.shape == (n, TINY["embed_dim"])
               for a in table.arrays.values())
    # Same numbers as transforming each file by hand and running one batch.
    paths = [p for c in sorted(stimuli) for p in stimuli[c]]
    x = torch.stack([model.transform(load_rgb(p)) for p in paths])
    with torch.inference_mode():
        ref = extract_batch(model, x, [0, 2], ["cls", "mean"])
    for key, arr in table.arrays.items():
        np.testing.assert_allclose(arr, ref[key].numpy(), atol=1e-5)
    prov = table.provenance
    assert prov["model_spec"] == model.spec and prov["weights_sha256"] == model.weights_sha256
    assert prov["layer_norm"] is True and prov["preprocessing"]["input_size"] == [3, 32, 32]
    assert prov["skipped_images"] == [] and "torch" in prov["versions"]


def test_workers_give_the_same_table(tmp_path, model):
    stimuli = scan_stimuli(odd_folder(tmp_path / "stim"))
    a = embed_stimuli(model, stimuli, opts(tmp_path, use_cache=False))
    b = embed_stimuli(model, stimuli, EmbedOptions(num_workers=2, batch_size=3, use_cache=False))
    assert a.image_ids == b.image_ids
    for key in a.keys:
        np.testing.assert_allclose(a.arrays[key], b.arrays[key], atol=1e-6)


def test_bad_image_stops_or_is_skipped(tmp_path, model, caplog):
    stimuli = write_images(tmp_path / "stim", {"cat/a": 3})
    bad = tmp_path / "stim" / "cat" / "a" / "img01.png"
    bad.write_bytes(b"garbage")
    with pytest.raises(VitbiasError, match=r"img01\.png.*--skip-bad-images"):
        embed_stimuli(model, stimuli, opts(tmp_path))
    with caplog.at_level(logging.WARNING):
        table = embed_stimuli(model, stimuli, opts(tmp_path, skip_bad_images=True))
    assert table.image_ids == ["cat/a/img00.png", "cat/a/img02.png"]
    assert [s["image"] for s in table.provenance["skipped_images"]] == [str(bad)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "img01.png" in warnings[0].getMessage()


def count_forwards(model):
    calls = []
    model.module.patch_embed.register_forward_hook(lambda *a: calls.append(1))
    return calls


def test_cache_skips_the_forward_pass(tmp_path, model):
    stimuli = write_images(tmp_path / "stim", {"cat/a": 5, "cat/b": 4})
    calls = count_forwards(model)
    first = embed_stimuli(model, stimuli, opts(tmp_path))
    assert len(calls) == 3  # 9 images in batches of 4
    again = embed_stimuli(model, stimuli, opts(tmp_path))
    assert len(calls) == 3 and again.provenance["cache"]["hit"] is True
    assert again.image_ids == first.image_ids
    assert all(np.array_equal(again.arrays[k], first.arrays[k]) for k in first.keys)
    # Other layers, other pixels or no cache: a forward pass again.
    embed_stimuli(model, stimuli, opts(tmp_path, layers="1"))
    assert len(calls) == 6
    Image.new("RGB", (40, 48), (9, 9, 9)).save(stimuli["cat/b"][0])
    embed_stimuli(model, stimuli, opts(tmp_path))
    assert len(calls) == 9
    embed_stimuli(model, stimuli, opts(tmp_path, use_cache=False))
    assert len(calls) == 12 and len(list((tmp_path / "cache").glob("*.npz"))) == 3


def test_cache_default_dir_from_env(tmp_path, model, monkeypatch):
    monkeypatch.setenv("VITBIAS_CACHE", str(tmp_path / "envcache"))
    stimuli = write_images(tmp_path / "stim", {"cat/a": 2})
    embed_stimuli(model, stimuli, EmbedOptions(num_workers=0))
    assert len(list((tmp_path / "envcache").glob("*.npz"))) == 1


def test_bf16_needs_cuda(tmp_path, model):
    stimuli = write_images(tmp_path / "stim", {"cat/a": 1})
    if not torch.cuda.is_available():
        with pytest.raises(VitbiasError, match="CUDA"):
            embed_stimuli(model, stimuli, opts(tmp_path, device="cpu", bf16=True))


def test_embed_command(tmp_path):
    ckpt = tiny_ckpt(tmp_path / "ck", init_seed=3)
    write_images(tmp_path / "stim", {"cat/a": 2, "cat/b": 2})
    out = tmp_path / "out" / "emb.npz"
    args = ["embed", "--model", f"ckpt:{ckpt}", "--stimuli", str(tmp_path / "stim"), "--out",
            str(out), "--layers", "-1", "--pooling", "mean,prelogits", "--workers", "0",
            "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    table = EmbeddingTable.load(out)
    assert table.keys == [("mean", 2), ("prelogits", 2)] and len(table.image_ids) == 4
    assert table.provenance["model_spec"] == f"ckpt:{ckpt}"


@pytest.mark.parametrize("change, message", [
    (["--stimuli", "MISSING"], "stimulus folder not found"),
    (["--layers", "9"], "out of range"),
    (["--pooling", "max"], "unknown pooling"),
    (["--model", "weird:thing"], "unknown model source"),
])
def test_embed_command_errors_leave_no_output(tmp_path, capsys, change, message):
    ckpt = tiny_ckpt(tmp_path / "ck")
    write_images(tmp_path / "stim", {"cat/a": 1})
    out = tmp_path / "emb.npz"
    args = {"--model": f"ckpt:{ckpt}", "--stimuli": str(tmp_path / "stim"), "--out": str(out),
            "--workers": "0", "--no-cache": None}
    args.update({change[0]: change[1].replace("MISSING", str(tmp_path / "missing"))})
    argv = ["embed"] + [s for k, v in args.items() for s in ([k] if v is None else [k, v])]
    assert main(argv) == 2
    assert message in capsys.readouterr().err and not out.exists()
    assert not list(tmp_path.glob(".emb.npz*"))
