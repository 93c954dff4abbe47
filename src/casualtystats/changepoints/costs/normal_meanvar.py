"""Gaussian change in mean and variance."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .base import Cost, cumulative, robust_noise_sd


@nb.njit(cache=True)
def normal_meanvar_segment_cost(stats, params, start, end):
    n = end - start
    s1 = stats[0, end] - stats[0, start]
    s2 = stats[1, end] - stats[1, start]
    var = (s2 - s1 * s1 / n) / n
    # a segment of identical values would have -inf cost: floor its variance
    return n * math.log(max(var, params[0]))


class NormalMeanVar(Cost):
    """-2 log-likelihood (up to a constant) of a Gaussian segment with its own
    mean and variance: n log(sigma_hat^2). Variances are floored at
    (robust noise sd / 4)^2: otherwise two equal values (common in counts)
    would form a segment of zero variance and infinitely low cost."""

    name = "normal_meanvar"
    n_params = 2
    min_size = 2
    segment_cost = normal_meanvar_segment_cost
    kind = 3  # costs.kernel.NORMAL_MEANVAR

    def _stats(self, y):
        yc = y - y.mean()
        floor = (robust_noise_sd(y) / 4) ** 2
        if floor <= 0.0:
            floor = 1e-300
        return cumulative(yc, yc * yc), np.array([floor])
