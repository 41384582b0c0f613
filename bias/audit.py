"""Audit one model: embed the stimuli, run every runnable catalog test at every layer and
pooling, and write ``results.csv``, ``provenance.json``, ``embeddings.npz`` and
``report.html`` into one folder, atomically (a failure leaves no folder).

``results.csv`` is the engine's tidy table (one row per layer x pooling x test) with the model
factors in front: ``model, objective, size, data, seed`` come from the checkpoint's
``model.json`` when known (blank otherwise). ``seed`` is the model's training seed, as in the
aggregate tables; the seed of the permutations and bootstrap is ``test_seed``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bias.embed import EmbedOptions, embed_spec
from bias.errors import VitbiasError
from bias.io import atomic_dir, sha256_file, versions, write_json
from bias.stimuli import DEFAULT_CATALOG, load_catalog, scan_stimuli, select_tests

log = logging.getLogger(__name__)

MODEL_FACTORS = ("objective", "size", "data", "seed")
OUTPUTS = ("results.csv", "provenance.json", "embeddings.npz", "report.html")
FLOAT_FORMAT = "%.12g"


@dataclass(frozen=True)
class TestOptions:
    """Statistics of the association tests (see :func:`bias.association.run_tests`)."""

    n_permutations: int = 100_000
    exact_bound: int = 1_000_000
    alternative: str = "greater"
    correction: str = "holm"
    n_bootstrap: int = 1000
    confidence: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class AuditOptions:
    catalog: str | os.PathLike[str] | None = None  # None: the shipped iEAT catalog
    tests: list[str] | None = None  # None: every test whose concepts exist
    embed: EmbedOptions = field(default_factory=EmbedOptions)
    stats: TestOptions = field(default_factory=TestOptions)


def run_audit(spec: str, stimuli_root: str | os.PathLike[str], out_dir: str | os.PathLike[str],
              options: AuditOptions | None = None) -> Path:
    """Audit the model ``spec`` on ``stimuli_root``; returns ``out_dir`` with its 4 files."""
    from bias.association import run_tests
    from bias.report.model import render_model_report

    opts = options or AuditOptions()
    out = Path(out_dir)
    _check_out(out)
    catalog_path = Path(opts.catalog) if opts.catalog is not None else DEFAULT_CATALOG
    stimuli = scan_stimuli(stimuli_root)
    tests = select_tests(load_catalog(catalog_path), set(stimuli), opts.tests)
    needed = sorted({c for t in tests for c in t.concepts})
    table, meta = embed_spec(spec, {c: stimuli[c] for c in needed}, opts.embed)
    log.info("running %d test(s) at %d (pooling, layer) keys", len(tests), len(table.keys))
    stats = opts.stats
    frame = run_tests({spec: table}, tests, n_permutations=stats.n_permutations,
                      exact_bound=stats.exact_bound, alternative=stats.alternative,
                      correction=stats.correction, n_bootstrap=stats.n_bootstrap,
                      confidence=stats.confidence, seed=stats.seed)
    frame = with_model_factors(frame, meta)
    provenance = {**table.provenance, "model": spec, "stimuli": str(Path(stimuli_root)),
                  "images_per_concept": {c: len(table.rows(c)) for c in needed},
                  "catalog": str(catalog_path), "catalog_sha256": sha256_file(catalog_path),
                  "tests": [t.name for t in tests], "statistics": vars(stats),
                  "model_meta": _short_meta(meta), "versions": versions()}
    with atomic_dir(out) as tmp:
        frame.to_csv(tmp / "results.csv", index=False, float_format=FLOAT_FORMAT,
                     lineterminator="\n")
        write_json(tmp / "provenance.json", provenance)
        table.save(tmp / "embeddings.npz")
        render_model_report(frame, provenance, tmp / "report.html")
    log.info("audit of %s written to %s", spec, out)
    return out


def with_model_factors(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Engine rows with ``objective, size, data, seed`` (model factors) after ``model``.

    The engine's own ``seed`` column (of the permutations) becomes ``test_seed``.
    """
    df = frame.copy()
    factors = {"objective": meta.get("objective"), "size": meta.get("size"),
               "data": meta.get("data_condition", meta.get("data")), "seed": meta.get("seed")}
    for name in MODEL_FACTORS:
        value = factors[name]
        df[name] = value if isinstance(value, str | int | float) else None
    rest = [c for c in df.columns if c not in ("model", *MODEL_FACTORS)]
    return df[["model", *MODEL_FACTORS, *rest]]


def _check_out(out: Path) -> None:
    """Refuse to replace a non-empty folder that is not a previous audit (atomic_dir would)."""
    if out.exists() and not out.is_dir():
        raise VitbiasError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "provenance.json").is_file():
        raise VitbiasError(f"--out {out} is a non-empty folder that is not a vitbias audit; "
                           f"refusing to replace it")


def _short_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Checkpoint metadata without long per-step lists (loss curves)."""
    return {k: v for k, v in meta.items() if not (isinstance(v, list) and len(v) > 50)}
