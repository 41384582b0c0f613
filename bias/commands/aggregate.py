"""``vitbias aggregate``: join association results with model factors and summarise by factor."""

from __future__ import annotations

import argparse


def _layer(value: str) -> str | int:
    if value in ("final", "best"):
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'final', 'best' or a layer index, not {value!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "aggregate", help="tidy table and statistics by size, data, objective",
        description="Join tidy association results (CSV, one row per model × layer × pooling "
                    "× test) with model metadata, and write to --out: tidy.csv, "
                    "summary_by_<factor>.csv, summary_by_test.csv, "
                    "summary_by_objective_data.csv, calibration.csv (with --catalog), "
                    "meta_analysis.csv, regression.csv and provenance.json. The folder is "
                    "replaced as a whole.")
    p.add_argument("--results", nargs="+", required=True, metavar="CSV",
                   help="association results CSVs (vitbias test / audit)")
    p.add_argument("--models-meta", nargs="*", default=[], metavar="PATH",
                   help="model metadata: checkpoint folders, model.json files, a folder of "
                        "checkpoints, or a JSON mapping {model: {objective, size, data, ...}}; "
                        "overrides the factor columns of the results")
    p.add_argument("--catalog", nargs="*", default=[], metavar="YAML",
                   help="test catalog(s): add planted_beta (the calibration of a synthetic "
                        "world); several catalogs (one per dataset) are merged by test name")
    p.add_argument("--layer", type=_layer, default="final",
                   help="layer of the summaries: final (default), best, or an index")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level for adjusted p-values (default 0.05)")
    p.add_argument("--confidence", type=float, default=0.95,
                   help="level of the intervals of means and combined effects (default 0.95)")
    p.add_argument("--cov-type", default="HC3", choices=("nonrobust", "HC0", "HC1", "HC2", "HC3"),
                   help="regression standard errors (default HC3, robust)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bias.aggregate import aggregate
    from bias.errors import VitbiasError

    if not 0 < args.alpha < 1 or not 0 < args.confidence < 1:
        raise VitbiasError(f"--alpha ({args.alpha}) and --confidence ({args.confidence}) must "
                           "lie strictly between 0 and 1")
    aggregate(args.results, args.out, models_meta=args.models_meta, catalogs=args.catalog,
              layer=args.layer, alpha=args.alpha, confidence=args.confidence,
              cov_type=args.cov_type)
    return 0
