"""Single-category embedding association test (SC-EAT) of one target set X against A vs B.

c(t) = mean_{w in X} cos(w, t) for each attribute image t; d = (mean_{a in A} c(a) -
mean_{b in B} c(b)) / std_{t in A u B} c(t) (ddof=1): Caliskan et al. (2017)'s SC-WEAT with a
set of target images instead of one word. The p-value re-partitions A u B into sets of sizes
|A| and |B| with the same machinery as the WEAT (:mod:`bias.association.permutation`), and the
bootstrap resamples X, A and B.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bias.association.effect import sc_scores
from bias.association.weat import AssociationResult, Seed, checked_groups, two_group_result
from bias.stimuli import AssociationTest


@dataclass(frozen=True)
class SCTest:
    """One SC-EAT: does target concept ``x`` associate with ``a`` more than with ``b``?"""

    name: str
    x: str
    a: str
    b: str

    @property
    def concepts(self) -> tuple[str, str, str]:
        return (self.x, self.a, self.b)


def sc_tests_from(tests: Iterable[AssociationTest]) -> list[SCTest]:
    """The distinct SC-EATs in a catalog: each target (X and Y) of each test against its A, B.

    Named ``<target> ~ <a> vs <b>``; a target shared by several tests with the same
    attributes (e.g. presidents/trump) gives one SC-EAT, in first-seen order.
    """
    seen: dict[tuple[str, str, str], SCTest] = {}
    for test in tests:
        for target in (test.x, test.y):
            key = (target, test.a, test.b)
            if key not in seen:
                seen[key] = SCTest(f"{target} ~ {test.a} vs {test.b}", target, test.a, test.b)
    return list(seen.values())


def sc_eat(x, a, b, *, names: Sequence[str] = ("X", "A", "B"),
           where: Sequence[str] | None = None, alternative: str = "greater",
           n_permutations: int = 100_000, exact_bound: int = 1_000_000, n_bootstrap: int = 1000,
           confidence: float = 0.95, seed: Seed = 0) -> AssociationResult:
    """SC-EAT for every stack row; x, a, b as in :func:`bias.association.weat.weat`."""
    sets = checked_groups(names, (x, a, b), where)
    scores = [sc_scores(*s) for s in sets]
    return two_group_result(scores, [s[1].shape[1] for s in sets], "sc", sets,
                            alternative=alternative, n_permutations=n_permutations,
                            exact_bound=exact_bound, n_bootstrap=n_bootstrap,
                            confidence=confidence, seed=seed)
