"""Bootstrap intervals: weighted resamples equal explicit resampling; CIs behave."""

import numpy as np
import pytest

from bias.association import bootstrap_ci, sc_effect_size, weat_effect_size
from bias.association.bootstrap import (
    draw_counts,
    sc_bootstrap_effect_sizes,
    weat_bootstrap_effect_sizes,
)

from .helpers import random_sets
from .ieat_reference import IeatTest


def test_identity_counts_give_the_effect_size():
    x, y, a, b = random_sets(0, (6, 7, 5, 4), dim=8, m=3)
    ones = [np.ones((2, n), dtype=np.int64) for n in (6, 7, 5, 4)]
    boot = weat_bootstrap_effect_sizes(x, y, a, b, ones)
    np.testing.assert_allclose(boot, np.repeat(weat_effect_size(x, y, a, b)[:, None], 2, 1),
                               atol=1e-12)


def test_weighted_resamples_equal_explicit_resampled_sets():
    x, y, a, b = random_sets(1, (6, 7, 5, 4), dim=8)
    counts = draw_counts(np.random.default_rng(3), (6, 7, 5, 4), 20)
    boot = weat_bootstrap_effect_sizes(x, y, a, b, counts)[0]
    for r in range(20):
        resampled = [np.repeat(v, c[r], axis=0) for v, c in zip((x, y, a, b), counts, strict=True)]
        assert boot[r] == pytest.approx(IeatTest(*resampled).effect_size(), abs=1e-10)


def test_sc_weighted_resamples_equal_explicit_resampled_sets():
    x, a, b = random_sets(2, (6, 5, 7), dim=8)
    counts = draw_counts(np.random.default_rng(4), (6, 5, 7), 10)
    boot = sc_bootstrap_effect_sizes(x, a, b, counts)[0]
    for r in range(10):
        resampled = [np.repeat(v, c[r], axis=0) for v, c in zip((x, a, b), counts, strict=True)]
        assert boot[r] == pytest.approx(sc_effect_size(*resampled)[0], abs=1e-10)


def test_counts_resample_within_each_set():
    counts = draw_counts(np.random.default_rng(0), (3, 9), 50)
    assert [c.shape for c in counts] == [(50, 3), (50, 9)]
    assert (counts[0].sum(axis=1) == 3).all() and (counts[1].sum(axis=1) == 9).all()


def test_ci_contains_d_and_narrows_with_more_images():
    widths = {}
    for n in (8, 64):
        x, y, a, b = random_sets(n, (n, n, n, n), dim=16, m=10, shift=0.5)
        d = weat_effect_size(x, y, a, b)
        low, high = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=400, seed=0)
        assert np.all((low <= d) & (d <= high))
        widths[n] = np.mean(high - low)
    assert widths[64] < 0.6 * widths[8]


def test_ci_level_seed_and_no_bootstrap():
    x, y, a, b = random_sets(5, (10, 10, 10, 10), dim=8, m=2)
    low95, high95 = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=300, seed=1)
    low80, high80 = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=300, confidence=0.8, seed=1)
    assert np.all(low95 <= low80) and np.all(high80 <= high95)
    again = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=300, seed=1)
    np.testing.assert_array_equal(again[0], low95)
    other = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=300, seed=2)
    assert not np.array_equal(other[0], low95)
    none = bootstrap_ci("weat", [x, y, a, b], n_bootstrap=0)
    assert np.isnan(none[0]).all() and np.isnan(none[1]).all()


def test_sc_ci_contains_d():
    x, a, b = random_sets(6, (12, 12, 12), dim=8, m=4, shift=0.8)
    d = sc_effect_size(x, a, b)
    low, high = bootstrap_ci("sc", [x, a, b], n_bootstrap=300, seed=0)
    assert np.all((low <= d) & (d <= high))
