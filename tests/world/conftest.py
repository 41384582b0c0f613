"""Shared helpers of the world tests: a small generated world, folder hashing, iEAT d."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bias.world import generate_world


def folder_digest(root: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def ieat_effect_size(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Caliskan/Steed effect size from its definition, written out with explicit loops.

    s(w) = mean_a cos(w, a) - mean_b cos(w, b); d = (mean_X s - mean_Y s) / std_{X u Y}(s).
    """
    def cos(u: np.ndarray, v: np.ndarray) -> float:
        return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))

    def s(w: np.ndarray) -> float:
        return np.mean([cos(w, ai) for ai in a]) - np.mean([cos(w, bi) for bi in b])

    sx, sy = [s(w) for w in x], [s(w) for w in y]
    return (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small default-bias world, generated once per session (read-only for tests)."""
    out = tmp_path_factory.mktemp("world") / "w"
    return generate_world(out, n_train=240, n_stimuli=6, seed=3)
