"""Linear probes of concept pairs, against accuracies known in closed form."""

import numpy as np
import pytest
from scipy.stats import norm

from bias.association.probe import probe_accuracy, probe_table
from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError


def gaussian_pair(n, mu, dim=10, seed=0, n_y=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    y = rng.normal(size=(n_y or n, dim))
    x[:, 0] += mu
    y[:, 0] -= mu
    return x, y


def test_separable_pair_is_decoded_perfectly():
    x, y = gaussian_pair(40, mu=20.0)
    assert probe_accuracy(x, y) == 1.0


@pytest.mark.parametrize("n_y", [None, 300])  # matched (grouped folds) and unequal sets
def test_accuracy_matches_the_bayes_rate_of_two_gaussians(n_y):
    # x ~ N(+1, 1), y ~ N(-1, 1) along one axis, nine noise axes: Bayes accuracy Phi(1)
    x, y = gaussian_pair(400, mu=1.0, n_y=n_y)
    assert probe_accuracy(x, y) == pytest.approx(norm.cdf(1.0), abs=0.04)


def test_identical_distributions_are_at_chance_and_seeded():
    x, y = gaussian_pair(200, mu=0.0, seed=3, n_y=150)
    acc = probe_accuracy(x, y, seed=1)
    assert abs(acc - 200 / 350) < 0.08  # majority-class rate with unequal sets
    assert probe_accuracy(x, y, seed=1) == acc


def test_table_covers_every_key_and_pair_and_names_missing_concepts():
    x, y = gaussian_pair(20, mu=5.0, dim=4)
    data = np.concatenate([x, y]).astype(np.float32)
    table = EmbeddingTable(arrays={("cls", 0): data, ("mean", 2): -data},
                           image_ids=[f"i{k}" for k in range(40)],
                           concepts=["tone/light"] * 20 + ["tone/dark"] * 20)
    out = probe_table(table, [("tone/light", "tone/dark")])
    assert list(out["pooling"]) == ["cls", "mean"] and list(out["layer"]) == [0, 2]
    assert (out["accuracy"] == 1.0).all() and (out["n_x"] == 20).all()
    with pytest.raises(VitbiasError, match=r"not in the embeddings: \['null/tee'\]"):
        probe_table(table, [("tone/light", "null/tee")])
    with pytest.raises(VitbiasError, match="5 folds need at least 5 images"):
        probe_accuracy(x[:3], y[:3])
