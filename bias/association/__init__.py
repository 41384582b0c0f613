"""Embedding association tests: iEAT/WEAT and SC-EAT effect sizes, permutation p-values,
bootstrap intervals and multiple-comparison corrections, vectorised over stacks of models,
layers and poolings.

Layers of the package (each usable on its own):

- :mod:`.effect` association scores (M, n) and effect sizes from embedding stacks;
- :mod:`.permutation` exact / Monte Carlo p-values for many stacked score rows in one pass;
- :mod:`.bootstrap` percentile CIs with vectorised multinomial resampling;
- :mod:`.weat`, :mod:`.sceat` the two tests on stacks (or lists of stacks of differing D);
- :mod:`.correction` Holm / Benjamini–Hochberg;
- :mod:`.run` tidy results over :class:`bias.embeddings.EmbeddingTable` s and a catalog.
"""

from bias.association.bootstrap import bootstrap_ci
from bias.association.correction import CORRECTIONS, adjust_pvalues
from bias.association.effect import (
    effect_size_from_scores,
    sc_effect_size,
    sc_scores,
    weat_effect_size,
    weat_scores,
)
from bias.association.permutation import PermutationResult, n_partitions, permutation_test
from bias.association.run import SC_COLUMNS, WEAT_COLUMNS, derive_test_seed, run_sc_tests, run_tests
from bias.association.sceat import SCTest, sc_eat, sc_tests_from
from bias.association.validate import ALTERNATIVES
from bias.association.weat import AssociationResult, weat

__all__ = [
    "ALTERNATIVES",
    "CORRECTIONS",
    "SC_COLUMNS",
    "WEAT_COLUMNS",
    "AssociationResult",
    "PermutationResult",
    "SCTest",
    "adjust_pvalues",
    "bootstrap_ci",
    "derive_test_seed",
    "effect_size_from_scores",
    "n_partitions",
    "permutation_test",
    "run_sc_tests",
    "run_tests",
    "sc_eat",
    "sc_effect_size",
    "sc_scores",
    "sc_tests_from",
    "weat",
    "weat_effect_size",
    "weat_scores",
]
