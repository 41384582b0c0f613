"""The ``vitbias`` command: a thin dispatcher over ``bias.commands.<name>`` modules.

Each command module defines ``register(subparsers)`` which adds its parser and sets
``func=run``. Command modules import heavy libraries (torch, timm, diffusers) inside ``run`` so
that ``vitbias --help`` and the statistics-only commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bias import __version__
from bias.errors import VitbiasError
from bias.log import setup_logging

# Order is the order shown in --help: the stages of the study.
COMMANDS = (
    "world",
    "train",
    "train_editor",
    "counterfactuals",
    "embed",
    "test",
    "audit",
    "aggregate",
    "report",
)

log = logging.getLogger("bias.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vitbias",
        description="Audit Vision Transformers for social bias (iEAT association tests).",
    )
    parser.add_argument("--version", action="version", version=f"vitbias {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bias.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bias.commands.{name}":
                raise
            continue  # a stage not built yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose)
    try:
        return int(args.func(args) or 0)
    except VitbiasError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
