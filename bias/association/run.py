"""Association tests over embedding tables: the API of ``vitbias test``/``audit`` and the workflow.

For each test, every model and (pooling, layer) key is stacked and evaluated in ONE
permutation pass and one bootstrap pass (keys of a model are grouped by embedding width D).
Each test draws its partitions and resamples from its own seed, derived from (seed, test
name) with a stable hash, so a test's numbers never depend on which other tests run.

Output (tidy, one row per model x layer x pooling x test, sorted by model, pooling, layer,
test): ``model, layer, pooling, test, x, y, a, b, n_x, n_y, n_a, n_b, effect_size, ci_low,
ci_high, p_value, p_method, n_permutations, p_se, p_adjusted, alternative, correction,
confidence, n_bootstrap, seed``. SC-EAT rows have no ``y``/``n_y``. p_adjusted corrects over
the family of all tests of one model, layer and pooling.

iEAT rows also carry ``p_attributes``, ``p_robust`` and ``p_robust_adjusted``. The iEAT's
``p_value`` permutes the targets only: it treats the attribute images as fixed, so when a
model separates X from Y almost perfectly, ANY pair A, B whose mean embeddings differ at all
gives |d| near 2 and a tiny p (the saturation seen on tests whose attributes are unrelated
to the targets). ``p_attributes`` is the same statistic with the attribute images permuted
instead (the WEAT numerator is symmetric in the two roles), and ``p_robust`` =
max(p_value, p_attributes), an intersection-union test that is valid at level alpha and
asks that the association holds whichever set of stimuli is resampled.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from bias.association.correction import adjust_pvalues, check_correction
from bias.association.sceat import SCTest, sc_eat
from bias.association.validate import (
    check_alternative,
    check_confidence,
    check_count,
    check_set,
)
from bias.association.weat import weat
from bias.embeddings import EmbeddingTable, Key
from bias.errors import VitbiasError
from bias.stimuli import AssociationTest

log = logging.getLogger(__name__)

WEAT_COLUMNS = ["model", "layer", "pooling", "test", "x", "y", "a", "b", "n_x", "n_y", "n_a",
                "n_b", "effect_size", "ci_low", "ci_high", "p_value", "p_method",
                "n_permutations", "p_se", "p_adjusted", "alternative", "correction",
                "confidence", "n_bootstrap", "test_seed", "p_attributes", "p_robust",
                "p_robust_adjusted"]
SC_COLUMNS = [c for c in WEAT_COLUMNS[:-3] if c not in ("y", "n_y")]
SORT_BY = ["model", "pooling", "layer", "test"]
FAMILY = ["model", "layer", "pooling"]


def derive_test_seed(seed: int, name: str) -> np.random.SeedSequence:
    """A test's own seed: stable across runs and platforms (crc32, never Python's hash())."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def _key_groups(tables: Mapping[str, EmbeddingTable], keys: Sequence[Key] | None,
                ) -> list[tuple[str, EmbeddingTable, list[Key]]]:
    """(model, table, keys of one width D) in model, width, key order."""
    plan = []
    for model in sorted(tables):
        table = tables[model]
        use = table.keys if keys is None else sorted(tuple(k) for k in keys)
        missing = [k for k in use if k not in table.arrays]
        if missing:
            raise VitbiasError(f"model {model}: no embeddings for (pooling, layer) {missing}; "
                               f"it has {table.keys}")
        by_dim: dict[int, list[Key]] = {}
        for key in use:
            by_dim.setdefault(table.arrays[key].shape[1], []).append(key)
        plan += [(model, table, by_dim[d]) for d in sorted(by_dim)]
    return plan


def _stack(model: str, table: EmbeddingTable, keys: list[Key], concept: str) -> np.ndarray:
    """One concept at several keys of one model: (M, n, D), each key checked on its own."""
    rows = table.rows(concept)
    return np.stack([check_set(concept, table.arrays[k][rows],
                               f"model {model}, pooling {k[0]}, layer {k[1]}")[0]
                     for k in keys])


