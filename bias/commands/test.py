"""``vitbias test``: run the association tests of a catalog on embeddings, write a tidy CSV.

Embeddings are a folder of user-supplied files (``<category>/<concept>.{npy,csv,parquet}``,
only the catalog's concepts are read) or ``.npz`` tables written by ``vitbias embed``; each
gives one model, named by the folder or file stem. Tests whose concepts are missing are
skipped with one warning; naming such a test with ``--tests`` is an error. The CSV is sorted
and printed with a fixed float format, so the same inputs and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bias.errors import VitbiasError

log = logging.getLogger(__name__)

# Kept literal (not imported from bias.association) so that `vitbias --help` stays fast;
# tests check they match the library's registries.
ALTERNATIVE_CHOICES = ("greater", "less", "two-sided")
CORRECTION_CHOICES = ("holm", "bh", "none")
FLOAT_FORMAT = "%.12g"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "test", help="run iEAT association tests on embeddings, write a tidy CSV",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embeddings", nargs="+", required=True, metavar="[NAME=]DIR|FILE.npz",
                   help="embedding folder(s) or table(s); one model each, named NAME or by "
                        "its folder/file stem")
    add_test_options(p, family="model, layer and pooling")
    p.add_argument("--sc-out", default=None, metavar="FILE.csv",
                   help="also run the single-category tests (SC-EAT) and write them here")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV")
    p.set_defaults(func=run)


def add_test_options(p: argparse.ArgumentParser, family: str) -> None:
    """The catalog and statistics options shared by `vitbias test` and `vitbias audit`."""
    p.add_argument("--catalog", default=None, type=Path, metavar="FILE",
                   help="test catalog YAML (default: the shipped iEAT catalog)")
    p.add_argument("--tests", nargs="+", metavar="NAME", help="run only these tests")
    p.add_argument("--permutations", type=int, default=100_000, metavar="N",
                   help="Monte Carlo permutations when exact enumeration is too large")
    p.add_argument("--exact-bound", type=int, default=1_000_000, metavar="N",
                   help="enumerate all partitions when there are at most N (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help="seed of permutations and bootstrap")
    p.add_argument("--alternative", choices=ALTERNATIVE_CHOICES, default="greater")
    p.add_argument("--correction", choices=CORRECTION_CHOICES, default="holm",
                   help=f"multiple-comparison correction per {family}")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the CI of d (0: no interval)")
    p.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")


def load_tables(paths: list[str], concepts: set[str]) -> dict:
    """{model name: EmbeddingTable} for folders and .npz files, each ``[NAME=]PATH``.

    The name defaults to the stem; a workflow names models explicitly (``NAME=PATH``) because
    its files share stems across folders (``.../seed0.npz``).
    """
    from bias.embeddings import EmbeddingTable, load_embedding_dir

    tables = {}
    for raw in paths:
        given, sep, rest = raw.partition("=")
        explicit = bool(sep) and not Path(raw).exists()
        path = Path(rest if explicit else raw)
        if path.is_dir():
            table = load_embedding_dir(path, concepts=concepts)
        elif path.suffix == ".npz":
            table = EmbeddingTable.load(path)
        else:
            raise VitbiasError(f"--embeddings {path}: expected a folder of "
                               "<category>/<concept>.npy|csv|parquet or an .npz table")
        name = path.resolve().stem if path.name in ("", ".", "..") else path.stem
        name = given if explicit else name
        if name in tables:
            raise VitbiasError(f"--embeddings: two inputs are both named {name!r}; "
                               "the model column needs distinct folder/file stems")
        tables[name] = table
    return tables


def write_csv(frame, path: str) -> None:
    from bias.io import atomic_file

    with atomic_file(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    log.info("wrote %d rows to %s", len(frame), path)


def run(args: argparse.Namespace) -> int:
    from bias.association import run_sc_tests, run_tests, sc_tests_from
    from bias.stimuli import load_catalog, select_tests

    catalog = load_catalog(args.catalog)
    wanted = {c for t in catalog for c in t.concepts}
    tables = load_tables(args.embeddings, wanted)
    available = set.intersection(*(set(t.concept_names) for t in tables.values()))
    tests = select_tests(catalog, available, args.tests)
    options = {"n_permutations": args.permutations, "exact_bound": args.exact_bound,
               "alternative": args.alternative, "correction": args.correction,
               "n_bootstrap": args.bootstrap, "confidence": args.confidence,
               "seed": args.seed}
    log.info("running %d test(s) on %d model(s)", len(tests), len(tables))
    frame = run_tests(tables, tests, **options)
    if any(t.planted_beta is not None for t in tests):
        # A synthetic world's catalog knows the true strength of each test: keep it per row.
        frame["planted_beta"] = frame["test"].map({t.name: t.planted_beta for t in tests})
    sc_frame = run_sc_tests(tables, sc_tests_from(tests), **options) if args.sc_out else None
    write_csv(frame, args.out)
    if sc_frame is not None:
        write_csv(sc_frame, args.sc_out)
    return 0
