"""Permutation p-values against brute-force enumeration, iEAT, and their own null."""

import itertools

import numpy as np
import pytest
from scipy import stats

from bias.association import permutation, permutation_test, weat_scores
from bias.association.permutation import enumerate_subsets

from .helpers import brute_force_p, random_sets
from .ieat_reference import IeatTest

ALTS = ("greater", "less", "two-sided")


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 2), (6, 3), (9, 1), (9, 8), (12, 5)])
def test_enumerate_subsets_matches_itertools(n, k):
    expected = np.array(list(itertools.combinations(range(n), k)))
    np.testing.assert_array_equal(enumerate_subsets(n, k), expected)


def test_hand_worked_p_values_with_ties():
    # scores (1, 0 | -1, 0): of the 6 splits, sums of the first pair are 1,0,1,-1,0,-1
    scores = np.array([[1.0, 0.0, -1.0, 0.0]])
    expected = {"greater": 2 / 6, "less": 6 / 6, "two-sided": 4 / 6}
    for alt, p in expected.items():
        res = permutation_test(scores, 2, alternative=alt)
        assert res.p_method == "exact" and res.n_permutations == 6
        assert res.p_value[0] == pytest.approx(p, abs=1e-15)
        assert res.p_se[0] == 0


@pytest.mark.parametrize("alternative", ALTS)
@pytest.mark.parametrize(("nx", "ny"), [(3, 5), (6, 2), (4, 4)])
def test_exact_equals_brute_force_enumeration(alternative, nx, ny):
    x, y, a, b = random_sets(nx * 10 + ny, (nx, ny, 4, 5), dim=6, m=3, shift=0.5)
    scores = weat_scores(x, y, a, b)
    res = permutation_test(scores, nx, alternative=alternative)
    assert res.p_method == "exact"
    for i in range(3):
        assert res.p_value[i] == pytest.approx(brute_force_p(scores[i], nx, alternative),
                                               abs=1e-15)


def test_exact_greater_equals_ieat_exact_test():
    for seed in range(4):
        x, y, a, b = random_sets(seed, (5, 5, 6, 6), dim=8, shift=0.3 * seed)
        ref = IeatTest(x, y, a, b).p_exact()
        res = permutation_test(weat_scores(x, y, a, b), 5)
        assert res.p_value[0] == pytest.approx(ref, abs=1e-15)


@pytest.mark.parametrize("alternative", ALTS)
def test_monte_carlo_agrees_with_exact_just_above_bound(alternative):
    # C(12, 5) = 792 partitions; a bound of 700 forces Monte Carlo
    x, y, a, b = random_sets(7, (5, 7, 6, 6), dim=8, m=6, shift=0.4)
    scores = weat_scores(x, y, a, b)
    exact = permutation_test(scores, 5, alternative=alternative)
    mc = permutation_test(scores, 5, alternative=alternative, exact_bound=700,
                          n_permutations=20_000, seed=11)
    assert exact.p_method == "exact" and exact.n_permutations == 792
    assert mc.p_method == "monte-carlo" and mc.n_permutations == 20_000
    se = np.sqrt(exact.p_value * (1 - exact.p_value) / 20_000) + 1 / 20_000
    assert np.all(np.abs(mc.p_value - exact.p_value) <= 4 * se)
    np.testing.assert_allclose(mc.p_se, np.sqrt(mc.p_value * (1 - mc.p_value) / 20_000))


def test_monte_carlo_counts_the_observed_partition():
    # an extreme observed split: no random split beats it, so p = 1 / (m + 1) exactly
    scores = np.array([np.r_[np.arange(10.0, 20.0), np.arange(0.0, 10.0)]])
    res = permutation_test(scores, 10, exact_bound=0, n_permutations=999, seed=0)
    assert res.p_value[0] == pytest.approx(1 / 1000)


@pytest.mark.parametrize("exact_bound", [1_000_000, 0])
def test_null_p_values_are_uniform(exact_bound):
    # 300 independent random tests stacked into one call; under the null p ~ U(0, 1)
    x, y, a, b = random_sets(2024, (8, 8, 6, 6), dim=16, m=300)
    res = permutation_test(weat_scores(x, y, a, b), 8, exact_bound=exact_bound,
                           n_permutations=2000, seed=5)
    assert res.p_method == ("exact" if exact_bound else "monte-carlo")
    assert stats.kstest(res.p_value, "uniform").pvalue > 0.01
    # and a planted association is detected
    xs, ys, as_, bs = random_sets(2025, (8, 8, 6, 6), dim=16, m=50, shift=2.0)
    planted = permutation_test(weat_scores(xs, ys, as_, bs), 8, exact_bound=exact_bound,
                               n_permutations=2000, seed=5)
    assert np.median(planted.p_value) < 0.01


def test_stacked_equals_row_by_row_and_chunking_changes_nothing(monkeypatch):
    x, y, a, b = random_sets(3, (20, 22, 5, 5), dim=8, m=5)
    scores = weat_scores(x, y, a, b)
    stacked = permutation_test(scores, 20, n_permutations=3000, seed=42)
    for i in range(5):
        alone = permutation_test(scores[i:i + 1], 20, n_permutations=3000, seed=42)
        assert alone.p_value[0] == stacked.p_value[i]
    monkeypatch.setattr(permutation, "BLOCK_ELEMENTS", 97)  # many tiny chunks
    chunked = permutation_test(scores, 20, n_permutations=3000, seed=42)
    np.testing.assert_array_equal(chunked.p_value, stacked.p_value)


def test_seed_reproducibility():
    x, y, a, b = random_sets(9, (15, 15, 5, 5), dim=8, m=3)
    scores = weat_scores(x, y, a, b)
    one = permutation_test(scores, 15, n_permutations=500, seed=1)
    again = permutation_test(scores, 15, n_permutations=500, seed=1)
    other = permutation_test(scores, 15, n_permutations=500, seed=2)
    np.testing.assert_array_equal(one.p_value, again.p_value)
    assert not np.array_equal(one.p_value, other.p_value)


def test_bad_arguments():
    with pytest.raises(Exception, match="alternative"):
        permutation_test(np.zeros((1, 4)), 2, alternative="bigger")
    with pytest.raises(ValueError, match="n_first"):
        permutation_test(np.zeros((1, 4)), 4)
