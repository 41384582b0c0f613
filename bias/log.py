"""Logging set-up for the command line. Library modules only call ``logging.getLogger``."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(verbosity: int = 0) -> None:
    """Log to stderr; ``-v`` shows debug messages, ``-q`` only warnings."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    level = int(os.environ.get("VITBIAS_LOG_LEVEL", level))
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
