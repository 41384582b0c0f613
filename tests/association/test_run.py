"""run_tests / run_sc_tests: tidy frame, grouping into one pass, seeds, families."""

import numpy as np
import pandas as pd
import pytest

from bias.association import (
    SC_COLUMNS,
    WEAT_COLUMNS,
    adjust_pvalues,
    derive_test_seed,
    run_sc_tests,
    run_tests,
    sc_eat,
    sc_tests_from,
    weat,
)
from bias.embeddings import EmbeddingTable
from bias.stimuli import AssociationTest

CONCEPTS = {"t/x": 5, "t/y": 6, "t/z": 4, "attr/a": 4, "attr/b": 5}
TESTS = [AssociationTest("XY", "t/x", "t/y", "attr/a", "attr/b"),
         AssociationTest("ZY", "t/z", "t/y", "attr/b", "attr/a"),
         AssociationTest("XZ", "t/x", "t/z", "attr/a", "attr/b")]
OPTS = {"n_permutations": 400, "exact_bound": 100, "n_bootstrap": 60, "seed": 3}


def make_table(dim, keys, seed):
    rng = np.random.default_rng(seed)
    names = [c for c, n in CONCEPTS.items() for _ in range(n)]
    arrays = {k: rng.normal(size=(len(names), dim)) for k in keys}
    return EmbeddingTable(arrays=arrays, image_ids=[f"img{i}" for i in range(len(names))],
                          concepts=names)


@pytest.fixture(scope="module")
def tables():
    # models of different widths, and one model whose poolings differ in width
    mixed = make_table(6, [("cls", 0), ("cls", 2)], 1)
    mixed.arrays[("mean", 2)] = np.random.default_rng(9).normal(size=(24, 3))
    return {"wide": make_table(10, [("cls", 0), ("cls", 1)], 0), "mixed": mixed}


@pytest.fixture(scope="module")
def frame(tables):
    return run_tests(tables, TESTS, **OPTS)


def test_tidy_frame_layout(frame):
    assert list(frame.columns) == WEAT_COLUMNS
    assert len(frame) == (2 + 3) * len(TESTS)
    assert frame.equals(frame.sort_values(["model", "pooling", "layer", "test"])
                        .reset_index(drop=True))
    row = frame[(frame.model == "wide") & (frame.test == "ZY") & (frame.layer == 1)].iloc[0]
    assert (row.x, row.y, row.a, row.b) == ("t/z", "t/y", "attr/b", "attr/a")
    assert (row.n_x, row.n_y, row.n_a, row.n_b) == (4, 6, 5, 4)
    assert row.p_method == "monte-carlo" and row.n_permutations == 400
    assert row.alternative == "greater" and row.correction == "holm" and row.test_seed == 3
    assert frame[["effect_size", "ci_low", "ci_high", "p_value"]].notna().all().all()


def test_rows_equal_direct_per_model_calls(tables, frame):
    test = TESTS[0]
    for model, table in tables.items():
        for key in table.keys:
            sets = [table.concept_array(c, key) for c in test.concepts]
            res = weat(*sets, seed=derive_test_seed(3, test.name), n_permutations=400,
                       exact_bound=100, n_bootstrap=60)
            row = frame[(frame.model == model) & (frame.pooling == key[0])
                        & (frame.layer == key[1]) & (frame.test == test.name)].iloc[0]
            assert row.effect_size == pytest.approx(res.effect_size[0], abs=1e-12)
            assert row.p_value == res.p_value[0]
            assert row.ci_low == pytest.approx(res.ci_low[0], abs=1e-12)
            assert row.ci_high == pytest.approx(res.ci_high[0], abs=1e-12)


def test_a_tests_numbers_do_not_depend_on_other_tests(tables, frame):
    alone = run_tests(tables, [TESTS[1]], **{**OPTS, "correction": "none"})
    both = frame[frame.test == TESTS[1].name].reset_index(drop=True)
    for col in ("effect_size", "ci_low", "ci_high", "p_value"):
        np.testing.assert_array_equal(alone[col].to_numpy(), both[col].to_numpy())
    again = run_tests(tables, TESTS, **OPTS)
    pd.testing.assert_frame_equal(again, frame)


def test_p_adjusted_per_model_layer_pooling_family(frame):
    for _, fam in frame.groupby(["model", "layer", "pooling"]):
        assert len(fam) == len(TESTS)
        np.testing.assert_allclose(fam.p_adjusted, adjust_pvalues(fam.p_value.to_numpy()))


def test_keys_select_layers(tables):
    out = run_tests({"wide": tables["wide"]}, TESTS[:1], keys=[("cls", 1)], **OPTS)
    assert out[["pooling", "layer"]].drop_duplicates().values.tolist() == [["cls", 1]]


def test_run_sc_tests(tables):
    sc = sc_tests_from(TESTS[:1])
    out = run_sc_tests(tables, sc, **OPTS)
    assert list(out.columns) == SC_COLUMNS
    assert len(out) == 5 * len(sc) == 10
    table = tables["wide"]
    key = ("cls", 0)
    sets = [table.concept_array(c, key) for c in sc[1].concepts]
    res = sc_eat(*sets, seed=derive_test_seed(3, sc[1].name), n_permutations=400,
                 exact_bound=100, n_bootstrap=60)
    row = out[(out.model == "wide") & (out.layer == 0) & (out.test == sc[1].name)].iloc[0]
    assert row.effect_size == pytest.approx(res.effect_size[0], abs=1e-12)
    assert row.p_value == res.p_value[0]
    assert row.p_method == "monte-carlo"  # C(9, 4) = 126 splits of A u B > exact_bound


def test_derived_seeds_are_stable():
    # crc32, not hash(): the same name gives the same stream in every process
    a = np.random.default_rng(derive_test_seed(0, "Weapon")).integers(0, 2**31, 3)
    b = np.random.default_rng(derive_test_seed(0, "Weapon")).integers(0, 2**31, 3)
    c = np.random.default_rng(derive_test_seed(0, "Race")).integers(0, 2**31, 3)
    assert a.tolist() == b.tolist() != c.tolist()
    assert derive_test_seed(0, "Weapon").entropy == [0, 1855955664]
