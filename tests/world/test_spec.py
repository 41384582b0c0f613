"""Bias registry, validation of betas and class names."""

from __future__ import annotations

import pytest

from bias.errors import VitbiasError
from bias.world.spec import (
    ATTRIBUTES,
    BIASES,
    DEFAULT_BIASES,
    classes,
    parse_bias,
    resolve_biases,
)


def test_defaults_cover_every_bias_and_overrides_merge() -> None:
    assert set(DEFAULT_BIASES) == set(BIASES)
    assert resolve_biases(None) == DEFAULT_BIASES
    assert resolve_biases({"valence": 0}) == {**DEFAULT_BIASES, "valence": 0.0}


@pytest.mark.parametrize(("biases", "named"), [
    ({"racism": 0.5}, "racism"),
    ({"valence": 1.5}, "1.5"),
    ({"career": -0.1}, "-0.1"),
    ({"career": float("nan")}, "nan"),
    ({"valence": "high"}, "high"),
])
def test_bad_biases_are_named(biases: dict, named: str) -> None:
    with pytest.raises(VitbiasError, match=named):
        resolve_biases(biases)


def test_parse_bias() -> None:
    assert parse_bias("valence=0.25") == ("valence", 0.25)
    assert parse_bias(" career = 1 ") == ("career", 1.0)
    for bad in ("valence", "=0.5", "valence=x", "foo=0.5"):
        with pytest.raises(VitbiasError, match=r"valence|foo|NAME=BETA"):
            parse_bias(bad)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.8, 1.0])
def test_p_a_gives_the_planted_gap(beta: float) -> None:
    for spec in BIASES.values():
        fav, other = spec.p_a(spec.favoured, beta), spec.p_a(spec.other, beta)
        assert fav == pytest.approx((1 + beta) / 2)
        assert other == pytest.approx((1 - beta) / 2)
        assert fav - other == pytest.approx(beta)


def test_classes_are_not_protected_attributes() -> None:
    names = classes()
    assert len(names) == len(set(names)) == 12
    values = {v for vs in ATTRIBUTES.values() for v in vs}
    for name in names:
        assert not set(name.split("-")) & values, name
