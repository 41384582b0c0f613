"""The world's catalog: valid, runnable on its stimuli, planted_beta true to the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from test_rates import _gap, _labels

from bias.stimuli import load_catalog, scan_stimuli, select_tests
from bias.world.catalog import SHIPPED_CATALOG, all_concepts, catalog_text, world_catalog


def test_catalog_validates_and_every_concept_has_stimuli(small_world: Path) -> None:
    tests = load_catalog(small_world / "catalog.yaml")
    available = set(scan_stimuli(small_world / "stimuli"))
    assert available == all_concepts()
    assert select_tests(tests, available) == tests
    tags = {t for test in tests for t in test.tags}
    assert {"planted", "control", "null", "intersectional"} <= tags
    planted = {t.name: t.planted_beta for t in tests}
    assert planted["Tone-Valence"] == planted["Gender-Career"] == 0.8
    assert planted["Tone-Null"] == planted["Null-Valence"] == planted["Tone-Career"] == 0.0


def test_shipped_catalog_is_the_default_world_catalog() -> None:
    assert load_catalog(SHIPPED_CATALOG)  # valid
    assert yaml.safe_load(SHIPPED_CATALOG.read_text()) == yaml.safe_load(catalog_text())


def _member(concept: str, lab: dict[str, np.ndarray]) -> np.ndarray:
    """Training scenes that show ``concept`` (a group, a context or a null object)."""
    category, name = concept.split("/")
    if category == "tone-gender":
        tone, gender = name.split("-")
        return (lab["tone"] == tone) & (lab["gender"] == gender)
    key = {"tone": "tone", "gender": "gender", "valence": "valence", "career": "career",
           "null": "null"}[category]
    return lab[key] == name


def test_planted_beta_matches_simulated_training_data() -> None:
    """planted_beta (a formula) vs P(A|X) - P(A|Y) counted in sampled training scenes."""
    biases = {"valence": 0.6, "career": 0.9}
    lab = _labels(biases, n=6000, seed=2)
    for test in world_catalog(biases)["tests"]:
        gap, se = _gap(_member(test["a"], lab), _member(test["x"], lab), _member(test["y"], lab))
        assert abs(gap - test["planted_beta"]) < 4 * se, (test["name"], gap, se)
        assert test["planted_beta"] in (0.0, 0.6, 0.9), test["name"]
