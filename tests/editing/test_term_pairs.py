"""Term-pair prompt rewriting: word boundaries, case, directions, the shipped table."""

from __future__ import annotations

import pandas as pd
import pytest

from bias.editing.selection import DEFAULT_TERM_PAIRS, load_term_pairs, swap_terms, term_mapping
from bias.errors import VitbiasError

PAIRS = [("man", "woman"), ("he", "she"), ("his", "her"), ("king", "queen")]


@pytest.mark.parametrize(("text", "expected"), [
    ("a photo of a man", "a photo of a woman"),
    ("a photo of a woman", "a photo of a man"),
    ("He said she was a King", "She said he was a Queen"),  # one pass: no swap-back
    ("HE IS THE KING", "SHE IS THE QUEEN"),
    ("the man's hat, his dog", "the woman's hat, her dog"),
    ("mankind, woman-made, shepherd, kingdom", "mankind, man-made, shepherd, kingdom"),
    ("no terms here", "no terms here"),
])
def test_swap_both_directions_case_and_word_boundaries(text, expected):
    assert swap_terms(text, PAIRS) == expected


def test_one_direction_leaves_the_other_alone():
    text = "a man and a woman"
    assert swap_terms(text, PAIRS, "a-to-b") == "a woman and a woman"
    assert swap_terms(text, PAIRS, "b-to-a") == "a man and a man"
    with pytest.raises(VitbiasError, match="sideways"):
        swap_terms(text, PAIRS, "sideways")


def test_swapping_twice_is_the_identity_for_one_to_one_pairs():
    text = "The King told his son: a man, he said, and a Woman."
    pairs = load_term_pairs()
    mapping = term_mapping(pairs)
    one_to_one = [(a, b) for a, b in pairs if mapping[b] == a and mapping[a] == b]
    assert swap_terms(swap_terms(text, one_to_one), one_to_one) == text


def test_shipped_table_has_about_thirty_distinct_pairs():
    table = pd.read_csv(DEFAULT_TERM_PAIRS, comment="#")
    assert list(table.columns) == ["attribute", "a", "b"]
    pairs = load_term_pairs(attribute="gender")
    assert len(set(pairs)) == len(pairs) >= 30
    assert {("man", "woman"), ("he", "she"), ("boy", "girl"), ("father", "mother"),
            ("husband", "wife"), ("king", "queen"), ("son", "daughter"),
            ("brother", "sister")} <= set(pairs)
    assert not {a for a, _ in pairs} & {b for _, b in pairs}  # no word on both sides


def test_bad_tables_are_named(tmp_path):
    with pytest.raises(VitbiasError, match="not found"):
        load_term_pairs(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right\nman,woman\n")
    with pytest.raises(VitbiasError, match="lacks column 'attribute'"):
        load_term_pairs(bad)
    with pytest.raises(VitbiasError, match="no rows for attribute 'age'"):
        load_term_pairs(attribute="age")
