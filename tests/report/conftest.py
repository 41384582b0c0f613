"""Fixtures of the report tests."""

from __future__ import annotations

import pytest

from .helpers import catalog_yaml, study_results, with_lowlevel


@pytest.fixture(scope="session")
def study_csv(tmp_path_factory) -> tuple:
    d = tmp_path_factory.mktemp("study")
    with_lowlevel(study_results()).to_csv(d / "results.csv", index=False)
    (d / "catalog.yaml").write_text(catalog_yaml())
    return d / "results.csv", d / "catalog.yaml"
