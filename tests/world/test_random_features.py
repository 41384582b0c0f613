"""Calibration before learning, in generic features: untrained tiny ViTs see no association.

A randomly initialised ViT is a fixed nonlinear feature map with no knowledge of the world. If
the stimuli carried a confound (colour, brightness, area, layout) a random network would
inherit it as a consistent effect. Embedding the stimuli with two random tiny ViTs (CLS and
mean-pooled tokens), every catalog test must have |d| well under 0.5.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ieat_effect_size

from bias.world import render_scene, stimulus_scenes, world_catalog

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")


def _embed(seed: int, n: int = 16) -> dict[str, dict[str, np.ndarray]]:
    images: dict[str, list[np.ndarray]] = {}
    for category, concept, _, params in stimulus_scenes(n, seed, 32):
        images.setdefault(f"{category}/{concept}", []).append(
            np.asarray(render_scene(params), np.float32) / 255)
    torch.manual_seed(100 + seed)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32,
                              patch_size=4, embed_dim=64, depth=4, num_heads=4,
                              num_classes=0).eval()
    out = {}
    with torch.no_grad():
        for concept, imgs in images.items():
            x = (torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2) - 0.5) / 0.25
            tokens = model.forward_features(x)  # (n, 1 + 64 patches, 64)
            out[concept] = {"cls": tokens[:, 0].double().numpy(),
                            "mean": tokens[:, 1:].mean(1).double().numpy()}
    return out


def test_random_vit_features_carry_no_association() -> None:
    torch.set_num_threads(1)
    tests = world_catalog()["tests"]
    for seed in (0, 1):
        emb = _embed(seed)
        for pooling in ("cls", "mean"):
            for t in tests:
                d = ieat_effect_size(*(emb[t[k]][pooling] for k in "xyab"))
                assert abs(d) < 0.35, (seed, pooling, t["name"], d)
