"""Probabilistic forecasts of weekly incident and casualty counts.

`forecast(series_or_panel, horizon=13)` returns a `Forecast`: for each future
week and for the calendar months the forecast touches, the predictive mean and
quantiles of every measure, from simulated sample paths of a count model.

The model, per series (all parameters estimated from the series itself, only
from weeks up to its end):

- **Incidents**: a negative binomial INGARCH(1,1) model (Ferland et al. 2006,
  Zhu 2011; R's ``tscount``), ``N_t ~ NB(mean lambda_t, size s)`` with
  ``lambda_t = (1 - alpha - beta) m_{t-1} + alpha N_{t-1} + beta lambda_{t-1}``:
  the expected count follows the latest weeks (``alpha``), persists
  (``beta``) and returns to the level ``m`` at rate ``alpha + beta`` (< 0.995)
  per week, so short horizons follow the recent weeks and long ones fall back
  on the level. ``m_t`` is a discounted mean of the past weeks (weights
  ``d^j``): conflict series change regime, so the level they return to is
  the recent years' rather than all history's; the half-life of ``d``
  (13 weeks .. effectively none) is estimated with the rest. ``s`` is the
  extra-Poisson dispersion (Var = mu + mu^2 / s). All four are maximum
  likelihood estimates (analytic gradient, BFGS on unconstrained scales),
  with a weak N(0, 3^2) prior on the logits of ``alpha + beta`` and
  ``alpha / (alpha + beta)`` that keeps them finite where the data say
  nothing (a series of a few events). Estimation uncertainty enters the
  forecast: every sample path draws its own ``alpha``, ``beta`` (normal
  approximation of the posterior) and starting level (a Gamma with the
  sampling variance of a discounted mean of dependent weeks); ``s`` and ``d``
  stay at their estimates. Along a path the level keeps updating with the
  simulated weeks. A series with no event at all gets the Jeffreys
  Gamma(1/2, n) posterior of its rate, so its forecast is not a certain zero.
- **Fatalities and other casualty measures** (with the panel's ``incidents``):
  a compound model, the sum of the week's incidents' deaths, exactly 0 in a
  week without incidents (the zero-inflation of casualty counts comes from
  there). Deaths per incident are heavy-tailed (UCDP: about lognormal(1.3,
  1.2)), and a sum over incidents lets one massacre set the mean of every
  future incident; so severity is modelled on the log scale, in two parts:

  * *ordinary incidents*: lognormal(mu, s^2). A week of N incidents and F
    deaths gives y = log((F + 1/2) / N), whose mean and variance are mu and
    v(N) = log(1 + (e^{s^2} - 1) / N) after the Fenton-Wilkinson correction
    (`changepoints.costs.freqsev_log`, which also supplies the robust,
    trimmed estimate of s^2). mu drifts: it is a discounted weighted mean of
    the weeks' y, each week standardised against the weeks before it and
    clipped at +-3 predictive sds (a Huber-type filter), so one week moves it
    by a bounded amount however many deaths it holds. The discount's
    half-life (4 weeks .. none) minimises the Huber predictive loss. Every
    sample path draws its own mu (normal, the filter's variance); a week's sum
    of N incidents is the negative binomial of the lognormal sum's mean
    m N and variance (1 / r = e^{s^2} - 1 - 1 / m per incident). The mean
    m = exp(mu + s^2 / 2) is rescaled once, over the whole history, so the
    ordinary weeks' deaths are what it predicted for them (half a death added
    either side): that corrects the shape where deaths are not lognormal
    (many incidents without deaths; a series of zeros stays near 0).
  * *mass-casualty incidents*: a week more than 3 predictive sds above the
    ordinary (about 1 ordinary week in 740 would be) holds one, whose deaths
    beyond its week's other incidents are an observed excess. Every future
    incident is one with probability pi, drawn per path from the Jeffreys
    Beta posterior of their share of all incidents (the whole history: rare
    events need the long record), killing one of the observed excesses
    drawn at random. So a massacre last month raises the upper tail (next
    month's chance of another is about the incidents expected times pi), not
    the median or the mean deaths of every other incident.

- A series without incidents (a plain Series, or a panel without an
  ``incidents`` column) is forecast with the incidents model directly.

Sample paths (default 2000) run the model forward week by week, feeding each
simulated count back into the recursion; so weeks are dependent within a path
and month totals are sums along paths, not sums of independent weeks.
Quantiles are those of the simulated counts, i.e. integers: the smallest k with
P(X <= k) >= q. Central intervals of discrete counts cover at least their
nominal probability. ``Forecast.distribution`` gives the whole predictive
distribution (a mixture over paths of negative binomials, shifted by the path's
mass-casualty deaths) for scoring.

Assumptions: weeks are regular and complete (as `weekly_panel` makes them);
the dynamics of the past (including its regime changes) are representative of
the next weeks; NaN weeks (unknown casualties) are left out of the likelihood
and, in the recursion, stand at the model's own expectation; fractional
counts (``spread=True`` panels) enter the likelihood as they are (a
quasi-likelihood) and the forecast is of whole counts. Unknown future events
(offensives, ceasefires) are outside any such model; the benchmark
(`benchmarks/forecast.py`) measures how its intervals cover real governorate
series.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, signal, special

from .aggregate import GROUP_COLUMNS, complete_weeks
from .changepoints.costs.freqsev_log import ZERO_DEATHS, log_severity, log_severity_variance
from .errors import CasualtyStatsError
from .parallel import map_series
from .values import float_values

QUANTILES = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
DEFAULT_MEASURES = ("incidents", "fatalities_best")
DEFAULT_PATHS = 2000
MIN_WEEKS = 8
MAX_HORIZON = 260
_WEEK = pd.Timedelta(days=7)
# INGARCH: alpha, beta >= 0 (positive means), persistence alpha + beta <= this (stationary)
_MAX_PERSISTENCE = 0.995
_MAX_U = 12.0  # bound of the unconstrained parameters (size e^12: Poisson for all purposes)
_PRIOR_SD = 3.0  # normal prior of logit(rho / max) and logit(alpha / rho)
_MIN_DISCOUNT = 0.5 ** (1 / 13)  # the level's discount: half-life 13 weeks at the shortest
_INIT_WEEKS = 13  # the recursion starts at the first quarter's average
# Severity: candidate half-lives (weeks) of the discounted log-mean deaths per incident.
_SEVERITY_HALF_LIVES = (4, 8, 13, 26, 52, 104, 208, np.inf)
# A week whose log deaths per incident lie this many predictive sds above the typical incident's
# holds a mass-casualty incident (about 1 in 740 ordinary weeks would, were the log scale normal);
# the same bound clips every week's pull on the typical incident's log-mean.
_MASS_CASUALTY_Z = 3.0
_ZERO_SERIES_PRIOR = 0.5  # Jeffreys Gamma(0.5, n) rate posterior for a series of zeros


class ForecastError(CasualtyStatsError, ValueError):
    """Input that cannot be forecast (empty, too short, negative, irregular weeks, bad option)."""


# --- predictive distribution ---------------------------------------------------------------------


@dataclass
class PredictiveDistribution:
    """The forecast distribution of one measure of one series.

    Week h's distribution is the equal-weight mixture over sample paths of
    ``shift[:, h] + NB(size[:, h], prob[:, h])`` (a size of 0 is a point mass at 0; the shift,
    0 unless given, is the deaths of a path's simulated mass-casualty incidents that week);
    `samples` are one draw from each path's component.
    """

    size: np.ndarray  # (paths, horizon)
    prob: np.ndarray  # (paths, horizon)
    samples: np.ndarray  # (paths, horizon) integers
    shift: np.ndarray | None = None  # (paths, horizon) integers

    def __post_init__(self):
        if self.shift is None:
            self.shift = np.zeros(self.size.shape, dtype=np.int64)

    @property
    def mean(self) -> np.ndarray:
        return np.mean(self.shift + self.size * (1 - self.prob) / self.prob, axis=0)

    def pmf(self, values) -> np.ndarray:
        """P(X_h = values[h]) for each week h (values: one count per forecast week, or one
        count for every week)."""
        k = self._per_week(values) - self.shift
        with np.errstate(invalid="ignore"):
            pmf = np.exp(_nb_logpmf(np.maximum(k, 0), self.size, self.prob))
        return np.mean(np.where(k >= 0, pmf, 0.0), axis=0)

    def cdf(self, values) -> np.ndarray:
        """P(X_h <= values[h]) for each week h (values: one count per forecast week, or one
        count for every week)."""
        k = np.floor(self._per_week(values)) - self.shift
        with np.errstate(invalid="ignore"):
            inner = special.betainc(np.where(self.size > 0, self.size, 1.0), k + 1, self.prob)
        inner = np.where(self.size > 0, inner, 1.0)
        return np.mean(np.where(k >= 0, inner, 0.0), axis=0)

    def _per_week(self, values) -> np.ndarray:
        """`values` as a (1, horizon) row: a scalar applies to every week."""
        k = np.asarray(values, dtype=float)
        horizon = self.size.shape[1]
        if k.ndim == 0:
            k = np.full(horizon, float(k))
        if k.shape != (horizon,):
            raise ForecastError(
                f"give one count for every week or one per forecast week ({horizon}), not shape {k.shape}"
            )
        return k[None, :]


def _nb_logpmf(k, size, prob):
    """log NB(k; size, prob) with size 0 meaning a point mass at 0."""
    safe = np.where(size > 0, size, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        failures = np.where(k > 0, k * np.log1p(-prob), 0.0)  # prob 1 (mean 0): no failures
        log = special.gammaln(k + safe) - special.gammaln(safe) - special.gammaln(k + 1) + safe * np.log(prob)
        log = log + failures
    return np.where(size > 0, log, np.where(k == 0, 0.0, -np.inf))


# --- result object -------------------------------------------------------------------------------


@dataclass
class Forecast:
    """Forecast of one series or of every series of a panel.

    Attributes
    ----------
    by : the group columns ([] for one series).
    measures : the measures forecast.
    horizon : number of future weeks.
    origin : the last observed week.
    weeks : the future weeks (Timestamps, or integer positions for an unlabelled series).
    models : one row per series and measure: the model and its fitted parameters.
    distributions : (group key tuple, measure) -> `PredictiveDistribution`.
    """

    by: list[str]
    measures: tuple[str, ...]
    horizon: int
    origin: object
    weeks: pd.Index
    models: pd.DataFrame
    distributions: dict = field(repr=False)
    observed: dict = field(repr=False)  # (key, measure) -> observed Series (for month totals)
    single_series: bool = False
    quantiles: tuple[float, ...] = QUANTILES

    def distribution(self, measure: str | None = None, **group) -> PredictiveDistribution:
        """The predictive distribution of `measure` for the series ``by=value`` given as keywords."""
        measure = measure or self.measures[0]
        key = tuple(group.get(column) for column in self.by)
        try:
            return self.distributions[(key, measure)]
        except KeyError:
            raise ForecastError(f"no forecast of {measure!r} for {group or 'the series'}") from None

    def to_frame(self) -> pd.DataFrame:
        """Weekly forecasts. One series: indexed by `week`, columns mean, q0.025 .. q0.975.
        Panel: long, columns [*by, measure, week, mean, q0.025, ..., q0.975]."""
        return self._weekly(self.quantiles)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Central (1 - alpha) prediction interval of each week's count, laid out as `to_frame`
        with columns mean, lower, upper (integer quantiles alpha/2 and 1 - alpha/2: the interval
        holds at least 1 - alpha of the predictive probability)."""
        if not 0 < alpha < 1:
            raise ForecastError(f"alpha must be between 0 and 1, got {alpha!r}")
        frame = self._weekly((alpha / 2, 1 - alpha / 2))
        return frame.set_axis([*frame.columns[:-2], "lower", "upper"], axis=1)

    def _weekly(self, quantiles) -> pd.DataFrame:
        rows = []
        for (key, measure), dist in self.distributions.items():
            frame = _summarise(dist.samples, dist.mean, quantiles)
            labels = {**dict(zip(self.by, key, strict=True)), "measure": measure, "week": self.weeks}
            for position, (column, value) in enumerate(labels.items()):
                frame.insert(position, column, value)
            rows.append(frame)
        out = pd.concat(rows, ignore_index=True)
        if self.single_series:
            return out.drop(columns="measure").set_index("week")
        return out

    def monthly(self) -> pd.DataFrame:
        """Calendar-month totals, long: [*by, measure, month, mean, q0.025, ..., q0.975,
        weeks_observed, weeks_forecast, complete]; `month` is the month's first day (a Timestamp,
        as ``pd.Grouper(key=..., freq="MS")`` labels a monthly table, so the two merge on it).

        A week belongs to the month holding its fourth day (most of its days). A
        month the forecast starts in adds its already observed weeks (their known
        values, unknown ones as 0) to the simulated ones; `complete` is False for
        a month whose last weeks lie beyond the horizon (its total is of the
        forecast weeks only). Totals are sums along sample paths, so they carry
        the dependence between weeks."""
        if not isinstance(self.weeks, pd.DatetimeIndex):
            raise ForecastError("month totals need a series indexed by week dates")
        months = week_month(self.weeks)
        following = week_month(pd.DatetimeIndex([self.weeks[-1] + _WEEK]))[0]
        unique = months.unique()
        membership = (np.asarray(months)[None, :] == np.asarray(unique)[:, None]).astype(np.int64)
        frames = []
        for (key, measure), dist in self.distributions.items():
            observed = self.observed[(key, measure)]
            observed_months = week_month(observed.index)
            past = [observed[observed_months == month] for month in unique]
            known = np.array([np.nansum(p.to_numpy()) for p in past])
            totals = dist.samples @ membership.T + np.round(known).astype(np.int64)
            frame = _summarise(totals, membership @ dist.mean + known, self.quantiles)
            labels = {
                **dict(zip(self.by, key, strict=True)),
                "measure": measure,
                "month": unique.to_timestamp(),
            }
            for position, (column, value) in enumerate(labels.items()):
                frame.insert(position, column, value)
            frame["weeks_observed"] = [len(p) for p in past]
            frame["weeks_forecast"] = membership.sum(axis=1)
            frame["complete"] = unique != following
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> str:
        """Text: the model, the first month's totals and each series' parameters."""
        first = "the first week" if self.horizon == 1 else f"weeks 1-{self.horizon}"
        lines = [
            f"Forecast of {', '.join(self.measures)}: {self.horizon} weeks after {_label(self.origin)} "
            f"({first}: {_label(self.weeks[0])} .. {_label(self.weeks[-1])})",
            f"Series: {len(self.models) // max(len(self.measures), 1)}   sample paths: "
            f"{next(iter(self.distributions.values())).samples.shape[0]}",
            "Incidents: NB INGARCH(1,1), mean-reverting (parameter uncertainty drawn per path); "
            "casualties: incidents x lognormal deaths per incident (robust discounted log-mean) "
            "plus mass-casualty incidents at their observed share.",
            "Quantiles are integers (smallest k with P(X <= k) >= q).",
        ]
        if isinstance(self.weeks, pd.DatetimeIndex):
            monthly = self.monthly()
            month = monthly["month"].iloc[0]
            head = monthly[monthly["month"] == month]
            columns = [*self.by, "measure", "mean", "q0.1", "q0.5", "q0.9", "complete"]
            table = head[columns].to_string(index=False, float_format=lambda v: f"{v:,.1f}")
            lines += ["", f"Month {month:%Y-%m} (80% range q0.1-q0.9):", table]
        lines += ["", "Fitted models:", self.models.to_string(index=False, float_format=lambda v: f"{v:.3g}")]
        return "\n".join(lines)


def week_month(weeks) -> pd.PeriodIndex:
    """The calendar month each week (dated by its first day) belongs to: the month holding its
    fourth day, and so most of its days."""
    return (pd.DatetimeIndex(weeks) + pd.Timedelta(days=3)).to_period("M")


def _summarise(samples: np.ndarray, mean: np.ndarray, quantiles: Sequence[float]) -> pd.DataFrame:
    """Mean and inverted-CDF quantiles (integers) of samples (paths x columns)."""
    ordered = np.sort(samples, axis=0)
    m = ordered.shape[0]
    frame = pd.DataFrame({"mean": mean})
    for q in quantiles:
        # smallest sample value whose empirical CDF reaches q
        frame[f"q{q:g}"] = ordered[max(int(np.ceil(q * m)) - 1, 0)].astype(np.int64)
    return frame


def _label(week) -> str:
    return f"{week:%Y-%m-%d}" if isinstance(week, pd.Timestamp) else str(week)


# --- public entry point --------------------------------------------------------------------------


def forecast(
    series_or_panel,
    horizon: int = 13,
    *,
    measures: Sequence[str] | str = DEFAULT_MEASURES,
    by: Iterable[str] | str | None = None,
    paths: int = DEFAULT_PATHS,
    seed: int = 0,
) -> Forecast:
    """Forecast weekly counts `horizon` weeks ahead (see the module docstring for the model).

    Parameters
    ----------
    series_or_panel : a Series of weekly counts (indexed by week dates, or any
        index taken as consecutive weeks), a numpy array, or a long weekly panel
        as made by `weekly_panel` (a `week` column, group columns, measures) or a
        DataFrame indexed by week holding the measures.
    horizon : future weeks (default 13, at most 260).
    measures : panel columns to forecast (default incidents and fatalities_best);
        ignored for a Series. Casualty measures use the panel's `incidents`.
    by : group columns of a panel; None = every group column present
        (`actor`, `target`, `region`, `country`, `event_type`); other group
        columns are summed over.
    paths : number of simulated sample paths (default 2000).
    seed : random seed; the same input and seed give the same forecast.

    Returns
    -------
    `Forecast` (`to_frame()`, `monthly()`, `summary()`, `distribution()`).
    Only the data given are used: the forecast starts the week after the last one.
    A boundary week that `weekly_panel` records as covered only in part (its
    ``attrs`` ``first_week_days`` / ``last_week_days`` < 7, kept by pandas on the
    slices and Series cut from the panel) is left out: three days of data are not a
    quiet week. The forecast then starts at that last week, as a whole week.
    """
    horizon = _check_int("horizon", horizon, 1, MAX_HORIZON)
    paths = _check_int("paths", paths, 100, 10**6)
    rng = np.random.default_rng(seed)
    series_or_panel = complete_weeks(series_or_panel)
    if isinstance(series_or_panel, pd.DataFrame):
        measures = (measures,) if isinstance(measures, str) else tuple(measures)
        return _forecast_panel(series_or_panel, horizon, measures, by, paths, rng)
    series = _as_series(series_or_panel)
    weeks = _future_weeks(series.index, horizon)
    measure = series.name if isinstance(series.name, str) else "value"
    dist, model = _draw_counts(_fit_counts(series.to_numpy(dtype=float)), horizon, paths, rng)
    return Forecast(
        by=[],
        measures=(measure,),
        horizon=horizon,
        origin=series.index[-1],
        weeks=weeks,
        models=pd.DataFrame([{"measure": measure, **model}]),
        distributions={((), measure): dist},
        observed={((), measure): series},
        single_series=True,
    )


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ForecastError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _as_series(values) -> pd.Series:
    y, index = float_values(values, ForecastError, "the series")
    series = pd.Series(y, index=index, name=getattr(values, "name", None))
    _check_counts(y, "the series")
    return series


def _check_counts(values: np.ndarray, what: str, incidents: np.ndarray | None = None) -> None:
    """Counts a forecast can use, or a clear error. A measure known only in weeks without
    incidents (a source that reports no injuries: unknown in every week with one, 0 in the
    others) would forecast a confident 0: it is unknown, not quiet."""
    missing = np.isnan(values)
    known = values[~missing]
    if len(known) < MIN_WEEKS:
        raise ForecastError(f"{what} has {len(known)} known weeks; a forecast needs at least {MIN_WEEKS}")
    if not np.all(np.isfinite(known)) or np.any(known < 0):
        raise ForecastError(f"{what} holds negative or infinite counts")
    active = missing if incidents is None else np.nan_to_num(incidents) > 0
    if active.any() and not np.any(known) and missing[active].all():
        raise ForecastError(
            f"{what} is unknown in every week {'with incidents' if incidents is not None else 'but those at 0'} "
            "(e.g. injuries a source does not report): nothing to forecast"
        )


def _future_weeks(index: pd.Index, horizon: int) -> pd.Index:
    if isinstance(index, pd.DatetimeIndex):
        steps = np.diff(index.to_numpy()).astype("timedelta64[D]")
        if len(steps) and not np.all(steps == np.timedelta64(7, "D")):
            raise ForecastError(
                "weeks must be consecutive, 7 days apart, without gaps (as weekly_panel makes)"
            )
        return pd.DatetimeIndex(index[-1] + _WEEK * np.arange(1, horizon + 1), name="week")
    return pd.RangeIndex(len(index), len(index) + horizon, name="week")


def _forecast_panel(panel, horizon, measures, by, paths, rng) -> Forecast:
    if "week" in panel.columns:
        frame = panel
    elif isinstance(panel.index, pd.DatetimeIndex):
        frame = panel.rename_axis("week").reset_index()
    else:
        raise ForecastError("a panel needs a `week` column or an index of week dates")
    if by is None:
        by = [c for c in GROUP_COLUMNS if c in frame.columns]
    else:
        by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, *measures] if c not in frame.columns]
    if missing:
        raise ForecastError(f"the panel has no column {', '.join(map(repr, missing))}")
    if not measures:
        raise ForecastError("no measure to forecast")
    columns = list(dict.fromkeys([*measures, *(["incidents"] if "incidents" in frame.columns else [])]))
    try:
        weeks = pd.DatetimeIndex(pd.to_datetime(frame["week"]))
        values = frame[columns].astype(float)
    except (TypeError, ValueError):
        raise ForecastError("the panel's weeks must be dates and its measures numbers") from None
    # one row per group and week (summing any other group columns); NaN only if all are NaN
    tidy = values.assign(week=weeks, **{c: frame[c].to_numpy() for c in by})
    tidy = tidy.groupby([*by, "week"], sort=True, observed=True, dropna=False).sum(min_count=1)
    all_weeks = tidy.index.get_level_values("week").unique().sort_values()
    future = _future_weeks(all_weeks, horizon)
    groups = tidy.groupby(level=list(range(len(by))), sort=True) if by else [((), tidy)]
    keys, series = [], []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        group = group.droplevel(list(range(len(by)))) if by else group
        group = group.reindex(all_weeks)  # a group absent in some weeks: unknown there
        keys.append(key)
        series.append({column: group[column].to_numpy() for column in group.columns})
    wheres = [f"series {dict(zip(by, key, strict=True))}" if by else "the series" for key in keys]
    # The fits are deterministic and independent: on every core. The draws share one random
    # generator, so they follow in the serial order: the forecast is the serial loop's, exactly.
    fits = map_series(_fit_group, series, [measures] * len(series), wheres)
    distributions, observed, models = {}, {}, []
    for key, values, fitted in zip(keys, series, fits, strict=True):
        incidents = values.get("incidents")
        incident_paths = None
        for measure in measures:
            y = values[measure]
            if measure == "incidents" or incidents is None:
                dist, model = _draw_counts(fitted[measure], horizon, paths, rng)
                if measure == "incidents":
                    incident_paths = dist.samples
            else:
                if incident_paths is None:
                    incident_paths = _draw_counts(fitted["incidents"], horizon, paths, rng)[0].samples
                dist, model = _draw_compound(fitted[measure], incident_paths, rng)
            distributions[(key, measure)] = dist
            observed[(key, measure)] = pd.Series(y, index=all_weeks)
            models.append({**dict(zip(by, key, strict=True)), "measure": measure, **model})
    return Forecast(
        by=by,
        measures=measures,
        horizon=horizon,
        origin=all_weeks[-1],
        weeks=future,
        models=pd.DataFrame(models),
        distributions=distributions,
        observed=observed,
    )


