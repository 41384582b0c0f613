"""Files of the aggregation step: results CSVs and model metadata in, the aggregate folder out.

The aggregate folder (``vitbias aggregate --out DIR``) holds::

    tidy.csv                      every model × layer × pooling × test with its factors
    summary_by_<factor>.csv       mean d with t-interval, significant counts, per factor level
    summary_by_test.csv           the same per test (across models)
    summary_by_objective_data.csv the CDA comparison (objective × data condition)
    calibration.csv               the same per planted β (when a catalog with β was given)
    meta_analysis.csv             random-effects combined d per model
    regression.csv                OLS coefficients of d on the factors
    provenance.json               inputs (with SHA-256), settings, model metadata, versions
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bias.errors import VitbiasError
from bias.io import atomic_dir, sha256_file, versions
from bias.stimuli import AssociationTest, load_catalog

log = logging.getLogger(__name__)

REQUIRED = ("model", "layer", "pooling", "test", "effect_size")
NUMERIC = ("layer", "n_x", "n_y", "n_a", "n_b", "effect_size", "ci_low", "ci_high", "p_value",
           "n_permutations", "p_se", "p_adjusted", "p_attributes", "p_robust",
           "p_robust_adjusted")
INTEGER = ("layer", "n_x", "n_y", "n_a", "n_b", "n_permutations")
FLOAT_FORMAT = "%.10g"  # fixed formatting: the same inputs give byte-identical tables
FAMILY = {"mae": "generative", "simmim": "generative", "beit": "generative",
          "igpt": "generative", "supervised": "discriminative", "simclr": "discriminative",
          "moco_v3": "discriminative", "dino": "discriminative", "clip": "discriminative"}
_MAPPING_KEYS = {"objective", "objective_family", "size", "param_count", "data", "dataset",
                 "data_condition", "patch_size", "img_size", "seed", "arch", "model_kwargs"}


def model_factors(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Factors of one model from its ``model.json`` (or a plain ``{factor: value}`` dict)."""
    kwargs = doc.get("model_kwargs") or {}
    arch = str(doc.get("arch") or "").split(".")[0]
    patch = re.search(r"patch(\d+)", arch)
    img = re.search(r"patch\d+.*_(\d+)$", arch)
    data = doc.get("data_condition", doc.get("data"))
    objective = doc.get("objective")
    return {
        "objective": objective,
        "objective_family": doc.get("objective_family") or FAMILY.get(str(objective).lower()),
        "size": doc.get("size"),
        "param_count": doc.get("param_count"),
        "data": data if isinstance(data, str) else None,  # lists of data ids are not a factor
        "dataset": doc.get("dataset"),
        "patch_size": doc.get("patch_size") or kwargs.get("patch_size")
        or (int(patch.group(1)) if patch else None),
        "img_size": doc.get("img_size") or kwargs.get("img_size")
        or (int(img.group(1)) if img else None),
        "seed": doc.get("seed"),
        "arch": doc.get("arch"),
    }


def _parts(name: str) -> list[str]:
    """Path components of a model name without its source prefix (``ckpt:``, ``timm:``)."""
    return [p for p in str(name).split(":", 1)[-1].split("/") if p]


