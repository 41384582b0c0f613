"""Thin adapter: write the factors of every model of the study as one JSON mapping.

Trained models get their factors from their ``model.json`` plus the data variant of the grid;
loaded checkpoints from the ``load`` entries of the config.
"""

import json
import logging
from pathlib import Path

from bias.aggregate_io import model_factors
from bias.io import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
logging.basicConfig(filename=sm.log[0], level=logging.INFO)
meta = {}
for model in sm.params.trained:
    _, dataset, variant, *_ = model.split("/")
    doc = json.loads((Path(sm.params.results) / "models" / model.split("/", 1)[1]
                      / "model.json").read_text())
    meta[model] = {**model_factors(doc), "data": variant, "dataset": dataset}
for entry in sm.params.loaded:
    meta[f"loaded/{entry['name']}"] = {k: entry.get(k) or None for k in
                                       ("objective", "objective_family", "size", "data")}
    meta[f"loaded/{entry['name']}"]["dataset"] = entry["dataset"]
write_json(sm.output.meta, meta)
logging.info("wrote factors of %d models", len(meta))