def _fit_group(values: dict, measures: tuple, where: str) -> dict:
    """The checks and fits of one series' `measures` (`values`: column -> weekly array), as
    {measure: fit} plus "incidents" for the incident counts a casualty measure draws on. No
    random draw: `_draw_counts` and `_draw_compound` make those, series after series."""
    incidents = values.get("incidents")
    fits = {}
    for measure in measures:
        y = values[measure]
        _check_counts(y, f"{measure} of {where}", None if measure == "incidents" else incidents)
        if measure == "incidents" or incidents is None:
            if measure not in fits:
                fits[measure] = _fit_counts(y)
        else:
            if "incidents" not in fits:
                _check_counts(incidents, f"incidents of {where}")
                fits["incidents"] = _fit_counts(incidents)
            fits[measure] = _fit_compound(incidents, y)
    return fits


# --- incidents: NB INGARCH(1,1) reverting to a discounted mean -----------------------------------


@dataclass
class _Filter:
    """The conditional means for given parameters, with their derivatives and the level."""

    mean: np.ndarray  # lambda_1 .. lambda_n (the last is next week's)
    grad: np.ndarray  # (4, n) d lambda / d u (the size row is zero)
    level: np.ndarray  # m_0 .. m_{n-1}, the discounted means
    weight: float  # sum of the discount weights at the end (the level's effective weeks)
    variance: float  # discounted variance of the counts at the end


