"""Poisson counts with a rate per segment."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats as st

from .base import Cost, cumulative


@nb.njit(cache=True)
def poisson_segment_cost(stats, params, start, end):
    n = end - start
    s = stats[0, end] - stats[0, start]
    if s <= 0.0:
        return 0.0
    # -2 (s log(s/n) - s), dropping sum(log y!) which does not depend on the segmentation
    return -2.0 * (s * math.log(s / n) - s)


def poisson_rate_ci(total: float, exposure: float, alpha: float) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate from `total` events over `exposure` units."""
    low = st.chi2.ppf(alpha / 2, 2 * total) / (2 * exposure) if total > 0 else 0.0
    high = st.chi2.ppf(1 - alpha / 2, 2 * total + 2) / (2 * exposure)
    return float(low), float(high)


class Poisson(Cost):
    """-2 log-likelihood of Poisson counts with one rate per segment."""

    name = "poisson"
    n_params = 1
    segment_cost = poisson_segment_cost

    def _stats(self, y):
        return cumulative(y), np.zeros(0)

    def estimate(self, start, end, alpha=0.05):
        total = float(self.values[start:end].sum())
        n = end - start
        low, high = poisson_rate_ci(total, n, alpha)
        rate = total / n
        return rate, low, high, (1.0 / math.sqrt(total) if total > 0 else math.nan)
