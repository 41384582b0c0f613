"""Small shared builders for the association tests (random sets, brute-force statistics)."""

import itertools

import numpy as np


def random_sets(seed, sizes, dim=8, m=None, shift=0.0):
    """Random Gaussian embedding sets of the given sizes: (n, D) each, or (m, n, D).

    ``shift`` moves the first set towards the third (a planted X-A association).
    """
    rng = np.random.default_rng(seed)
    lead = () if m is None else (m,)
    sets = [rng.normal(size=(*lead, n, dim)) for n in sizes]
    if shift:
        sets[0] = sets[0] + shift * sets[2].mean(axis=-2, keepdims=True)
    return sets


def brute_force_p(scores, n_first, alternative, rtol=1e-10):
    """p-value by enumerating every partition with itertools (a different method)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)

    def stat(first):
        mask = np.zeros(n, dtype=bool)
        mask[list(first)] = True
        return scores[mask].mean() - scores[~mask].mean()

    observed = stat(range(n_first))
    tol = rtol * np.abs(scores - scores.mean()).sum()
    hits = total = 0
    for first in itertools.combinations(range(n), n_first):
        t = stat(first)
        if alternative == "greater":
            hits += t >= observed - tol
        elif alternative == "less":
            hits += t <= observed + tol
        else:
            hits += abs(t) >= abs(observed) - tol
        total += 1
    return hits / total
