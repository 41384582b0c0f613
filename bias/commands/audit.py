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

log = logging.getLogger(__name__)

# Literal (not imported from bias.association) so that `vitbias --help` stays fast.
ALTERNATIVE_CHOICES = ("greater", "less", "two-sided")
CORRECTION_CHOICES = ("holm", "bh", "none")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit one model: embed, test every layer, report",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_embedding_options(p)
    p.add_argument("--catalog", default=None, type=Path, metavar="FILE",
                   help="test catalog YAML (default: the shipped iEAT catalog)")
    p.add_argument("--tests", nargs="+", metavar="NAME", help="run only these tests")
    p.add_argument("--permutations", type=int, default=100_000, metavar="N",
                   help="Monte Carlo permutations when exact enumeration is too large")
    p.add_argument("--exact-bound", type=int, default=1_000_000, metavar="N",
                   help="enumerate all partitions when there are at most N")
    p.add_argument("--seed", type=int, default=0, help="seed of permutations and bootstrap")
    p.add_argument("--alternative", choices=ALTERNATIVE_CHOICES, default="greater")
    p.add_argument("--correction", choices=CORRECTION_CHOICES, default="holm",
                   help="multiple-comparison correction per layer and pooling")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the CI of d (0: no interval)")
    p.add_argument("--confidence", type=float, default=0.95)
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