def _unpack(u: np.ndarray):
    """Unconstrained u -> (alpha, beta, size, discount):
    rho = alpha + beta = _MAX_PERSISTENCE * logistic(u0), alpha = rho * logistic(u1), size = exp(u2),
    discount = _MIN_DISCOUNT + (1 - _MIN_DISCOUNT) * logistic(u3)."""
    rho = _MAX_PERSISTENCE * special.expit(u[0])
    alpha = rho * special.expit(u[1])
    discount = _MIN_DISCOUNT + (1 - _MIN_DISCOUNT) * special.expit(u[3])
    return alpha, rho - alpha, np.exp(u[2]), discount


def _discounted(values: np.ndarray, discount: float) -> np.ndarray:
    """Discounted running sums along the last axis: s_t = discount * s_{t-1} + v_t."""
    return signal.lfilter([1.0], [1.0, -discount], values)


def _run_filter(u: np.ndarray, x: np.ndarray, start: float) -> _Filter:
    """lambda_t = (1 - alpha - beta) m_{t-1} + alpha x_{t-1} + beta lambda_{t-1}, t = 1..n, where
    m_t is the discounted mean of x_0..x_t (weights discount^j)."""
    alpha, beta, _, discount = _unpack(u)
    rho = alpha + beta
    # one lfilter call per recursion, on stacked inputs (the call overhead dominates at this size)
    total, weight, squares = _discounted(np.vstack([x, np.ones_like(x), x**2]), discount)
    level = total / weight
    lagged = np.zeros((2, len(x)))
    lagged[0, 1:], lagged[1, 1:] = total[:-1], weight[:-1]
    d_total, d_weight = _discounted(lagged, discount)
    d_level = (d_total - level * d_weight) / weight  # d m / d discount
    a = [1.0, -beta]
    mean = signal.lfilter([1.0], a, (1 - rho) * level + alpha * x, zi=[beta * start])[0]
    previous = np.concatenate([[start], mean[:-1]])
    # d lambda / d alpha (at fixed beta), d beta, d discount
    d_alpha, d_beta, d_discount = signal.lfilter(
        [1.0], a, np.vstack([x - level, previous - level, (1 - rho) * d_level])
    )
    # chain rule to the unconstrained parameters
    share = alpha / rho if rho > 0 else 0.0
    d_rho = (1 - rho / _MAX_PERSISTENCE) * rho  # d rho / d u0
    d_u0 = d_rho * (share * d_alpha + (1 - share) * d_beta)
    d_u1 = rho * share * (1 - share) * (d_alpha - d_beta)
    spread = (discount - _MIN_DISCOUNT) * (1 - (discount - _MIN_DISCOUNT) / (1 - _MIN_DISCOUNT))
    grad = np.vstack([d_u0, d_u1, np.zeros_like(x), spread * d_discount])
    variance = squares[-1] / weight[-1] - level[-1] ** 2
    return _Filter(mean, grad, level, float(weight[-1]), float(max(variance, 0.0)))


