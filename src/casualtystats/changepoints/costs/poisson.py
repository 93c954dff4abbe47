"""Poisson counts with a rate per segment."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats as st

from .base import cumulative
from .negbin import NegBin


@nb.njit(cache=True)
def poisson_segment_cost(stats, params, start, end):
    n = end - start
    s = stats[0, end] - stats[0, start]
    if s <= 0.0:
        return 0.0
    # -2 (s log(s/n) - s), dropping sum(log y!) which does not depend on the segmentation;
    # params[0] divides by the long-run variance factor (see NegBin)
    return -2.0 * params[0] * (s * math.log(s / n) - s)


def poisson_rate_ci(total: float, exposure: float, alpha: float) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate from `total` events over `exposure` units."""
    low = st.chi2.ppf(alpha / 2, 2 * total) / (2 * exposure) if total > 0 else 0.0
    high = st.chi2.ppf(1 - alpha / 2, 2 * total + 2) / (2 * exposure)
    return float(low), float(high)


def odds_to_ratio(p: float, n0: int, n1: int) -> float:
    """Rate ratio rho from p = n1 rho / (n0 + n1 rho)."""
    return float(p / (1 - p) * n0 / n1) if p < 1 else math.inf


class Poisson(NegBin):
    """-2 log-likelihood of Poisson counts with one rate per segment (the
    NB limit size = inf, with its own faster kernel and exact intervals)."""

    name = "poisson"
    segment_cost = poisson_segment_cost
    kind = 5  # costs.kernel.POISSON

    def __init__(self):
        super().__init__(size=math.inf)

    #: its kernel has no exposures: no seasonal factor
    seasonal = False

    def _stats(self, y):
        self.units = np.ones(y.size)
        return cumulative(y), np.ones(1)

    def segment_size(self, start: int, end: int) -> float:
        return math.inf

    def estimate(self, start, end, alpha=0.05):
        total = float(self.values[start:end].sum())
        n = end - start
        low, high = poisson_rate_ci(total, n, alpha)
        rate = total / n
        return rate, low, high, (1.0 / math.sqrt(total) if total > 0 else math.nan)

    def ratio(self, before, after, alpha=0.05):
        """Rate ratio after/before with the exact conditional interval: given the
        total N = x0 + x1, x1 ~ Binomial(N, p) with p = n1 rho / (n0 + n1 rho),
        so a Clopper-Pearson interval for p maps to one for rho."""
        n0, n1 = before[1] - before[0], after[1] - after[0]
        x0 = float(self.values[before[0] : before[1]].sum())
        x1 = float(self.values[after[0] : after[1]].sum())
        total = x0 + x1
        ratio = (x1 / n1) / (x0 / n0) if x0 > 0 else (math.inf if x1 > 0 else math.nan)
        if total == 0:
            return ratio, math.nan, math.nan
        p_low = st.beta.ppf(alpha / 2, x1, x0 + 1) if x1 > 0 else 0.0
        p_high = st.beta.ppf(1 - alpha / 2, x1 + 1, x0) if x0 > 0 else 1.0
        return ratio, odds_to_ratio(p_low, n0, n1), odds_to_ratio(p_high, n0, n1)

    def __repr__(self) -> str:
        return "Poisson()"
