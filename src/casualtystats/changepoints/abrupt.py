"""Keep only abrupt changes: drop trend breaks that a smooth curve explains as well.

PELT with the `normal_trend` cost approximates any curved stretch by straight
pieces, and a long, smoothly bending series (a population, CO2, a GDP path)
then gets breaks that no one would call a change. A change point in the sense
of the annotated benchmarks is abrupt: a jump in level, a kink in the slope,
or a jump in the noise variance, at one moment. So each break found by PELT
is tested in its own window (from the previous break to the next) by BIC
between two families of Gaussian models:

- smooth: a polynomial in time of degree 1, 2 or 3 (2, 3, 4 parameters), one
  variance;
- abrupt: the mean is one line or one of Perron's (1989) three break models:
  a level shift on one common slope (3 parameters + the location), a hinge
  (continuous line whose slope changes at the break: 3 + the location) or two
  separate lines (4 + the location); the variance is one for the window or,
  for one more parameter, one per side of the break ("one line, one variance"
  is the smooth line, so the line comes only with a variance per side: a break
  in the noise alone).

The `normal_trend` cost gives each segment its own variance, so PELT places
breaks where only the noise changes (returns whose volatility doubles); a
test of mean models alone could never keep them. The evidence for a variance
per side is Bartlett's (1937) statistic for two variances about the mean
model's least-squares fit, each side's residual degrees of freedom its size
less the leverage of its points (two lines: 2 per side) and the statistic
divided by Bartlett's small-sample correction: the plain likelihood ratio
counts the downward bias of a variance fitted to a few points, after their
own line, as evidence (a side of 4 points about its own line keeps 2 degrees
of freedom), and breaks near the ends of short series survived on that alone.

The break is kept when the best abrupt model has the lower BIC, with every
parameter charged log(m) (m = window length) times the same dependence factor
(1 + phi) / (1 - phi) as the segmentation's penalty, since the residuals are
just as serially correlated here; the variance evidence is deflated by the
long-run variance factor of the squared standardised residuals instead
(`variance_dependence`), since clustered volatility, not correlated levels,
is what inflates it. The hinge, the level shift, the variance jump on a line
and the cubic have the same number of free parameters, so a pure slope
change, a pure jump in level or a pure jump in the noise survives only if it
fits better than any cubic bend (two separate lines would charge a jump for a
second slope it does not need). All breaks are tested at once, each against
its neighbours as PELT placed them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .costs.base import floored_variance_cost
from .penalties import long_run_factor

#: free parameters of each model's mean; the abrupt ones add the location (and a second variance)
SMOOTH_PARAMS = {1: 2, 2: 3, 3: 4}  # polynomial degree -> parameters
LINE_PARAMS = 2
SHIFT_PARAMS = 3
HINGE_PARAMS = 3
TWO_LINES_PARAMS = 4


def least_squares(design: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of the least-squares fit of `y` on `design`, and each point's leverage."""
    q, _ = np.linalg.qr(design)
    leverage = np.einsum("ij,ij->i", q, q)
    return y - q @ (q.T @ y), leverage


def side_variance_statistic(r: np.ndarray, leverage: np.ndarray, before: np.ndarray, floor: float) -> float:
    """Bartlett's statistic, with its small-sample correction, for one variance
    before the break and another after it, from least-squares residuals `r`;
    each side's degrees of freedom are its size less its points' leverage, and
    each variance is constrained to be at least `floor` (as in the cost). 0 when a side keeps under one degree of
    freedom (its variance is not estimable)."""
    sides = [before, ~before]
    dof = np.array([float(side.sum() - leverage[side].sum()) for side in sides])
    if dof.min() < 1.0:
        return 0.0
    variances = np.array([float(r[side] @ r[side]) for side in sides]) / dof
    # -2 log-likelihood on the degrees of freedom, each variance constrained to >= floor
    statistic = floored_variance_cost(dof.sum(), float(variances @ dof) / dof.sum(), floor) - sum(
        floored_variance_cost(d, v, floor) for d, v in zip(dof, variances, strict=True)
    )
    correction = 1.0 + (float(np.sum(1.0 / dof)) - 1.0 / dof.sum()) / 3.0
    return max(statistic / correction, 0.0)