def _negative_loglik(u, x, y, known, start):
    # lambda_t (t = 1..n-1) is the mean of y_t; the first week only starts the recursion
    run = _run_filter(u, x, start)
    mean = np.maximum(run.mean[:-1], 1e-12)
    size = np.exp(u[2])
    yy, used = y[1:], known[1:]
    log_q = np.log(size + mean)
    ll = special.gammaln(yy + size) - special.gammaln(size) - special.gammaln(yy + 1)
    ll += size * (u[2] - log_q) + yy * (np.log(mean) - log_q)
    d_mean = size * (yy - mean) / (mean * (size + mean)) * used
    d_log_size = size * (special.digamma(yy + size) - special.digamma(size) + u[2] - log_q + 1)
    d_log_size -= size * (yy + size) / (size + mean)
    grad = run.grad[:, :-1] @ d_mean
    grad[2] = (d_log_size * used).sum()
    # weak normal prior on the two logits of the dynamics: keeps the fit and its draws finite
    # where the likelihood is flat (an all-but-empty series, alpha at 0)
    penalty = 0.5 * (u[0] ** 2 + u[1] ** 2) / _PRIOR_SD**2
    grad[:2] -= u[:2] / _PRIOR_SD**2
    return -(ll * used).sum() + penalty, -grad


