"""Gaussian change in mean and variance."""

from __future__ import annotations

import numba as nb
import numpy as np

from .base import VARIANCE_DROP, Cost, cumulative, floored_variance_cost, variance_floor


@nb.njit(cache=True)
def normal_meanvar_segment_cost(stats, params, start, end):
    n = end - start
    s1 = stats[0, end] - stats[0, start]
    s2 = stats[1, end] - stats[1, start]
    return floored_variance_cost(n, (s2 - s1 * s1 / n) / n, params[0])


class NormalMeanVar(Cost):
    """-2 log-likelihood (up to a constant) of a Gaussian segment with its own
    mean and variance: n log(sigma_hat^2).

    The variance is constrained to be at least `variance_floor` (max of
    resolution^2 / 12 and noise variance / 16), as a constrained maximum
    likelihood (`floored_variance_cost`): otherwise a few equal values (common
    in counts and in series recorded to a coarse resolution) would form a
    segment of zero variance and infinitely low cost.
    """

    name = "normal_meanvar"
    n_params = 2
    min_size = 2
    segment_cost = normal_meanvar_segment_cost
    kind = 3  # costs.kernel.NORMAL_MEANVAR

    def __init__(self, variance_drop: float = VARIANCE_DROP):
        #: how many times below the series' noise variance a segment's variance may fall (see variance_floor)
        self.variance_drop = float(variance_drop)

    def _stats(self, y):
        yc = y - y.mean()
        self.floor = variance_floor(y, self.variance_drop)
        return cumulative(yc, yc * yc), np.array([self.floor])