def bic_margin(
    times: np.ndarray, y: np.ndarray, k: int, factor: float, noise_var: float, variance_factor: float = 1.0
) -> float:
    """BIC(best smooth) - BIC(best abrupt) for a break before index `k` of the
    window; positive means the break is abrupt. The variance is floored at
    `noise_var`, as in the cost, so an exact fit of a few points is no evidence.
    `factor` deflates the evidence about the mean and `variance_factor` that
    for a second variance (default 1: independent squared residuals)."""
    m = y.size
    t = (times - times.mean()) / max(float(times.std()), 1e-12)
    one = np.ones(m)
    before = np.arange(m) < k

    def bic(design: np.ndarray, n_params: int, per_side: bool = False) -> float:
        r, leverage = least_squares(design, y)
        value = m * math.log(max(float(r @ r) / m, noise_var)) + factor * n_params * math.log(m)
        if not per_side:
            return value
        gain = side_variance_statistic(r, leverage, before, noise_var)
        return value + factor * (math.log(m) - gain / variance_factor)

    smooth = min(bic(np.vander(t, degree + 1), n_params) for degree, n_params in SMOOTH_PARAMS.items())
    b = before.astype(float)
    mean_breaks = [
        (np.c_[one, t, 1 - b], SHIFT_PARAMS),
        (np.c_[one, t, np.maximum(t - t[k], 0.0)], HINGE_PARAMS),
        (np.c_[b, b * t, 1 - b, (1 - b) * t], TWO_LINES_PARAMS),
    ]
    abrupt = min(
        bic(np.c_[one, t], LINE_PARAMS + 1, per_side=True),  # + the location: the noise alone changes
        *(
            bic(design, n_params + 1, per_side)
            for design, n_params in mean_breaks
            for per_side in (False, True)
        ),
    )
    return smooth - abrupt


def variance_dependence(values: np.ndarray, times: np.ndarray, cuts: list[int]) -> float:
    """How many times the Gaussian model overstates the evidence about a variance:
    from e = (z^2 - 1) / sqrt 2, z the residuals about each segment's line in units of
    the segment's robust sd (MAD; e has mean 0 and variance 1 for independent Gaussian
    noise), the mean of e^2 (at least 1; about (kurtosis - 1) / 2: Box's (1953)
    correction of Bartlett's test, whose Gaussian reference fails in heavy tails)
    times `penalties.long_run_factor` of e (volatility that clusters, as in returns,
    makes the variance look as if it changed far more often than it does). The MAD,
    not each segment's own sd: PELT gives a cluster of spikes a segment of its own,
    whose sd the spikes set, and measured in it they hardly look heavy-tailed.
    Segments whose residuals have no spread (MAD 0) are left out."""
    z = []
    for a, b in zip([0, *cuts], [*cuts, values.size], strict=True):
        r, _ = least_squares(np.c_[np.ones(b - a), times[a:b] - times[a:b].mean()], values[a:b])
        sd = float(stats.median_abs_deviation(r, scale="normal"))
        if sd > 0:
            z.append(r / sd)
    if not z:
        return 1.0
    e = (np.concatenate(z) ** 2 - 1.0) / math.sqrt(2.0)
    return max(float(np.mean(e * e)), 1.0) * long_run_factor(e)


def keep_abrupt(
    values: np.ndarray, times: np.ndarray, cuts: list[int], factor: float, noise_var: float
) -> list[int]:
    """The breaks in `cuts` (indices into `values`) that are abrupt by `bic_margin`,
    the variance evidence deflated by `variance_dependence`."""
    variance_factor = variance_dependence(values, times, cuts)
    bounds = [0, *cuts, values.size]
    return [
        c
        for a, c, b in zip(bounds[:-2], bounds[1:-1], bounds[2:], strict=True)
        if bic_margin(times[a:b], values[a:b], c - a, factor, noise_var, variance_factor) > 0
    ]