def _fit_ingarch(y: np.ndarray):
    """Penalised ML fit. y may hold NaN (left out of the likelihood; in the recursion the week
    stands at its fitted mean). Returns u, the covariance of u0 and u1, the filter at u, x, start."""
    known = ~np.isnan(y)
    start = y[known][:_INIT_WEEKS].mean()
    y0 = np.where(known, y, 0.0)
    x = y0.copy()
    u = np.array([2.0, 0.0, 0.0, 2.0])
    for _ in range(1 if known.all() else 2):
        if not known.all():  # unknown weeks enter the recursion at their fitted mean
            mean = _run_filter(u, x, start).mean
            x = np.where(known, y0, np.concatenate([[start], mean[:-1]]))
        fit = optimize.minimize(
            _negative_loglik,
            u,
            args=(x, y0, known, start),
            jac=True,
            method="BFGS",
            options={"gtol": 1e-4, "maxiter": 200},
        )
        u = np.clip(fit.x, -_MAX_U, _MAX_U)
    return u, _covariance(u, x, y0, known, start), _run_filter(u, x, start), x, start


def _covariance(u, x, y, known, start) -> np.ndarray:
    """Posterior covariance of the two logits of the dynamics (inverse Hessian of the penalised
    negative log-likelihood, by finite differences of its analytic gradient)."""
    k = 2
    hessian = np.zeros((k, k))
    for i in range(k):
        step = 1e-4 * max(1.0, abs(u[i]))
        up, down = u.copy(), u.copy()
        up[i] += step
        down[i] -= step
        g_up = _negative_loglik(up, x, y, known, start)[1]
        g_down = _negative_loglik(down, x, y, known, start)[1]
        hessian[i] = (g_up[:k] - g_down[:k]) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    values, vectors = np.linalg.eigh(hessian)
    # the prior alone has curvature 1 / sd^2: no direction is flatter than that
    values = np.maximum(values, 1 / _PRIOR_SD**2)
    return (vectors / values) @ vectors.T


