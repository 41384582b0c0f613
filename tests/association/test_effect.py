"""Effect sizes: a hand-worked case, the transcribed iEAT reference, invariances."""

import numpy as np
import pytest

from bias.association import sc_effect_size, weat_effect_size, weat_scores

from .helpers import random_sets
from .ieat_reference import IeatTest


def hand_sets():
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0, 1.0], [1.0, 1.0]])
    a = np.array([[1.0, 0.0], [2.0, 0.0]])
    b = np.array([[0.0, 1.0], [0.0, 3.0]])
    return x, y, a, b


def test_hand_worked_effect_size():
    # s = cos(w, e1) - cos(w, e2): x -> (1, 0), y -> (-1, 0); mean diff 1, std sqrt(2/3)
    x, y, a, b = hand_sets()
    np.testing.assert_allclose(weat_scores(x, y, a, b), [[1.0, 0.0, -1.0, 0.0]], atol=1e-15)
    assert weat_effect_size(x, y, a, b)[0] == pytest.approx(np.sqrt(1.5), abs=1e-12)


@pytest.mark.parametrize("sizes", [(8, 8, 8, 8), (5, 9, 4, 7), (30, 12, 21, 3)])
def test_matches_transcribed_ieat_reference(sizes):
    for seed in range(5):
        x, y, a, b = random_sets(seed, sizes, dim=16)
        ref = IeatTest(x, y, a, b).effect_size()
        assert abs(weat_effect_size(x, y, a, b)[0] - ref) < 1e-9


def test_stack_rows_are_independent_tests():
    x, y, a, b = random_sets(1, (6, 7, 5, 4), dim=12, m=4)
    d = weat_effect_size(x, y, a, b)
    assert d.shape == (4,)
    for i in range(4):
        assert abs(d[i] - IeatTest(x[i], y[i], a[i], b[i]).effect_size()) < 1e-9


def test_swaps_negate_and_scaling_changes_nothing():
    x, y, a, b = random_sets(2, (6, 7, 5, 4), dim=10, shift=1.0)
    d = weat_effect_size(x, y, a, b)[0]
    assert d > 0.5  # the planted association shows
    assert weat_effect_size(y, x, a, b)[0] == pytest.approx(-d, abs=1e-12)
    assert weat_effect_size(x, y, b, a)[0] == pytest.approx(-d, abs=1e-12)
    rng = np.random.default_rng(0)
    scaled = [v * rng.uniform(0.01, 100, size=(len(v), 1)) for v in (x, y, a, b)]
    assert weat_effect_size(*scaled)[0] == pytest.approx(d, abs=1e-12)


def test_float32_input_is_computed_in_float64():
    x, y, a, b = (v.astype(np.float32) for v in random_sets(3, (9, 9, 9, 9), dim=32))
    ref = IeatTest(*(v.astype(np.float64) for v in (x, y, a, b))).effect_size()
    assert abs(weat_effect_size(x, y, a, b)[0] - ref) < 1e-12


def test_constant_scores_give_nan_not_a_crash(caplog):
    v = np.array([[1.0, 0.0], [1.0, 0.0]])
    d = weat_effect_size(v, v, np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([[0, 1.0], [0, 1]]))
    assert np.isnan(d[0])
    assert "undefined" in caplog.text


def test_sc_effect_size_against_direct_loops():
    x, a, b = random_sets(4, (7, 5, 6), dim=9)

    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    c_a = [np.mean([cos(w, t) for w in x]) for t in a]
    c_b = [np.mean([cos(w, t) for w in x]) for t in b]
    expected = (np.mean(c_a) - np.mean(c_b)) / np.std(c_a + c_b, ddof=1)
    assert sc_effect_size(x, a, b)[0] == pytest.approx(expected, abs=1e-12)
    assert sc_effect_size(x, b, a)[0] == pytest.approx(-expected, abs=1e-12)
