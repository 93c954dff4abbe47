"""Negative binomial counts: a mean per segment, one shared dispersion."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats as st

from .base import Cost, cumulative
from .poisson import poisson_rate_ci


@nb.njit(cache=True)
def negbin_segment_cost(stats, params, start, end):
    n = end - start
    s = stats[0, end] - stats[0, start]
    r = params[0]
    mu = s / n
    # -2 x the mean-dependent part of the NB log-likelihood at the segment MLE mu = s/n
    cost = -2.0 * n * r * math.log(r / (r + mu))
    if s > 0.0:
        cost -= 2.0 * s * math.log(mu / (r + mu))
    return cost


def local_dispersion(y: np.ndarray) -> tuple[float, float]:
    """Dispersion index and NB size estimated from neighbouring pairs.

    Within a segment, (y_t - y_{t-1})^2 / 2 estimates the variance and
    (y_t + y_{t-1}) / 2 the mean, so level changes barely inflate the
    estimate. Returns (variance / mean, size r with var = mu + mu^2 / r);
    r = inf when the counts are not overdispersed.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 3 or y.sum() <= 0:
        return 1.0, math.inf
    half_sq = np.diff(y) ** 2 / 2.0
    pair_mean = (y[1:] + y[:-1]) / 2.0
    index = float(half_sq.sum() / max(pair_mean.sum(), 1e-12))
    # E[m^2] = mu^2 + var/2 for the pair mean, so subtract half the variance before dividing
    excess = float(half_sq.sum() - pair_mean.sum())
    if excess <= 0:
        return index, math.inf
    # Isolated spikes (one mass-casualty week among zeros) drive this estimate of
    # sum(mu^2) to zero or below; but sum(mu^2) >= n * mean^2 always, and taking
    # that bound keeps such series very overdispersed instead of Poisson.
    mu2 = float((pair_mean**2 - half_sq / 2.0).sum())
    mu2 = max(mu2, pair_mean.size * float(pair_mean.mean()) ** 2)
    return index, mu2 / excess


class NegBin(Cost):
    """-2 log-likelihood of negative binomial counts with a mean per segment
    and a common size r (var = mu + mu^2 / r) estimated once from
    neighbouring-pair moments (`local_dispersion`). Pass `size` to fix it."""

    name = "negbin"
    data = "counts"
    n_params = 1

    segment_cost = negbin_segment_cost
    kind = 6  # costs.kernel.NEGBIN

    def __init__(self, size: float | None = None):
        self.size = size

    def _stats(self, y):
        r = self.size
        if r is None:
            r = local_dispersion(y)[1]
        self.r = float(min(max(r, 1e-3), 1e8))
        return cumulative(y), np.array([self.r])

    def estimate(self, start, end, alpha=0.05):
        n = end - start
        total = float(self.values[start:end].sum())
        mu = total / n
        if total <= 0:
            # no events: the Poisson bound is the natural limit; overdispersion widens it by (1 + mu/r) = 1
            return 0.0, 0.0, poisson_rate_ci(0.0, n, alpha)[1], math.nan
        se_log = math.sqrt((1.0 / mu + 1.0 / self.r) / n)
        q = st.norm.ppf(1 - alpha / 2)
        return mu, mu * math.exp(-q * se_log), mu * math.exp(q * se_log), se_log

    def __repr__(self) -> str:
        return f"NegBin(size={self.size})"
