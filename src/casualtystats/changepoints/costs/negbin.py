"""Negative binomial counts: a mean and a dispersion per segment.

The building block (`nb_part_loglik`) is one "part": counts y_w over
exposures u_w with y_w ~ NB(mean u_w m, size u_w r), i.e. y_w is the sum of
u_w independent NB(m, r) counts. Plain weekly counts are the case u_w = 1;
the frequency-severity cost (costs.freqsev) uses it again for deaths given
incidents (u_w = incidents in week w). Per segment, m has the closed-form MLE
sum(y) / sum(u) for every r, and r is profiled over a fixed grid (`SIZE_GRID`,
plus the Poisson limit r = inf): the sums of lgamma(y_w + u_w r_j) -
lgamma(u_w r_j) are cumulated once per grid value, so a segment costs
O(len(grid)), independent of its length. The minimum over the grid of
additive costs is itself a segment cost that never rises when a segment is
split, so PELT's pruning stays exact.

Why a dispersion per segment: one dispersion for the whole series, estimated
from all weeks, is wrecked by a single aggregated report (one week holding a
year of deaths drives it towards 0, after which no change is detectable); a
segment's own dispersion only sees its own weeks, so such a week stands out
as a segment of its own. detect_change_points' "auto" penalty sets those
aside first and then fixes one size for all segments (`with_common_size`).
"""

from __future__ import annotations

import copy
import math

import numba as nb
import numpy as np
from scipy import stats as st
from scipy.special import gammaln

from .base import Cost

#: NB sizes r (var = mu + mu^2 / r) over which each segment's likelihood is
#: profiled; 0.01 suits deaths from rare attacks among many empty weeks, 1000 is
#: Poisson for any weekly rate below ~100, and the Poisson limit is added
SIZE_GRID = np.geomspace(0.01, 1000.0, 16)
#: layout of one part in `params`: weight, grid length, Poisson flag, then the grid and its logs
PART_HEADER = 3
#: layout of one part in `stats`: sum y, sum u, sum y log u, then one row per grid value
PART_ROWS = 3


@nb.njit(cache=True)
def nb_part_loglik(stats, params, row, col, start, end):
    """(max log-likelihood, argmax size) of one part over y[start:end], up to a
    constant that does not depend on the segmentation (sum of log y!). Size
    inf is the Poisson limit; an empty part (no exposure) gives (0, nan)."""
    s = stats[row, end] - stats[row, start]
    u = stats[row + 1, end] - stats[row + 1, start]
    if u <= 0.0:
        return 0.0, math.nan
    if s <= 0.0:
        return 0.0, math.inf  # all zeros: every size fits equally, report the Poisson limit
    m = s / u
    log_m = math.log(m)
    n_grid = int(params[col + 1])
    best = -math.inf
    best_size = math.nan
    if params[col + 2] > 0.0:
        best = s * log_m - s + (stats[row + 2, end] - stats[row + 2, start])
        best_size = math.inf
    for j in range(n_grid):
        r = params[col + PART_HEADER + j]
        a = stats[row + PART_ROWS + j, end] - stats[row + PART_ROWS + j, start]
        ll = a + u * r * params[col + PART_HEADER + n_grid + j] - (u * r + s) * math.log(r + m) + s * log_m
        if ll > best:
            best = ll
            best_size = r
    return best, best_size


@nb.njit(cache=True)
def negbin_segment_cost(stats, params, start, end):
    ll, _ = nb_part_loglik(stats, params, 0, 0, start, end)
    return -2.0 * params[0] * ll


