"""Permutation p-values for a stack of two-group score vectors, in one vectorised pass.

Input: scores (M, n), where columns [0, n1) are group 1 (X, or A for SC-EAT) and [n1, n)
group 2. The statistic of a re-partition (G1', G2') of the n items into sizes n1 and n2 is
T = mean(s[G1']) - mean(s[G2']); the effect size divides T by the spread of all n scores,
which is the same for every partition, so the permutation distribution of d is that of T.

With centred scores s_c (sum S_c ~ 0), T = (1/n1 + 1/n2) * sum(s_c[G1']) - S_c / n2, so all
partitions of a chunk are one matrix product: (M, n) @ (n, chunk) with 0/1 indicators.

- exact: every partition is enumerated when C(n, n1) <= ``exact_bound``; p is the fraction
  of partitions (the observed one included) at least as extreme as the observed one.
- monte-carlo: m partitions drawn with a seeded numpy Generator, p = (b + 1) / (m + 1)
  (Phipson & Smyth 2010), with Monte Carlo standard error sqrt(p (1 - p) / m).

"At least as extreme" allows a relative tolerance (``RTOL`` of the scores' total absolute
size) so that partitions tied with the observed one in exact arithmetic count as ties in
floating point. Alternatives: ``greater`` T' >= T (the iEAT convention), ``less`` T' <= T,
``two-sided`` |T'| >= |T| (the null distribution of T has mean 0).

The random partitions depend only on the seed, n and n1 — never on M — so one stack of many
models gives each model exactly the p-value it would get alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bias.association.validate import check_alternative, check_count

RTOL = 1e-10
# Elements (float64) per working block: bounds memory at ~32 MB per array.
BLOCK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class PermutationResult:
    """p-values of M stacked tests that share one set of partitions."""

    p_value: np.ndarray  # (M,)
    p_se: np.ndarray  # (M,) Monte Carlo standard error; 0 for exact
    p_method: str  # "exact" | "monte-carlo"
    n_permutations: int  # partitions evaluated (all of them for exact)


def n_partitions(n: int, n_first: int) -> int:
    """Number of ways to split n items into groups of n_first and n - n_first."""
    return math.comb(n, n_first)


def enumerate_subsets(n: int, k: int) -> np.ndarray:
    """All k-subsets of range(n) in lexicographic order, as int32 (C(n, k), k).

    Built one column at a time (k numpy steps, no loop per subset): each partial subset is
    repeated once per admissible next element.
    """
    if k == 0:
        return np.zeros((1, 0), dtype=np.int32)
    combos = np.arange(n - k + 1, dtype=np.int32)[:, None]
    for j in range(1, k):
        last = combos[:, -1]
        counts = (n - k + j) - last  # choices for element j: last + 1 .. n - k + j
        total = int(counts.sum())
        starts = np.cumsum(counts) - counts
        offsets = np.arange(total, dtype=np.int32) - np.repeat(starts, counts).astype(np.int32)
        nxt = np.repeat(last + 1, counts) + offsets
        combos = np.hstack([np.repeat(combos, counts, axis=0), nxt[:, None]])
    return combos


def _exact_indicators(n: int, n_first: int, chunk: int):
    """Yield 0/1 float64 blocks (rows, n) marking group 1 of every partition, in order."""
    k = min(n_first, n - n_first)
    subsets = enumerate_subsets(n, k)
    # Enumerate the smaller side; group 1 is its complement when n_first is the larger.
    flip = k != n_first
    for start in range(0, len(subsets), chunk):
        idx = subsets[start:start + chunk]
        block = np.zeros((len(idx), n))
        block[np.arange(len(idx))[:, None], idx] = 1.0
        yield 1.0 - block if flip else block


def _random_indicators(n: int, n_first: int, m: int, chunk: int, rng: np.random.Generator):
    """Yield m random group-1 indicators in blocks; the stream depends on rng, n, n1, m only."""
    for start in range(0, m, chunk):
        block = np.zeros((min(chunk, m - start), n))
        block[:, :n_first] = 1.0
        rng.permuted(block, axis=1, out=block)
        yield block


def _count_extreme(centred: np.ndarray, indicators, n_first: int, alternative: str,
                   ) -> np.ndarray:
    """Per stack row, how many partitions are at least as extreme as the observed one."""
    m_rows, n = centred.shape
    n_second = n - n_first
    scale = 1.0 / n_first + 1.0 / n_second
    total = centred.sum(axis=1, keepdims=True)
    observed = scale * centred[:, :n_first].sum(axis=1, keepdims=True) - total / n_second
    tol = RTOL * np.abs(centred).sum(axis=1, keepdims=True)
    counts = np.zeros(m_rows, dtype=np.int64)
    for block in indicators:
        rows = max(1, BLOCK_ELEMENTS // max(1, len(block)))
        for r0 in range(0, m_rows, rows):
            sl = slice(r0, r0 + rows)
            stat = scale * (centred[sl] @ block.T) - total[sl] / n_second  # (rows, chunk)
            if alternative == "greater":
                hit = stat >= observed[sl] - tol[sl]
            elif alternative == "less":
                hit = stat <= observed[sl] + tol[sl]
            else:
                hit = np.abs(stat) >= np.abs(observed[sl]) - tol[sl]
            counts[sl] += hit.sum(axis=1)
    return counts


def permutation_test(scores: np.ndarray, n_first: int, *, alternative: str = "greater",
                     n_permutations: int = 100_000, exact_bound: int = 1_000_000,
                     seed: int | np.random.SeedSequence | np.random.Generator | None = 0,
                     ) -> PermutationResult:
    """p-values of the mean difference scores[:, :n_first] vs scores[:, n_first:].

    scores: (M, n) float, one row per stacked test (models x layers x poolings) sharing the
    same partition sizes; all rows are evaluated against the same partitions.
    """
    check_alternative(alternative)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or not 1 <= n_first < scores.shape[1]:
        raise ValueError(f"scores must be (M, n) with 0 < n_first < n, got {scores.shape}, "
                         f"n_first={n_first}")
    n = scores.shape[1]
    centred = scores - scores.mean(axis=1, keepdims=True)
    chunk = max(1, BLOCK_ELEMENTS // n)
    total = n_partitions(n, n_first)
    if total <= exact_bound:
        hits = _count_extreme(centred, _exact_indicators(n, n_first, chunk), n_first,
                              alternative)
        return PermutationResult(p_value=hits / total, p_se=np.zeros(len(hits)),
                                 p_method="exact", n_permutations=total)
    m = check_count("n_permutations", n_permutations, 1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    hits = _count_extreme(centred, _random_indicators(n, n_first, m, chunk, rng), n_first,
                          alternative)
    p = (hits + 1) / (m + 1)
    return PermutationResult(p_value=p, p_se=np.sqrt(p * (1 - p) / m), p_method="monte-carlo",
                             n_permutations=m)
