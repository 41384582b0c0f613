"""``vitbias counterfactuals``: write a counterfactual (CDA) training set with a diffusion editor.

1-sided CDA trains on the originals plus one direction's counterfactuals
(``vitbias train --data WORLD --data CF``), 2-sided CDA on the counterfactuals of both
directions; see :mod:`bias.editing.counterfactuals`.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

# DiffEdit knobs with their own flags; anything else goes through --param KEY=VALUE.
_DIFFEDIT_FLAGS = {"steps": "num_steps", "encode_ratio": "encode_ratio",
                   "guidance": "guidance_scale", "mask_threshold": "mask_threshold",
                   "mask_draws": "mask_draws"}


# Literal, not imported from bias.editing.selection (which imports torch): `vitbias --help`
# must stay fast. tests/editing check that the two agree.
DIRECTIONS = ("both", "a-to-b", "b-to-a")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "counterfactuals", help="edit every person's protected attribute (CDA data)",
        description="Edit images with a diffusion editor so that one protected attribute "
                    "flips, judge every edit, and write the accepted ones in ImageFolder "
                    "layout with metadata.csv, dropped.csv and edits.json. Resumable: rerun "
                    "the same command to continue.")
    p.add_argument("--editor", required=True, help="editor name: diffedit | instruct-pix2pix")
    p.add_argument("--editor-path", required=True,
                   help="model folder (vitbias train-editor output, or a diffusers folder)")
    p.add_argument("--data", required=True, help="world folder or ImageFolder of photos")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--attribute", default=None,
                   help="protected attribute to flip (default: the world's first, or gender)")
    p.add_argument("--values", default=None, help="the two values to swap, A,B")
    p.add_argument("--direction", choices=DIRECTIONS, default="both",
                   help="a-to-b edits the first value into the second (world.json order, or "
                        "--values), b-to-a the reverse, both: either way")
    p.add_argument("--limit", type=int, default=None,
                   help="edit at most N images (classes in turn, so all classes appear)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--min-flip", type=float, default=0.5,
                   help="drop edits whose judge probability of the target value is lower")
    p.add_argument("--max-outside-change", type=float, default=0.02,
                   help="drop edits whose mean |pixel change| outside the mask is higher")
    p.add_argument("--clip", default=None,
                   help="open_clip model for photos, ARCH@FILE or a local folder: selects "
                        "people and judges edits zero-shot")
    p.add_argument("--min-person", type=float, default=0.5,
                   help="photos: skip images whose zero-shot P(person) is lower")
    p.add_argument("--min-confidence", type=float, default=0.6,
                   help="photos: skip images whose attribute value is less certain")
    p.add_argument("--image-size", type=int, default=None, help="resize photos to N×N")
    p.add_argument("--judge-steps", type=int, default=600, help="pixel judge training steps")
    p.add_argument("--term-pairs", default=None, help="term-pair CSV (default: shipped)")
    g = p.add_argument_group("DiffEdit parameters (default: the editor's)")
    g.add_argument("--steps", type=int, default=None, help="DDIM steps")
    g.add_argument("--encode-ratio", type=float, default=None)
    g.add_argument("--guidance", type=float, default=None, help="classifier-free guidance")
    g.add_argument("--mask-threshold", type=float, default=None)
    g.add_argument("--mask-draws", type=int, default=None)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="any other editor parameter (value read as JSON when it parses)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: OMP_NUM_THREADS, else all cores)")
    p.set_defaults(func=run)


def editor_params(args: argparse.Namespace) -> dict[str, Any]:
    from bias.errors import VitbiasError

    params = {name: getattr(args, flag) for flag, name in _DIFFEDIT_FLAGS.items()
              if getattr(args, flag) is not None}
    for item in args.param:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise VitbiasError(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def run(args: argparse.Namespace) -> int:
    import torch

    from bias.editing import create_editor
    from bias.editing.counterfactuals import CounterfactualConfig, run_counterfactuals
    from bias.editing.judge import QAThresholds
    from bias.editing.selection import DEFAULT_TERM_PAIRS

    if args.threads:
        torch.set_num_threads(args.threads)
    editor = create_editor(args.editor, path=args.editor_path, **editor_params(args))
    cfg = CounterfactualConfig(
        attribute=args.attribute, values=args.values.split(",") if args.values else None,
        direction=args.direction, limit=args.limit, seed=args.seed, batch_size=args.batch_size,
        thresholds=QAThresholds(min_flip=args.min_flip,
                                max_outside_change=args.max_outside_change),
        clip=args.clip, min_person=args.min_person, min_confidence=args.min_confidence,
        judge_steps=args.judge_steps, image_size=args.image_size,
        term_pairs=args.term_pairs or str(DEFAULT_TERM_PAIRS))
    doc = run_counterfactuals(editor, args.data, args.out, cfg)
    log.info("counts %s, rates %s", json.dumps(doc["counts"]), json.dumps(doc["rates"]))
    return 0
