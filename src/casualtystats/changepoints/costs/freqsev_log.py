"""Frequency, mean severity and log-scale severity: costs.freqsev plus the log of deaths per incident.

The parts of costs.freqsev (N_w ~ NB(m, r): how often; F_w | N_w ~ NB(N_w s,
N_w k): mean deaths per incident) plus a third: severity on the log scale.
Deaths per incident are heavy-tailed (UCDP: about lognormal(1.3, 1.2)); their
mean is dominated by the few largest incidents, while the log-mean uses every
incident equally: for lognormal deaths with log-sd s the sample mean carries
s^2 / (e^{s^2} - 1) of the log-mean's information (1.44 / 3.22 = 0.45 at
s = 1.2). Per week with N_w >= 1 incidents and F_w deaths,

    y_w = log((F_w + 1/2) / N_w) + (v(N_w) - s^2) / 2  ~  Normal(mu, v(N_w))
    v(N) = log(1 + (e^{s^2} - 1) / N)

with mu the log-mean deaths per incident of the segment (doubling every
incident's deaths adds log 2). v and the mean correction are the
Fenton-Wilkinson approximation: the mean of N lognormal(mu, s^2) incidents is
about lognormal with log-variance v(N) and log-mean mu + (s^2 - v(N)) / 2, so
weeks with few and many incidents estimate the same mu and a change in
frequency alone does not move it. Deaths are recorded as whole numbers: a week
with F = 0 says "fewer than one", and F + 1/2 puts it mid-way (log F moves by
at most 1 / (2 F)). Weeks without incidents say nothing about severity.

s^2 is one constant for the series, estimated robustly (`log_severity_variance`:
a trimmed mean over the differences of neighbouring weeks, which ignores the
few that straddle a change or hold an aggregated report), never taken as
known. Given s^2 the part is a weighted normal-mean cost, w_w = 1 / v(N_w),
O(1) from cumulative sums of (w, w y, w y^2); splitting a segment never raises
it, so PELT's pruning is exact. Any dependence between weeks shows in the
residuals sqrt(w) (y - mu), whose long-run factor detect_change_points' "auto"
penalty divides the part by. An aggregated report of 3,000 deaths is a bounded
excursion on this scale (6 to 7 sds), so the part needs no excursion step.

Why both severity parts (cost "auto" for a panel slice): with s^2 common to all
segments the lognormal's mean exp(mu + s^2 / 2) and its log-mean are one
severity parameter, read two ways. The log part finds a rise in every
incident's deaths that the mean misses (benchmarks/changepoint_sim.py); the
mean part finds a rise carried by a few very large incidents (massacres) that
the log-mean barely shows. Each part is segmented on its own and charged the
penalty of a two-parameter (rate, severity) change (see detect_change_points).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import optimize
from scipy import stats as st

from .base import cumulative
from .freqsev import FrequencySeverity, freqsev_segment_cost
from .negbin import PART_HEADER, PART_ROWS

#: added to a week's deaths before the log: half the recording unit (deaths are whole numbers)
ZERO_DEATHS = 0.5
#: bounds of the log-variance s^2 of deaths per incident; the lower one only binds on
#: degenerate input (identical weeks), where it keeps the weights finite
LOG_VARIANCE_BOUNDS = (1e-2, 25.0)
#: share of the largest standardised differences left out of the estimate of s^2
TRIM = 0.1
#: E[Z^2 | Z^2 <= its (1 - TRIM) quantile], Z standard normal: the trimmed mean of d^2 / var(d)
#: for Gaussian differences d
_C = float(st.norm.ppf(1 - TRIM / 2))
TRIMMED_CHI2_1_MEAN = (1 - TRIM - 2 * _C * float(st.norm.pdf(_C))) / (1 - TRIM)


@nb.njit(cache=True)
def freqsev_log_segment_cost(stats, params, start, end):
    n_grid = int(params[1])
    sev_col = PART_HEADER + 2 * n_grid
    n_sev = int(params[sev_col + 1])
    row = 2 * PART_ROWS + n_grid + n_sev
    w = stats[row, end] - stats[row, start]
    log_sev = 0.0
    if w > 0.0:
        wy = stats[row + 1, end] - stats[row + 1, start]
        log_sev = stats[row + 2, end] - stats[row + 2, start] - wy * wy / w
    weight = params[sev_col + PART_HEADER + 2 * n_sev]
    return freqsev_segment_cost(stats, params, start, end) + weight * log_sev


def week_log_variance(incidents: np.ndarray, s2: float) -> np.ndarray:
    """v(N) = log(1 + (e^{s^2} - 1) / N): variance of the log of the mean of N lognormal(., s^2)
    values (Fenton-Wilkinson); NaN where N = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(incidents > 0, np.log1p(np.expm1(s2) / incidents), np.nan)


def log_severity(incidents: np.ndarray, deaths: np.ndarray, s2: float) -> tuple[np.ndarray, np.ndarray]:
    """(y, v): each week's log deaths per incident, corrected to estimate the log-mean mu of
    one incident, and its variance; NaN where there are no incidents."""
    v = week_log_variance(incidents, s2)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log((deaths + ZERO_DEATHS) / incidents) + (v - s2) / 2.0
    return np.where(incidents > 0, y, np.nan), v


