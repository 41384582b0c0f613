"""The benchmark scripts are scripts, not a package: the tests load them by path."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (its folder on sys.path, as when run)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def calibration() -> ModuleType:
    return load_script("calibration")


@pytest.fixture(scope="module")
def cda() -> ModuleType:
    return load_script("cda")


@pytest.fixture(scope="module")
def combine() -> ModuleType:
    return load_script("calibration_combine")


@pytest.fixture(scope="module")
def baseline() -> ModuleType:
    return load_script("lowlevel_baseline")
