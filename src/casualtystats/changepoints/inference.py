"""Rate-ratio intervals for detected changes that stay honest after detection.

The segments of a `ChangePoints` result were chosen on the same data that
estimate their levels, so the textbook interval for the ratio of two segment
levels (`method="naive"`) is too narrow: the search put the change where the
contrast looks largest, spurious changes included. The default
`method="scan"` (closed form, a few milliseconds per call) corrects for

1. the choice of the location. The interval for change k is *simultaneous*
   over every place the change could have been put in its window (from the
   previous change to the next): {rho : deviance(rho) <= b^2}, where b is the
   (1 - alpha) quantile of the largest standardised split statistic of a
   window with no change (Siegmund's approximation for the maximum of a
   discrete standardised CUSUM, `scan_critical_value`; about 3.2 for 500 weeks
   instead of 1.96). Whatever rule picked the location, the band covers the
   ratio of the true mean levels of the two segments as drawn (the
   "projection" target: the true ratio for a change found in place, 1 for a
   spurious change in a flat stretch). The band excludes 1 exactly when the
   scan test of "no change in this window" rejects at level alpha.
2. overdispersion and its estimation. Counts are negative binomial with a
   size r matched to the noise variance (`CountNoise.fit`), and the interval
   is a profile likelihood (`RatioLikelihood`), right for zero totals and
   short segments where a Wald interval is not. r is estimated, with about
   2 n / (2 + kurtosis) degrees of freedom for the extra-Poisson variance, so
   b is that of the studentised scan (`CountNoise.dof`).
3. serial dependence. Each segment's log-likelihood is divided by the
   long-run variance factor of an ACF c * phi^k (a latent AR(1) log-rate seen
   through count noise; `long_run_factor`) fitted to the semivariogram of the
   series (`variogram_profile`), which does not use the segmentation: a
   detection that cut dependent noise into many segments would otherwise hide
   the dependence sought. That estimate is biased low and noisy where counts
   are few and the dependence strong; a parametric bootstrap of it (40 series
   from the fitted noise, `LongRunFactors`) corrects the bias and adds its
   variance to the studentised scan's degrees of freedom. Without this the
   intervals of changes found in latent AR(1) series (phi 0.8) covered 0.82-0.86.
4. the selection itself. A simultaneous band covers on average over all
   series, not over the few in which a weak change was found: those are the
   series whose noise inflated the contrast (winner's curse). There the band,
   widened only for the threshold at the location found, covered x1.5 changes
   in 0.866 of the cases (benchmarks/rate_ratios.py). So the interval
   is also widened to the selective one (Hyun et al. 2018; Jewell et al. 2022),
   conditional on the event that made the detection keep this change: its
   penalised gain beat every other split of the window (bar the near ones that
   measure nearly the same contrast) and beat no change
   (`selection_set`, from the standardised split contrasts of the window
   under a Gaussian approximation, with the detection's penalty and length
   term), inverted as a truncated-Gaussian pivot (`selective_bounds`) and
   mapped to the ratio through the signed root of the profile deviance
   (`RatioLikelihood.ratio_at`). The reported interval is the hull of the two
   and `p_value` the larger of their p-values, so the interval excludes 1
   exactly when p_value < alpha. The band alone misses weak changes found;
   the selective interval alone (dispersion and dependence taken as known)
   covered x2/x3 changes only 0.79-0.84 at worst. It costs O(window) per change.

`method="bootstrap"` replaces b by the (1 - alpha) quantile of the largest
split deviance in the window over `n_boot` series simulated from the fitted
model without the change (other segments kept, NB noise and latent AR(1)
dependence as estimated), each re-estimating the noise as the data did. It
checks the closed form where counts are few and heavy-tailed, at about a
millisecond per replicate and change.

Assumptions: within a segment the level is constant and the noise stationary
with an ACF of that form; the window's ends (the neighbouring changes) are
treated as given, so when detection cuts a strongly dependent series into
many segments the windows are themselves selected and the intervals too
narrow (see benchmarks/rate_ratios.py); the band is valid for one window, so
a series with several spurious changes can show more than one interval
excluding 1.

Panel slices (costs "freqsev" and "freqsev_log" with penalty "auto", whose parts
the detection segments apart, `ChangePoints.part_locations`): one row per change
and part that found it, judged on that part's quantity, in the window between
that part's own neighbouring changes, given that part's detection (its own gain,
at its own long-run factor `ChangePoints.dependence[j]`, against the common
penalty). A change found in one part is then not judged on deaths per week in a
window cut by the other parts' changes, where its gain falls below the
threshold and the selective step reads it as barely selected.
- `incident_rate` (incidents per week): the count machinery above, on the
  incident column.
- `deaths_per_incident` (mean deaths per incident): F_w | N_w ~ NB(N_w s, N_w k)
  with the cost's common k, so a segment's log-likelihood is that of the
  counts with exposure N_w; the profile quasi-likelihood of the ratio s1 / s0
  divides it by the detection's factor of the part (Pearson variance times the
  long-run factor, one value for every segment length: conservative for short
  ones). The scan runs over the weeks with incidents, the selection set's
  contrasts correlate in information time (cumulative incidents), and the
  factor's degrees of freedom are 2 n_eff / (2 + kurtosis) of the part's
  Pearson residuals (`residual_dof`).
- `median_deaths_per_incident` (exp of the log-mean, the typical incident):
  the Gaussian weighted means of costs.freqsev_log (known variances v(N_w)
  given the robust s^2, times the part's factor), ratio exp(mu1 - mu0)
  (`GaussianRatio`), the same scan, selective step (weights 1 / v(N_w) as
  information) and degrees of freedom rule.
"bootstrap" applies to the incident part (counts per week); the severity parts
then use the scan and say so in `method`. "naive": each part's interval given
the dates, independent weeks, the cost's sizes.

`method="naive"` keeps the given-segmentation formulas of each cost (Poisson
exact conditional; NB Wald with the cost's dispersion; Gaussian Wald). They are
right only when the change dates were fixed without looking at these data.
Gaussian costs get, under "scan", their Wald interval on the log scale with
the scan's b and the dependence of the residuals about each segment's fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, signal
from scipy import stats as st
from scipy.special import log_ndtr, ndtr, xlogy

from .errors import ChangePointError
from .penalties import RESIDUAL_CLIP

if TYPE_CHECKING:
    from collections.abc import Callable

    from .penalties import Penalty
    from .results import ChangePoints

METHODS = ("scan", "bootstrap", "naive")
COLUMNS = ["location", "label", "before", "after", "ratio", "ci_low", "ci_high", "p_value", "method"]
#: the table of a result whose parts were segmented apart: which part found the change, and whose quantity
PART_COLUMNS = [*COLUMNS[:2], "part", *COLUMNS[2:]]

#: costs whose segment levels are Gaussian means (their own standard errors are used)
GAUSSIAN_COSTS = frozenset({"l2", "normal_mean", "normal_meanvar", "normal_trend"})
#: lags of the semivariogram fitted by `variogram_profile`
MAX_LAG = 20
#: grid of AR coefficients searched by `variogram_profile`; 0.95 is the cap the penalty also uses
PHI_GRID = np.linspace(0.01, 0.95, 95)
#: quantiles of chi^2 averaged over by the studentised scan
SCALE_POINTS = 32
#: degrees of freedom above which the dispersion counts as known
MAX_DOF = 1000.0
#: series simulated by `LongRunFactors.calibrate` for the default "scan" (a few ms of CPU for 520 weeks)
DEPENDENCE_DRAWS = 40
#: splits whose contrast shares at least this much of its variance with the chosen one's (rho^2)
#: count as the same place for the selective interval (`selection_set`)
NEAR_SHARE = 0.5
#: shortest side of a split the scan allows for (one observation: conservative for any min_size)
SCAN_MIN_SIDE = 1


def variogram_profile(y: np.ndarray) -> tuple:
    """(sill, c, phi): the series' noise variance and the ACF c * phi^k (k >= 1) of its noise.

    Fitted by least squares to the empirical semivariogram
    V(k) = mean (y_{t+k} - y_t)^2 / 2, k = 1..min(MAX_LAG, n / 5), as
    V(k) = sill (1 - c phi^k) + delta k over phi in PHI_GRID, with or without
    the dependence and the linear term, whichever has the smallest BIC (so
    independent noise mostly gets c = 0 rather than a fit to its sampling
    wiggles). The segmentation is not used: the few level changes of a series
    add about delta k (pairs straddling a change), which the linear term
    absorbs, while a detection that cut a dependent series into many short
    segments would have hidden exactly the dependence sought here. A latent
    AR(1) log-rate seen through Poisson or NB noise has this ACF (c < 1 is the
    latent share of the variance). A 2-D `y` fits each row (the designs are
    shared, so a batch costs little more than one series) and returns arrays.
    """
    y = np.asarray(y, dtype=float)
    rows = np.atleast_2d(y)
    n = rows.shape[1]
    max_lag = int(min(MAX_LAG, n // 5))
    if max_lag < 3:
        sill, zero = rows.var(axis=1), np.zeros(rows.shape[0])
        out = sill, zero, zero
    else:
        lags = np.arange(1, max_lag + 1, dtype=float)
        v = np.stack(
            [np.mean((rows[:, k:] - rows[:, :-k]) ** 2, axis=1) / 2.0 for k in range(1, max_lag + 1)], 1
        )
        out = _fit_variogram(v, lags)
    if y.ndim == 1:
        return tuple(float(part[0]) for part in out)
    return out


@lru_cache(maxsize=32)
def _dependence_designs(n_lags: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Designs (grid x lag x parameter) of V(k) = a - b phi^k (+ delta k) over PHI_GRID and their
    pseudo-inverses: they do not depend on the data, so every fit reuses them."""
    lags = np.arange(1, n_lags + 1, dtype=float)
    decay = PHI_GRID[:, None] ** lags[None, :]
    out = []
    for columns in (
        (np.ones_like(decay), -decay),
        (np.ones_like(decay), -decay, np.broadcast_to(lags, decay.shape)),
    ):
        design = np.stack(columns, axis=2)
        out.append((design, np.linalg.pinv(design)))
    return tuple(out)


