"""SC-EAT: effect size and p-value against direct computation; catalog derivation."""

import numpy as np
import pytest

from bias.association import sc_eat, sc_scores, sc_tests_from
from bias.stimuli import AssociationTest

from .helpers import brute_force_p, random_sets


def test_sc_eat_against_direct_computation():
    x, a, b = random_sets(0, (6, 4, 5), dim=7, m=2, shift=0.7)
    res = sc_eat(x, a, b, n_bootstrap=50)
    for i in range(2):
        cos = np.array([[u @ t / np.linalg.norm(u) / np.linalg.norm(t) for t in
                         np.concatenate([a[i], b[i]])] for u in x[i]])  # (nx, na + nb)
        c = cos.mean(axis=0)
        d = (c[:4].mean() - c[4:].mean()) / c.std(ddof=1)
        assert res.effect_size[i] == pytest.approx(d, abs=1e-12)
        np.testing.assert_allclose(sc_scores(x[i], a[i], b[i])[0], c, atol=1e-14)
        for alt in ("greater", "less", "two-sided"):
            p = sc_eat(x[i], a[i], b[i], alternative=alt, n_bootstrap=0).p_value[0]
            assert p == pytest.approx(brute_force_p(c, 4, alt), abs=1e-15)
    assert (res.p_method == "exact").all()
    assert (res.n_permutations == 126).all()  # C(9, 4) re-partitions of A u B


def test_sc_tests_from_catalog_dedupes_shared_targets():
    tests = [AssociationTest("T1", "p/kennedy", "p/trump", "v/pleasant", "v/unpleasant"),
             AssociationTest("T2", "p/bush", "p/trump", "v/pleasant", "v/unpleasant")]
    sc = sc_tests_from(tests)
    assert [t.x for t in sc] == ["p/kennedy", "p/trump", "p/bush"]
    assert sc[0].name == "p/kennedy ~ v/pleasant vs v/unpleasant"
    assert all((t.a, t.b) == ("v/pleasant", "v/unpleasant") for t in sc)