def match_models(names: Sequence[str], keys: Sequence[str]) -> dict[str, str]:
    """Metadata key of each results model name: the same name, else the one key whose path is
    a trailing part of the name's or vice versa (``ckpt:models/mae-s0`` ↔ ``models/mae-s0``
    ↔ ``mae-s0``). Names without a key are left out; several candidates are an error, never a
    guess (``.../original/seed0`` and ``.../2-sided/seed0`` must not be confused)."""
    out = {}
    split = {k: _parts(k) for k in keys}
    for name in names:
        if name in split:
            out[name] = name
            continue
        parts = _parts(name)
        found = [k for k, kp in split.items() if kp and parts and (
            parts[-len(kp):] == kp or kp[-len(parts):] == parts)]
        if len(found) > 1:
            raise VitbiasError(f"model {name!r} matches several model metadata entries "
                               f"{sorted(found)}; key the metadata by the exact model name")
        if found:
            out[name] = found[0]
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise VitbiasError(f"results CSV not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise VitbiasError(f"results CSV {path} cannot be read: {exc}") from exc
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise VitbiasError(f"results CSV {path} lacks column(s) {missing}")
    if df.empty:
        raise VitbiasError(f"results CSV {path} has no rows")
    for col in REQUIRED:
        if df[col].isna().any():
            row = int(df[col].isna().to_numpy().argmax()) + 2  # 1-based, after the header
            raise VitbiasError(f"results CSV {path}: column {col} is blank on line {row}")
    for col in (c for c in NUMERIC if c in df.columns):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna()
        if bad.any():
            raise VitbiasError(f"results CSV {path}: column {col} holds non-numeric value "
                               f"{df[col][bad].iloc[0]!r}")
        df[col] = num.astype("Int64") if col in INTEGER and (num.dropna() % 1 == 0).all() else num
    return df


def read_results(paths: Sequence[str | os.PathLike[str]]) -> tuple[pd.DataFrame, list[dict]]:
    """Concatenate results CSVs (columns: see :data:`bias.aggregate.RESULT_COLUMNS`).

    Returns the frame and, per file, ``{path, sha256, rows}`` for provenance. The same model ×
    layer × pooling × test twice (across or within files) is an error: which one counts?"""
    if not paths:
        raise VitbiasError("no results CSV given")
    frames, inputs = [], []
    for p in map(Path, paths):
        df = _read_csv(p)
        frames.append(df)
        inputs.append({"path": str(p), "sha256": sha256_file(p), "rows": len(df)})
    out = pd.concat(frames, ignore_index=True)
    key = ["model", "layer", "pooling", "test"]
    dupes = out[out.duplicated(key, keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0][key].to_dict()
        raise VitbiasError(f"results hold {len(dupes)} rows for the same model × layer × pooling "
                           f"× test, e.g. {first}")
    return out, inputs


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VitbiasError(f"model metadata {path} is not readable JSON: {exc}") from exc


def _from_mapping(path: Path, doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, entry in doc.items():
        if not isinstance(entry, Mapping):
            raise VitbiasError(f"model metadata {path}: entry {name!r} is not an object")
        unknown = sorted(set(entry) - _MAPPING_KEYS) if "arch" not in entry else []
        if unknown:
            raise VitbiasError(f"model metadata {path}: model {name!r} has unknown field(s) "
                               f"{unknown}; known: {sorted(_MAPPING_KEYS)}")
        out[str(name)] = model_factors(entry)
    return out


def read_models_meta(paths: Sequence[str | os.PathLike[str]]) -> dict[str, dict[str, Any]]:
    """Factors per model from checkpoint folders, ``model.json`` files, folders holding
    checkpoints at any depth (keys: the checkpoint folder paths as given, matched to results
    names by :func:`match_models`) or JSON mappings ``{model: {objective, size, data, ...}}``
    (keys: the exact model names of the results)."""
    out: dict[str, dict[str, Any]] = {}
    for p in map(Path, paths):
        if p.is_dir():  # keyed by the checkpoint folder's path, as given
            found = [p / "model.json"] if (p / "model.json").is_file() else sorted(
                p.rglob("model.json"))
            if not found:
                raise VitbiasError(f"model metadata folder {p} holds no model.json")
            out.update({f.parent.as_posix(): model_factors(_read_json(f)) for f in found})
        elif p.is_file():
            doc = _read_json(p)
            if not isinstance(doc, Mapping):
                raise VitbiasError(f"model metadata {p} must be a JSON object")
            if "arch" in doc or "model_kwargs" in doc:
                out[(p.parent if p.name == "model.json" else p.with_suffix("")).as_posix()] = (
                    model_factors(doc))
            else:
                out.update(_from_mapping(p, doc))
        else:
            raise VitbiasError(f"model metadata not found: {p}")
    return out


def merge_catalogs(paths: Sequence[str | os.PathLike[str]]) -> list[AssociationTest]:
    """Tests of several catalogs (e.g. one per dataset); one name with two β is an error."""
    tests: dict[str, AssociationTest] = {}
    for path in paths:
        for t in load_catalog(path):
            seen = tests.setdefault(t.name, t)
            if seen.planted_beta != t.planted_beta:
                raise VitbiasError(f"test {t.name!r} has planted_beta {seen.planted_beta} and "
                                   f"{t.planted_beta} in the catalogs {[str(p) for p in paths]}")
    return list(tests.values())


def write_aggregate(out_dir: str | os.PathLike[str], tables: Mapping[str, pd.DataFrame], *,
                    inputs: list[dict], models_meta: Mapping[str, Any],
                    catalogs: Sequence[str | os.PathLike[str]],
                    settings: Mapping[str, Any]) -> Path:
    """Write ``<name>.csv`` per table and ``provenance.json``; the folder appears only whole."""
    from bias.io import write_json

    out = Path(out_dir)
    prov = {"inputs": inputs, "settings": dict(settings), "models": dict(models_meta),
            "catalogs": [{"path": str(c), "sha256": sha256_file(c)} for c in catalogs],
            "tables": sorted(f"{n}.csv" for n in tables), "versions": versions()}
    with atomic_dir(out) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, float_format=FLOAT_FORMAT)
        write_json(tmp / "provenance.json", prov)
    log.info("wrote %d tables to %s", len(tables), out)
    return out


def read_aggregate(agg_dir: str | os.PathLike[str]) -> tuple[dict[str, pd.DataFrame], dict]:
    """Tables (by name, without ``.csv``) and provenance of an aggregate folder."""
    d = Path(agg_dir)
    if not (d / "tidy.csv").is_file():
        raise VitbiasError(f"aggregate folder {d} lacks tidy.csv (run `vitbias aggregate`)")
    tables = {}
    for f in sorted(d.glob("*.csv")):
        try:
            # Only blanks are missing: a test may be called "Null" or "NA".
            tables[f.stem] = pd.read_csv(f, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            tables[f.stem] = pd.DataFrame()  # an empty table (e.g. no regression possible)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise VitbiasError(f"aggregate table {f} cannot be read: {exc}") from exc
    prov = _read_json(d / "provenance.json") if (d / "provenance.json").is_file() else {}
    return tables, prov
