"""Linear decodability of a concept pair: can a logistic-regression probe tell X from Y?

An iEAT effect needs a model to encode both the targets and the attributes. A probe tells
the two reasons for a small effect size apart: a probe at chance means the model does not
encode the concepts at all; a probe near 1 with d near 0 means it encodes them without
associating them.

Matched stimulus sets (row ``i`` of X and of Y show the same scene, only the concept differs)
keep each pair in one fold, so the probe cannot score by recognising a pair's shared nuisance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from bias.embeddings import EmbeddingTable, Key
from bias.errors import VitbiasError

PROBE_COLUMNS = ["pooling", "layer", "x", "y", "n_x", "n_y", "accuracy", "folds"]


def probe_accuracy(x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0,
                   c: float = 1.0) -> float:
    """Mean cross-validated accuracy of an L2 logistic probe separating ``x`` (n_x, D) from
    ``y`` (n_y, D); features standardised inside each fold. Chance is 0.5 for equal sets.

    With ``n_x == n_y`` the sets are treated as matched: pair ``i`` is one group of
    ``GroupKFold``; otherwise folds are stratified and shuffled with ``seed``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise VitbiasError(f"probe: need (n, D) arrays of one D, got {x.shape} and {y.shape}")
    if min(len(x), len(y)) < folds:
        raise VitbiasError(f"probe: {folds} folds need at least {folds} images per concept, "
                           f"got {len(x)} and {len(y)}")
    features = np.concatenate([x, y])
    labels = np.r_[np.zeros(len(x), int), np.ones(len(y), int)]
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    if len(x) == len(y):
        groups = np.r_[np.arange(len(x)), np.arange(len(y))]
        scores = cross_val_score(probe, features, labels, groups=groups,
                                 cv=GroupKFold(n_splits=folds))
    else:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        scores = cross_val_score(probe, features, labels, cv=cv)
    return float(np.mean(scores))


def probe_table(table: EmbeddingTable, pairs: Iterable[tuple[str, str]], *,
                keys: Sequence[Key] | None = None, folds: int = 5,
                seed: int = 0) -> pd.DataFrame:
    """Probe accuracy of every concept pair at every (pooling, layer) key (default: all).

    Pairs whose concepts the table lacks are an error naming them.
    """
    pairs = list(pairs)
    missing = sorted({c for pair in pairs for c in pair} - set(table.concept_names))
    if missing:
        raise VitbiasError(f"probe: concepts not in the embeddings: {missing}")
    rows = []
    for key in keys or table.keys:
        for cx, cy in pairs:
            x, y = table.concept_array(cx, key), table.concept_array(cy, key)
            rows.append([key[0], key[1], cx, cy, len(x), len(y),
                         probe_accuracy(x, y, folds=folds, seed=seed), folds])
    return pd.DataFrame(rows, columns=PROBE_COLUMNS)
