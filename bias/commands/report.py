"""``vitbias report``: the comparison report (index.html + figures/) of an aggregate folder."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="HTML comparison report with figures",
        description="Render <out>/index.html (self-contained: figures inlined, no external "
                    "URLs) and <out>/figures/*.png|svg from a `vitbias aggregate` folder. "
                    "Sections without data are replaced by a note.")
    p.add_argument("--aggregate", required=True, metavar="DIR",
                   help="folder written by vitbias aggregate")
    p.add_argument("--config", default=None,
                   help="workflow config (YAML) shown in the methods section")
    p.add_argument("--pooling", default=None,
                   help="pooling of the summary figures (default: cls when present)")
    p.add_argument("--title", default="vitbias: bias across models", help="page title")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="report folder (index.html and figures/ are replaced; other files kept)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bias.report.study import render_study_report

    render_study_report(args.aggregate, args.out, config=args.config, pooling=args.pooling,
                        title=args.title)
    return 0
