"""``vitbias embed``: embed a stimulus folder with one model, every layer in one pass."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_embedding_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``embed`` and ``audit``."""
    p.add_argument("--model", required=True, metavar="SPEC",
                   help="timm:<name>, timm:<name>@<file>, open_clip:<arch>@<file|tag|dir>, "
                        "ckpt:<dir>, or lowlevel[:pixels,colour,hog,orientations] (features "
                        "computed without a model: the stimuli's own low-level baseline)")
    p.add_argument("--stimuli", required=True, type=Path, metavar="DIR",
                   help="stimulus folder <DIR>/<category>/<concept>/*.jpg|png|...")
    p.add_argument("--layers", default="all", metavar="all|LIST",
                   help="block indices, e.g. 0,6,11 or -1 (default: all)")
    p.add_argument("--pooling", default="cls,mean,prelogits", metavar="LIST",
                   help="any of cls, mean, prelogits (default: all three)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="image decoding processes (default: min(4, CPU count))")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default: auto)")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only)")
    p.add_argument("--skip-bad-images", action="store_true",
                   help="skip unreadable images (recorded in provenance) instead of failing")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="embedding cache (default: $VITBIAS_CACHE or ~/.cache/vitbias/embeddings)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def embed_options(args: argparse.Namespace):
    """:class:`~bias.embed.EmbedOptions` from parsed arguments."""
    from bias.embed import EmbedOptions
    from bias.errors import VitbiasError

    if args.batch_size < 1 or (args.workers is not None and args.workers < 0):
        raise VitbiasError("--batch-size must be >= 1 and --workers >= 0")
    return EmbedOptions(layers=args.layers, poolings=args.pooling, batch_size=args.batch_size,
                        num_workers=args.workers, device=args.device, bf16=args.bf16,
                        skip_bad_images=args.skip_bad_images, cache_dir=args.cache_dir,
                        use_cache=not args.no_cache)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed stimulus images at every layer (one forward pass)",
                       description=__doc__)
    add_embedding_options(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE.npz",
                   help="embedding table to write (.npz)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bias.embed import embed_spec
    from bias.errors import VitbiasError
    from bias.stimuli import scan_stimuli

    if args.out.suffix != ".npz":
        raise VitbiasError(f"--out {args.out}: the embedding table is written as .npz")
    options = embed_options(args)
    stimuli = scan_stimuli(args.stimuli)
    table, _ = embed_spec(args.model, stimuli, options)
    table.save(args.out)
    log.info("wrote %d images x %d keys to %s", len(table.image_ids), len(table.keys), args.out)
    return 0
