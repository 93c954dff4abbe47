"""A seasonal cycle shared by all segments of a count series (detect_change_points' season="auto").

Weekly conflict and disease counts rise and fall every year (a fighting season,
an epidemic season). A segmentation that knows nothing of it puts a change at
every seasonal rise and fall, and the iteration of the long-run variance factor
(penalties.count_dependence) cannot stop it: segments that follow the cycle
leave residuals that look independent. So the count costs can carry a
multiplicative seasonal factor s_w, one curve for the whole series with mean 1
over a cycle, as the exposure of each week: y_w ~ NB(s_w m, s_w r) in segment
m (costs.negbin), so a segment still costs O(1) from cumulative sums, m-hat =
sum y / sum s stays closed-form and PELT's pruning stays exact.

log s_w is a Fourier series: a pair (cos, sin) at the period P, and possibly a
second pair (`MAX_PAIRS`) at half the period (dates) or at a second periodogram
peak (see `fit_season`), fitted by maximum likelihood given the segments (each
segment's mean profiled out, the common NB size re-estimated with it), and kept
only when the likelihood-ratio statistic, divided by the long-run variance factor
of the Pearson residuals under the seasonal model (`count_dependence`:
dispersion and serial dependence), exceeds the chi^2(2) 99% point
(`SEASON_LEVEL` = 1%), for the first pair against none and for the second
against the first. Tested only given segments it shaped, a season that mimics
a step would take the step's place; so the seasonal model is then set against
the seasonless one by the penalised cost PELT minimises (`penalised_cost`), the
season charged its test's threshold (`season_penalty`), and kept only if it
costs less (detect.seasonal_counts). The period P is:
- from the labels when they are dates (a Series' DatetimeIndex, a panel
  slice's weeks): the year in the labels' median spacing (weekly: 52.18,
  monthly: 12, quarterly: 4, daily: 365.25);
- otherwise (a plain array, or labels that are not dates) the peak of the
  periodogram of the square-root counts, among periods of at least
  MIN_CYCLES = 3 cycles in the series, if Fisher's g test rejects white noise
  at 1% (p-value by the union bound m (1 - g)^(m - 1), m Fourier frequencies,
  accurate in the tail); the peak's frequency is refined between the Fourier
  frequencies. The first period must also stand out of the spectrum around it, at
  the same level (union bound over the m frequencies): a season is a line, while a
  wandering rate (serial dependence) raises the low frequencies smoothly, and
  against white noise its largest ordinate passes the g test in 92-98% of latent
  AR(1) count series without any season (1-7% with both tests). The background is
  the mean of the lower BACKGROUND_SHARE of the ordinates 2..BACKGROUND_BAND + 1
  Fourier frequencies away on either side (the adjacent ones take a non-integer
  period's leakage; the largest ones left out are the other lines of a season that
  is not a sinusoid), scaled to the mean of an exponential; the ratio is taken as
  F(2, 2 x ordinates kept). The series, not the residuals about the seasonless segments, is
  searched: those segments have absorbed the cycle's fundamental and leave its
  harmonics. A change's step also puts power at low frequencies, so a peak
  there is only a candidate: the test given the segments decides.
A series with fewer than MIN_CYCLES cycles of a searched period, or fewer than
KNOWN_CYCLES = 2 of a known one (dates, or given), gets no season: with the period
known, two cycles already show a rise and fall that repeats, which no change does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as st
from scipy.special import gammaln, psi

from .costs.negbin import SIZE_GRID, common_part_size, part_stats, pearson
from .penalties import count_dependence

#: significance level of the periodogram test and of each Fourier pair's test
SEASON_LEVEL = 0.01
#: at most this many Fourier pairs (the period and a second one, see fit_season)
MAX_PAIRS = 2
#: a season needs at least this many cycles in the series
MIN_CYCLES = 3
#: ... and this many of a period known from the dates or given
KNOWN_CYCLES = 2
#: undated series: a candidate period's spectral background is taken over this many Fourier
#: frequencies on each side, beyond the adjacent ones ...
BACKGROUND_BAND = 14
#: ... from the lower share of those ordinates
BACKGROUND_SHARE = 0.85
#: at most this many re-segmentations with a re-estimated season
SEASON_ROUNDS = 3
DAYS_PER_YEAR = 365.25
#: bound of each Fourier coefficient of log s (a pair's peak / trough at most e^(2 sqrt 2 x 3), ~5,000):
#: counts seen in some phases only (sparse series) would otherwise drive the ML amplitude to infinity
MAX_COEFFICIENT = 3.0
#: a season's long-run mean (its normalisation to 1) and range: over this many cycles of its
#: longest period, at this many points
LONG_RUN_CYCLES = 20
LONG_RUN_POINTS = 4000


@dataclass(frozen=True)
class Season:
    """A multiplicative seasonal factor exp(sum_h a_h cos(2 pi t / P_h) + b_h sin(2 pi t / P_h)),
    scaled to mean 1 in the long run; t = position in the input, P_h = `periods`."""

    #: the period of each pair of the Fourier curve (the first is the season's period)
    periods: tuple[float, ...]
    #: (a_1, b_1[, a_2, b_2])
    coefficients: tuple[float, ...]
    #: where the period came from: "index" (dates), "periodogram" or "given"
    source: str
    #: the likelihood-ratio statistic of the season (all its pairs against none), each pair's
    #: divided by the long-run variance factor, and its p-value (chi^2 with 2 df per pair)
    statistic: float = math.nan
    p_value: float = math.nan

    @property
    def period(self) -> float:
        return self.periods[0]

    def _log_curve(self, t) -> np.ndarray:
        return design(np.asarray(t, dtype=float), self.periods) @ np.asarray(self.coefficients)

    def _span(self) -> np.ndarray:
        """Positions over which the long-run mean and range are taken (many cycles of every pair)."""
        return np.linspace(0.0, LONG_RUN_CYCLES * max(self.periods), LONG_RUN_POINTS)

    def factors(self, t) -> np.ndarray:
        """s_t at positions t: exp of the Fourier curve divided by its long-run mean."""
        scale = np.mean(np.exp(self._log_curve(self._span())))
        return np.exp(self._log_curve(t)) / scale

    @property
    def amplitude(self) -> float:
        """Peak / trough of the seasonal factor (1 = no season)."""
        curve = self._log_curve(self._span())
        return float(np.exp(curve.max() - curve.min()))

    def describe(self) -> str:
        periods = ", ".join(f"{p:.4g}" for p in self.periods)
        return (
            f"period(s) {periods} ({self.source}), peak / trough {self.amplitude:.3g}, "
            f"test {self.statistic:.3g} (p = {self.p_value:.2g})"
        )


def design(t: np.ndarray, periods) -> np.ndarray:
    """Columns cos(2 pi t / P), sin(2 pi t / P) for each period P."""
    angle = 2 * np.pi * np.outer(t, 1.0 / np.asarray(periods, dtype=float))
    return np.column_stack([f(angle[:, h]) for h in range(len(periods)) for f in (np.cos, np.sin)])


def period_from_labels(labels) -> float | None:
    """The year in units of the labels' median spacing, if the labels are dates spaced 1 to 92
    days apart (daily to quarterly); else None."""
    if not isinstance(labels, pd.DatetimeIndex):
        return None
    seconds = labels.values.astype("datetime64[s]")
    days = np.diff(seconds[~np.isnat(seconds)].astype(np.int64)) / 86_400.0
    days = days[days > 0]
    if days.size == 0:
        return None
    spacing = float(np.median(days))
    if not 1.0 <= spacing <= 92.0:
        return None
    months = round(spacing / (DAYS_PER_YEAR / 12))
    if months >= 1 and abs(spacing - months * DAYS_PER_YEAR / 12) <= 3.0:  # calendar months vary in length
        return 12.0 / months
    return DAYS_PER_YEAR / spacing


def periodogram_period(
    counts: np.ndarray, times: np.ndarray, length: int, besides: float | None = None
) -> float | None:
    """The period of the peak of the periodogram of sqrt(counts) among periods with >= MIN_CYCLES
    cycles, if Fisher's g test rejects white noise at SEASON_LEVEL; else None. `counts` are at
    positions `times` of a series of `length` (missing positions count as the mean). `besides`:
    a period already fitted, whose frequency (+-1.5 Fourier frequencies) is left out."""
    full = np.zeros(length)
    root = np.sqrt(counts)  # variance-stabilising for Poisson-type counts
    full[times.astype(int)] = root - root.mean()
    power = np.abs(np.fft.rfft(full)) ** 2
    k = np.arange(power.size)
    allowed = (k >= MIN_CYCLES) & (2 * k < length)  # no Nyquist term: it has one degree of freedom
    if besides is not None:
        allowed &= np.abs(k - length / besides) > 1.5
    m = int(allowed.sum())
    if m < 2 or power[allowed].sum() <= 0:
        return None
    g = float(power[allowed].max() / power[allowed].sum())
    if m * (1.0 - g) ** (m - 1) >= SEASON_LEVEL:
        return None
    peak = int(k[allowed][np.argmax(power[allowed])])
    if besides is None and m * _line_p_value(power, peak, length) >= SEASON_LEVEL:
        return None
    # refine between Fourier frequencies: a 52.18-week year falls between them
    fine = peak + np.linspace(-0.5, 0.5, 41)
    t = np.arange(length)
    fine_power = np.abs(np.exp(-2j * np.pi * np.outer(fine, t) / length) @ full) ** 2
    return length / float(fine[int(np.argmax(fine_power))])


def _line_p_value(power: np.ndarray, peak: int, length: int) -> float:
    """P-value of periodogram ordinate `peak` against its spectral neighbourhood (module docstring)."""
    k = np.arange(power.size)
    distance = np.abs(k - peak)
    around = np.sort(power[(distance >= 2) & (distance <= BACKGROUND_BAND + 1) & (k >= 1) & (2 * k < length)])
    kept = int(BACKGROUND_SHARE * around.size)
    if kept < 2:
        return 1.0
    share = kept / around.size
    # mean of the lower `share` of exponential ordinates, over their mean
    scale = (1.0 - (1.0 - share) * (1.0 - math.log(1.0 - share))) / share
    background = around[:kept].mean() / scale
    return float(st.f.sf(power[peak] / background, 2, 2 * kept)) if background > 0 else 1.0


def segment_index(bounds, n: int) -> np.ndarray:
    """Each position's segment number (0, 1, ...) for segments `bounds` covering 0..n."""
    index = np.empty(n, dtype=int)
    for j, (a, b) in enumerate(bounds):
        index[a:b] = j
    return index


