"""Gaussian change in mean, noise variance fixed at a robust estimate."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats as st

from .base import Cost, cumulative, noise_scale


@nb.njit(cache=True)
def normal_mean_segment_cost(stats, params, start, end):
    n = end - start
    s1 = stats[0, end] - stats[0, start]
    s2 = stats[1, end] - stats[1, start]
    return (s2 - s1 * s1 / n) / params[0]


class NormalMean(Cost):
    """-2 log-likelihood of a Gaussian segment with its own mean and a common
    variance sigma^2, estimated once from first differences (robust to the
    changes themselves; never below the rounding error, see `robust_noise_sd`)."""

    name = "normal_mean"
    n_params = 1
    segment_cost = normal_mean_segment_cost
    kind = 2  # costs.kernel.NORMAL_MEAN

    def _stats(self, y):
        self.sigma = noise_scale(y)
        yc = y - y.mean()
        return cumulative(yc, yc * yc), np.array([self.sigma**2])

    def estimate(self, start, end, alpha=0.05):
        m = float(self.values[start:end].mean())
        se = self.sigma / math.sqrt(end - start)
        q = st.norm.ppf(1 - alpha / 2)
        return m, m - q * se, m + q * se, (se / m if m > 0 else math.nan)
