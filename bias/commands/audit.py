"""``vitbias audit``: audit one model end to end.

Embeds the stimuli (every layer and pooling in one forward pass, cached), runs every catalog
test whose concepts exist with the shared-permutation engine over all layers and poolings at
once, and writes DIR/results.csv, DIR/provenance.json, DIR/embeddings.npz and DIR/report.html.
The folder appears only when everything succeeded.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bias.commands.embed import add_embedding_options, embed_options
from bias.commands.test import ALTERNATIVE_CHOICES, CORRECTION_CHOICES, add_test_options

log = logging.getLogger(__name__)
__all__ = ["ALTERNATIVE_CHOICES", "CORRECTION_CHOICES", "register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit one model: embed, test every layer, report",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_embedding_options(p)
    add_test_options(p, family="layer and pooling")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bias.audit import AuditOptions, TestOptions, run_audit

    stats = TestOptions(n_permutations=args.permutations, exact_bound=args.exact_bound,
                        alternative=args.alternative, correction=args.correction,
                        n_bootstrap=args.bootstrap, confidence=args.confidence, seed=args.seed)
    options = AuditOptions(catalog=args.catalog, tests=args.tests, embed=embed_options(args),
                           stats=stats)
    run_audit(args.model, args.stimuli, args.out, options)
    return 0
