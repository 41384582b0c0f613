"""Test inputs built on the spot: tiny fake worlds and tiny random diffusion/CLIP models.

A fake world has the layout of bias.world (train/<class>/*.png, metadata.csv, world.json). A
"person" is a coloured rectangle: its colour shows ``tone`` (light/dark) and its shape shows
``gender`` (a: tall, b: wide); a small context square in a corner sets the class.

Tiny models are random diffusers / transformers / open_clip components saved to local folders
with save_pretrained / safetensors, so the code under test loads them like real weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

ATTRIBUTES = {"tone": ["light", "dark"], "gender": ["a", "b"]}
TONE_RGB = {"light": (235, 205, 170), "dark": (70, 45, 30)}
CLASSES = {"flower": (200, 40, 160), "tool": (40, 160, 200)}


def draw_scene(rng: np.random.Generator, size: int, tone: str, gender: str, cls: str):
    """(H, W, 3) uint8 image and the person bbox (x0, y0, x1, y1)."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = rng.integers(90, 160, size=3)
    h, w = (size // 2, size // 4) if gender == "a" else (size // 4, size // 2)
    x0 = int(rng.integers(size // 4, size - w - 1))
    y0 = int(rng.integers(size // 4, size - h - 1))
    img[y0:y0 + h, x0:x0 + w] = TONE_RGB[tone]
    c = max(2, size // 6)
    img[:c, :c] = CLASSES[cls]
    return img, (x0, y0, x0 + w, y0 + h)


def make_world(root: Path, n: int = 24, size: int = 16, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        tone = ATTRIBUTES["tone"][i % 2]
        gender = ATTRIBUTES["gender"][(i // 2) % 2]
        cls = list(CLASSES)[(i // 4) % 2]
        img, (x0, y0, x1, y1) = draw_scene(rng, size, tone, gender, cls)
        rel = f"{cls}/img_{i:04d}.png"
        (root / "train" / cls).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / "train" / rel)
        rows.append({"file": rel, "class": cls, "tone": tone, "gender": gender,
                     "context": cls, "x0": x0, "y0": y0, "x1": x1, "y1": y1})
    pd.DataFrame(rows).to_csv(root / "metadata.csv", index=False)
    (root / "world.json").write_text(json.dumps(
        {"attributes": ATTRIBUTES, "classes": sorted(CLASSES), "size": size, "seed": seed}))
    return root


def tiny_tokenizer(folder: Path):
    """A CLIPTokenizer over a letters-only vocabulary (every word is split into letters)."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                         model_max_length=32)


def tiny_sd_parts(tmp: Path, unet_in_channels: int):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tok = tiny_tokenizer(tmp / "tokenizer_src")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=unet_in_channels, out_channels=4, block_out_channels=(8, 16),
        layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
        attention_head_dim=2, norm_num_groups=4)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(8, 16),
                        sample_size=16)
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, max_position_embeddings=32, bos_token_id=0, eos_token_id=1,
        pad_token_id=1))
    return {"unet": unet, "vae": vae, "text_encoder": text, "tokenizer": tok}
