"""One torch thread per test: the CI machine is small and shared, and oversubscribed OpenMP
threads turn a 0.3 s test into 30 s."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _objectives_on_one_thread(one_torch_thread):
    """Every objective test runs on one torch thread (tests/conftest.py)."""
