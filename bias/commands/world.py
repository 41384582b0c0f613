"""``vitbias world``: generate the synthetic world with planted, known bias."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)

# Kept literal (not imported from bias.world) so that `vitbias --help` stays fast; tests check
# they match the library's LAYOUTS, PALETTES and VALENCE_CUES.
LAYOUT_CHOICES = ("centre", "training")
PALETTE_CHOICES = ("varied", "plain")
VALENCE_CUE_CHOICES = ("object", "wall")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "world",
        help="generate the synthetic world (training images with planted bias, stimuli, catalog)",
        description="Generate a synthetic world: training scenes (ImageFolder layout) whose "
                    "people co-occur with pleasant objects and office scenes at planted "
                    "strengths beta, iEAT-layout stimuli, and a test catalog naming each "
                    "test's planted_beta. beta=0 is the unbiased control.",
    )
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--size", type=int, default=32, help="image side in pixels (default 32)")
    p.add_argument("--train", type=int, default=3000, dest="n_train",
                   help="number of training images (default 3000)")
    p.add_argument("--stimuli", type=int, default=32, dest="n_stimuli",
                   help="stimulus images per concept (default 32)")
    p.add_argument("--bias", action="append", default=[], metavar="NAME=BETA",
                   help="planted strength of a bias, repeatable (valence, career; default 0.8 "
                        "each), e.g. --bias valence=0 --bias career=0 for the control world")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--object-scale", type=float, default=1.0,
                   help="size of the context objects relative to the default (0.5-2.5)")
    p.add_argument("--stimulus-layout", default="centre", choices=LAYOUT_CHOICES,
                   help="where lone stimuli stand: spread over the middle (default) or where "
                        "training scenes have people and objects")
    p.add_argument("--palette", default="varied", choices=PALETTE_CHOICES,
                   help="nuisance colours: many wall, object and hair colours (default), or "
                        "one of each role -- a calibration world that self-supervised models "
                        "cannot tell apart by colour alone")
    p.add_argument("--valence-cue", default="object", choices=VALENCE_CUE_CHOICES,
                   help="what shows valence: the object beside the person (default), or also "
                        "the wall's lines, a grid (pleasant) or stripes (unpleasant), with "
                        "empty walls as valence stimuli -- a whole-wall cue, like the career "
                        "scene, that contrastive models associate with the person")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bias.world import generate_world
    from bias.world.spec import parse_bias

    biases = dict(parse_bias(text) for text in args.bias)
    out = generate_world(args.out, size=args.size, n_train=args.n_train, biases=biases,
                         seed=args.seed, n_stimuli=args.n_stimuli,
                         object_scale=args.object_scale, stimulus_layout=args.stimulus_layout,
                         palette=args.palette, valence_cue=args.valence_cue)
    log.info("world written to %s (catalog: %s)", out, out / "catalog.yaml")
    return 0
