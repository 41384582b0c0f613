"""p_attributes / p_robust: the iEAT's permutation of the attribute images, against the
transcribed iEAT reference code with the roles swapped."""

import numpy as np
import pytest

from bias.association import adjust_pvalues, run_tests
from bias.embeddings import EmbeddingTable
from bias.stimuli import AssociationTest

from .ieat_reference import IeatTest

TEST = AssociationTest("T", "t/x", "t/y", "attr/a", "attr/b")


def table(x, y, a, b):
    names = ["t/x"] * len(x) + ["t/y"] * len(y) + ["attr/a"] * len(a) + ["attr/b"] * len(b)
    data = np.concatenate([x, y, a, b])
    return EmbeddingTable(arrays={("cls", 0): data}, image_ids=[str(i) for i in range(len(data))],
                          concepts=names)


def run(x, y, a, b, **kw):
    opts = {"n_permutations": 1000, "exact_bound": 10_000, "n_bootstrap": 0, "seed": 0}
    return run_tests({"m": table(x, y, a, b)}, [TEST], **(opts | kw)).iloc[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_p_values_equal_the_reference_with_roles_swapped(seed):
    rng = np.random.default_rng(seed)
    x, y, a, b = (rng.normal(size=(5, 6)) + shift for shift in (0.3, 0.0, 0.2, 0.0))
    row = run(x, y, a, b)
    assert row.p_method == "exact"
    assert row.p_value == pytest.approx(IeatTest(x, y, a, b).p_exact(), abs=1e-12)
    assert row.p_attributes == pytest.approx(IeatTest(a, b, x, y).p_exact(), abs=1e-12)
    assert row.p_robust == max(row.p_value, row.p_attributes)
    assert row.p_robust_adjusted == adjust_pvalues(np.array([row.p_robust]), "holm")[0]


def test_saturated_targets_with_unrelated_attributes_are_not_robust():
    """Targets in two tight clusters on axis 0; attribute images spread along axis 0 with a
    tiny mean difference: the iEAT p is minimal, permuting the attributes shows chance."""
    rng = np.random.default_rng(0)
    base = np.zeros(8)
    base[1] = 1.0
    x = base + 0.5 * np.eye(8)[0] + 0.001 * rng.normal(size=(8, 8))
    y = base - 0.5 * np.eye(8)[0] + 0.001 * rng.normal(size=(8, 8))
    a = base + np.outer(rng.normal(size=8) + 0.05, np.eye(8)[0]) + 0.3 * rng.normal(size=(8, 8))
    b = base + np.outer(rng.normal(size=8), np.eye(8)[0]) + 0.3 * rng.normal(size=(8, 8))
    row = run(x, y, a, b, alternative="two-sided")
    assert abs(row.effect_size) > 1.5 and row.p_value < 0.01
    assert row.p_attributes > 0.2 and row.p_robust == row.p_attributes


def test_a_real_association_is_robust():
    """X near A and Y near B: both permutations find it."""
    rng = np.random.default_rng(1)
    axis = np.eye(8)[0]
    x, a = (axis + 0.4 * rng.normal(size=(8, 8)) for _ in range(2))
    y, b = (-axis + 0.4 * rng.normal(size=(8, 8)) for _ in range(2))
    row = run(x, y, a, b)
    assert row.effect_size > 1.5 and row.p_robust < 0.01
