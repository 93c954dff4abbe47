"""Keep only abrupt changes: drop trend breaks that a smooth curve explains as well.

PELT with the `normal_trend` cost approximates any curved stretch by straight
pieces, and a long, smoothly bending series (a population, CO2, a GDP path)
then gets breaks that no one would call a change. A change point in the sense
of the annotated benchmarks is abrupt: a jump in level, or a kink in the
slope, at one moment. So each break found by PELT is tested in its own window
(from the previous break to the next) by BIC between two families of one
Gaussian model with a common variance:

- smooth: a polynomial in time of degree 1, 2 or 3 (2, 3, 4 parameters);
- abrupt: Perron's (1989) three break models: a level shift on one common
  slope (3 parameters + the location), a hinge (continuous line whose slope
  changes at the break: 3 + the location) or two separate lines (4 + the
  location).

The break is kept when the best abrupt model has the lower BIC, with every
parameter charged log(m) (m = window length) times the same dependence factor
(1 + phi) / (1 - phi) as the segmentation's penalty, since the residuals are
just as serially correlated here. The hinge, the level shift and the cubic
have the same number of free parameters, so a pure slope change or a pure
jump in level survives only if it fits better than any cubic bend (two
separate lines would charge a jump for a second slope it does not need).
All breaks are tested at once, each against its neighbours as PELT placed
them.
"""

from __future__ import annotations

import math

import numpy as np

#: free parameters of each window model; the abrupt ones include the location
SMOOTH_PARAMS = {1: 2, 2: 3, 3: 4}  # polynomial degree -> parameters
SHIFT_PARAMS = 4
HINGE_PARAMS = 4
TWO_LINES_PARAMS = 5


def rss(design: np.ndarray, y: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    r = y - design @ beta
    return float(r @ r)


def bic_margin(times: np.ndarray, y: np.ndarray, k: int, factor: float, noise_var: float) -> float:
    """BIC(best smooth) - BIC(best abrupt) for a break before index `k` of the
    window; positive means the break is abrupt. The variance is floored at
    `noise_var`, as in the cost, so an exact fit of a few points is no evidence."""
    m = y.size
    t = (times - times.mean()) / max(float(times.std()), 1e-12)
    one = np.ones(m)

    def bic(residual_ss: float, n_params: int) -> float:
        return m * math.log(max(residual_ss / m, noise_var)) + factor * n_params * math.log(m)

    smooth = min(
        bic(rss(np.vander(t, degree + 1), y), n_params) for degree, n_params in SMOOTH_PARAMS.items()
    )
    before = (np.arange(m) < k).astype(float)
    hinge = bic(rss(np.c_[one, t, np.maximum(t - t[k], 0.0)], y), HINGE_PARAMS)
    two_lines = bic(rss(np.c_[before, before * t, 1 - before, (1 - before) * t], y), TWO_LINES_PARAMS)
    shift = bic(rss(np.c_[one, t, 1 - before], y), SHIFT_PARAMS)
    return smooth - min(hinge, two_lines, shift)


def keep_abrupt(
    values: np.ndarray, times: np.ndarray, cuts: list[int], factor: float, noise_var: float
) -> list[int]:
    """The breaks in `cuts` (indices into `values`) that are abrupt by `bic_margin`."""
    bounds = [0, *cuts, values.size]
    return [
        c
        for a, c, b in zip(bounds[:-2], bounds[1:-1], bounds[2:], strict=True)
        if bic_margin(times[a:b], values[a:b], c - a, factor, noise_var) > 0
    ]