@dataclass
class _CountsFit:
    """The fitted incidents model of one series: what its sample paths start from."""

    weeks: int  # known weeks
    u: np.ndarray | None = None  # INGARCH parameters (unconstrained); None: a series without events
    cov: np.ndarray | None = None  # covariance of u0 and u1
    run: _Filter | None = None  # the filter at u


def _fit_counts(y: np.ndarray) -> _CountsFit:
    """The INGARCH fit of `y` (none for a series of zeros, whose forecast needs none)."""
    known = ~np.isnan(y)
    n = int(known.sum())
    if y[known].sum() == 0:
        return _CountsFit(n)
    u, cov, run, _, _ = _fit_ingarch(y)
    return _CountsFit(n, u, cov, run)


def _draw_counts(fit: _CountsFit, horizon: int, paths: int, rng) -> tuple[PredictiveDistribution, dict]:
    """Sample paths of a fitted incidents model (`_fit_counts`): the INGARCH model, or a Jeffreys
    Gamma-Poisson for a series of zeros."""
    n = fit.weeks
    if fit.u is None:
        # No event yet: the rate is only bounded by the number of quiet weeks (Gamma(1/2, n)
        # posterior); one rate per path, so the weeks of a path are dependent.
        rate = rng.gamma(_ZERO_SERIES_PRIOR, 1.0 / n, size=paths)
        size = np.full((paths, horizon), _ZERO_SERIES_PRIOR)
        prob = np.full((paths, horizon), n / (n + 1.0))
        samples = rng.poisson(np.repeat(rate[:, None], horizon, axis=1))
        return PredictiveDistribution(size, prob, samples), {"model": "gamma-poisson (no events)", "weeks": n}
    u, cov, run = fit.u, fit.cov, fit.run
    alpha_hat, beta_hat, size_hat, discount = _unpack(u)
    draws = np.repeat(u[None, :], paths, axis=0)
    draws[:, :2] += rng.multivariate_normal(np.zeros(2), cov, size=paths, method="eigh")
    alpha, beta, size, _ = _unpack(draws.T)
    # The level is uncertain too: the sampling variance of a discounted mean of dependent
    # weeks (effective weeks: the discount's, (1 + d) / (1 - d), times (1 - rho) / (1 + rho)).
    rho_hat = alpha_hat + beta_hat
    level = run.level[-1]
    effective = min(n, (1 + discount) / (1 - discount)) * (1 - rho_hat) / (1 + rho_hat)
    spread = (run.variance + level) / effective
    levels = rng.gamma(level**2 / spread, spread / level, size=paths)
    # next week's mean under each path's parameters (first order in the parameters)
    mean = run.mean[-1] + (draws[:, :2] - u[:2]) @ run.grad[:2, -1] + (1 - alpha - beta) * (levels - level)
    mean = np.maximum(mean, 1e-9)
    sizes = np.repeat(size[:, None], horizon, axis=1)
    probs = np.empty((paths, horizon))
    samples = np.empty((paths, horizon), dtype=np.int64)
    total, weight = levels * run.weight, run.weight
    for h in range(horizon):
        probs[:, h] = size / (size + mean)
        samples[:, h] = rng.poisson(rng.gamma(size, mean / size))
        total, weight = discount * total + samples[:, h], discount * weight + 1
        mean = (1 - alpha - beta) * total / weight + alpha * samples[:, h] + beta * mean
    model = {
        "model": "NB INGARCH(1,1)",
        "weeks": n,
        "level": level,
        "level_half_life": float(np.log(0.5) / np.log(discount)),
        "alpha": alpha_hat,
        "beta": beta_hat,
        "size": size_hat,
        "next_mean": float(run.mean[-1]),
    }
    return PredictiveDistribution(sizes, probs, samples), model