def loglik(y, units, segment, size) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood (up to a constant) of y_w ~ NB(u_w m_j, u_w r), each segment's m_j
    profiled out (sum y / sum u), with its derivative in each u_w (m_j held at its optimum:
    the envelope theorem) and the means m_j per week."""
    s = np.bincount(segment, y)
    u = np.bincount(segment, units)
    m = np.where(s > 0, s / u, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_m = np.where(s > 0, np.log(m), 0.0)
    if math.isinf(size):
        value = float(y @ np.log(units) + s @ log_m - s.sum())
        return value, y / units - m[segment], m[segment]
    r = size
    value = float(
        np.sum(gammaln(y + units * r) - gammaln(units * r))
        + np.sum(u * r * math.log(r) - (u * r + s) * np.log(r + m) + s * log_m)
    )
    grad = r * (psi(y + units * r) - psi(units * r) + np.log(r / (r + m))[segment])
    return value, grad, m[segment]


def fit_pairs(y, t, segment, size, periods, start) -> tuple[np.ndarray, float]:
    """ML coefficients of log s (a Fourier pair per period) given the segments and the size, each
    within +-MAX_COEFFICIENT."""
    x = design(t, periods)

    def objective(beta):
        units = np.exp(x @ beta)
        value, grad, _ = loglik(y, units, segment, size)
        return -value, -(x.T @ (grad * units))

    bounds = [(-MAX_COEFFICIENT, MAX_COEFFICIENT)] * x.shape[1]
    # TNC: bounded like L-BFGS-B at a tenth of its fixed overhead on these 2-4 parameters
    start = np.clip(start, -MAX_COEFFICIENT, MAX_COEFFICIENT)
    result = optimize.minimize(objective, start, jac=True, method="TNC", bounds=bounds)
    return result.x, -float(result.fun)


def common_size(y, units, bounds, fixed: float | None) -> float:
    """The NB size common to all segments given the season (as costs.negbin's with_common_size),
    or `fixed` when the cost's size is fixed."""
    if fixed is not None:
        return fixed
    return common_part_size(part_stats(y, units, SIZE_GRID), 0, SIZE_GRID, True, bounds)


def season_penalty(season: Season | None) -> float:
    """A season's penalty in the units of the costs (-2 log-likelihood over the long-run factor):
    its test's threshold, the chi^2(2) (1 - SEASON_LEVEL) point per Fourier pair; 0 for none. A
    season whose likelihood gain given some segments exceeds it passes its test given them."""
    return 0.0 if season is None else len(season.periods) * float(st.chi2.ppf(1 - SEASON_LEVEL, 2))


def penalised_cost(y, units, segment, size: float | None, factor: float, change: float, length_weight: float):
    """The objective PELT minimises for counts y with exposures `units` cut into the segments
    numbered by `segment` (non-decreasing): -2 x log-likelihood (each segment's mean and the
    common NB size at their ML values, or the size `size` when the cost fixes it) / `factor`,
    plus `change` + `length_weight` x log(length) per segment."""
    starts = np.flatnonzero(np.r_[True, np.diff(segment) != 0])
    ends = np.r_[starts[1:], segment.size]
    index = np.repeat(np.arange(starts.size), ends - starts)
    r = common_size(y, units, list(zip(starts, ends, strict=True)), size)
    value = loglik(y, units, index, r)[0]
    return -2.0 * value / factor + float(np.sum(change + length_weight * np.log(ends - starts)))


def fit_season(
    y, t, bounds, size: float | None, period: float, source: str, length: int, dependence: bool = True
) -> Season | None:
    """The season of period `period` given the segments `bounds` of counts y at positions t (of a
    series of `length`), one Fourier pair at a time while each passes its test at SEASON_LEVEL;
    None if the first fails. The second pair's period: half the year when the period came from
    dates; otherwise the peak of the periodogram of the counts divided by the first pair's factor
    (a second cycle, such as measles' biennial one), if Fisher's g finds one, else half the period.
    `size`: the cost's fixed NB size, or None to estimate the common size with and without the
    season. `dependence` False: the plain likelihood ratio (independent weeks, dispersion as the
    NB size has it), the screen of a first estimate given seasonless segments, whose long-run
    factor is inflated by the season they absorbed and by the changes they missed."""
    n = y.size
    cycles = MIN_CYCLES if source == "periodogram" else KNOWN_CYCLES
    if (t[-1] - t[0] + 1) < cycles * period or y.sum() <= 0:
        return None
    segment = segment_index(bounds, n)
    units = np.ones(n)
    r = common_size(y, units, bounds, size)
    base = loglik(y, units, segment, r)[0]
    accepted, beta, total, periods = None, np.zeros(0), 0.0, []
    for pair in range(MAX_PAIRS):
        if pair == 0:
            periods.append(period)
        else:
            other = periodogram_period(y / units, t, length, period) if source == "periodogram" else None
            periods.append(period / 2 if other is None else other)
        beta_h, _ = fit_pairs(y, t, segment, r, periods, np.r_[beta, 0.0, 0.0])
        units_h = np.exp(design(t, periods) @ beta_h)
        r_h = common_size(y, units_h, bounds, size)
        beta_h, value = fit_pairs(y, t, segment, r_h, periods, beta_h)
        units_h = np.exp(design(t, periods) @ beta_h)
        m = loglik(y, units_h, segment, r_h)[2]
        factor = float(count_dependence(pearson(y, units_h, m, r_h))[0]) if dependence else 1.0
        gain = 2.0 * (value - base) / factor
        if gain <= st.chi2.ppf(1 - SEASON_LEVEL, 2):
            break
        base, beta, r, units, total = value, beta_h, r_h, units_h, total + gain
        accepted = Season(
            periods=tuple(float(p) for p in periods),
            coefficients=tuple(float(b) for b in beta),
            source=source,
            statistic=total,
            p_value=float(st.chi2.sf(total, 2 * len(periods))),
        )
    return accepted
