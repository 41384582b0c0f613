"""Thin adapter: write the factors of every model of the study as one JSON mapping.

Trained models get their factors from their ``model.json`` (the inputs, in the order of
``params.trained``) plus the dataset and data variant of the grid; loaded checkpoints get them
from the ``load`` entries of the config.
"""

import json
import logging
from pathlib import Path

from bias.aggregate_io import model_factors
from bias.io import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
logging.basicConfig(filename=sm.log[0], level=logging.INFO)
meta = {}
for model, path in zip(sm.params.trained, sm.input, strict=True):
    _, dataset, variant, *_ = Path(model).parts
    doc = json.loads(Path(path).read_text())
    meta[model] = {**model_factors(doc), "data": variant, "dataset": dataset}
for entry in sm.params.loaded:
    factors = {k: entry.get(k) or None for k in ("objective", "objective_family", "size", "data")}
    meta[f"loaded/{entry['name']}"] = {**factors, "dataset": entry["dataset"]}
write_json(sm.output.meta, meta)
logging.info("wrote the factors of %d models", len(meta))
