"""Stimulus sets and test catalogs.

A *catalog* is a YAML file listing association tests; each test names its target concepts X, Y
and attribute concepts A, B as ``category/concept`` paths of the iEAT layout::

    version: 1
    tests:
      - name: Insect-Flower
        x: insect-flower/flower      # target X
        y: insect-flower/insect      # target Y
        a: valence/pleasant          # attribute A
        b: valence/unpleasant        # attribute B
        description: flowers are pleasant, insects unpleasant
        planted_beta: 0.8            # optional: planted strength (synthetic world)
        tags: [non-social]           # optional

A *stimulus folder* holds images as ``<root>/<category>/<concept>/*.{jpg,png,...}``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from bias.errors import VitbiasError

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_CATALOG = DATA_DIR / "tests" / "ieat.yaml"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")

_CONCEPT = {"type": "string", "pattern": r"^[^/\s][^/]*/[^/]*[^/\s]$",
            "description": "category/concept path of the iEAT layout"}
CATALOG_SCHEMA = {
    "type": "object",
    "required": ["tests"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "description": {"type": "string"},
        "tests": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "x", "y", "a", "b"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "x": _CONCEPT, "y": _CONCEPT, "a": _CONCEPT, "b": _CONCEPT,
                    "description": {"type": "string"},
                    "planted_beta": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class AssociationTest:
    """One iEAT/WEAT test: do X (vs Y) associate with A (vs B)?"""

    name: str
    x: str
    y: str
    a: str
    b: str
    description: str = ""
    planted_beta: float | None = None
    tags: tuple[str, ...] = ()

    @property
    def concepts(self) -> tuple[str, str, str, str]:
        return (self.x, self.y, self.a, self.b)


def load_catalog(path: str | os.PathLike[str] | None = None) -> list[AssociationTest]:
    """Read and validate a catalog; errors name the file and the offending field."""
    path = Path(path) if path is not None else DEFAULT_CATALOG
    if not path.is_file():
        raise VitbiasError(f"test catalog not found: {path}")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise VitbiasError(f"test catalog {path} is not valid YAML: {exc}") from exc
    try:
        jsonschema.validate(doc, CATALOG_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        hint = (" (YAML reads unquoted null, Null, yes, no, on, off as null or a boolean: "
                "quote such a name)" if exc.instance is None or isinstance(exc.instance, bool)
                else "")
        raise VitbiasError(f"test catalog {path}: field {where}: {exc.message}{hint}") from exc
    tests = [AssociationTest(**{**t, "tags": tuple(t.get("tags", ()))}) for t in doc["tests"]]
    names = [t.name for t in tests]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise VitbiasError(f"test catalog {path}: duplicate test names {dupes}")
    return tests


def select_tests(catalog: list[AssociationTest], available: set[str],
                 names: list[str] | None = None) -> list[AssociationTest]:
    """Tests to run: those named (all must be runnable) or every runnable one.

    A test is runnable when its four concepts are in ``available``. Unrunnable tests are
    skipped with ONE warning listing them; naming an unrunnable or unknown test is an error.
    """
    by_name = {t.name: t for t in catalog}
    if names:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise VitbiasError(f"unknown test(s) {unknown}; the catalog has {sorted(by_name)}")
        chosen = [by_name[n] for n in names]
        missing = {t.name: sorted(set(t.concepts) - available) for t in chosen
                   if not set(t.concepts) <= available}
        if missing:
            raise VitbiasError(f"test(s) named with --tests lack concepts: {missing}")
        return chosen
    runnable = [t for t in catalog if set(t.concepts) <= available]
    skipped = {t.name: sorted(set(t.concepts) - available) for t in catalog
               if t not in runnable}
    if skipped:
        log.warning("skipping %d test(s) whose concepts are missing: %s", len(skipped),
                    "; ".join(f"{k} (missing {', '.join(v)})" for k, v in skipped.items()))
    if not runnable:
        raise VitbiasError("no test of the catalog has all its concepts available")
    return runnable


def scan_stimuli(root: str | os.PathLike[str]) -> dict[str, list[Path]]:
    """Images per concept of a stimulus folder ``<root>/<category>/<concept>/<image>``.

    Files are sorted so that image order (and everything seeded downstream) is stable.
    """
    root = Path(root)
    if not root.is_dir():
        raise VitbiasError(f"stimulus folder not found: {root}")
    out: dict[str, list[Path]] = {}
    for concept_dir in sorted(p for p in root.glob("*/*") if p.is_dir()):
        files = sorted(f for f in concept_dir.iterdir()
                       if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            out[f"{concept_dir.parent.name}/{concept_dir.name}"] = files
    if not out:
        raise VitbiasError(f"no images in {root}: expected <category>/<concept>/*.jpg|png|...")
    return out