# --- casualties: incidents x lognormal deaths per incident, mass-casualty incidents apart --------


@dataclass
class _LogSeverityFilter:
    """A robust, discounted mean of the weekly log deaths per incident (one run of the filter)."""

    before: np.ndarray  # each active week's predictive log-mean, from the weeks before it
    z: np.ndarray  # each active week's standardised predictive residual
    mu: float  # the log-mean at the end of the series
    variance: float  # its sampling variance
    loss: float  # the Huber predictive loss of the active weeks (selects the discount)


def _log_severity_filter(y, v, weeks, end, discount, prior_mean, prior_weight) -> _LogSeverityFilter:
    """Discounted weighted mean of the log severities y (variances v) of the active weeks at
    positions `weeks` (weights discount^age / v), each week first standardised against the mean of
    the weeks before it and clipped at +-_MASS_CASUALTY_Z: a Huber-type robust filter, so one
    week moves the mean by a bounded amount however many deaths it holds. A prior of weight
    `prior_weight` at `prior_mean` starts it."""
    total, weight, square = prior_weight * prior_mean, prior_weight, prior_weight
    before, z = np.empty(len(y)), np.empty(len(y))
    loss, last = 0.0, weeks[0] if len(weeks) else end
    c = _MASS_CASUALTY_Z
    for i, (yi, vi, week) in enumerate(zip(y, v, weeks, strict=True)):
        decay = discount ** (week - last)
        total, weight, square, last = total * decay, weight * decay, square * decay**2, week
        mean = total / weight
        sd = np.sqrt(vi + square / weight**2)
        z[i], before[i] = (yi - mean) / sd, mean
        clipped = min(max(z[i], -c), c)
        # negative log-density of Huber's least favourable distribution (up to a constant)
        loss += np.log(sd) + (0.5 * clipped**2 if abs(z[i]) <= c else c * abs(z[i]) - 0.5 * c**2)
        total, weight, square = total + (mean + sd * clipped) / vi, weight + 1 / vi, square + 1 / vi
    decay = discount ** (end - last)
    total, weight, square = total * decay, weight * decay, square * decay**2
    return _LogSeverityFilter(before, z, total / weight, square / weight**2, loss)


@dataclass
class _SeverityFit:
    """The fitted casualties-per-incident model of one series: what its sample paths start from."""

    weeks: int  # weeks with both counts known
    s2: float  # variance of the log deaths per incident
    half_life: float  # of the discounted log-mean, chosen by the Huber predictive loss
    run: _LogSeverityFilter  # the filter at that half-life
    scale: float  # rescaling of the lognormal mean over the whole history
    excess: np.ndarray  # deaths of the observed mass-casualty incidents beyond their weeks' others
    mass_weeks: np.integer  # weeks holding a mass-casualty incident
    incidents_seen: np.floating  # incidents in the active weeks


