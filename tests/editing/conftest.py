"""Fixtures of the editing tests; the builders live in helpers.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from .helpers import make_world, tiny_sd_parts


@pytest.fixture(scope="package", autouse=True)
def _one_thread():
    """One torch thread (set before module fixtures train anything): the tests share a small
    machine, where two contended threads run several times slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_world(tmp_path: Path) -> Path:
    return make_world(tmp_path / "world")


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory) -> Path:
    """A random tiny Stable Diffusion folder (diffusers layout, safetensors)."""
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    tmp = tmp_path_factory.mktemp("sd")
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                          skip_prk_steps=True, steps_offset=1)
    pipe = StableDiffusionPipeline(**tiny_sd_parts(tmp, 4), scheduler=sched,
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(tmp / "sd")
    return tmp / "sd"


@pytest.fixture(scope="session")
def tiny_pix2pix_dir(tmp_path_factory) -> Path:
    """A random tiny InstructPix2Pix folder (UNet with 8 input channels)."""
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline

    tmp = tmp_path_factory.mktemp("p2p")
    sched = EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                            beta_schedule="scaled_linear")
    pipe = StableDiffusionInstructPix2PixPipeline(
        **tiny_sd_parts(tmp, 8), scheduler=sched, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe.save_pretrained(tmp / "p2p")
    return tmp / "p2p"


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A random tiny open_clip model in a local folder (open_clip_config.json + safetensors)."""
    import open_clip
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("clip")
    cfg = {"embed_dim": 16,
           "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "head_width": 16,
                          "patch_size": 8},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                        "layers": 1}}
    (folder / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": cfg, "preprocess_cfg": {"size": 16, "mean": [0.5, 0.5, 0.5],
                                              "std": [0.25, 0.25, 0.25]}}))
    torch.manual_seed(0)
    model = open_clip.CLIP(**cfg)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "open_clip_model.safetensors"))
    return folder
