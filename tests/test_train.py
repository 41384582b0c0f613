"""The training loop and `vitbias train` on tiny ImageFolders written here (24 images, 32 px)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from bias.checkpoint import load_checkpoint
from bias.cli import main
from bias.errors import VitbiasError
from bias.objectives.batch_augment import BatchViews
from bias.sizes import build_backbone
from bias.training import TrainConfig, train
from bias.training import data as data_module
from bias.training.state import load_state, state_path

CLASSES = ("cat", "dog", "fox")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_folder(root: Path, seed: int, classes=CLASSES, per_class: int = 8) -> Path:
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            img[8:24, 8:24, k % 3] = 255  # a class cue so that supervised learning has signal
            Image.fromarray(img).save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("world") / "train", seed=0)


def cfg(data, out, **kw) -> TrainConfig:
    base = {"objective": "mae", "size": "micro", "epochs": 2, "batch_size": 8, "seed": 0}
    base.update(kw)
    return TrainConfig(data=[str(d) for d in ([data] if isinstance(data, Path) else data)],
                       out=str(out), **base)


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(str(out / "model.safetensors"))


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("data_path", ["pil", "memory"])
def test_same_seed_same_weights_any_worker_count(world, tmp_path, data_path):
    train(cfg(world, tmp_path / "a", data_path=data_path))
    train(cfg(world, tmp_path / "b", workers=2, data_path=data_path))
    train(cfg(world, tmp_path / "c", seed=1, data_path=data_path))
    assert same(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert not same(weights(tmp_path / "a"), weights(tmp_path / "c"))
    meta_a = json.loads((tmp_path / "a" / "model.json").read_text())
    meta_b = json.loads((tmp_path / "b" / "model.json").read_text())
    assert meta_a["loss_curve"] == meta_b["loss_curve"]


@pytest.mark.parametrize("objective", ["mae", "dino"])
def test_compiled_step_traces_the_same_computation(world, tmp_path, objective):
    # The "eager" backend runs what torch.compile traced with the ordinary kernels: the same
    # numbers unless tracing changed the step (random masks and views, momentum, BN).
    train(cfg(world, tmp_path / "plain", objective=objective))
    train(cfg(world, tmp_path / "traced", objective=objective, compile="eager"))
    assert same(weights(tmp_path / "plain"), weights(tmp_path / "traced"))
    metas = [json.loads((tmp_path / d / "model.json").read_text()) for d in ("plain", "traced")]
    assert metas[0]["loss_curve"] == metas[1]["loss_curve"]
    assert (metas[0]["compile"], metas[1]["compile"]) == (None, "eager")


def test_inductor_compiled_run_trains_and_resumes(world, tmp_path):
    # Inductor's fused kernels round differently: close to the eager run, not equal.
    train(cfg(world, tmp_path / "plain"))
    split = tmp_path / "split"
    assert train(cfg(world, split, compile="inductor"), stop_after_epochs=1) is None
    train(cfg(world, split, compile="inductor"))
    curves = [json.loads((d / "model.json").read_text())["loss_curve"]
              for d in (tmp_path / "plain", split)]
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-3)
    model, _ = load_checkpoint(split)  # keys of the uncompiled model: loads as a timm ViT
    assert same(model.state_dict(), weights(split))


@pytest.mark.parametrize("objective", ["mae", "moco_v3"])
def test_resume_after_stop_equals_uninterrupted(world, tmp_path, objective):
    full, split = tmp_path / "full", tmp_path / "split"
    train(cfg(world, full, objective=objective))
    assert train(cfg(world, split, objective=objective), stop_after_epochs=1) is None
    assert state_path(split).is_file() and not (split / "model.json").exists()
    assert load_state(state_path(split))["epoch"] == 1  # a weights_only load
    train(cfg(world, split, objective=objective))
    assert same(weights(full), weights(split))
    curves = [json.loads((d / "model.json").read_text())["loss_curve"] for d in (full, split)]
    assert curves[0] == curves[1] and len(curves[0]) == 2


@pytest.mark.parametrize("data_path", ["pil", "memory"])
def test_killed_mid_epoch_resumes_from_the_last_epoch(world, tmp_path, monkeypatch, data_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    train(cfg(world, full, objective="simclr", data_path=data_path))
    # The PIL path makes views per sample, the memory path per batch (3 batches an epoch).
    target, method, kill_at = ((data_module.ViewDataset, "__getitem__", 12) if data_path == "pil"
                               else (BatchViews, "apply", 5))
    original = getattr(target, method)
    calls = {"n": 0}

    def dying(self, *args):
        if data_path == "memory" or self.epoch == 1:
            calls["n"] += 1
            if calls["n"] == kill_at:  # second batch of the second epoch
                raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(target, method, dying)
    with pytest.raises(KeyboardInterrupt):
        train(cfg(world, killed, objective="simclr", data_path=data_path))
    monkeypatch.setattr(target, method, original)
    assert load_state(state_path(killed))["epoch"] == 1
    assert not (killed / "model.json").exists()
    train(cfg(world, killed, objective="simclr", data_path=data_path))
    assert same(weights(full), weights(killed))


def test_checkpoint_loads_back_as_the_trained_timm_model(world, tmp_path):
    out = tmp_path / "sup"
    train(cfg(world, out, objective="supervised", epochs=1))
    model, meta = load_checkpoint(out)
    trained = load_state(state_path(out))["objective"]  # the in-memory objective at the end
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, trained[f"backbone.{name}"])
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)  # timm head over 3 classes
    for field in ("objective", "objective_family", "size", "param_count", "data", "data_hash",
                  "data_folders", "seed", "epochs", "loss_curve", "final_loss", "data_config",
                  "versions", "train_config"):
        assert field in meta, field
    assert meta["objective_family"] == "discriminative" and meta["classes"] == list(CLASSES)
    assert meta["param_count"] == sum(p.numel() for p in model.parameters())
    assert meta["data_config"]["input_size"] == [3, 32, 32]
    assert meta["final_loss"] == meta["loss_curve"][-1] and len(meta["loss_curve"]) == 1
    assert meta["warnings"] == []  # one epoch: no curve to judge
    assert meta["versions"]["lightly"] and meta["model_kwargs"]["patch_size"] == 4
    # The audit path, `ckpt:<dir>`: same weights, and the eval transform of a 32 px image is
    # exactly the training normalisation (no resize or crop).
    from torchvision.transforms.functional import normalize, to_tensor

    from bias.models import load_model

    loaded = load_model(f"ckpt:{out}")
    assert all(torch.equal(v, model.state_dict()[k])
               for k, v in loaded.module.state_dict().items())
    img = Image.open(world / "dog" / "00.png").convert("RGB")
    want = normalize(to_tensor(img), meta["data_config"]["mean"], meta["data_config"]["std"])
    assert torch.allclose(loaded.transform(img), want, atol=1e-6)


def test_a_run_that_learns_nothing_is_flagged_in_model_json(world, tmp_path, caplog):
    out = tmp_path / "flat"
    train(cfg(world, out, objective="simclr", lr=1e-9, warmup_epochs=0.0))  # lr ~0: no change
    warnings = json.loads((out / "model.json").read_text())["warnings"]
    assert len(warnings) == 1 and "did not fall" in warnings[0]
    assert "did not fall" in caplog.text
    caplog.clear()
    from bias.models import load_model

    load_model(f"ckpt:{out}")  # the audit path repeats it: no bias found may be no training
    assert "flagged when it was trained" in caplog.text and "did not fall" in caplog.text


def test_rerun_is_a_noop_and_other_arguments_are_refused(world, tmp_path, monkeypatch):
    out = tmp_path / "m"
    train(cfg(world, out, objective="simmim", epochs=1))
    stamp = (out / "model.json").stat().st_mtime_ns

    def boom(*args, **kwargs):
        raise AssertionError("a complete run was trained again")

    monkeypatch.setattr("bias.training.loop._Run", boom)
    assert train(cfg(world, out, objective="simmim", epochs=1, img_size=32)) == out
    assert (out / "model.json").stat().st_mtime_ns == stamp
    with pytest.raises(VitbiasError, match=r"other arguments.*epochs: 1 -> 2"):
        train(cfg(world, out, objective="simmim", epochs=2))
    monkeypatch.undo()
    train(cfg(world, out, objective="simmim", epochs=2, overwrite=True))
    assert len(json.loads((out / "model.json").read_text())["loss_curve"]) == 2


def test_folders_concatenate_and_class_lists_must_agree(world, tmp_path):
    extra = write_folder(tmp_path / "cf" / "train", seed=1, per_class=4)
    out = tmp_path / "cda"
    train(cfg([world, extra], out, objective="supervised", epochs=1, data_name="2-sided"))
    meta = json.loads((out / "model.json").read_text())
    assert meta["n_images"] == 24 + 12 and meta["data"] == "2-sided"
    assert meta["data_folders"] == [str(world.resolve()), str(extra.resolve())]
    single = data_module.open_folders([str(world)])[1]
    assert meta["data_hash"] != single.hash and len(single.hash) == 64
    assert single.name == f"{world.parent.name}/train"
    odd = write_folder(tmp_path / "odd", seed=2, classes=("cat", "dog", "eel"), per_class=1)
    with pytest.raises(VitbiasError, match=r"odd differ.*missing \['fox'\], extra \['eel'\]"):
        train(cfg([world, odd], tmp_path / "never"))
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("data_path", ["pil", "memory"])
def test_samples_per_epoch_fixes_the_steps_whatever_the_data_size(world, tmp_path, data_path):
    """CDA runs add images; --samples-per-epoch keeps their step count equal to the original."""
    extra = write_folder(tmp_path / "cf" / "train", seed=1, per_class=8)
    base = {"objective": "supervised", "epochs": 3, "data_path": data_path}
    train(cfg(world, tmp_path / "orig", **base))
    train(cfg([world, extra], tmp_path / "cda", samples_per_epoch=24, **base))
    train(cfg([world, extra], tmp_path / "cda2", samples_per_epoch=24, **base))
    train(cfg([world, extra], tmp_path / "full", **base))
    meta = {k: json.loads((tmp_path / k / "model.json").read_text())
            for k in ("orig", "cda", "full")}
    assert meta["orig"]["steps"] == meta["cda"]["steps"] == 3 * 24 // 8
    assert meta["full"]["steps"] == 3 * 48 // 8
    assert meta["cda"]["samples_per_epoch"] == 24 and meta["full"]["samples_per_epoch"] == 48
    assert len(meta["cda"]["loss_curve"]) == 3
    assert same(weights(tmp_path / "cda"), weights(tmp_path / "cda2"))  # seeded subsets
    assert not same(weights(tmp_path / "cda"), weights(tmp_path / "full"))
    with pytest.raises(VitbiasError, match="--samples-per-epoch must be >= 1"):
        train(cfg(world, tmp_path / "never", samples_per_epoch=0))
    assert not (tmp_path / "never").exists()


def test_bad_input_errors_leave_no_output(world, tmp_path):
    never = tmp_path / "never"
    with pytest.raises(VitbiasError, match=r"not found: .*missing"):
        train(cfg(tmp_path / "missing", never))
    with pytest.raises(VitbiasError, match="fewer than one batch of 64"):
        train(cfg(world, never, batch_size=64))
    with pytest.raises(VitbiasError, match="no argument mask_rate"):
        train(cfg(world, never, objective_kwargs={"mask_rate": 0.5}))
    with pytest.raises(VitbiasError, match="unknown objective"):
        train(cfg(world, never, objective="byol"))
    with pytest.raises(VitbiasError, match="--compile: unknown backend 'inductr'"):
        train(cfg(world, never, compile="inductr"))
    broken = tmp_path / "broken"
    shutil.copytree(world, broken)
    (broken / "dog" / "03.png").write_bytes(b"not a png")
    with pytest.raises(VitbiasError, match=r"cannot read training image .*dog/03\.png"):
        train(cfg(broken, never))
    assert not never.exists()


def test_a_state_file_that_would_run_code_is_refused(world, tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    out = tmp_path / "m"
    state_path(out).parent.mkdir(parents=True)
    torch.save({"epoch": 1, "payload": Evil()}, state_path(out))
    with pytest.raises(VitbiasError, match="unreadable or unsafe"):
        train(cfg(world, out))
    assert not marker.exists() and not (out / "model.json").exists()


def test_cli_end_to_end(world, tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["train", "--objective", "dino", "--size", "micro", "--data", str(world), "--out",
            str(out), "--epochs", "1", "--batch-size", "8", "--objective-arg", "output_dim=256",
            "--objective-arg", "n_local=1", "--drop-state"]
    assert main(args) == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["objective"] == "dino" and meta["objective_config"]["output_dim"] == 256
    assert meta["objective_config"]["n_local"] == 1 and not (out / "state").exists()
    assert load_checkpoint(out)[0](torch.randn(1, 3, 32, 32)).shape == (1, 64)
    assert main(args) == 0  # complete: a no-op
    assert main(["train", "--objective", "mae", "--size", "nope", "--data", str(world),
                 "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--objective", "mae", "--data", str(world)]) == 2
    assert main(["train", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "vit_large_patch16_224" in listing and "303,301,632" in listing and "simmim" in listing


@pytest.mark.slow
def test_two_process_ddp_equals_one_process(world, tmp_path):
    """torchrun with 2 CPU processes (gloo): each takes half of every global batch, gradients
    are averaged, rank 0 alone writes. For a per-sample loss (supervised, no masks, no batch
    norm) that is the same optimisation as one process with the whole batch."""
    import signal
    import subprocess
    import sys

    one, two = tmp_path / "one", tmp_path / "two"
    train(cfg(world, one, objective="supervised"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "2", "-m", "bias", "-q", "train", "--objective", "supervised", "--size", "micro",
           "--data", str(world), "--out", str(two), "--epochs", "2", "--batch-size", "8",
           "--device", "cpu"]
    # Own process group, so that a hang cannot leave worker processes behind.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]
    meta = json.loads((two / "model.json").read_text())
    assert meta["world_size"] == 2
    a, b = weights(one), weights(two)
    assert a.keys() == b.keys()
    # Equal up to float reduction order, which AdamW's normalisation amplifies for weights
    # with near-zero gradients: compare the distance between the runs with the distance
    # either run moved from the shared initialisation (a wrong sharding or a missing gradient
    # average moves the result by the order of the update itself).
    torch.manual_seed(0)
    init = build_backbone("micro", num_classes=3)[0].state_dict()
    gap = sum((a[k] - b[k]).pow(2).sum() for k in a).sqrt()
    moved = sum((a[k] - init[k]).pow(2).sum() for k in a).sqrt()
    assert gap < 1e-3 * moved
    curve = json.loads((one / "model.json").read_text())["loss_curve"]
    assert meta["loss_curve"] == pytest.approx(curve, rel=1e-5)
