"""Bad input: each error is a VitbiasError that names the concept (and model/layer)."""

import numpy as np
import pytest

from bias.association import run_tests, sc_eat, weat
from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError
from bias.stimuli import AssociationTest

from .helpers import random_sets

NAMES = ("t/x", "t/y", "attr/a", "attr/b")


def sets_with(index, value):
    sets = random_sets(0, (4, 4, 4, 4), dim=5)
    sets[index] = value
    return sets


@pytest.mark.parametrize(("index", "value", "message"), [
    (0, np.zeros((0, 5)), "concept t/x is empty"),
    (1, np.ones((1, 5)), "concept t/y has a single image"),
    (2, np.array([[1.0] * 5, [0.0] * 5, [2.0] * 5]), "concept attr/a: image 1 has a zero"),
    (3, np.array([[1.0] * 5, [np.nan] * 5]), "concept attr/b: image 1 has a non-finite"),
    (3, np.array([[1.0] * 5, [np.inf, 1, 1, 1, 1]]), "concept attr/b: image 1 has a non-finite"),
    (2, np.ones((3, 4)), "concept attr/a has dimension 4, but t/x has 5"),
    (0, np.ones((2, 3, 5, 1)), "concept t/x: expected an"),
    (0, np.array([["a", "b"], ["c", "d"]]), "concept t/x: embeddings are not numeric"),
])
def test_bad_sets_name_the_concept(index, value, message):
    with pytest.raises(VitbiasError, match=message):
        weat(*sets_with(index, value), names=NAMES, n_bootstrap=0)


def test_sc_eat_errors_name_the_concept():
    x, a, b = random_sets(0, (3, 3, 3), dim=4)
    with pytest.raises(VitbiasError, match="concept attr/a has a single image"):
        sc_eat(x, a[:1], b, names=("t/x", "attr/a", "attr/b"))


def test_bad_options():
    sets = random_sets(0, (4, 4, 4, 4), dim=5)
    with pytest.raises(VitbiasError, match="alternative"):
        weat(*sets, alternative="larger")
    with pytest.raises(VitbiasError, match="confidence"):
        weat(*sets, confidence=1.5)
    with pytest.raises(VitbiasError, match="n_bootstrap"):
        weat(*sets, n_bootstrap=-1)


def table(concepts, rows, dim, seed=0):
    rng = np.random.default_rng(seed)
    names = [c for c in concepts for _ in range(rows)]
    data = rng.normal(size=(len(names), dim))
    return EmbeddingTable(arrays={("cls", 0): data, ("cls", 1): data + 1},
                          image_ids=[f"{c}/{i}" for i, c in enumerate(names)], concepts=names)


def test_run_tests_errors_name_model_layer_and_concept():
    test = AssociationTest("T", *NAMES)
    good = table(NAMES, 3, 4)
    bad = table(NAMES, 3, 4)
    bad.arrays[("cls", 1)][bad.rows("attr/b")[1]] = 0.0
    with pytest.raises(VitbiasError, match=r"model m2, pooling cls, layer 1: concept attr/b"):
        run_tests({"m1": good, "m2": bad}, [test], n_bootstrap=0)
    missing = table(NAMES[:3], 3, 4)
    with pytest.raises(VitbiasError, match=r"model m1.*concept attr/b is empty"):
        run_tests({"m1": missing}, [test], n_bootstrap=0)
    with pytest.raises(VitbiasError, match=r"no embeddings for \(pooling, layer\)"):
        run_tests({"m1": good}, [test], keys=[("mean", 0)])
    with pytest.raises(VitbiasError, match="n_permutations"):
        run_tests({"m1": good}, [test], n_permutations=0)
    with pytest.raises(VitbiasError, match="correction"):
        run_tests({"m1": good}, [test], correction="fdr")