def log_severity_variance(incidents: np.ndarray, deaths: np.ndarray) -> float:
    """Robust estimate of s^2, the log-variance of deaths per incident.

    Neighbouring weeks with incidents (skipping weeks without) give differences
    d = y_a - y_b with variance v(N_a) + v(N_b); s^2 is the root of
    trimmed mean(d^2 / (v(N_a) + v(N_b))) = its value for Gaussian d, the
    largest TRIM (10%) left out. A change or an aggregated report touches one
    or two differences, which the trimming ignores; unlike the median (37%
    efficient), the trimmed mean keeps most of the information.
    Fewer than 3 weeks with incidents: their sample variance (1 with fewer than 2).
    """
    active = np.flatnonzero(incidents > 0)
    lo, hi = LOG_VARIANCE_BOUNDS
    if active.size < 3:
        y0 = np.log((deaths[active] + ZERO_DEATHS) / incidents[active])
        return float(np.clip(np.var(y0, ddof=1), lo, hi)) if active.size == 2 else 1.0
    n_inc, dead = incidents[active], deaths[active]

    def excess(log_s2: float) -> float:
        y, v = log_severity(n_inc, dead, math.exp(log_s2))
        ratio = np.diff(y) ** 2 / (v[1:] + v[:-1])
        return float(np.mean(ratio[ratio <= np.quantile(ratio, 1 - TRIM)])) - TRIMMED_CHI2_1_MEAN

    if excess(math.log(lo)) <= 0:
        return lo
    if excess(math.log(hi)) >= 0:
        return hi
    return math.exp(optimize.brentq(excess, math.log(lo), math.log(hi), xtol=1e-6))


class FrequencyLogSeverity(FrequencySeverity):
    """costs.freqsev (incidents NB per segment; deaths given incidents, compound NB)
    plus a third part: the log of deaths per incident, a Gaussian mean per segment
    with per-week variance v(N_w) from one robustly estimated log-variance s^2 (see
    the module docstring). The mean deaths per incident (NB part) follows the
    largest incidents, the log-mean (log part) the typical one. Values: an (n, 2)
    array of [incidents, deaths] per week, non-negative integers, no deaths without
    an incident. Parameters per segment as costs.freqsev: four (m, r, s, k) or two
    with the sizes common to all segments (`sizes`): with s^2 common too, the
    lognormal's mean exp(mu + s^2 / 2) and its log-mean mu are one severity
    parameter, which the NB part tests through the largest incidents and the log
    part through the typical one. Segment `estimate` is deaths per week; `detail`
    adds the median deaths per incident, exp(mu), with its interval."""

    name = "freqsev_log"
    segment_cost = freqsev_log_segment_cost
    kind = 8  # costs.kernel.FREQSEV_LOG
    #: the log severity's dispersion s^2 is estimated robustly (trimmed differences): detect neither
    #: screens this part for excursions nor scales its factor by the residuals' variance
    robust_dispersion = (False, False, True)
    part_names = ("incident_rate", "deaths_per_incident", "median_deaths_per_incident")

    @property
    def parts(self) -> int:
        return 3

    def fit(self, values, times=None) -> FrequencyLogSeverity:
        super().fit(values, times)
        self.log_variance = log_severity_variance(self.incidents, self.deaths)
        y, v = log_severity(self.incidents, self.deaths, self.log_variance)
        active = self.incidents > 0
        w = np.where(active, 1.0 / np.where(active, v, 1.0), 0.0)
        y = np.where(active, y, 0.0)
        # centred on the weighted mean: the cumulative sums of w y^2 then lose no precision
        self.log_centre = float(w @ y) / w.sum() if w.sum() > 0 else 0.0
        y = np.where(active, y - self.log_centre, 0.0)
        self.log_values, self.log_weights = np.where(active, y, np.nan), w
        self.stats = np.vstack([self.stats, cumulative(w, w * y, w * y * y)])
        self.params = np.r_[self.params, 1.0]
        return self

    def _weight_columns(self) -> tuple[int, ...]:
        return (*super()._weight_columns(), self.params.size - 1)  # the log part's weight is the last

    def log_severity_mean(self, start: int, end: int) -> tuple[float, float]:
        """(mu, its variance 1 / sum w) of y[start:end]; NaN without incidents."""
        w = self.log_weights[start:end]
        total = float(w.sum())
        if total <= 0:
            return math.nan, math.nan
        return self.log_centre + float(w @ np.nan_to_num(self.log_values[start:end])) / total, 1.0 / total

    def residuals(self, bounds) -> np.ndarray:
        """Pearson residuals of incidents, of deaths given incidents and of log severity
        (sqrt(w) (y - mu)), shape (n, 3)."""
        log_part = []
        for a, b in bounds:
            mu = self.log_severity_mean(a, b)[0] - self.log_centre
            log_part.append(np.sqrt(self.log_weights[a:b]) * (self.log_values[a:b] - mu))
        return np.c_[super().residuals(bounds), np.concatenate(log_part)]

    def detail(self, start: int, end: int, alpha: float = 0.05) -> dict[str, float]:
        """costs.freqsev's detail plus the median deaths per incident exp(mu) with a Wald
        (1 - alpha) CI on the log scale, given s^2 and the segment's dates and, like the other
        parts' intervals, for independent weeks (intervals honest after detection, for each part's
        quantity: `ChangePoints.rate_ratios`)."""
        mu, var = self.log_severity_mean(start, end)
        half = st.norm.ppf(1 - alpha / 2) * math.sqrt(var) if math.isfinite(var) else math.nan
        return super().detail(start, end, alpha) | {
            "median_deaths_per_incident": math.exp(mu),
            "median_ci_low": math.exp(mu - half),
            "median_ci_high": math.exp(mu + half),
        }

    def __repr__(self) -> str:
        return f"FrequencyLogSeverity(sizes={self.sizes_fixed})"
