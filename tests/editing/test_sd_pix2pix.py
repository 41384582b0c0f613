"""Stable Diffusion DiffEdit and InstructPix2Pix on tiny random components loaded from folders."""

from __future__ import annotations

import shutil

import pytest
import torch

from bias.editing import create_editor
from bias.editing.base import EditRequest
from bias.editing.pix2pix import difference_mask
from bias.errors import VitbiasError


def requests(n):
    return [EditRequest("gender", {"gender": "man"}, {"gender": "woman"},
                        source_prompt="a photo of a man", target_prompt="a photo of a woman",
                        instruction="make the person a woman")] * n


def images(n, size=20, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def sd_editor(tiny_sd_dir):
    return create_editor("diffedit", path=tiny_sd_dir, resolution=16, num_steps=5,
                         mask_draws=2)


def test_sd_diffedit_shapes_range_and_determinism(sd_editor):
    x = images(2)
    a = sd_editor.edit(x, requests(2), [3, 4])
    b = sd_editor.edit(x, requests(2), [3, 4])
    assert type(sd_editor).__name__ == "SDDiffEditEditor"
    assert a.images.shape == x.shape and a.masks.shape == (2, 1, 20, 20)
    assert a.images.min() >= 0 and a.images.max() <= 1
    assert a.masks.min() >= 0 and a.masks.max() <= 1
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert a.extra["latent_mask"].shape == (2, 1, 8, 8)  # 16 px through a 2-level VAE


def test_sd_diffedit_keeps_latents_and_pixels_outside_the_mask(sd_editor):
    x = images(2, size=16, seed=1)
    out = sd_editor.edit(x, requests(2), [5, 6])
    keep = (out.extra["latent_mask"] == 0).expand_as(out.extra["z0"])
    assert keep.any()
    assert torch.equal(out.extra["latents"][keep], out.extra["z0"][keep])
    outside = (out.masks == 0).expand_as(x)  # paste_back: the input's own pixels
    assert torch.allclose(out.images[outside], x[outside], atol=1e-6)


def test_sd_needs_prompts_and_a_complete_safetensors_folder(sd_editor, tiny_sd_dir, tmp_path):
    bare = [EditRequest("gender", {"gender": "man"}, {"gender": "woman"})]
    with pytest.raises(VitbiasError, match="prompt"):
        sd_editor.edit(images(1), bare, [0])
    partial = tmp_path / "partial"
    shutil.copytree(tiny_sd_dir, partial)
    shutil.rmtree(partial / "vae")
    with pytest.raises(VitbiasError, match=r"lacks component folder\(s\) \['vae'\]"):
        create_editor("diffedit", path=partial)
    unsafe = tmp_path / "unsafe"
    shutil.copytree(tiny_sd_dir, unsafe)
    weights = unsafe / "unet" / "diffusion_pytorch_model.safetensors"
    weights.rename(weights.with_suffix(".bin"))
    with pytest.raises(VitbiasError, match="safetensors"):
        create_editor("diffedit", path=unsafe)
    with pytest.raises(VitbiasError, match="multiple of 8"):
        create_editor("diffedit", path=tiny_sd_dir, resolution=20)


def test_pix2pix_shapes_determinism_and_difference_mask(tiny_pix2pix_dir):
    editor = create_editor("instruct-pix2pix", path=tiny_pix2pix_dir, resolution=16,
                           num_steps=3)
    x = images(2, seed=2)
    a = editor.edit(x, requests(2), [1, 2])
    b = editor.edit(x, requests(2), [1, 2])
    c = editor.edit(x, requests(2), [1, 9])
    assert a.images.shape == x.shape and a.masks.shape == (2, 1, 20, 20)
    assert set(a.masks.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(a.images, b.images)
    assert torch.equal(a.images[0], c.images[0]) and not torch.equal(a.images[1], c.images[1])
    expected = difference_mask(x, a.images, 0.1, 1)
    assert torch.equal(a.masks, expected)
    with pytest.raises(VitbiasError, match="unknown InstructPix2Pix parameter"):
        create_editor("instruct-pix2pix", path=tiny_pix2pix_dir, strength=0.5)


def test_difference_mask_thresholds_and_dilates():
    a = torch.zeros(1, 3, 7, 7)
    b = a.clone()
    b[0, :, 3, 3] = 0.5
    b[0, 0, 0, 0] = 0.2  # mean over channels 0.067: below the threshold
    m = difference_mask(a, b, 0.1, 1)
    expected = torch.zeros(1, 1, 7, 7)
    expected[0, 0, 2:5, 2:5] = 1
    assert torch.equal(m, expected)
    assert torch.equal(difference_mask(a, b, 0.1, 0).sum(), torch.tensor(1.0))
