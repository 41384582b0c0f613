"""An independent reference: the iEAT/WEAT test code transcribed from the iEAT authors.

Source: github.com/ryansteed/weat, ``weat/test.py`` (commit 6c522d6), the ``Test`` class that
iEAT (github.com/ryansteed/ieat, ``ieat/api.py``) calls to produce its published numbers;
itself adapted from W4ngatang/sent-bias. Transcribed as plain functions with the same
arithmetic (sklearn cosine_similarity, np.mean/np.std(ddof=1), and the loop over
itertools.combinations for the exact test). Only logging and the parametric branch are
left out. Used by the tests only, never by vitbias itself.
"""

import itertools as it

import numpy as np
import scipy.special
from sklearn.metrics.pairwise import cosine_similarity


class IeatTest:
    def __init__(self, X, Y, A, B):
        self.X, self.Y, self.A, self.B = X, Y, A, B
        XY = np.concatenate((self.X, self.Y))
        AB = np.concatenate((self.A, self.B))
        self.similarity_matrix = cosine_similarity(XY, AB)
        self.s_AB = self.s_wAB(np.arange(self.similarity_matrix.shape[0]))

    def s_wAB(self, w):
        n_a = self.A.shape[0]
        return (self.similarity_matrix[w, :n_a].mean(axis=1)
                - self.similarity_matrix[w, n_a:].mean(axis=1))

    def s_XAB(self, mask):
        return self.s_AB[mask].sum()

    def effect_size(self):
        numerator = (np.mean(self.s_wAB(np.arange(self.X.shape[0])))
                     - np.mean(self.s_wAB(np.arange(self.X.shape[0],
                                                    self.similarity_matrix.shape[0]))))
        denominator = np.std(self.s_AB, ddof=1)
        return numerator / denominator

    def p_exact(self):
        """iEAT's non-parametric exact branch (equal |X| = |Y| only, as in the original)."""
        assert self.X.shape[0] == self.Y.shape[0]
        XY = np.concatenate((self.X, self.Y))
        s = self.s_XAB(np.arange(self.X.shape[0]))
        total_true = 0
        total = 0
        num_partitions = int(scipy.special.binom(2 * self.X.shape[0], self.X.shape[0]))
        for Xi in it.combinations(np.arange(XY.shape[0]), self.X.shape[0]):
            si = self.s_XAB(np.array(Xi))
            if si > s:
                total_true += 1
            elif si == s:  # use conservative test
                total_true += 1
            total += 1
        assert total == num_partitions
        return total_true / total
