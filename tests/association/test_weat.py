"""The stacked API: one call over models of different widths equals per-model calls."""

import numpy as np

from bias.association import weat

from .helpers import random_sets

OPTS = {"n_permutations": 2000, "exact_bound": 1000, "n_bootstrap": 100, "seed": 7}


def test_list_of_stacks_equals_per_model_calls():
    # three "models": widths 8, 16, 8; the last with other set sizes (its own partitions)
    groups = [random_sets(0, (10, 12, 5, 5), dim=8, m=3),
              random_sets(1, (10, 12, 5, 5), dim=16, m=2),
              random_sets(2, (9, 12, 6, 5), dim=8, m=1)]
    stacked = weat(*([g[i] for g in groups] for i in range(4)), **OPTS)
    assert stacked.effect_size.shape == (6,)
    singles = [weat(*g, **OPTS) for g in groups]
    for field in ("effect_size", "ci_low", "ci_high", "p_value", "p_se", "n_permutations"):
        np.testing.assert_array_equal(getattr(stacked, field),
                                      np.concatenate([getattr(s, field) for s in singles]))
    # a single row alone also gets the very same numbers
    row = weat(*(v[1] for v in groups[0]), **OPTS)
    assert row.p_value[0] == stacked.p_value[1] and row.ci_low[0] == stacked.ci_low[1]
    assert set(stacked.p_method) == {"monte-carlo"}  # C(22, 10) > exact_bound


def test_same_seed_same_numbers_other_seed_other_numbers():
    sets = random_sets(3, (12, 12, 6, 6), dim=8, m=2)
    one, again = weat(*sets, **OPTS), weat(*sets, **OPTS)
    other = weat(*sets, **{**OPTS, "seed": 8})
    np.testing.assert_array_equal(one.p_value, again.p_value)
    np.testing.assert_array_equal(one.ci_high, again.ci_high)
    assert not np.array_equal(one.p_value, other.p_value)
    np.testing.assert_array_equal(one.effect_size, other.effect_size)  # d has no randomness