def part_stats(y: np.ndarray, units: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The cumulative sums one part needs (rows as in PART_ROWS, then one per grid value)."""
    active = units > 0
    safe_units = np.where(active, units, 1.0)
    columns = [y, units, np.where(active, y * np.log(safe_units), 0.0)]
    for r in grid:
        size = safe_units * r
        columns.append(np.where(active, gammaln(y + size) - gammaln(size), 0.0))
    out = np.zeros((len(columns), y.size + 1))
    for j, col in enumerate(columns):
        np.cumsum(col, out=out[j, 1:])
    return out


def part_params(grid: np.ndarray, poisson: bool, weight: float = 1.0) -> np.ndarray:
    return np.r_[weight, grid.size, float(poisson), grid, np.log(grid)]


def size_grid(size: float | None) -> tuple[np.ndarray, bool]:
    """The grid and Poisson flag for a fixed size (None = profile over SIZE_GRID)."""
    if size is None:
        return SIZE_GRID, True
    if math.isinf(size):
        return np.zeros(0), True
    if not size > 0:
        raise ValueError(f"size must be > 0, not {size!r}")
    return np.array([float(size)]), False


def nb_mean_ci(total: float, exposure: float, size: float, alpha: float) -> tuple[float, float, float, float]:
    """Mean per unit with a Wald interval on the log scale, var(log m) = (1/m + 1/size) / exposure
    (size is per unit of exposure); the exact Poisson bound when nothing was counted."""
    if total <= 0:  # nothing counted: the exact Poisson upper bound, -log(alpha / 2) / exposure
        return 0.0, 0.0, -math.log(alpha / 2) / exposure, math.nan
    m = total / exposure
    inv_size = 0.0 if math.isinf(size) else 1.0 / size
    se_log = math.sqrt((1.0 / m + inv_size) / exposure)
    q = st.norm.ppf(1 - alpha / 2)
    return m, m * math.exp(-q * se_log), m * math.exp(q * se_log), se_log


def common_part_size(stats, row: int, grid: np.ndarray, poisson: bool, bounds) -> float:
    """ML size of one part shared by the segments `bounds`, each with its own mean,
    over `grid` (and the Poisson limit inf when `poisson`)."""
    totals = np.zeros(grid.size + 1)
    totals[-1] = 0.0 if poisson else -math.inf
    log_grid = np.log(grid)
    for a, b in bounds:
        s, u = stats[row, b] - stats[row, a], stats[row + 1, b] - stats[row + 1, a]
        if s <= 0 or u <= 0:
            continue
        m = s / u
        lgam = (
            stats[row + PART_ROWS : row + PART_ROWS + grid.size, b]
            - stats[row + PART_ROWS : row + PART_ROWS + grid.size, a]
        )
        totals[:-1] += lgam + u * grid * log_grid - (u * grid + s) * np.log(grid + m) + s * math.log(m)
        totals[-1] += s * math.log(m) - s + (stats[row + 2, b] - stats[row + 2, a])
    j = int(np.argmax(totals))
    return math.inf if j == grid.size else float(grid[j])


def season_units(season, times: np.ndarray) -> np.ndarray:
    """Each week's exposure: the seasonal factor at its position, or 1 without a season."""
    return np.ones(times.size) if season is None else season.factors(times)


def pearson(y: np.ndarray, units: np.ndarray, m: float, size: float) -> np.ndarray:
    """(y - u m) / sd under NB(u m, u size); NaN where there is no exposure or no variance."""
    inv = 0.0 if math.isinf(size) or math.isnan(size) else 1.0 / size
    var = units * m * (1.0 + m * inv)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (y - units * m) / np.sqrt(var), np.nan)


class NegBin(Cost):
    """-2 log-likelihood of negative binomial counts with a mean and a size
    (var = mu + mu^2 / size) per segment, the size profiled over `SIZE_GRID`
    and the Poisson limit. Pass `size` to fix a common size instead (one
    parameter per segment; `size=math.inf` is the Poisson cost);
    detect_change_points' "auto" penalty uses the profiled cost to set
    isolated excursions aside, then the common size they leave
    (`with_common_size`).

    `weight` divides the cost by a long-run variance factor (set by
    detect_change_points for the dependence between weeks; 1 = independent).
    """

    name = "negbin"
    data = "counts"

    segment_cost = negbin_segment_cost
    kind = 6  # costs.kernel.NEGBIN
    #: per part: is its dispersion estimated robustly by the cost itself? (see detect.segment_counts)
    robust_dispersion = (False,)

    #: a changepoints.season.Season shared by all segments (None: no season); its factor at each
    #: week is that week's exposure, so a segment's mean is the de-seasonalised level
    season = None
    #: can the cost carry a season?
    seasonal = True

    def __init__(self, size: float | None = None):
        self.size = size
        self.grid, self.poisson = size_grid(size)
        self.n_params = 2 if size is None else 1

    def _stats(self, y):
        self.units = season_units(self.season, self.times)
        return part_stats(y, self.units, self.grid), part_params(self.grid, self.poisson)

    def with_season(self, season) -> NegBin:
        """The same (unfitted) cost with the seasonal factor `season` (None: none)."""
        out = copy.copy(self)
        out.season = season
        return out

    @property
    def parts(self) -> int:
        return 1

    @property
    def profiled(self) -> bool:
        """True when the size is profiled per segment (not fixed)."""
        return self.size is None

    def set_weights(self, factors) -> None:
        """Divide each part's cost by its long-run variance factor."""
        self.params[0] = 1.0 / float(factors[0])

    def segment_size(self, start: int, end: int) -> float:
        return float(nb_part_loglik(self.stats, self.params, 0, 0, start, end)[1])

    def with_common_size(self, bounds) -> NegBin:
        """The same cost with one size for every segment: the ML size given the
        segments `bounds` (each with its own mean), over the grid and the Poisson limit."""
        return NegBin(size=common_part_size(self.stats, 0, self.grid, self.poisson, bounds)).with_season(
            self.season
        )

    def residuals(self, bounds) -> np.ndarray:
        """Pearson residuals about each segment's fitted NB, shape (n, 1)."""
        out = [
            pearson(self.values[a:b], self.units[a:b], self.level(a, b), self.segment_size(a, b))
            for a, b in bounds
        ]
        return np.concatenate(out)[:, None]

    def level(self, start: int, end: int) -> float:
        """The segment's mean count per week (de-seasonalised: sum y / sum of seasonal factors)."""
        return float(self.values[start:end].sum() / self.units[start:end].sum())

    def fitted(self, start: int, end: int) -> np.ndarray:
        return self.level(start, end) * self.units[start:end]

    def estimate(self, start, end, alpha=0.05):
        total = float(self.values[start:end].sum())
        return nb_mean_ci(total, float(self.units[start:end].sum()), self.segment_size(start, end), alpha)

    def __repr__(self) -> str:
        return f"NegBin(size={self.size})"
