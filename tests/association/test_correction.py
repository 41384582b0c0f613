"""Holm and Benjamini–Hochberg against hand computations."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from bias.association import CORRECTIONS, adjust_pvalues
from bias.errors import VitbiasError


def holm_by_hand(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    k = len(p)
    out = [0.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p[i]))
        out[i] = running
    return out


def bh_by_hand(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    k = len(p)
    out = [0.0] * k
    running = 1.0
    for rank in range(k - 1, -1, -1):
        i = order[rank]
        running = min(running, k * p[i] / (rank + 1))
        out[i] = running
    return out


def test_textbook_example():
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_array_equal(adjust_pvalues(p, "none"), p)


@pytest.mark.parametrize("seed", range(5))
def test_random_families_against_hand_computation(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=int(rng.integers(1, 30))).tolist()
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), holm_by_hand(p), atol=1e-15)
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), bh_by_hand(p), atol=1e-15)
    # and a third opinion: statsmodels
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        np.testing.assert_allclose(adjust_pvalues(p, ours), multipletests(p, method=theirs)[1],
                                   atol=1e-15)


def test_ties_and_large_values():
    p = [0.3, 0.3, 0.9, 0.3]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), holm_by_hand(p))
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), bh_by_hand(p))
    assert adjust_pvalues(p, "holm").max() == 1.0


def test_nan_is_left_out_of_the_family():
    p = [0.01, np.nan, 0.04]
    out = adjust_pvalues(p, "holm")
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], holm_by_hand([0.01, 0.04]))


def test_unknown_correction():
    assert set(CORRECTIONS) == {"holm", "bh", "none"}
    with pytest.raises(VitbiasError, match="bonferoni"):
        adjust_pvalues([0.1], "bonferoni")
