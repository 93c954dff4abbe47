"""Segment costs: the piece PELT minimises, one small class per model.

A cost is fitted once to the series, which turns it into cumulative sums
(`stats`, shape (k, n + 1)) and a few fixed parameters (`params`). Its
`segment_cost` is a numba function of (stats, params, start, end) that costs
the segment y[start:end] in O(1); the search methods call it from compiled
code through costs.kernel.segment_costs(kind, ...), so any cost works with
any search method.

Costs are -2 x log-likelihood up to a constant (except `l2`, which is the
plain residual sum of squares, as in ruptures), so that BIC-type penalties
are on the right scale. Each is the minimum over the segment's own
parameters, taken over the same parameter set for every segment (a variance
floor is a constraint on that set, see `floored_variance_cost`), so
splitting a segment never raises its cost, C(t, s') >= C(t, s) + C(s, s'):
PELT's pruning is exact only under this property, and
tests/test_pelt_exact.py checks every registered cost against a brute-force
optimal partitioning.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import stats as st


def resolution(y: np.ndarray) -> float:
    """Measurement resolution: the smallest gap between distinct values (0 if fewer than two).

    Data recorded to a resolution d (integers: d = 1; one decimal: 0.1) carry a
    rounding error of variance at least d^2 / 12 (uniform on +-d/2), so no
    Gaussian segment of such data has a smaller variance. Gaps below 1e-9 of
    the largest magnitude are floating-point noise, not distinct values.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 2:
        return 0.0
    gaps = np.diff(np.unique(y))
    gaps = gaps[gaps > 1e-9 * float(np.abs(y).max())]
    return float(gaps.min()) if gaps.size else 0.0


#: a segment's variance may fall this many times below the series' noise variance before the
#: floor of the Gaussian costs binds: a 16-fold drop is already decisive evidence of a change
VARIANCE_DROP = 16.0


def variance_floor(y: np.ndarray, drop: float = VARIANCE_DROP) -> float:
    """Smallest variance a Gaussian segment of `y` is given: max(resolution^2 / 12,
    noise_scale^2 / drop). The rounding error of the recording is a hard lower
    bound; the second term caps how much a very quiet stretch can gain while leaving
    real drops in variance (up to `drop`-fold, default 16) to the likelihood."""
    return max(resolution(y) ** 2 / 12.0, noise_scale(y) ** 2 / drop)


def robust_noise_sd(y: np.ndarray) -> float:
    """Noise standard deviation from first differences (MAD / sqrt 2), never
    below the rounding error of the data, resolution / sqrt(12).

    Differencing removes level shifts and linear trends, and the median
    ignores the few large jumps at change points, so this estimates the
    within-segment noise even when the series has changes. On a series with
    long runs of identical values (over half the differences zero) the MAD is
    0: the mean absolute deviation of the differences is used instead, and the
    resolution floor keeps the scale from collapsing below what the recording
    can show. 0 only for a constant series.
    """
    y = np.asarray(y, dtype=float)
    floor = resolution(y) / math.sqrt(12.0)
    if y.size < 3:
        return max(float(np.std(y)) if y.size > 1 else 0.0, floor)
    d = np.diff(y)
    sd = 1.482602218505602 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0)
    if sd <= 0.0:  # over half the differences tie (long flat stretches): use the mean absolute deviation
        sd = math.sqrt(math.pi / 2.0) * float(np.mean(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    return max(float(sd), floor)


def noise_scale(y: np.ndarray) -> float:
    """robust_noise_sd(y), or a negligible positive scale for a constant series (every segment
    of which fits exactly, so the scale then changes no answer)."""
    return max(
        robust_noise_sd(y), 1e-12 * max(1.0, float(np.abs(np.asarray(y, dtype=float)).max(initial=0.0)))
    )


@nb.njit(cache=True)
def floored_variance_cost(n, variance, floor):
    """n x the -2 log-likelihood per observation (less the constant 1) of a Gaussian
    segment whose variance MLE is `variance`, with the variance constrained to be
    >= `floor`: n log v if v >= floor, else n (log floor + v / floor - 1).

    This is a constrained maximum likelihood, so, unlike n log max(v, floor),
    splitting a segment never raises its cost (PELT's pruning stays exact).
    """
    if variance >= floor:
        return n * math.log(variance)
    return n * (math.log(floor) + variance / floor - 1.0)


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
    #: what it models: "real" (any real values) or "counts" (non-negative integers)
    data: str = "real"
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
        sd = float(seg.std(ddof=1)) if seg.size > 2 else noise_scale(self.values)
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