def _fit_compound(incidents, casualties) -> _SeverityFit:
    """The casualties model of one series given its incidents (no random draw: `_draw_compound`)."""
    known = ~(np.isnan(incidents) | np.isnan(casualties))
    active = known & (incidents > 0)
    weeks = np.flatnonzero(active)
    n, f = incidents[active], casualties[active]
    s2 = log_severity_variance(n, f)
    y, v = log_severity(n, f, s2)
    # prior: one incident at the series' median log severity (no incident yet: a week of 1 and 0)
    prior_mean = float(np.median(y)) if len(y) else float(np.log(ZERO_DEATHS))
    runs = {}
    for half_life in _SEVERITY_HALF_LIVES:
        discount = 1.0 if np.isinf(half_life) else 0.5 ** (1.0 / half_life)
        runs[half_life] = _log_severity_filter(y, v, weeks, len(incidents) - 1, discount, prior_mean, 1 / s2)
    half_life = min(runs, key=lambda h: runs[h].loss)
    run = runs[half_life]
    mass = run.z > _MASS_CASUALTY_Z
    # The lognormal's mean per incident, exp(mu + s^2 / 2), rescaled so that over the whole history
    # the ordinary weeks' deaths are what it predicted for them: corrects the shape where it is not
    # lognormal (many incidents without deaths; half a death either side keeps a series of zeros
    # near, not at, 0). The level follows recent weeks, the shape (this factor, the mass-casualty
    # share) all of them: rare events need the long record.
    expected = n * np.exp(run.before + s2 / 2)
    scale = (f[~mass].sum() + ZERO_DEATHS) / (expected[~mass].sum() + ZERO_DEATHS)
    # mass-casualty incidents: one in each week far above the body, killing what the week's other
    # incidents would not have
    excess = np.maximum(np.round(f[mass] - scale * (expected[mass] / n[mass]) * (n[mass] - 1)), 1)
    return _SeverityFit(int(known.sum()), s2, half_life, run, scale, excess, mass.sum(), n.sum())


def _draw_compound(fit: _SeverityFit, incident_paths, rng) -> tuple[PredictiveDistribution, dict]:
    """Sample paths of a fitted casualties model (`_fit_compound`) given the incidents' paths."""
    s2, run, scale, excess = fit.s2, fit.run, fit.scale, fit.excess
    # the body: each path's log-mean from its posterior; the week's sum of N lognormal incidents as a
    # negative binomial of the same mean m N and variance (Fenton-Wilkinson), NB(r N, r / (r + m)),
    # 1 / r = e^{s^2} - 1 - 1 / m
    mu = rng.normal(run.mu, np.sqrt(run.variance), size=incident_paths.shape[0])[:, None]
    per_incident = scale * np.exp(mu + s2 / 2)
    r = 1.0 / np.maximum(np.expm1(s2) - 1.0 / per_incident, np.exp(-_MAX_U))
    shift, count = _mass_casualties(
        excess.astype(np.int64), fit.mass_weeks, fit.incidents_seen, incident_paths, rng
    )
    size = r * (incident_paths - count)
    prob = np.broadcast_to(r / (r + per_incident), size.shape).copy()
    safe = np.where(size > 0, size, 1.0)
    samples = shift + np.where(size > 0, rng.negative_binomial(safe, prob), 0)
    mass = fit.mass_weeks > 0
    share = (fit.mass_weeks + 0.5) / (fit.incidents_seen + 1.0) if mass else 0.0
    body_mean = scale * float(np.exp(run.mu + s2 / 2))
    model = {
        "model": "compound: incidents x lognormal deaths per incident + mass-casualty incidents",
        "weeks": fit.weeks,
        "severity_half_life": fit.half_life,
        "median_per_incident": scale * float(np.exp(run.mu)),
        "log_sd_per_incident": float(np.sqrt(s2)),
        "mass_casualty_weeks": int(fit.mass_weeks),
        "mass_casualty_share": share,
        "per_incident_mean": body_mean + (share * (excess.mean() - body_mean) if mass else 0.0),
    }
    return PredictiveDistribution(size, prob, samples, shift), model


def _mass_casualties(excess, seen, incidents_seen, incident_paths, rng):
    """Every future incident is a mass-casualty one with probability pi, drawn per path from its
    Jeffreys Beta posterior given `seen` of `incidents_seen` incidents (the whole history); each
    kills as many as one of the observed `excess` deaths, drawn at random. Returns the deaths of
    the mass-casualty incidents and their number, per path and week (zeros if none was seen)."""
    shift = np.zeros(incident_paths.shape, dtype=np.int64)
    if not seen:
        return shift, shift.copy()
    # (fractional incidents, as spread=True panels hold, can count fewer incidents than such weeks)
    chance = rng.beta(seen + 0.5, max(incidents_seen - seen, 0) + 0.5, size=incident_paths.shape[0])
    count = rng.binomial(incident_paths, chance[:, None])
    where = np.flatnonzero(count)
    if len(where):
        draws = rng.choice(excess, size=int(count.flat[where].sum()))
        starts = np.concatenate([[0], np.cumsum(count.flat[where])[:-1]])
        shift.flat[where] = np.add.reduceat(draws, starts)
    return shift, count


class _CallableModule(types.ModuleType):
    """Importing this module binds `casualtystats.forecast` to the module, shadowing the lazily
    exported function of the same name; calling the module calls the function, so
    ``casualtystats.forecast(...)`` works whichever of the two the name holds."""

    def __call__(self, *args, **kwargs) -> Forecast:
        return forecast(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
