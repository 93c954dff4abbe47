"""Segment costs: the piece PELT minimises, one small class per model.

A cost is fitted once to the series, which turns it into cumulative sums
(`stats`, shape (k, n + 1)) and a few fixed parameters (`params`). Its
`segment_cost` is a numba function of (stats, params, start, end) that costs
the segment y[start:end] in O(1); the search methods call it from compiled
code through costs.kernel.segment_costs(kind, ...), so any cost works with
any search method.

Costs are -2 x log-likelihood up to a constant (except `l2`, which is the
plain residual sum of squares, as in ruptures), so that BIC-type penalties
are on the right scale.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as st


def robust_noise_sd(y: np.ndarray) -> float:
    """Noise standard deviation from first differences (MAD / sqrt 2).

    Differencing removes level shifts and linear trends, and the median
    ignores the few large jumps at change points, so this estimates the
    within-segment noise even when the series has changes.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 3:
        return float(np.std(y)) if y.size > 1 else 0.0
    d = np.diff(y)
    sd = 1.482602218505602 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0)
    if sd <= 0.0:  # over half the differences tie (long flat stretches): use the mean absolute deviation
        sd = math.sqrt(math.pi / 2.0) * float(np.mean(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    return float(sd)


def cumulative(*columns: np.ndarray) -> np.ndarray:
    """Stack columns as cumulative sums with a leading zero: stats[j, t] = sum(column_j[:t])."""
    out = np.zeros((len(columns), columns[0].size + 1))
    for j, col in enumerate(columns):
        np.cumsum(col, out=out[j, 1:])
    return out


class Cost:
    """A segment cost. Subclasses set `name`, `n_params`, `segment_cost` and `_stats`."""

    name: str = ""
    #: free parameters per segment (for BIC / MBIC)
    n_params: int = 1
    #: smallest segment the model can cost
    min_size: int = 1
    #: numba function (stats, params, start, end) -> float, O(1)
    segment_cost = None
    #: its id in costs.kernel.segment_costs (how compiled search code calls it)
    kind: int = -1
    #: id of a slower cost used to settle near-ties (see detection.pelt.pelt_search);
    #: -1 means the same as `kind`
    reference_kind: int = -1
    #: relative gap under which two totals count as a near-tie
    tie_tolerance: float = 0.0
    #: magnitude of the O(1) cost's rounding error (see L2)
    tie_scale: float = 0.0

    def fit(self, values, times=None) -> Cost:
        """Precompute the cumulative statistics of `values` (observed, no NaN).

        `times` are the positions of the observations on the original axis
        (they differ from 0..n-1 when missing values were skipped).
        """
        y = np.asarray(values, dtype=float)
        self.values = y
        self.times = np.arange(y.size, dtype=float) if times is None else np.asarray(times, dtype=float)
        self.n = y.size
        self.stats, self.params = self._stats(y)
        return self

    def _stats(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def error(self, start: int, end: int) -> float:
        """Cost of y[start:end] (from Python; PELT calls it through costs.kernel)."""
        return float(type(self).segment_cost(self.stats, self.params, start, end))

    @property
    def scale(self) -> float:
        """Units of one unit of cost relative to -2 log-likelihood (only `l2` differs)."""
        return 1.0

    def fitted(self, start: int, end: int) -> np.ndarray:
        """The segment model's fitted values (the segment mean unless overridden)."""
        return np.full(end - start, self.values[start:end].mean())

    def estimate(self, start: int, end: int, alpha: float = 0.05) -> tuple[float, float, float, float]:
        """Segment level, its (1 - alpha) CI and the standard error of log(level).

        Gaussian default: the mean with a t interval from the segment's own
        spread (or the robust noise sd when the segment is too short).
        """
        seg = self.values[start:end]
        m = float(seg.mean())
        sd = float(seg.std(ddof=1)) if seg.size > 2 else robust_noise_sd(self.values)
        se = sd / math.sqrt(seg.size)
        q = st.t.ppf(1 - alpha / 2, max(seg.size - 1, 1))
        return m, m - q * se, m + q * se, (se / m if m > 0 else math.nan)

    def ratio(self, before: tuple[int, int], after: tuple[int, int], alpha: float = 0.05):
        """Ratio of the levels of two segments (after / before) with a (1 - alpha) CI.

        Default: Wald interval on the log scale from each level's standard
        error of log(level); NaN where a level is not positive.
        """
        m0, _, _, se0 = self.estimate(*before, alpha=alpha)
        m1, _, _, se1 = self.estimate(*after, alpha=alpha)
        if not (m0 > 0 and m1 > 0 and math.isfinite(se0) and math.isfinite(se1)):
            return (m1 / m0 if m0 > 0 else math.nan), math.nan, math.nan
        ratio = m1 / m0
        half = st.norm.ppf(1 - alpha / 2) * math.sqrt(se0**2 + se1**2)
        return ratio, ratio * math.exp(-half), ratio * math.exp(half)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
