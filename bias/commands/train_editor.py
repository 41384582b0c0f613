"""``vitbias train-editor``: train the built-in world editor (class-conditional pixel diffusion)."""

from __future__ import annotations

import argparse
import json
import logging

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-editor", help="train the built-in diffusion editor on a synthetic world",
        description="Train a tiny class-conditional diffusion UNet (diffusers UNet2DModel, "
                    "one class per combination of the protected attributes plus a null class "
                    "for classifier-free guidance) on a world made by `vitbias world`. The "
                    "result is the model folder for `vitbias counterfactuals --editor "
                    "diffedit --editor-path OUT`.")
    p.add_argument("--world", required=True, help="world folder (train/, metadata.csv, "
                                                  "world.json)")
    p.add_argument("--out", required=True, help="editor folder to write "
                                                "(unet.safetensors + editor.json)")
    p.add_argument("--steps", type=int, default=1500, help="optimiser steps (default 1500)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3,
                   help="peak learning rate (warm-up, then cosine decay)")
    p.add_argument("--p-uncond", type=float, default=0.1,
                   help="probability of training on the null class (for guidance)")
    p.add_argument("--channels", default=None,
                   help="UNet block widths, comma-separated (default 16,32,64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: OMP_NUM_THREADS, else all cores)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from bias.editing.conditional_unet import train_world_editor
    from bias.errors import VitbiasError

    if args.threads:
        torch.set_num_threads(args.threads)
    unet = None
    if args.channels:
        try:
            widths = [int(c) for c in args.channels.split(",")]
        except ValueError as exc:
            raise VitbiasError(f"--channels {args.channels!r}: expected integers like "
                               "32,64,64") from exc
        blocks = ["DownBlock2D"] * len(widths)
        unet = {"block_out_channels": widths, "down_block_types": blocks,
                "up_block_types": ["UpBlock2D"] * len(widths)}
    doc = train_world_editor(args.world, args.out, steps=args.steps, batch_size=args.batch_size,
                             lr=args.lr, seed=args.seed, p_uncond=args.p_uncond, unet=unet)
    train = doc["train"]
    log.info("editor written to %s: %d steps in %.0fs, final loss %.4f, loss curve %s",
             args.out, train["steps"], train["seconds"], train["final_loss"],
             json.dumps([round(x, 4) for x in train["loss_curve"]]))
    return 0