def _fit_variogram(v: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`variogram_profile`'s four least-squares fits and BIC choice for each row of semivariances v."""
    n_lags = lags.size

    def bic(sse, n_params: int):
        return n_lags * np.log(np.maximum(sse, 1e-300) / n_lags) + n_params * math.log(n_lags)

    # no dependence: V(k) = a
    sill = v.mean(axis=1)
    c = np.zeros_like(sill)
    phi = np.zeros_like(sill)
    best = bic(((v - sill[:, None]) ** 2).sum(axis=1), 1)
    # no dependence, level changes: V(k) = a + delta k with a, delta > 0
    design = np.stack([np.ones_like(lags), lags], axis=1)
    coef = np.linalg.lstsq(design, v.T, rcond=None)[0].T
    crit = bic(((coef @ design.T - v) ** 2).sum(axis=1), 2)
    take = (coef > 0).all(axis=1) & (crit < best)
    sill, best = np.where(take, coef[:, 0], sill), np.where(take, crit, best)
    # dependence: V(k) = a - b phi^k (+ delta k) with a > 0, b >= 0, delta >= 0; phi counts as a parameter
    rows = np.arange(v.shape[0])
    for design, pseudo_inverse in _dependence_designs(n_lags):
        if design.shape[2] + 1 >= n_lags:  # no residual degrees of freedom: the BIC is meaningless
            continue
        coef = pseudo_inverse @ v.T  # grid x parameter x row
        sse = (((design @ coef) - v.T[None]) ** 2).sum(axis=1)  # grid x row
        sse = np.where((coef > 0).all(axis=1), sse, np.inf)
        g = np.argmin(sse, axis=0)
        crit = bic(sse[g, rows], design.shape[2] + 1)
        take = np.isfinite(sse[g, rows]) & (crit < best)
        a, b = coef[g, 0, rows], coef[g, 1, rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            sill = np.where(take, a, sill)
            c = np.where(take, np.minimum(b / a, 1.0), c)
        phi = np.where(take, PHI_GRID[g], phi)
        best = np.where(take, crit, best)
    return sill, c, phi


def long_run_factor(n, c, phi):
    """Var(mean of n) / (var / n) for the ACF c * phi^k: 1 + 2 c sum_{k<n} (1 - k/n) phi^k.

    n, c and phi broadcast against each other (floats give a float)."""
    n, c, phi = (np.asarray(x, dtype=float) for x in (n, c, phi))
    dependent = (c > 0.0) & (phi > 0.0)
    p = np.where(dependent, phi, 0.5)  # any value in (0, 1) where the factor is 1 anyway
    tail = p / (1 - p) - p * (1 - p**n) / (np.maximum(n, 1.0) * (1 - p) ** 2)
    out = 1.0 + 2.0 * np.where(dependent, c, 0.0) * np.where(n >= 2, tail, 0.0)
    return out if out.ndim else float(out)


def _pdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _nu(x: np.ndarray) -> np.ndarray:
    """Siegmund's overshoot correction for a discrete-time Gaussian walk."""
    half = x / 2.0
    cdf = ndtr(half)
    return (2.0 / x) * (cdf - 0.5) / (half * cdf + _pdf(half))


def _gaussian_scan_exceedance(b: np.ndarray, n: int, min_side: int) -> np.ndarray:
    """Siegmund's approximation (see `scan_exceedance`) for an array of b.

    The terms of k and n - k are equal, so half the splits are summed and
    doubled; beyond EXACT_SPLITS the smooth terms are integrated on a
    geometric grid (midpoint rule), which keeps the cost independent of n.
    """
    b = np.asarray(b, dtype=float)[..., None]
    single = 2.0 * ndtr(-b[..., 0])
    if n - 2 * min_side < 0:
        return np.zeros_like(single)
    if n - 2 * min_side == 0:
        return single

    def term(k):
        w = n / (k * (n - k))
        return w * _nu(b * np.sqrt(w))

    half = (n - 1) // 2  # splits k < n / 2; k = n / 2 (n even) is its own mirror
    exact = np.arange(min_side, min(half, EXACT_SPLITS) + 1, dtype=float)
    total = 2.0 * term(exact).sum(axis=-1) if exact.size else 0.0
    if half > EXACT_SPLITS:
        edges = np.geomspace(EXACT_SPLITS + 0.5, half + 0.5, EXACT_SPLITS + 1)
        mids = np.sqrt(edges[1:] * edges[:-1])
        total = total + 2.0 * (term(mids) * np.diff(edges)).sum(axis=-1)
    if n % 2 == 0 and n // 2 >= min_side:
        total = total + term(np.array([n / 2.0]))[..., 0]
    return np.minimum(1.0, np.maximum(single, b[..., 0] * _pdf(b[..., 0]) * total))


#: splits per side summed term by term by the scan approximation (the rest are integrated)
EXACT_SPLITS = 64
#: b values at which the Gaussian scan probability is tabulated per window length (then interpolated)
B_GRID = np.linspace(0.25, 15.0, 296)


@lru_cache(maxsize=512)
def _log_scan_curve(n: int, min_side: int) -> np.ndarray:
    return np.log(np.maximum(_gaussian_scan_exceedance(B_GRID, n, min_side), 1e-300))


def scan_exceedance(b: float, n: int, min_side: int = SCAN_MIN_SIDE, dof: float = math.inf) -> float:
    """P(max over splits k of |Z_k| > b) for n independent observations with no change.

    Z_k is the standardised contrast of the first k against the last n - k
    (min_side <= k <= n - min_side). Siegmund's (1988) approximation:
    b phi(b) sum_k n / (k (n - k)) nu(b sqrt(n / (k (n - k)))); never below the
    probability for a single split, and at most 1 (tabulated on B_GRID per n
    and interpolated in log). With `dof` finite the variance behind Z is itself
    estimated with that many degrees of freedom (a studentised scan): the
    probability is averaged over b -> b sqrt(chi^2_dof / dof) at SCALE_POINTS
    quantiles.
    """
    scale = np.ones(1) if math.isinf(dof) else _chi_scale(dof)
    log_p = np.interp(b * scale, B_GRID, _log_scan_curve(int(n), int(min_side)))
    return float(np.exp(log_p).mean())


@lru_cache(maxsize=1024)
def _chi_scale(dof: float) -> np.ndarray:
    """sqrt(chi^2_dof / dof) at SCALE_POINTS evenly spaced quantiles."""
    return np.sqrt(st.chi2.ppf((np.arange(SCALE_POINTS) + 0.5) / SCALE_POINTS, dof) / dof)


@lru_cache(maxsize=4096)
def scan_critical_value(n: int, alpha: float, min_side: int = SCAN_MIN_SIDE, dof: float = math.inf) -> float:
    """The b with scan_exceedance(b, n, dof=dof) = alpha (at least the single-split quantile)."""
    z = float(st.norm.isf(alpha / 2)) if math.isinf(dof) else float(st.t.isf(alpha / 2, dof))
    if scan_exceedance(z, n, min_side, dof) <= alpha:
        return z
    return float(optimize.brentq(lambda b: scan_exceedance(b, n, min_side, dof) - alpha, z, 60.0, xtol=1e-5))


def _naive_rows(cps: ChangePoints, alpha: float) -> list[dict]:
    rows = []
    bounds = cps.observed_bounds
    for k, loc in enumerate(cps.locations):
        ratio, low, high = cps.cost_model.ratio(bounds[k], bounds[k + 1], alpha=alpha)
        rows.append({"location": loc, "ratio": ratio, "ci_low": low, "ci_high": high, "p_value": math.nan})
    return rows


def _segment_loglik(total, n, mean, size: float):
    """NB log-likelihood of segments with `total` events in `n` periods at `mean`, up to a constant.

    With the size known it depends on the data only through the total:
    total log(m / (r + m)) - n r log(1 + m / r); Poisson (r = inf): total log m - n m.
    Works elementwise on arrays.
    """
    if math.isinf(size):
        return xlogy(total, mean) - n * mean
    return xlogy(total, mean / (size + mean)) - n * size * np.log1p(mean / size)


def _constrained_before(s0, n0, f0, s1, n1, f1, size: float, rho):
    """Mean before that maximises the quasi-likelihood when mean after = rho x mean before.

    The score equation (s0 - n0 m) / (f0 (r + m)) + (s1 - n1 rho m) / (f1 (r + rho m)) = 0
    is a quadratic qa m^2 + qb m + qc with qa < 0 < qc; its positive root is
    taken in the form without cancellation for the sign of qb. Elementwise on arrays.
    """
    if math.isinf(size):
        return (s0 / f0 + s1 / f1) / (n0 / f0 + n1 * rho / f1)
    r = size
    qa = -rho * (f1 * n0 + f0 * n1)
    qb = f1 * s0 * rho - f1 * n0 * r + f0 * s1 - f0 * n1 * rho * r
    qc = r * (f1 * s0 + f0 * s1)
    root = np.sqrt(qb * qb - 4.0 * qa * qc)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(qb > 0, (-qb - root) / (2.0 * qa), 2.0 * qc / (-qb + root))


def split_deviances(y: np.ndarray, size: float, factor, exposure: np.ndarray | None = None) -> np.ndarray:
    """Deviance of "one mean" against "a change before position k", for every k = 1..n-1 of `y`.

    The quasi-likelihood of `RatioLikelihood` at rho = 1 against its maximum,
    vectorised over the split points; each side's log-likelihood is divided by
    `factor(its length)` (a `LongRunFactors`, or `long_run_factor` of fitted c, phi).
    `exposure` (default one per observation) is what the mean is per: with the
    incidents of each week, y the deaths and `size` the size k of one incident's
    deaths, the mean is deaths per incident (y_w ~ NB(E_w s, E_w k)); a side
    without exposure says nothing (deviance 0).
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    k = np.arange(1, n, dtype=float)
    e0 = k if exposure is None else np.cumsum(exposure)[:-1]
    e1 = n - k if exposure is None else float(np.sum(exposure)) - e0
    s0 = np.cumsum(y)[:-1]
    s1 = y.sum() - s0
    f0, f1 = factor(k), factor(n - k)
    with np.errstate(invalid="ignore", divide="ignore"):
        best = _segment_loglik(s0, e0, s0 / e0, size) / f0 + _segment_loglik(s1, e1, s1 / e1, size) / f1
        m = np.nan_to_num(_constrained_before(s0, e0, f0, s1, e1, f1, size, 1.0))
    null = _segment_loglik(s0, e0, m, size) / f0 + _segment_loglik(s1, e1, m, size) / f1
    return np.nan_to_num(np.maximum(2.0 * (best - null), 0.0))


def split_roots(y: np.ndarray, size: float, factor, exposure: np.ndarray | None = None) -> np.ndarray:
    """Signed roots of `split_deviances` (positive where the mean after is the larger): the
    standardised contrasts Z_k, about N(mu_k, 1) with mu_k the true contrast of that split."""
    y = np.asarray(y, dtype=float)
    k = np.arange(1, y.size, dtype=float)
    e0 = k if exposure is None else np.cumsum(exposure)[:-1]
    e1 = y.size - k if exposure is None else float(np.sum(exposure)) - e0
    before = np.cumsum(y)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = np.nan_to_num((y.sum() - before) / e1 - before / e0)
    return np.sign(rise) * np.sqrt(split_deviances(y, size, factor, exposure))


@dataclass(frozen=True)
class RatioLikelihood:
    """Profile quasi-likelihood of the ratio rho = mean_after / mean_before of two count segments.

    Each segment's NB log-likelihood (common size `size`) is divided by its
    long-run variance factor (`factor0`, `factor1`), the quasi-likelihood of
    dependent counts. `deviance(log rho)` is 2 x (maximum - profile), about chi^2_1
    at the true rho; its signed root is the scan statistic.
    """

    total0: float
    n0: int
    factor0: float
    total1: float
    n1: int
    factor1: float
    size: float

    def _loglik(self, mean0: float, mean1: float) -> float:
        return float(
            _segment_loglik(self.total0, self.n0, mean0, self.size) / self.factor0
            + _segment_loglik(self.total1, self.n1, mean1, self.size) / self.factor1
        )

    def deviance(self, log_rho: float) -> float:
        rho = math.exp(log_rho)
        mean0 = float(
            _constrained_before(
                self.total0, self.n0, self.factor0, self.total1, self.n1, self.factor1, self.size, rho
            )
        )
        best = self._loglik(self.total0 / self.n0, self.total1 / self.n1)
        return max(2.0 * (best - self._loglik(mean0, rho * mean0)), 0.0)

    def signed_root(self, log_rho: float) -> float:
        """sqrt(deviance), positive below the estimate: it falls as rho rises, and at rho = 1
        it is the split's standardised contrast Z (`split_roots`)."""
        if self.total0 <= 0:
            below = True
        elif self.total1 <= 0:
            below = False
        else:
            below = log_rho < math.log(self.total1 / self.n1) - math.log(self.total0 / self.n0)
        return math.copysign(math.sqrt(self.deviance(log_rho)), 1.0 if below else -1.0)

    def ratio_at(self, root: float) -> float:
        """The rho whose `signed_root` is `root`: 0 (inf) when none is, because nothing
        happened after (before) the change."""
        if (root > 0 and self.total1 <= 0) or (root < 0 and self.total0 <= 0):
            return 0.0 if root > 0 else math.inf
        # start from a point near the estimate: the ratio of the totals, half an event added to an empty one
        inside = math.log((self.total1 + 0.5 * (self.total1 <= 0)) / self.n1) - math.log(
            (self.total0 + 0.5 * (self.total0 <= 0)) / self.n0
        )

        def gap(log_rho: float) -> float:
            return self.signed_root(log_rho) - root

        direction = 1.0 if gap(inside) > 0 else -1.0  # the root falls as rho rises
        step = 1.0
        while step <= 64.0:
            far = inside + direction * step
            if direction * gap(far) <= 0:
                return math.exp(optimize.brentq(gap, *sorted((inside, far)), xtol=1e-8))
            step *= 2.0
        return math.inf if direction > 0 else 0.0

    def interval(self, crit: float) -> tuple[float, float]:
        """{rho : deviance(log rho) <= crit^2}: 0 below when nothing after, inf above when nothing before."""
        return self.ratio_at(crit), self.ratio_at(-crit)


@dataclass(frozen=True)
class CountNoise:
    """Noise of a segmented count series: NB size and the ACF c * phi^k of the counts."""

    size: float
    c: float
    phi: float

    @classmethod
    def fit(cls, y: np.ndarray) -> CountNoise:
        """Sill and dependence from the semivariogram (`variogram_profile`); the size r
        by matching the NB variance to the sill, mean_t (m_t + m_t^2 / r) = sill, where
        mean_t m_t^2 = mean(y)^2 + (var(y) - sill), the spread of the levels.

        No segmentation is used: short segments cut around spikes or runs of
        zeros would otherwise count as levels and hide the very noise that made
        them.
        """
        sill, c, phi = variogram_profile(y)
        mean = float(y.mean())
        second = mean * mean + max(float(y.var()) - sill, 0.0)
        excess = sill - mean
        return cls(second / excess if excess > 0 and second > 0 else math.inf, c, phi)

    def long_run(self, n):
        """Long-run variance factor of a mean of n counts (`long_run_factor` of c, phi)."""
        return long_run_factor(n, self.c, self.phi)

    def dof(self, level: float, n: int) -> float:
        """Degrees of freedom of the variance of counts at mean `level`, from n observations.

        Only the extra-Poisson part m^2 / r is estimated; its moment estimate has
        relative variance (2 + kurtosis) / n_eff, with the NB excess kurtosis
        (1 + 6 m/r + 6 m^2/r^2) / (m (1 + m/r)) and n_eff = n / long-run factor.
        Rounded to an integer (<= MAX_DOF, beyond which inf) so critical values cache.
        """
        if math.isinf(self.size) or level <= 0:
            return math.inf
        q = level / self.size
        share = q / (1.0 + q)
        kurtosis = (1.0 + 6.0 * q + 6.0 * q * q) / (level * (1.0 + q))
        n_eff = n / long_run_factor(n, self.c, self.phi)
        dof = 2.0 * n_eff / (share * share * (2.0 + kurtosis))
        return math.inf if dof > MAX_DOF else float(max(round(dof), 2))

    def simulate(self, means: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
        """`draws` series with these means: NB around mean_t exp(x_t - s^2 / 2), x a latent
        Gaussian AR(1) whose share of the variance at the series mean is c."""
        level = float(means.mean())
        inv_size = 0.0 if math.isinf(self.size) else 1.0 / self.size
        lam = np.broadcast_to(means, (draws, means.size)).astype(float)
        if self.c > 0 and level > 0:
            s2 = math.log1p(self.c * (1.0 / level + inv_size))
            innov = rng.standard_normal((draws, means.size)) * math.sqrt(s2 * (1 - self.phi**2))
            innov[:, 0] = rng.standard_normal(draws) * math.sqrt(s2)
            latent = signal.lfilter([1.0], [1.0, -self.phi], innov, axis=1)
            lam = lam * np.exp(latent - s2 / 2)
            # the NB noise given the latent rate carries the rest of the extra-Poisson variance
            inv_size = max((1.0 + inv_size) / math.exp(s2) - 1.0, 0.0)
        if inv_size > 0:
            lam = lam * rng.gamma(1.0 / inv_size, inv_size, size=lam.shape)
        return rng.poisson(lam).astype(float)


@dataclass(frozen=True)
class LongRunFactors:
    """Long-run variance factors by segment length, corrected for the bias of their estimate,
    with the variance of their log (the estimate's own uncertainty).

    The semivariogram estimate of (c, phi) is noisy where counts are few and the
    dependence strong (its log factor has a standard deviation of about 0.5 at
    one incident a week and phi 0.8 over 10 years) and biased low there (the
    AR coefficient of a short series is). A parametric bootstrap measures both:
    `draws` series simulated from the fitted noise at the segmentation's means
    are refitted; the log factor is corrected by the bootstrap's mean shift
    (2 log f - mean log f*, kept >= 0, i.e. a factor of at least 1) and its
    variance goes into the studentised scan's degrees of freedom
    (`combined_dof`), as an estimated variance of that relative precision would.
    """

    factor: np.ndarray  # index = segment length 0..n
    log_var: np.ndarray

    def __call__(self, n):
        return self.factor[np.asarray(n, dtype=int)]

    @classmethod
    def calibrate(cls, noise: CountNoise, means: np.ndarray, draws: int, rng) -> LongRunFactors:
        lengths = np.arange(means.size + 1, dtype=float)
        fitted = np.log(noise.long_run(lengths))
        _, c, phi = variogram_profile(noise.simulate(means, draws, rng))
        boot = np.log(long_run_factor(lengths[None, :], c[:, None], phi[:, None]))
        corrected = np.maximum(2.0 * fitted - boot.mean(axis=0), 0.0)
        return cls(np.exp(corrected), boot.var(axis=0, ddof=1))

    def combined_dof(self, dof: float, n: int) -> float:
        """Degrees of freedom of the whole variance (dispersion with `dof`, factor of
        length n): Satterthwaite, Var(log variance) = 2 / dof + Var(log factor);
        rounded like `CountNoise.dof`."""
        spread = (0.0 if math.isinf(dof) else 2.0 / dof) + float(self.log_var[n])
        total = 2.0 / spread if spread > 0 else math.inf
        return math.inf if total > MAX_DOF else float(max(round(total), 2))


def selection_threshold(penalty: Penalty, bounds, k: int) -> float:
    """Deviance gain the detection needed to keep change k between segments `bounds`, in its
    own cost units.

    Splitting the merged segment adds one penalty and the length terms
    length_weight x (log n_before + log n_after - log n_both) (see
    detection.pelt). The global search is not exactly this local rule, so this
    is the selection event up to the other changes' positions.
    """
    (a, b), (c, d) = bounds[k], bounds[k + 1]
    return penalty.value + penalty.length_weight * (math.log(b - a) + math.log(d - c) - math.log(d - a))


def selection_set(
    roots: np.ndarray,
    k: int,
    length_weight: float,
    threshold: float,
    near_share: float = NEAR_SHARE,
    information: np.ndarray | None = None,
) -> np.ndarray:
    """The values of Z_k, rows (low, high) of disjoint intervals, for which the detection
    would still have put a change at split k of its window, the rest of the data held fixed.

    `roots` are the standardised contrasts Z_j of splits j = 1..n-1 (`split_roots`), Gaussian
    with the correlations of a CUSUM, rho_jk = sqrt(j (n - k) / (k (n - j))) for j <= k, so
    Z_j = rho_jk Z_k + W_j with W_j independent of Z_k (Hyun et al. 2018, Jewell et al. 2022).
    Holding W fixed, the detection kept split k when its penalised gain beat the other splits,
    Z_k^2 - lw L_k >= Z_j^2 - lw L_j with L_j = log j + log(n - j) (the search's length term,
    `length_weight` lw in Z^2 units), and beat no change, |Z_k| >= `threshold`. Each other
    split rules out the open interval between the roots of a quadratic in Z_k.

    Only splits with rho_jk^2 < `near_share` take part (near_share = 1: all of them, the
    exact location). Conditioning on which of several nearly identical splits won discards
    most of the information on the jump (W_j of a neighbour has variance 1 - rho^2, so it
    bounds Z_k near the observed value; Hyun et al.'s low power), while the target, the
    contrast of the segments, hardly differs between them. With near_share = 1/2 the intervals
    of the weak changes covered as well as exact conditioning (0.915 against 0.923 on the same
    142 changes of benchmarks/rate_ratios.py), those of x2 changes excluded 1 as often as
    without conditioning (117 against 122 of 600 series; exact: 85). The search is global,
    not this local rule, so a constraint the observed Z_k breaks is dropped.

    `information` (default: one unit per observation) is the cumulative information
    I_0..I_n on the jump at each split where observations weigh differently (weeks of
    many incidents tell more about deaths per incident); the correlations are then
    those of a CUSUM in information time, rho_jk^2 = I_j (I_n - I_k) / (I_k (I_n - I_j)),
    while the length terms stay in observations, as in the search.
    """
    n = roots.size + 1
    j = np.arange(1, n, dtype=float)
    z = float(roots[k - 1])
    near, far = np.minimum(j, k), np.maximum(j, k)
    if information is None:
        rho = np.sqrt(near * (n - far) / (far * (n - near)))
    else:
        info, total = np.asarray(information, dtype=float), float(information[-1])
        i_near, i_far = info[near.astype(int)], info[far.astype(int)]
        with np.errstate(invalid="ignore", divide="ignore"):
            rho_sq = i_near * (total - i_far) / (i_far * (total - i_near))
        rho = np.sqrt(np.clip(np.nan_to_num(rho_sq, nan=0.0, posinf=1.0), 0.0, 1.0))  # no information: 0
    w = roots - rho * z
    length = np.log(j) + np.log(n - j)
    # (1 - rho^2) Z^2 - 2 rho w Z - w^2 + lw (L_j - L_k) >= 0: Z outside the roots
    qa, qb, qc = 1.0 - rho * rho, -2.0 * rho * w, length_weight * (length - length[k - 1]) - w * w
    disc = qb * qb - 4.0 * qa * qc
    other = (j != k) & (disc > 0) & (qa > 0) & (rho * rho < near_share)
    q = -0.5 * (qb[other] + np.copysign(np.sqrt(disc[other]), qb[other]))  # roots without cancellation
    with np.errstate(divide="ignore"):
        ends = np.sort(np.stack([q / qa[other], qc[other] / q]), axis=0)
    ruled_out = np.vstack([np.array([[-threshold], [threshold]]).T, ends.T])
    ruled_out = ruled_out[~((ruled_out[:, 0] < z) & (z < ruled_out[:, 1]))]
    ruled_out = ruled_out[np.argsort(ruled_out[:, 0])]
    # union of the ruled-out intervals, then its complement
    reach = np.maximum.accumulate(ruled_out[:, 1])
    starts = np.r_[True, ruled_out[1:, 0] > reach[:-1]]
    lows, highs = ruled_out[starts, 0], np.maximum.reduceat(ruled_out[:, 1], np.flatnonzero(starts))
    allowed = np.column_stack([np.r_[-np.inf, highs], np.r_[lows, np.inf]])
    return allowed[allowed[:, 1] > allowed[:, 0]]


def _log_mass(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """log P(low < Z < high) for standard normal Z, accurate in both tails."""
    upper = low > 0  # both ends in the upper tail: use the survival function
    a, b = np.where(upper, -high, low), np.where(upper, -low, high)
    log_a, log_b = log_ndtr(a), log_ndtr(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return log_b + np.log1p(-np.exp(log_a - log_b))


def selective_bounds(z: float, allowed: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """(low, high, p_value): interval for mu from Z ~ N(mu, 1) observed at z, given Z in `allowed`.

    Inverts the conditional survival function P(Z > z | Z in allowed; mu), which rises in mu
    (the truncated-Gaussian pivot of selective inference); p_value is its two-sided test of
    mu = 0, so the interval excludes 0 exactly when p_value < alpha.
    """
    low, high = allowed[:, 0], allowed[:, 1]

    def upper_share(mu: float) -> float:
        total = _log_mass(low - mu, high - mu)
        above = _log_mass(np.maximum(low, z) - mu, np.maximum(high, z) - mu)
        top = total.max()  # scipy's logsumexp costs ten times as much for a handful of terms
        return float(np.exp(above - top).sum() / np.exp(total - top).sum())

    def root(level: float) -> float:
        def gap(mu: float) -> float:
            return upper_share(mu) - level

        lo, hi = z - 40.0, z + 40.0
        if gap(lo) >= 0 or gap(hi) <= 0:  # beyond the reach of the pivot's accuracy
            return lo if gap(lo) >= 0 else hi
        return optimize.brentq(gap, lo, hi, xtol=1e-8)

    share = upper_share(0.0)
    return root(alpha / 2), root(1 - alpha / 2), min(1.0, 2.0 * min(share, 1.0 - share))


@dataclass(frozen=True)
class GaussianRatio:
    """Likelihood of rho = exp(mu1 - mu0) for two Gaussian segment means with known variances
    (the log severity of "freqsev_log": rho is the ratio of the median deaths per incident).
    Read like `RatioLikelihood`: the deviance (log rho - (mu1 - mu0))^2 / (var0 + var1), its
    signed root positive below the estimate, `ratio_at` and `interval`."""

    mu0: float
    var0: float
    mu1: float
    var1: float

    def deviance(self, log_rho: float) -> float:
        return (log_rho - (self.mu1 - self.mu0)) ** 2 / (self.var0 + self.var1)

    def ratio_at(self, root: float) -> float:
        return math.exp(self.mu1 - self.mu0 - root * math.sqrt(self.var0 + self.var1))

    def interval(self, crit: float) -> tuple[float, float]:
        return self.ratio_at(crit), self.ratio_at(-crit)


@dataclass(frozen=True)
class CountPart:
    """One count quantity judged on its own segments (`bounds`, among the observed values):
    counts `y`, NB with size `size` per unit of `exposure` (None: per observation, a rate per
    week; the incidents of each week: deaths per incident), each segment's log-likelihood
    divided by `factors(its length)`; `dof(level, window length)` of the variance behind the
    scan; `error(start, end)` the detection's cost of a stretch of this part alone; `noise` the
    fitted per-week noise a bootstrap simulates from (None: the scan only)."""

    y: np.ndarray
    exposure: np.ndarray | None
    bounds: list[tuple[int, int]]
    size: float
    factors: Callable
    dof: Callable[[float, int], float] | None  # None: only the given-segmentation interval is asked for
    error: Callable[[int, int], float]
    noise: CountNoise | None = None

    def likelihood(self, k: int) -> RatioLikelihood | None:
        """Change k's ratio likelihood; None when a side has no exposure (nothing to compare)."""
        (a, b), (c, d) = self.bounds[k], self.bounds[k + 1]
        f0, f1 = self.factors(np.array([b - a, d - c]))
        if self.exposure is None:
            e0, e1 = b - a, d - c
        else:
            e0, e1 = float(self.exposure[a:b].sum()), float(self.exposure[c:d].sum())
        if e0 <= 0 or e1 <= 0:
            return None
        s0, s1 = float(self.y[a:b].sum()), float(self.y[c:d].sum())
        return RatioLikelihood(s0, e0, float(f0), s1, e1, float(f1), self.size)

    def levels(self, lik: RatioLikelihood) -> tuple[float, float]:
        return lik.total0 / lik.n0, lik.total1 / lik.n1

    def roots(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Split contrasts of observations lo:hi and their cumulative information (None: one each)."""
        exposure = None if self.exposure is None else self.exposure[lo:hi]
        info = None if exposure is None else np.r_[0.0, np.cumsum(exposure)]
        return split_roots(self.y[lo:hi], self.size, self.factors, exposure), info

    def scan_length(self, lo: int, hi: int) -> int:
        """Observations in lo:hi that carry information (with exposure: those with any)."""
        return hi - lo if self.exposure is None else int(np.count_nonzero(self.exposure[lo:hi]))

    def variance_dof(self, lik: RatioLikelihood, lo: int, hi: int) -> float:
        return self.dof((lik.total0 + lik.total1) / (lik.n0 + lik.n1), hi - lo)


@dataclass(frozen=True)
class GaussianPart:
    """The log severity judged on its own segments: per-week values `y` (NaN without incidents)
    with weights `w` = 1 / known variance (0 without incidents), one long-run factor, the
    degrees of freedom of the variance, the detection's cost of a stretch of this part."""

    y: np.ndarray
    w: np.ndarray
    bounds: list[tuple[int, int]]
    factor: float
    dof_value: float
    error: Callable[[int, int], float]
    noise = None  # no bootstrap: the scan only

    def _mean(self, a: int, b: int) -> tuple[float, float]:
        total = float(self.w[a:b].sum())
        return float(self.w[a:b] @ np.nan_to_num(self.y[a:b])) / total, self.factor / total

    def likelihood(self, k: int) -> GaussianRatio | None:
        (a, b), (c, d) = self.bounds[k], self.bounds[k + 1]
        if self.w[a:b].sum() <= 0 or self.w[c:d].sum() <= 0:
            return None
        return GaussianRatio(*self._mean(a, b), *self._mean(c, d))

    def levels(self, lik: GaussianRatio) -> tuple[float, float]:
        return math.exp(lik.mu0), math.exp(lik.mu1)

    def roots(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        w = self.w[lo:hi]
        info = np.r_[0.0, np.cumsum(w)]
        sums = np.r_[0.0, np.cumsum(w * np.nan_to_num(self.y[lo:hi]))]
        w0, w1 = info[1:-1], info[-1] - info[1:-1]
        s0, s1 = sums[1:-1], sums[-1] - sums[1:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (s1 / w1 - s0 / w0) / np.sqrt(self.factor * (1.0 / w0 + 1.0 / w1))
        return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), info  # a side without weight: no contrast

    def scan_length(self, lo: int, hi: int) -> int:
        return int(np.count_nonzero(self.w[lo:hi]))

    def variance_dof(self, lik, lo: int, hi: int) -> float:
        return self.dof_value


def _judged_row(part: CountPart | GaussianPart, k: int, alpha: float, penalty: Penalty, boot) -> dict:
    """Change k of a part: ratio, interval and p-value (see the module docstring); `boot` is
    None (the scan's critical value), (n_boot, seed) (a bootstrap of the scan, counts per
    week only) or "naive" (the given-segmentation interval)."""
    bounds = part.bounds
    lo, mid, hi = bounds[k][0], bounds[k][1], bounds[k + 1][1]
    row = {"ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    lik = part.likelihood(k)
    if lik is None:
        return row | {"before": math.nan, "after": math.nan}
    m0, m1 = part.levels(lik)
    row.update(before=m0, after=m1, ratio=m1 / m0 if m0 > 0 else (math.inf if m1 > 0 else math.nan))
    if m0 + m1 <= 0:
        return row
    if boot == "naive":
        low, high = lik.interval(float(st.norm.isf(alpha / 2)))
        return row | {"ci_low": low, "ci_high": high}
    observed = lik.deviance(0.0)
    if boot is not None:
        n_boot, seed = boot
        null_max = _bootstrap_scan(part.y, bounds, k, part.noise, n_boot, np.random.default_rng([seed, k]))
        # the order statistic that makes the test exact for a continuous statistic
        rank = min(int(math.ceil((n_boot + 1) * (1 - alpha))), n_boot)
        crit = math.sqrt(float(np.sort(null_max)[rank - 1]))
        p_value = (1 + int((null_max >= observed).sum())) / (n_boot + 1)
    else:
        dof, length = part.variance_dof(lik, lo, hi), part.scan_length(lo, hi)
        crit = scan_critical_value(length, alpha, dof=dof)
        p_value = scan_exceedance(math.sqrt(observed), length, dof=dof)
    low, high = lik.interval(crit)
    # the detection kept the change because its penalised gain beat the other splits of the
    # window (bar its near twins) and no change at all: condition on that (selective inference).
    # Detected weak changes are those whose noise inflated the contrast; this undoes it
    gain = part.error(lo, hi) - part.error(lo, mid) - part.error(mid, hi)
    roots, information = part.roots(lo, hi)
    z = float(roots[mid - lo - 1])
    if gain > 0 and z != 0:
        scale = gain / (z * z)  # detection cost units per unit of Z^2
        threshold = min(math.sqrt(selection_threshold(penalty, bounds, k) / scale), abs(z))
        allowed = selection_set(
            roots, mid - lo, penalty.length_weight / scale, threshold, information=information
        )
        mu_low, mu_high, selective_p = selective_bounds(z, allowed, alpha)
        low, high = min(low, lik.ratio_at(z - mu_low)), max(high, lik.ratio_at(z - mu_high))
        p_value = max(p_value, selective_p)
    return row | {"ci_low": low, "ci_high": high, "p_value": p_value}


def _weekly_count_part(cps: ChangePoints, y, bounds, error, n_boot: int, seed: int, key) -> CountPart:
    """Counts per week: NB size and latent-AR(1) dependence from the series' semivariogram
    (not from the segments), the factors' bias and spread calibrated by a parametric bootstrap
    (the raw factors for the bootstrap method, which re-estimates them in every replicate);
    computed once per result, method and seed."""
    key = (*key, "bootstrap" if n_boot else "scan", seed)
    if key not in cps.inference_cache:
        noise = CountNoise.fit(y)
        if n_boot:
            factors = LongRunFactors(noise.long_run(np.arange(y.size + 1)), np.zeros(y.size + 1))
        else:
            factors = LongRunFactors.calibrate(
                noise, segment_means(y, bounds), DEPENDENCE_DRAWS, np.random.default_rng(seed)
            )
        cps.inference_cache[key] = noise, factors
    noise, factors = cps.inference_cache[key]

    def dof(level: float, window: int) -> float:
        return factors.combined_dof(noise.dof(level, y.size), window)

    # with a season (detect_change_points' season="auto") the weeks' exposures are its factors, so
    # the levels compared are the de-seasonalised ones the segments report
    exposure = cps.cost_model.units if cps.season is not None else None
    return CountPart(y, exposure, bounds, noise.size, factors, dof, error, noise)


def _count_rows(cps: ChangePoints, alpha: float, n_boot: int, seed: int) -> list[dict]:
    """Counts: profile quasi-likelihood intervals; the critical value from the scan
    approximation (n_boot = 0) or from a parametric bootstrap of the scan; widened
    to the selective interval given that the detection kept the change."""
    if not len(cps.locations):  # nothing to calibrate for
        return []
    model = cps.cost_model
    part = _weekly_count_part(cps, model.values, cps.observed_bounds, model.error, n_boot, seed, ())
    boot = (n_boot, seed) if n_boot else None
    rows = [_judged_row(part, k, alpha, cps.penalty_used, boot) for k in range(cps.n_changes)]
    return [{"location": loc} | row for loc, row in zip(cps.locations, rows, strict=True)]


def constant_factors(value: float) -> Callable:
    """Long-run factors by segment length that are one value for every length."""
    return lambda lengths: np.full(np.shape(lengths), float(value))


def residual_dof(residuals: np.ndarray, factor: float) -> float:
    """Degrees of freedom of a variance estimated from standardised residuals (clipped at
    RESIDUAL_CLIP sds, as the detection's factor) with long-run factor `factor`:
    2 n_eff / (2 + excess kurtosis), n_eff = n / factor; rounded like `CountNoise.dof`."""
    r = np.clip(residuals[np.isfinite(residuals)], -RESIDUAL_CLIP, RESIDUAL_CLIP)
    if r.size < 2 or not np.any(r):
        return math.inf
    kurtosis = max(float(np.mean(r**4) / np.mean(r**2) ** 2) - 3.0, -2.0 + 1e-9)
    dof = 2.0 * r.size / max(factor, 1.0) / (2.0 + kurtosis)
    return math.inf if dof > MAX_DOF else float(max(round(dof), 2))


def _severity_part(cps: ChangePoints, j: int, bounds, naive: bool) -> CountPart | GaussianPart:
    """Deaths per incident (j = 1: compound NB, F_w | N_w ~ NB(N_w s, N_w k), the cost's
    common k) or log severity (j = 2: Gaussian mean, the cost's variances v(N_w)), each with the
    detection's own long-run factor of the part (1 for "naive") for every segment length and the
    degrees of freedom of that variance from the part's residuals about its segments."""
    model = cps.cost_model
    factor = 1.0 if naive else cps.dependence[j]
    active = model.incidents > 0
    dof = residual_dof(model.residuals(bounds)[active, j], factor)
    error = partial(model.part_error, j)
    if j == 1:
        size = model.sizes_fixed[1]
        return CountPart(
            model.deaths,
            model.incidents,
            bounds,
            size,
            constant_factors(factor),
            lambda level, window: dof,
            error,
        )
    return GaussianPart(model.log_values + model.log_centre, model.log_weights, bounds, factor, dof, error)


def _part_rows(cps: ChangePoints, alpha: float, method: str, n_boot: int, seed: int) -> list[dict]:
    """Several parts segmented apart ("freqsev", "freqsev_log"): each part's changes judged on
    that part's quantity, in the window between that part's own neighbouring changes, given
    that part's detection (see `rate_ratio_table`)."""
    from .detect import segment_bounds

    model = cps.cost_model
    positions = cps.observed_positions
    naive = method == "naive"
    rows = []
    for j, (name, locations) in enumerate(cps.part_locations.items()):
        if not locations:
            continue
        bounds = segment_bounds([int(c) for c in np.searchsorted(positions, locations)], positions.size)
        error = partial(model.part_error, j)
        if j > 0:
            part = _severity_part(cps, j, bounds, naive)
        elif naive:  # the cost's own size, independent weeks: as the segments' intervals
            size = model.sizes_fixed[0]
            part = CountPart(model.incidents, None, bounds, size, constant_factors(1.0), None, error)
        else:
            boot_n = n_boot if method == "bootstrap" else 0
            part = _weekly_count_part(cps, model.incidents, bounds, error, boot_n, seed, (name,))
        if naive:
            boot, used = "naive", method
        elif method == "bootstrap" and part.noise is not None:
            boot, used = (n_boot, seed), method
        else:
            boot, used = None, "scan"  # the bootstrap simulates counts per week: the others get the scan
        for k, loc in enumerate(locations):
            row = _judged_row(part, k, alpha, cps.penalty_used, boot)
            rows.append({"location": loc, "part": name, "method": used} | row)
    return sorted(rows, key=lambda row: row["location"])  # stable: parts in order at a shared week


def segment_means(y: np.ndarray, bounds) -> np.ndarray:
    """Each observation's segment mean."""
    return np.concatenate([np.full(b - a, y[a:b].mean()) for a, b in bounds])


def _bootstrap_scan(y, bounds, k: int, noise: CountNoise, n_boot: int, rng) -> np.ndarray:
    """Maximum split deviance in change k's window over series simulated without that change.

    The other segments keep their fitted means; the two around change k get
    their pooled mean. Each replicate re-estimates the noise (size and
    dependence) exactly as the data's, so their uncertainty is in the test.
    """
    lo, hi = bounds[k][0], bounds[k + 1][1]
    means = segment_means(y, bounds)
    means[lo:hi] = y[lo:hi].mean()
    draws = noise.simulate(means, n_boot, rng)
    out = np.empty(n_boot)
    for i, sim in enumerate(draws):
        fit = CountNoise.fit(sim)
        out[i] = split_deviances(sim[lo:hi], fit.size, fit.long_run).max()
    return out


def _gaussian_rows(cps: ChangePoints, alpha: float) -> list[dict]:
    """Gaussian levels: Wald on the log scale with the scan critical value and the
    dependence of the residuals about each segment's fit (trends removed)."""
    model = cps.cost_model
    bounds = cps.observed_bounds
    resid = np.concatenate([model.values[lo:hi] - model.fitted(lo, hi) for lo, hi in bounds])
    _, c, phi = variogram_profile(resid)
    factors = long_run_factor(np.array([hi - lo for lo, hi in bounds]), c, phi)
    rows = []
    for k, loc in enumerate(cps.locations):
        window = bounds[k + 1][1] - bounds[k][0]
        m0, _, _, se0 = model.estimate(*bounds[k], alpha=alpha)
        m1, _, _, se1 = model.estimate(*bounds[k + 1], alpha=alpha)
        ratio = m1 / m0 if m0 > 0 else math.nan
        low = high = p_value = math.nan
        se = math.sqrt(se0**2 * factors[k] + se1**2 * factors[k + 1])
        if m0 > 0 and m1 > 0 and se > 0:
            crit = scan_critical_value(window, alpha)
            centre = math.log(m1 / m0)
            low, high = math.exp(centre - crit * se), math.exp(centre + crit * se)
            p_value = scan_exceedance(abs(centre) / se, window)
        rows.append({"location": loc, "ratio": ratio, "ci_low": low, "ci_high": high, "p_value": p_value})
    return rows


def rate_ratio_table(
    cps: ChangePoints, alpha: float = 0.05, method: str = "scan", n_boot: int = 199, seed: int = 0
) -> pd.DataFrame:
    """The table behind `ChangePoints.rate_ratios` (see the module docstring for the methods)."""
    from .detect import is_count_series

    if method not in METHODS:
        raise ChangePointError(f"unknown rate-ratio method {method!r}; choose one of {list(METHODS)}")
    if not 0.0 < alpha < 1.0:
        raise ChangePointError(f"alpha must be between 0 and 1, not {alpha!r}")
    model, bounds = cps.cost_model, cps.observed_bounds
    counts = model.name not in GAUSSIAN_COSTS and is_count_series(model.values)
    if method == "bootstrap" and counts and int(n_boot) < math.ceil(1 / alpha):
        raise ChangePointError(f"n_boot must be at least {math.ceil(1 / alpha)} for alpha {alpha}")
    if cps.part_locations:
        rows = _part_rows(cps, alpha, method, int(n_boot), seed)
        for row in rows:
            row["label"] = cps.labels[row["location"]]
        return pd.DataFrame(rows, columns=PART_COLUMNS)
    if method == "naive":
        rows = _naive_rows(cps, alpha)
    elif counts:
        rows = _count_rows(cps, alpha, int(n_boot) if method == "bootstrap" else 0, seed)
    elif method == "bootstrap":
        raise ChangePointError(f"method 'bootstrap' needs a count series (cost {model.name!r} is Gaussian)")
    else:
        rows = _gaussian_rows(cps, alpha)
    for k, row in enumerate(rows):
        row["label"] = cps.labels[row["location"]]
        row["before"] = model.estimate(*bounds[k], alpha=alpha)[0]
        row["after"] = model.estimate(*bounds[k + 1], alpha=alpha)[0]
        row["method"] = method
    return pd.DataFrame(rows, columns=COLUMNS)
