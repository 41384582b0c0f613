"""The iEAT/WEAT test on stacks of embedding sets: effect size, permutation p, bootstrap CI.

Stacking: each of X, Y, A, B is either one stack (M, n_set, D) — M = models x layers x
poolings of the same width D — or a list of G such stacks whose D may differ (e.g. one per
model). Results are returned for all sum(M_g) rows in list order. The scores reduce every row
to (n_x + n_y) numbers, so rows of every stack that share the set sizes are tested against
ONE set of partitions in one pass, and their bootstrap uses the same resamples; a row's
numbers never depend on what else is in the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bias.association.bootstrap import bootstrap_ci
from bias.association.effect import effect_size_from_scores, weat_scores
from bias.association.permutation import permutation_test
from bias.association.validate import check_alternative, check_sets

Seed = int | np.random.SeedSequence | None


@dataclass(frozen=True)
class AssociationResult:
    """Per stack row (M,): effect size, its CI and the permutation p-value."""

    effect_size: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    p_se: np.ndarray
    p_method: np.ndarray  # str: "exact" | "monte-carlo"
    n_permutations: np.ndarray  # int


def child_seed(seed: Seed, index: int) -> np.random.SeedSequence:
    """The index-th independent stream of ``seed``; pure (SeedSequence.spawn is stateful)."""
    base = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, index))


def as_groups(values, n_groups: int | None = None) -> list:
    """A single stack or a list of stacks, as a list of stacks."""
    if isinstance(values, (list, tuple)):
        groups = list(values)
    else:
        groups = [values]
    if n_groups is not None and len(groups) != n_groups:
        raise ValueError(f"expected {n_groups} stack groups, got {len(groups)}")
    return groups


def two_group_result(scores: list[np.ndarray], n_first: list[int], kind: str,
                     sets: list[list[np.ndarray]], *, alternative: str, n_permutations: int,
                     exact_bound: int, n_bootstrap: int, confidence: float, seed: Seed,
                     ) -> AssociationResult:
    """Shared by WEAT and SC-EAT: scores (M_g, n_g) per group, group-1 size per group."""
    check_alternative(alternative)
    perm_seed, boot_seed = child_seed(seed, 0), child_seed(seed, 1)
    sizes = [(s.shape[1], k) for s, k in zip(scores, n_first, strict=True)]
    bounds = np.cumsum([0] + [s.shape[0] for s in scores])
    total = int(bounds[-1])
    p = np.empty(total)
    se = np.empty(total)
    method = np.empty(total, dtype=object)
    n_perm = np.empty(total, dtype=np.int64)
    for size in sorted(set(sizes)):
        members = [g for g, sz in enumerate(sizes) if sz == size]
        rows = np.concatenate([np.arange(bounds[g], bounds[g + 1]) for g in members])
        res = permutation_test(np.concatenate([scores[g] for g in members]), size[1],
                               alternative=alternative, n_permutations=n_permutations,
                               exact_bound=exact_bound, seed=np.random.default_rng(perm_seed))
        p[rows], se[rows], method[rows], n_perm[rows] = (res.p_value, res.p_se, res.p_method,
                                                         res.n_permutations)
    low, high = zip(*(bootstrap_ci(kind, group_sets, n_bootstrap=n_bootstrap,
                                   confidence=confidence,
                                   seed=np.random.default_rng(boot_seed))
                      for group_sets in sets), strict=True)
    effect = np.concatenate([effect_size_from_scores(s, k)
                             for s, k in zip(scores, n_first, strict=True)])
    return AssociationResult(effect_size=effect, ci_low=np.concatenate(low),
                             ci_high=np.concatenate(high), p_value=p, p_se=se,
                             p_method=method.astype(str), n_permutations=n_perm)


def checked_groups(names: Sequence[str], values: Sequence[object],
                   where: Sequence[str] | None = None) -> list[list[np.ndarray]]:
    """Validate the sets of every group: values[i] is a stack or a list of G stacks.

    Returns G lists of float64 (M_g, n, D_g) arrays in the order of ``names``; errors name
    the concept (``names[i]``) and the group label (``where[g]``, e.g. the model).
    """
    lists = [as_groups(v) for v in values]
    n_groups = len(lists[0])
    for name, groups in zip(names, lists, strict=True):
        if len(groups) != n_groups:
            raise ValueError(f"{name}: expected {n_groups} stack groups, got {len(groups)}")
    labels: Sequence[str] = where if where is not None else [
        f"stack group {g}" if n_groups > 1 else "" for g in range(n_groups)]
    return [check_sets([(name, groups[g]) for name, groups in zip(names, lists, strict=True)],
                       labels[g]) for g in range(n_groups)]


def weat(x, y, a, b, *, names: Sequence[str] = ("X", "Y", "A", "B"),
         where: Sequence[str] | None = None, alternative: str = "greater",
         n_permutations: int = 100_000, exact_bound: int = 1_000_000, n_bootstrap: int = 1000,
         confidence: float = 0.95, seed: Seed = 0) -> AssociationResult:
    """iEAT/WEAT of targets X vs Y and attributes A vs B for every stack row.

    x, y, a, b: (M, n, D) / (n, D) arrays or lists of G such stacks (see module doc).
    names: the four concept names used in error messages (``category/concept``); where:
    one label per group for error messages (e.g. the model). Returns (sum M_g,) arrays.
    """
    sets = checked_groups(names, (x, y, a, b), where)
    scores = [weat_scores(*s) for s in sets]
    return two_group_result(scores, [s[0].shape[1] for s in sets], "weat", sets,
                            alternative=alternative, n_permutations=n_permutations,
                            exact_bound=exact_bound, n_bootstrap=n_bootstrap,
                            confidence=confidence, seed=seed)
