"""The comparison report of a study: ``<out>/index.html`` + ``<out>/figures/*.{png,svg}``.

Input: an aggregate folder (:mod:`bias.aggregate_io`) and optionally the workflow config.
Each section is built by one function of :mod:`bias.report.sections` from the tables of the
aggregate folder, so the report shows the numbers of the CSVs; a section whose data are absent
(one training-data condition, no planted β, no regression) is replaced by a note saying why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from bias.aggregate import select_layer
from bias.aggregate_io import read_aggregate
from bias.errors import VitbiasError
from bias.io import atomic_dir, atomic_file
from bias.report import html, sections
from bias.report.model import layer_label

log = logging.getLogger(__name__)


def load_config(config: str | os.PathLike[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """The workflow config as a dict (a YAML/JSON file, a mapping, or nothing)."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if not path.is_file():
        raise VitbiasError(f"config file not found: {path}")
    try:
        doc = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise VitbiasError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise VitbiasError(f"config {path} must be a mapping at the top level")
    return dict(doc)


def render_study_report(aggregate_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                        *, config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                        pooling: str | None = None, title: str = "vitbias: bias across models"
                        ) -> Path:
    """Render the study report; returns the path of ``index.html``.

    ``pooling`` picks the pooling of the single-pooling figures (heatmap, factor effects,
    CDA, calibration, layer curves; default ``cls`` when present); tables keep every pooling.
    Everything is rendered in memory first; ``figures/`` then ``index.html`` are replaced
    atomically, and other files in ``out_dir`` (e.g. a README) are left alone."""
    tables, prov = read_aggregate(aggregate_dir)
    tidy = tables["tidy"]
    settings = prov.get("settings", {})
    poolings = sorted(tidy["pooling"].dropna().unique())
    pool = pooling or ("cls" if "cls" in poolings else poolings[0])
    if pool not in poolings:
        raise VitbiasError(f"pooling {pool!r} is not in the aggregate; it has {poolings}")
    layer = settings.get("layer", "final")
    sel = select_layer(tidy, layer)
    study = sections.Study(tables=tables, provenance=prov, config=load_config(config),
                           tidy=tidy, sel=sel, pooling=pool,
                           alpha=float(settings.get("alpha", 0.05)),
                           label=layer_label(sel[sel["pooling"] == pool], layer))
    parts, figs = [], []
    for build in tqdm(sections.BUILDERS, desc="report sections", disable=None):
        part, new = build(study)
        parts.append(part)
        figs.extend(new)
    doc = html.page(title, parts, subtitle=f"{tidy['model'].nunique()} models, "
                    f"{tidy['test'].nunique()} tests; summary figures: pooling {pool}, "
                    f"{study.label}; α = {study.alpha:g}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out / "figures") as tmp:
        for fig in figs:
            (tmp / f"{fig.name}.png").write_bytes(fig.png)
            (tmp / f"{fig.name}.svg").write_bytes(fig.svg)
    with atomic_file(out / "index.html") as tmp:
        tmp.write_text(doc, encoding="utf-8")
    log.info("wrote %s with %d figures", out / "index.html", len(figs))
    return out / "index.html"