def _run(tables: Mapping[str, EmbeddingTable], tests: Sequence[Any], kind: str,
         keys: Sequence[Key] | None, params: dict[str, Any]) -> pd.DataFrame:
    if not tables:
        raise VitbiasError("no embedding tables given")
    if not tests:
        raise VitbiasError("no association tests given")
    check_alternative(params["alternative"])
    check_correction(params["correction"])
    check_count("n_permutations", params["n_permutations"], 1)
    check_count("exact_bound", params["exact_bound"], 0)
    check_count("n_bootstrap", params["n_bootstrap"], 0)
    check_confidence(params["confidence"])
    plan = _key_groups(tables, keys)
    roles = ("x", "y", "a", "b") if kind == "weat" else ("x", "a", "b")
    fn = weat if kind == "weat" else sc_eat
    records = []
    for test in tqdm(tests, desc=f"{kind} tests", unit="test", disable=None):
        concepts = [getattr(test, r) for r in roles]
        stacks = [[_stack(m, t, ks, c) for m, t, ks in plan] for c in concepts]
        res = fn(*stacks, names=concepts, where=[m for m, _, _ in plan],
                 alternative=params["alternative"], n_permutations=params["n_permutations"],
                 exact_bound=params["exact_bound"], n_bootstrap=params["n_bootstrap"],
                 confidence=params["confidence"], seed=derive_test_seed(params["seed"], test.name))
        swapped = _attribute_permutation(stacks, concepts, plan, test.name, params) \
            if kind == "weat" else None
        i = 0
        for g, (model, _, ks) in enumerate(plan):
            sizes = {f"n_{r}": stacks[j][g].shape[1] for j, r in enumerate(roles)}
            for pooling, layer in ks:
                records.append({"model": model, "layer": layer, "pooling": pooling,
                                "test": test.name, **dict(zip(roles, concepts, strict=True)),
                                **sizes, "effect_size": res.effect_size[i],
                                "ci_low": res.ci_low[i], "ci_high": res.ci_high[i],
                                "p_value": res.p_value[i], "p_method": res.p_method[i],
                                "n_permutations": int(res.n_permutations[i]),
                                "p_se": res.p_se[i]})
                if swapped is not None:
                    records[-1]["p_attributes"] = swapped.p_value[i]
                i += 1
    frame = pd.DataFrame.from_records(records)
    frame["p_adjusted"] = _adjusted(frame, "p_value", params["correction"])
    if kind == "weat":
        frame["p_robust"] = np.maximum(frame["p_value"], frame["p_attributes"])
        frame["p_robust_adjusted"] = _adjusted(frame, "p_robust", params["correction"])
    for name in ("alternative", "correction", "confidence", "n_bootstrap"):
        frame[name] = params[name]
    # `seed` in a results table means the model's training seed (DESIGN.md); this is the
    # seed of the permutations and bootstrap.
    frame["test_seed"] = params["seed"]
    columns = WEAT_COLUMNS if kind == "weat" else SC_COLUMNS
    return frame[columns].sort_values(SORT_BY, kind="mergesort").reset_index(drop=True)


def _adjusted(frame: pd.DataFrame, column: str, correction: str) -> pd.Series:
    """``column`` corrected over each family (all tests of one model, layer and pooling)."""
    return frame.groupby(FAMILY, sort=False)[column].transform(
        lambda p: adjust_pvalues(p.to_numpy(), correction))


def _attribute_permutation(stacks: list[list[np.ndarray]], concepts: list[str], plan: list,
                           name: str, params: dict[str, Any]) -> Any:
    """The iEAT with the roles swapped (A, B as the permuted sets): the p of permuting the
    attribute images. Its own seed stream; no bootstrap (only the p-value is used)."""
    x, y, a, b = stacks
    return weat(a, b, x, y, names=[concepts[i] for i in (2, 3, 0, 1)],
                where=[m for m, _, _ in plan], alternative=params["alternative"],
                n_permutations=params["n_permutations"], exact_bound=params["exact_bound"],
                n_bootstrap=0, confidence=params["confidence"],
                seed=derive_test_seed(params["seed"], f"{name}|attributes"))


def run_tests(tables: Mapping[str, EmbeddingTable], tests: Sequence[AssociationTest], *,
              keys: Sequence[Key] | None = None, n_permutations: int = 100_000,
              exact_bound: int = 1_000_000, alternative: str = "greater",
              correction: str = "holm", n_bootstrap: int = 1000, confidence: float = 0.95,
              seed: int = 0) -> pd.DataFrame:
    """iEAT/WEAT of every test on every model (tables keyed by model name) and key.

    keys: (pooling, layer) pairs to use in every table (default: all keys of each table).
    Returns the tidy frame described in the module docstring (columns ``WEAT_COLUMNS``).
    """
    params = {"n_permutations": n_permutations, "exact_bound": exact_bound,
              "alternative": alternative, "correction": correction,
              "n_bootstrap": n_bootstrap, "confidence": confidence, "seed": seed}
    return _run(tables, tests, "weat", keys, params)


def run_sc_tests(tables: Mapping[str, EmbeddingTable], tests: Sequence[SCTest], *,
                 keys: Sequence[Key] | None = None, n_permutations: int = 100_000,
                 exact_bound: int = 1_000_000, alternative: str = "greater",
                 correction: str = "holm", n_bootstrap: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> pd.DataFrame:
    """SC-EAT of every SCTest (see :func:`bias.association.sceat.sc_tests_from`); same layout
    as :func:`run_tests` without ``y``/``n_y`` (columns ``SC_COLUMNS``)."""
    params = {"n_permutations": n_permutations, "exact_bound": exact_bound,
              "alternative": alternative, "correction": correction,
              "n_bootstrap": n_bootstrap, "confidence": confidence, "seed": seed}
    return _run(tables, tests, "sc", keys, params)
