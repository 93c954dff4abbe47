"""Resurgence rules: which series are rising, since when, and the evidence.

Every rule reads one weekly series per group (e.g. per region) built from the
panel with only the weeks complete by ``as_of`` (a week counts when its last
day is on or before ``as_of``). Weeks missing from the panel count as zero; a
week whose measure is unknown (NA) is left out of averages and counts as zero
in totals.

Rules (thresholds are keyword arguments with these defaults):

- ``changepoint``: the change points of `detect_change_points` on the whole
  history, each with its rate ratio (after/before) and confidence interval from
  `ChangePoints.rate_ratios`. A change within the last
  ``changepoint_recent_weeks`` (52) weeks is flagged "up" when the interval lies
  above 1 and the regime before it was low or declining: its rate at most the
  series' average before the change, or below the rate of the regime before
  it. "Down" is the mirror (interval below 1 after a high or rising regime).
  ``probability`` is the BOCPD posterior probability (`bocpd(...)
  .prob_recent_change(k)`) that a change happened in the k weeks from the
  earliest date the change could have started (the first week of its date's
  95% confidence set, `ChangePoints.location_intervals`) to ``as_of``.
  A change is flagged only while it is still in force at ``as_of`` (an alert
  says what is happening now, not what once changed): no later change of the
  fit goes significantly the other way (at the same interval level), and the
  weeks since the change, at most the last ``changepoint_current_weeks`` (13),
  averaged above the level before it ("down": below). When the fit carries a
  seasonal factor (`detect_change_points`' season="auto") its levels are
  de-seasonalised, and so are the averages the rule sets against them (the
  weeks since the change, the series' average before it: total over the weeks'
  seasonal factors), else a rise would be over whenever the low season came
  and a fall whenever the high one did. An "up" change also
  needs the measure above zero in at least `MIN_ACTIVE_WEEKS` (2) weeks
  since it: a single week of violence after a quiet stretch (one massacre) is
  an event, not a new rate, the threat rule's principle. So an alert ends at
  the first reading where one of these fails, e.g. once a later fall is
  found, or when the quarter after a rise is back at the old level.
- ``surge`` (ACLED Subnational Surge Tracker): the last week is at least
  ``surge_ratio`` (2) times the mean of the ``surge_weeks`` (4) weeks before it,
  and that mean is at least ``surge_min_baseline`` (1). Down: at most half.
- ``threat`` (ACLED Subnational Threat Tracker): the weekly mean of the last
  ``threat_weeks`` (4, "the last month") weeks is at least ``threat_ratio`` (2)
  times the weekly mean of the ``threat_baseline_weeks`` (52) weeks before that
  month, the baseline being at least ``threat_min_baseline`` (0: new activity in
  a quiet area counts) and the month's weekly mean of *incidents* at least
  ``threat_min_recent`` (1, whatever the measure: ACLED's dashboard keeps only
  admin-1 units whose four-week average is at least one event, so a single
  event in a quiet area is not a threat, however deadly). Down: at most half of
  a non-zero baseline.
- ``record`` (HDX Signals): the total of the last ``record_weeks`` (4 weeks =
  28 days, the weekly panel's nearest to HDX's 30 days) exceeds every 4-week
  total that ended in the ``record_years`` (1 or 3) years before the current
  window, and is at least ``record_min`` (100). Up only: a record low is not a
  signal.

False-alarm budget (``false_alarm_budget``, alarms per series-year, default
`DEFAULT_FALSE_ALARM_BUDGET` = 1): each rule's threshold (surge and threat
ratio, record minimum, changepoint evidence level) is raised from its default
just enough that the rule, replayed on the series' own history, raises at most
that many alarms a year (see `calibrate`; the changepoint rule counts them on
its fit of that history, see `read_changepoints`); ``None`` keeps the fixed
defaults.

Alerts: consecutive flagged weeks are one alert; ``alert_start`` is the first
week of the current run, each week judged on the data and threshold known then.

History needed. A rule judges nothing before its windows are full: surge
``surge_weeks`` + 1 (5) weeks, threat ``threat_weeks`` + ``threat_baseline_weeks``
(56), record ``record_weeks`` + the shortest of ``record_years`` (56),
changepoint ``changepoint_min_weeks`` (12); under a false-alarm budget `b` every
rule also needs 1/b years (53 weeks at 1 a year: before that the budget admits
no alarm at all, see `calibrate`). `rule_history` gives these; `find_resurgence`
lists the rules a series was too short for in ``flags.attrs["not_evaluated"]``,
so that "no rule fired" is never said of rules that could not fire.

The tracker rules are computed for every week at once from backward-looking
windows, so the value at week t uses weeks up to t only; `backtest` relies on
this and `find_resurgence` takes the last week. The changepoint rule's past
(alert starts, `alert_history`) is refitted every ``changepoint_step`` (4)
weeks back from the week judged.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import CasualtyStatsError
from ..normalize import actor_names, canonical_actor
from .calibrate import DEFAULT_FALSE_ALARM_BUDGET, WEEKS_PER_YEAR, series_years, threshold_path

RULES = ("changepoint", "surge", "threat", "record")
UP_ONLY = frozenset({"record"})
DIRECTIONS = ("up", "down")
#: Evidence levels (alpha of the rate-ratio interval) the budget may raise the changepoint rule to.
CHANGEPOINT_ALPHAS = (0.05, 0.01, 0.001, 0.0001)
#: Weeks with the measure above zero an "up" change needs since it (one week is an event, not a rate).
MIN_ACTIVE_WEEKS = 2
WEEK = pd.Timedelta(days=7)
LAST_DAY = pd.Timedelta(days=6)


class ResurgenceError(CasualtyStatsError):
    """A resurgence query that cannot be answered as asked (bad rule, column, actor, threshold)."""


@dataclass(frozen=True)
class Thresholds:
    surge_ratio: float = 2.0
    surge_weeks: int = 4
    surge_min_baseline: float = 1.0
    threat_ratio: float = 2.0
    threat_weeks: int = 4
    threat_baseline_weeks: int = 52
    threat_min_baseline: float = 0.0
    threat_min_recent: float = 1.0
    record_weeks: int = 4
    record_years: tuple = (1, 3)
    record_min: float = 100.0
    changepoint_recent_weeks: int = 52
    changepoint_current_weeks: int = 13
    changepoint_min_weeks: int = 12
    changepoint_step: int = 4
    alpha: float = 0.05

    @classmethod
    def from_kwargs(cls, kwargs: dict) -> Thresholds:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ResurgenceError(
                f"unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        if "record_years" in kwargs:
            years = kwargs["record_years"]
            kwargs = {**kwargs, "record_years": tuple(sorted(np.atleast_1d(years).tolist()))}
        t = cls(**kwargs)
        for name in ("surge_ratio", "threat_ratio"):
            if not getattr(t, name) > 1:
                raise ResurgenceError(f"{name} must be greater than 1, got {getattr(t, name)}")
        for name in (
            "surge_weeks",
            "threat_weeks",
            "threat_baseline_weeks",
            "record_weeks",
            "changepoint_min_weeks",
            "changepoint_current_weeks",
            "changepoint_step",
        ):
            if int(getattr(t, name)) < 1:
                raise ResurgenceError(f"{name} must be a positive number of weeks")
        if not 0 < t.alpha < 1:
            raise ResurgenceError(f"alpha must be in (0, 1), got {t.alpha}")
        return t


@dataclass(frozen=True)
class Series:
    """One group's weekly series and how to name it in evidence."""

    key: tuple
    label: str
    weeks: pd.DatetimeIndex
    values: np.ndarray
    #: the group's incidents per week where the measure is another (deaths): the threat rule's
    #: minimum activity is in events, as ACLED's; None: the measure's own values serve
    events: np.ndarray | None = None

    def upto(self, last: int) -> Series:
        """The series known at week `last` (later values dropped)."""
        events = None if self.events is None else self.events[: last + 1]
        return dataclasses.replace(self, values=self.values[: last + 1], events=events)


@dataclass(frozen=True)
class Context:
    actor: str | None
    by: list
    measure: str
    thresholds: Thresholds
    directions: tuple
    by_dtypes: dict
    budget: float | None = None

    @classmethod
    def make(
        cls, panel: pd.DataFrame, actor, by, measure: str, direction: str, thresholds: dict, budget=None
    ) -> Context:
        by_cols = normalize_by(by)
        dtypes = {c: panel[c].dtype for c in by_cols if c in panel.columns}
        return cls(
            actor,
            by_cols,
            measure,
            Thresholds.from_kwargs(thresholds),
            check_direction(direction),
            dtypes,
            check_budget(budget),
        )

    @property
    def columns(self) -> list[str]:
        """Output columns: the rule, who and what (actor, by columns, measure), then the flag."""
        actor = ["actor"] if self.actor is not None and "actor" not in self.by else []
        return ["rule", *actor, *self.by, "measure", *OUTPUT_COLUMNS[1:]]

    @property
    def measure_text(self) -> str:
        text = {"incidents": "incidents"}.get(self.measure)
        if text is None:
            base, _, kind = self.measure.rpartition("_")
            text = (
                f"{base} ({kind} estimate)"
                if kind in ("best", "low", "high")
                else self.measure.replace("_", " ")
            )
        return f"{plain(self.actor)} {text}" if self.actor else text


OUTPUT_COLUMNS = [
    "rule",
    "direction",
    "date",
    "alert_start",
    "as_of",
    "value",
    "baseline",
    "ratio",
    "ci_low",
    "ci_high",
    "probability",
    "threshold",
    "evidence",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def plain(text) -> str:
    """Data text made safe to paste: control characters and line breaks become
    single spaces (HTML escaping is the report's job; evidence holds no markup)."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def normalize_by(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def weekly_series(panel: pd.DataFrame, actor, by: list[str], measure: str) -> list[Series]:
    """One complete weekly series per group of `by` (absent weeks are zeros,
    NA measures stay NaN), for `actor` when the panel has an actor column."""
    missing = [c for c in ["week", measure, *by] if c not in panel.columns]
    if missing:
        raise ResurgenceError(
            f"the panel has no column(s) {', '.join(missing)}; it has {', '.join(panel.columns)}"
        )
    if actor is not None and "actor" in panel.columns and "actor" not in by:
        # any spelling of the alias table ("Daesh" finds the panel's "ISIS")
        rows = panel["actor"].isin(actor_names(actor))
        if not rows.any():
            actors = ", ".join(sorted(map(str, panel["actor"].dropna().unique()))[:10])
            raise ResurgenceError(f"actor {actor!r} is not in the panel (actors: {actors})")
        panel = panel.loc[rows]
    if panel.empty:
        return []
    weeks = pd.DatetimeIndex(pd.to_datetime(panel["week"]))
    keys = by or ["_all"]
    frame = pd.DataFrame({"week": weeks}, index=panel.index)
    for col in by:
        frame[col] = panel[col].to_numpy()
    if not by:
        frame["_all"] = ""

    def wide(column: str) -> pd.DataFrame:
        """Weeks x groups of `column`'s sums: absent weeks 0, NA kept where every row is NA."""
        values = frame.assign(value=pd.to_numeric(panel[column]).astype("Float64").to_numpy())
        grouped = values.groupby(["week", *keys], sort=True, observed=True, dropna=False)["value"]
        table = grouped.sum(min_count=1).astype(float).unstack(keys)
        table = table.mask(grouped.size().unstack(keys).isna(), 0.0)
        all_weeks = pd.date_range(table.index.min(), table.index.max(), freq="7D")
        if len(all_weeks) != len(table.index) or not all_weeks.equals(pd.DatetimeIndex(table.index)):
            if not table.index.isin(all_weeks).all():
                raise ResurgenceError("panel weeks are not on a 7-day grid; build it with weekly_panel")
            table = table.reindex(all_weeks, fill_value=0.0)
        return table

    values = wide(measure)
    events = wide("incidents") if measure != "incidents" and "incidents" in panel.columns else None
    out = []
    for column in values.columns:
        key = column if isinstance(column, tuple) else (column,)
        label = " / ".join(plain(k) for k in key) if by else "all regions"
        counts = None if events is None else events[column].fillna(0.0).to_numpy(float)
        out.append(
            Series(
                key if by else (),
                label,
                pd.DatetimeIndex(values.index),
                values[column].to_numpy(float),
                counts,
            )
        )
    return out


# --- tracker rules: arrays over every week, each from backward windows only ---
#
# Each rule gives, per direction, a `strength` per week: the flag is raised when
# strength >= the rule's threshold (NaN: the rule cannot flag that week; +inf:
# it flags at any threshold, e.g. activity after a baseline of zero).


def _masked(values: np.ndarray, first_valid: int) -> np.ndarray:
    values = np.asarray(values, dtype=float).copy()
    values[: max(first_valid, 0)] = np.nan
    return values


def _ratio(top: np.ndarray, bottom: np.ndarray, where: np.ndarray) -> np.ndarray:
    """top / bottom where `where` holds (+inf over a zero bottom), NaN elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.inf)
    return np.where(where, ratio, np.nan)


def surge_arrays(y: np.ndarray, t: Thresholds) -> dict:
    s = pd.Series(y)
    w = int(t.surge_weeks)
    baseline = _masked(s.shift(1).rolling(w, min_periods=1).mean(), w)
    with np.errstate(invalid="ignore"):
        ok = (baseline >= t.surge_min_baseline) & ~np.isnan(y)
    return {
        "value": np.asarray(y, float),
        "baseline": baseline,
        "strength": {"up": _ratio(y, baseline, ok), "down": _ratio(baseline, y, ok)},
        "span": 1,
    }


def threat_arrays(y: np.ndarray, t: Thresholds, events: np.ndarray | None = None) -> dict:
    """The threat rule's arrays; `events` (incidents per week, when `y` is another measure)
    carry its minimum activity, `threat_min_recent` events a week over the month (ACLED's)."""
    s = pd.Series(y)
    w, b = int(t.threat_weeks), int(t.threat_baseline_weeks)
    value = _masked(s.rolling(w, min_periods=1).mean(), w - 1)
    activity = value if events is None else pd.Series(events).rolling(w, min_periods=1).mean().to_numpy()
    baseline = _masked(s.shift(w).rolling(b, min_periods=1).mean(), w + b - 1)
    with np.errstate(invalid="ignore"):
        ok = (baseline >= t.threat_min_baseline) & ~np.isnan(value)
        up = ok & (value > 0) & (activity >= t.threat_min_recent)
        down = ok & (baseline > 0)
    return {
        "value": value,
        "baseline": baseline,
        "strength": {"up": _ratio(value, baseline, up), "down": _ratio(baseline, value, down)},
        "span": w,
    }


def record_arrays(y: np.ndarray, t: Thresholds) -> dict:
    w = int(t.record_weeks)
    total = pd.Series(y).fillna(0.0).rolling(w).sum()
    beaten_any = np.zeros(len(y), dtype=bool)
    baseline = np.full(len(y), np.nan)
    years = np.full(len(y), np.nan)
    for n_years in t.record_years:  # ascending: a longer record overwrites a shorter one
        horizon = int(round(n_years * WEEKS_PER_YEAR))
        # 4-week totals that ended w .. horizon weeks before the current one (none overlaps it)
        previous = total.shift(w).rolling(horizon - w + 1).max().to_numpy()
        with np.errstate(invalid="ignore"):
            beaten = total.to_numpy() > previous
        beaten_any |= beaten
        baseline = np.where(beaten, previous, baseline)
        years = np.where(beaten, n_years, years)
    # the threshold is the minimum total (record_min): the strength of a record is its total
    record = np.where(beaten_any, total.to_numpy(), np.nan)
    return {
        "value": total.to_numpy(),
        "baseline": baseline,
        "strength": {"up": record, "down": np.full(len(y), np.nan)},
        "span": w,
        "years": years,
    }


TRACKERS = {"surge": surge_arrays, "threat": threat_arrays, "record": record_arrays}
#: The threshold each rule calibrates under a false-alarm budget (stricter = larger).
CALIBRATED = {
    "surge": "surge_ratio",
    "threat": "threat_ratio",
    "record": "record_min",
    "changepoint": "alpha",
}


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "infinite" if x > 0 else "n/a"
    if abs(x - round(x)) < 1e-9 and abs(x) >= 1:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"


def _day(ts) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):.4g}%"


def threshold_text(rule: str, value: float, ctx: Context) -> str:
    """The `threshold` column: the calibrated threshold and where it came from."""
    name = CALIBRATED[rule]
    default = getattr(ctx.thresholds, name)
    shown = f"{_num(value)}" if rule != "changepoint" else f"{value:g} ({_level(value)} interval)"
    if ctx.budget is None:
        return f"{name} {shown} (fixed)"
    return f"{name} {shown} (false-alarm budget {_num(ctx.budget)} a year; default {default:g})"


def budget_sentence(
    name: str, value: str, default: str, counted: int, years: float, ctx: Context, unit: str = "alarm"
) -> str:
    """What the budget did to the rule's threshold, and the history's count at it."""
    if ctx.budget is None:
        return ""
    did = (
        f"keeps the default {name} {default}"
        if value == default
        else f"raised the {name} from {default} to {value}"
    )
    return (
        f" The false-alarm budget of {_num(ctx.budget)} a year {did}: {counted} {unit}{'s' if counted != 1 else ''} "
        f"in the {years:.1f} years of this series' history at that {name}."
    )


def tracker_paths(rule: str, series: Series, ctx: Context) -> tuple[dict, dict]:
    """The rule's arrays and, per direction, its threshold path over the series."""
    if rule == "threat":
        arrays = threat_arrays(series.values, ctx.thresholds, series.events)
    else:
        arrays = TRACKERS[rule](series.values, ctx.thresholds)
    default = getattr(ctx.thresholds, CALIBRATED[rule])
    years = series_years(len(series.values))
    paths = {
        d: threshold_path(arrays["strength"][d], default, ctx.budget, years)
        for d in ctx.directions
        if not (rule in UP_ONLY and d == "down")
    }
    return arrays, paths


def tracker_flags(rule: str, series: Series, positions, ctx: Context) -> list[dict]:
    """Flag rows of a tracker rule at the given week positions (as_of = end of that week)."""
    t = ctx.thresholds
    arrays, paths = tracker_paths(rule, series, ctx)
    rows = []
    for pos in positions:
        for direction, path in paths.items():
            if not path.flags[pos]:
                continue
            value, baseline = float(arrays["value"][pos]), float(arrays["baseline"][pos])
            threshold = float(path.threshold[pos])
            start = series.weeks[pos - arrays["span"] + 1]
            as_of = series.weeks[pos] + LAST_DAY
            ratio = value / baseline if baseline > 0 else np.inf
            what = ctx.measure_text
            at_least = "at least" if direction == "up" else "at most"
            factor = _num(threshold if direction == "up" else 1 / threshold)
            if rule == "surge":
                text = (
                    f"{series.label}: {_num(value)} {what} in the week of {_day(start)}, "
                    f"{_num(ratio)} times the average of the {t.surge_weeks} weeks before ({_num(baseline)} per week); "
                    f"the surge rule asks for {at_least} {factor} times "
                    f"a baseline of at least {_num(t.surge_min_baseline)}."
                )
                name = "surge ratio"
            elif rule == "threat":
                versus = (
                    f"{_num(ratio)} times the weekly average of the {t.threat_baseline_weeks} weeks before "
                    f"({_num(baseline)}); the threat rule asks for {at_least} {factor} times."
                    if baseline > 0
                    else f"after none in the {t.threat_baseline_weeks} weeks before; the threat rule counts "
                    "new activity in a quiet area."
                )
                text = (
                    f"{series.label}: {what} averaged {_num(value)} per week in the {t.threat_weeks} weeks "
                    f"{_day(start)} to {_day(as_of)}, {versus}"
                )
                name = "threat ratio"
            else:
                n_years = int(arrays["years"][pos])
                text = (
                    f"{series.label}: {_num(value)} {what} in the {t.record_weeks} weeks {_day(start)} to "
                    f"{_day(as_of)}, more than in any {t.record_weeks} weeks of the {n_years} "
                    f"year{'s' if n_years > 1 else ''} before (previous high {_num(baseline)}; "
                    f"minimum {_num(threshold)})."
                )
                name = "record minimum"
            default = _num(getattr(t, CALIBRATED[rule]))
            text += budget_sentence(
                name, _num(threshold), default, int(path.alarms[pos]), float(path.years[pos]), ctx
            )
            rows.append(
                _row(
                    rule,
                    series,
                    ctx,
                    direction,
                    start,
                    series.weeks[path.alert_start[pos]],
                    as_of,
                    (value, baseline, ratio, np.nan, np.nan, np.nan),
                    threshold_text(rule, threshold, ctx),
                    text,
                )
            )
    return rows


def _row(rule, series, ctx, direction, date, alert_start, as_of, numbers, threshold, evidence):
    value, baseline, ratio, ci_low, ci_high, prob = numbers
    row = {
        "rule": rule,
        "direction": direction,
        "date": pd.Timestamp(date),
        "alert_start": pd.Timestamp(alert_start),
        "as_of": pd.Timestamp(as_of),
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "probability": prob,
        "threshold": threshold,
        "evidence": plain(evidence),
    }
    row.update(dict(zip(ctx.by, series.key, strict=True)))
    if "actor" in ctx.columns and "actor" not in ctx.by:
        row["actor"] = canonical_actor(ctx.actor)  # as the panel names it, whatever the spelling asked
    row["measure"] = ctx.measure
    return row


# --- change-point rule: one fit of the whole history known at as_of ---


@dataclass(frozen=True)
class ChangepointReading:
    """The changepoint rule's reading of the history known at week `end`:
    per direction, the recent changes it flags, the interval level (alpha) the
    budget gave (None: silenced) and the changes of the whole fit that qualify
    at that level (the alarms its history counts)."""

    end: int
    known: pd.Series | None = None
    #: per flagged change's location, the first week its date's 95% set allows (the BOCPD window)
    earliest: dict = dataclasses.field(default_factory=dict)
    flagged: dict = dataclasses.field(default_factory=dict)
    alpha: dict = dataclasses.field(default_factory=dict)
    alarms: dict = dataclasses.field(default_factory=dict)
    #: whether the fit carries a seasonal factor (its levels, and the rule's, are de-seasonalised)
    seasonal: bool = False

    def flags(self, direction: str) -> bool:
        return bool(self.flagged.get(direction))


def read_changepoints(series: Series, end: int, ctx: Context) -> ChangepointReading:
    """The changepoint rule on the weeks [0, end].

    Under a budget the rule's history is read from the same fit, not replayed:
    every change of the fit that the rule would call a resurgence at a level
    (interval beyond 1, after a low or declining regime for "up") counts as one
    alarm, wherever it lies (a change stays flagged for the weeks after it is
    found: one consolidated alert). The level is the loosest in
    CHANGEPOINT_ALPHAS (from ``alpha`` on) whose count is at most the budget
    times the series-years. A weekly replay would refit the history at every
    week (about 30 ms a fit on 15 years), too slow for a report of 40 series;
    `backtest` measures the replayed rate (see benchmarks/backtest.py)."""
    from ..changepoints import detect_change_points

    t = ctx.thresholds
    n = end + 1
    y = series.values[:n]
    if n < t.changepoint_min_weeks or not np.nansum(y) > 0:
        return ChangepointReading(end)
    known = pd.Series(y, index=series.weeks[:n])
    cps = detect_change_points(known)
    recent = {loc for loc in cps.locations if n - loc <= t.changepoint_recent_weeks}
    if not recent:
        return ChangepointReading(end)
    ratios = {t.alpha: cps.rate_ratios(alpha=t.alpha)}
    # with a seasonal factor the fit's levels are de-seasonalised: every level the rule sets
    # against them (the average before a change, the weeks since it) is read the same way
    exposure = np.ones(n) if cps.season is None else cps.season.factors(np.arange(n))
    segments = cps.segments.reset_index(drop=True)
    regimes = []  # per change: the regime sentence per direction it qualifies for
    for change in ratios[t.alpha].itertuples(index=False):
        loc = int(change.location)
        before_seg = segments.index[segments["end"] == loc]
        has_earlier = len(before_seg) > 0 and before_seg[0] > 0
        earlier = segments.loc[before_seg[0] - 1, "estimate"] if has_earlier else np.nan
        history = weekly_level(y[:loc], exposure[:loc])
        before = float(change.before)
        regime = {}
        for direction, lower in (("up", before < earlier), ("down", before > earlier)):
            at_or_beyond = before <= history if direction == "up" else before >= history
            if not (lower or at_or_beyond):
                continue
            if lower:
                regime[direction] = (
                    f"a {'decline' if direction == 'up' else 'rise'} from {_num(earlier)} per week"
                )
            elif has_earlier:
                side = "below" if direction == "up" else "above"
                regime[direction] = f"a regime at or {side} the average before it ({_num(history)} per week)"
            else:
                regime[direction] = f"a steady level since the week of {_day(series.weeks[0])}"
        regimes.append(regime)

    def significant(alpha: float, direction: str) -> np.ndarray:
        if alpha not in ratios:
            ratios[alpha] = cps.rate_ratios(alpha=alpha)
        r = ratios[alpha]
        return (r["ci_low"] > 1).to_numpy() if direction == "up" else (r["ci_high"] < 1).to_numpy()

    locations = ratios[t.alpha]["location"].astype(int).to_numpy()
    reading = ChangepointReading(end, known, seasonal=cps.season is not None)
    for direction in ctx.directions:
        qualifies = np.array([direction in regime for regime in regimes], dtype=bool)
        if not (qualifies & np.isin(locations, list(recent))).any():
            continue
        alpha, alarms = t.alpha, None
        if ctx.budget is not None:
            allowed = ctx.budget * n / WEEKS_PER_YEAR + 1e-9
            alpha = None
            # nested intervals: the count falls as the level rises, so the first level within budget
            for level in (t.alpha, *(a for a in CHANGEPOINT_ALPHAS if a < t.alpha)):
                count = int((qualifies & significant(level, direction)).sum())
                if count <= allowed:
                    alpha, alarms = level, count
                    break
        reading.alpha[direction] = alpha
        reading.alarms[direction] = alarms
        if alpha is None:
            continue
        hits = qualifies & significant(alpha, direction) & np.isin(locations, list(recent))
        # a later change the other way at the same level ends the alert (the fit says it reversed)
        reversed_later = significant(alpha, "down" if direction == "up" else "up")
        ratio_rows = ratios[alpha]
        found = []
        for i in np.flatnonzero(hits):
            change = ratio_rows.iloc[i]
            current = current_level(y, int(change.location), t.changepoint_current_weeks, exposure)
            if reversed_later[i + 1 :].any() or not in_force(y, change, current, direction):
                continue
            found.append((change, regimes[i][direction], alpha, current))
        if found:
            reading.flagged[direction] = found
    if reading.flagged:
        # the BOCPD window starts where the change could have started (its date's 95% set), not at
        # the date found: a change dated late would otherwise lose the weeks BOCPD puts it in
        reading.earliest.update(cps.location_intervals().set_index("location")["earliest"].to_dict())
    return reading


def weekly_level(y: np.ndarray, exposure: np.ndarray) -> float:
    """Level per week of `y`: its known total over those weeks' exposure (the fit's seasonal
    factors, mean 1 over a year), i.e. the de-seasonalised level the segments report; the
    plain mean of the known weeks when every exposure is 1. NaN when no week is known."""
    known = ~np.isnan(y)
    weeks = float(np.sum(exposure[known]))
    return float(np.sum(y[known]) / weeks) if weeks > 0 else np.nan


def current_level(y: np.ndarray, location: int, weeks: int, exposure: np.ndarray | None = None):
    """Level of the weeks since the change at `location`, at most the last `weeks` (unknown
    weeks left out), and the number of weeks it spans: (level, span). `exposure` (default 1
    a week) is the fit's seasonal factor per week (`weekly_level`), so that the weeks of a
    low season are not read as a return to the level before the change."""
    first = max(location, len(y) - int(weeks))
    share = np.ones(len(y) - first) if exposure is None else exposure[first:]
    return weekly_level(y[first:], share), len(y) - first


def in_force(y: np.ndarray, change, current: tuple[float, int], direction: str) -> bool:
    """Whether a change still holds at the end of `y`: the current level (`current_level`)
    beyond the level before the change, and for a rise the measure above zero in at least
    `MIN_ACTIVE_WEEKS` weeks since it (see the module docstring)."""
    level = current[0]
    if not np.isfinite(level):
        return False
    if direction == "down":
        return level < float(change.before)
    active = int(np.count_nonzero(np.nan_to_num(y[int(change.location) :]) > 0))
    return level > float(change.before) and active >= MIN_ACTIVE_WEEKS


class ChangepointReplay:
    """The changepoint rule read at several weeks of one series, each fit done once."""

    def __init__(self, series: Series, ctx: Context):
        self.series, self.ctx = series, ctx
        self.readings: dict[int, ChangepointReading] = {}

    def at(self, end: int) -> ChangepointReading:
        if end not in self.readings:
            self.readings[end] = read_changepoints(self.series, end, self.ctx)
        return self.readings[end]

    def alert_start(self, end: int, direction: str) -> int:
        """First week of the run of readings, every `changepoint_step` weeks back from
        `end`, that flag `direction` (each on the data known then)."""
        step = int(self.ctx.thresholds.changepoint_step)
        start = end
        while start - step >= 0 and self.at(start - step).flags(direction):
            start -= step
        return start

    def flags(self, end: int) -> list[dict]:
        """Flag rows at week `end` (as_of = the end of that week)."""
        from ..changepoints import bocpd

        reading = self.at(end)
        if not reading.flagged:
            return []
        series, ctx = self.series, self.ctx
        n = end + 1
        online = bocpd(reading.known)
        as_of = series.weeks[end] + LAST_DAY
        rows = []
        for direction, changes in reading.flagged.items():
            alert_start = series.weeks[self.alert_start(end, direction)]
            for change, regime, alpha, (current, span) in changes:
                loc = int(change.location)
                start = int(reading.earliest[loc])
                k = n - start
                prob = float(online.prob_recent_change(k))
                verb = "rose" if direction == "up" else "fell"
                text = (
                    f"{series.label}: {ctx.measure_text} {verb} from {_num(change.before)} to "
                    f"{_num(change.after)} per week from the week of {_day(series.weeks[loc])} (rate ratio "
                    f"{_num(change.ratio) if np.isfinite(change.ratio) else 'not finite: none before'}, "
                    f"{_level(alpha)} CI {_num(change.ci_low)} to {_num(change.ci_high)}) "
                    f"after {regime}; the last {span} weeks averaged {_num(current)} per week"
                    f"{' de-seasonalised (the fit found an annual cycle)' if reading.seasonal else ''}, still "
                    f"{'above' if direction == 'up' else 'below'} the {_num(change.before)} before it; "
                    f"BOCPD probability of a change in the last {k} weeks (since "
                    f"{_day(series.weeks[start])}, the earliest start its date allows at 95%): {prob:.2f}; "
                    f"data to {_day(as_of)}."
                )
                text += budget_sentence(
                    "interval level",
                    _level(alpha),
                    _level(ctx.thresholds.alpha),
                    reading.alarms[direction],
                    n / WEEKS_PER_YEAR,
                    ctx,
                    unit="qualifying change",
                )
                rows.append(
                    _row(
                        "changepoint",
                        series,
                        ctx,
                        direction,
                        series.weeks[loc],
                        alert_start,
                        as_of,
                        (
                            float(change.after),
                            float(change.before),
                            float(change.ratio),
                            float(change.ci_low),
                            float(change.ci_high),
                            prob,
                        ),
                        threshold_text("changepoint", alpha, ctx),
                        text,
                    )
                )
        return rows


def evaluate(series_list: list[Series], rules, ctx: Context, positions_of, as_of=None) -> pd.DataFrame:
    """Flags of `rules` on each series at the week positions `positions_of(series)`;
    `as_of` is the end of the flagged week unless a query date is given."""
    rows = []
    for series in series_list:
        positions = positions_of(series)
        if len(positions) == 0:
            continue
        # weeks after the last position judged play no part (no look-ahead, less work)
        series = series.upto(int(np.max(positions)))
        for rule in rules:
            if rule == "changepoint":
                replay = ChangepointReplay(series, ctx)
                for pos in positions:
                    rows += replay.flags(int(pos))
            else:
                rows += tracker_flags(rule, series, positions, ctx)
    frame = pd.DataFrame(rows, columns=ctx.columns)
    order = {rule: i for i, rule in enumerate(RULES)}
    frame = frame.sort_values(
        ["rule", *ctx.by, "as_of", "date"],
        key=lambda c: c.map(order) if c.name == "rule" else c,
        kind="stable",
    )
    if as_of is not None:
        frame["as_of"] = as_of
    # the same dtypes whether or not anything was flagged, so replays concatenate cleanly
    types = dict.fromkeys(["rule", "actor", "measure", "direction", "threshold", "evidence"], "str")
    types |= dict.fromkeys(["date", "alert_start", "as_of"], "datetime64[us]")
    types |= dict.fromkeys(["value", "baseline", "ratio", "ci_low", "ci_high", "probability"], "float64")
    types |= ctx.by_dtypes
    frame = frame.astype({col: kind for col, kind in types.items() if col in frame.columns})
    return frame.reset_index(drop=True)


def check_rules(rules) -> tuple:
    rules = (rules,) if isinstance(rules, str) else tuple(rules)
    unknown = [r for r in rules if r not in RULES]
    if unknown or not rules:
        raise ResurgenceError(
            f"unknown rule(s) {', '.join(map(str, unknown)) or '(none given)'}; choose from {', '.join(RULES)}"
        )
    return rules


def check_direction(direction: str) -> tuple:
    if direction == "both":
        return DIRECTIONS
    if direction not in DIRECTIONS:
        raise ResurgenceError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
    return (direction,)


def check_budget(budget) -> float | None:
    if budget is None:
        return None
    try:
        value = float(budget)
    except (TypeError, ValueError):
        value = np.nan
    if not (np.isfinite(value) and value >= 0):
        raise ResurgenceError(
            f"false_alarm_budget must be a number of alarms a year >= 0 or None, got {budget!r}"
        )
    return value


def find_resurgence(
    panel: pd.DataFrame,
    actor: str | None = "ISIS",
    by="region",
    measure: str | Sequence[str] = "fatalities_best",
    as_of=None,
    rules=RULES,
    *,
    direction: str = "up",
    false_alarm_budget: float | None = DEFAULT_FALSE_ALARM_BUDGET,
    **thresholds,
) -> pd.DataFrame:
    """Resurgence flags, one row per flag, from a weekly panel (see the module
    docstring for the rules). Only weeks complete by `as_of` are used, so the
    answer for a date never depends on data after it. `direction="down"` or
    `"both"` also reports declines (changepoint, surge, threat).

    `false_alarm_budget` (alarms per series-year, per rule and direction;
    default `DEFAULT_FALSE_ALARM_BUDGET` = 1): each rule's threshold is the
    loosest, no looser than its keyword default, that raises at most that many
    alarms a year when replayed on the series' own history up to `as_of`
    (every alarm counts: the history carries no truth; see `calibrate`). The
    `threshold` column and the evidence say which threshold that gave. `None`
    uses the fixed thresholds.

    `alert_start` is the first week of the flag's current run (consecutive
    flagged weeks are one alert; see `alert_history` for past ones).

    `measure` may name several panel columns (e.g. ``("incidents",
    "fatalities_best")``): each is judged on its own and the flags stacked, the
    `measure` column telling them apart. The thresholds used, the budget and the
    as-of date are kept in ``flags.attrs`` (``"thresholds"``,
    ``"false_alarm_budget"``, ``"as_of"``, ``"measures"``), and what the
    history allowed: ``"history_weeks"`` (complete weeks by `as_of`),
    ``"weeks_needed"`` (rule -> weeks, `rule_history`) and ``"not_evaluated"``
    (rule -> reason, e.g. ``"26 weeks of history, the rule needs 53"``, for the
    rules the series is too short for: their silence is no evidence)."""
    measures = (measure,) if isinstance(measure, str) else tuple(measure)
    rules = check_rules(rules)
    frames = []
    for one in measures:
        frame = _find_one(panel, actor, by, one, as_of, rules, direction, thresholds, false_alarm_budget)
        frame.attrs = {
            "thresholds": dataclasses.asdict(Thresholds.from_kwargs(thresholds)),
            "false_alarm_budget": check_budget(false_alarm_budget),
            **{key: frame.attrs[key] for key in ("as_of", "history_weeks", "weeks_needed", "not_evaluated")},
            "measures": (one,),
            "rules": rules,
        }
        frames.append(frame)
    return stack_measures(frames)


def stack_measures(flags: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The flags of `find_resurgence` calls that differ only in their measures, as the one call
    with all those measures (in that order) gives them: stacked, with the first call's attrs
    (the history, thresholds and date of the panel) and every measure. The measures can so be
    judged apart, e.g. on two cores."""
    stacked = pd.concat(flags, ignore_index=True) if len(flags) > 1 else flags[0]
    stacked.attrs = {
        **flags[0].attrs,
        "measures": tuple(m for frame in flags for m in frame.attrs["measures"]),
    }
    return stacked


def resolve_as_of(series_list: list[Series], as_of, data_end=None) -> pd.Timestamp | None:
    """The query date: given, or the end of the panel's last week, or the last day the data
    cover (`data_end`, the panel's attrs) if that is earlier: a last week the data cover only
    in part is not judged as a complete one. A date before the panel's first week is
    complete (nothing to judge) or that is not a date is an error."""
    if as_of is not None:
        try:
            query = pd.Timestamp(as_of).normalize()
        except (TypeError, ValueError):
            raise ResurgenceError(f"as_of must be a date, not {as_of!r}") from None
        first = min((s.weeks[0] for s in series_list), default=None)
        if first is not None and query < first + LAST_DAY:
            raise ResurgenceError(
                f"as_of {query:%Y-%m-%d} is before the panel's first complete week "
                f"({first:%Y-%m-%d} to {first + LAST_DAY:%Y-%m-%d}): nothing to judge"
            )
        return query
    cutoff = max((s.weeks[-1] for s in series_list), default=None)
    if cutoff is None:
        return None
    return cutoff + LAST_DAY if data_end is None else min(cutoff + LAST_DAY, pd.Timestamp(data_end))


def rule_history(rules, thresholds: Thresholds, budget: float | None) -> dict[str, int]:
    """Weeks of history each rule needs before it can flag anything (see the module
    docstring): its own windows, and under a budget `b` > 0 at least 1/b years."""
    t = thresholds
    own = {
        "changepoint": int(t.changepoint_min_weeks),
        "surge": int(t.surge_weeks) + 1,
        "threat": int(t.threat_weeks) + int(t.threat_baseline_weeks),
        "record": int(t.record_weeks) + int(round(min(t.record_years) * WEEKS_PER_YEAR)),
    }
    if budget:
        # the first alarm is admitted once budget x series-years reaches 1
        year = math.ceil(WEEKS_PER_YEAR / budget - 1e-9)
        own = {rule: max(weeks, year) for rule, weeks in own.items()}
    return {rule: own[rule] for rule in rules}


def not_evaluated(needed: dict[str, int], weeks: int) -> dict[str, str]:
    """rule -> why it was not evaluated, for the rules `weeks` of history are too few for."""
    return {
        rule: f"{weeks} weeks of history, the rule needs {need}"
        for rule, need in needed.items()
        if need > weeks
    }


def last_complete_week(series: Series, as_of: pd.Timestamp) -> np.ndarray:
    """Position of the series' last week complete by `as_of` (empty when none is)."""
    complete = np.flatnonzero(series.weeks + LAST_DAY <= as_of)
    return complete[-1:]


def _find_one(panel, actor, by, measure: str, as_of, rules, direction, thresholds, budget) -> pd.DataFrame:
    ctx = Context.make(panel, actor, by, measure, direction, thresholds, budget)
    series_list = weekly_series(panel, actor, ctx.by, measure)
    as_of = resolve_as_of(series_list, as_of, panel.attrs.get("data_end"))
    flags = evaluate(series_list, rules, ctx, lambda s: last_complete_week(s, as_of), as_of)
    weeks = max(
        (int(last[0]) + 1 for s in series_list if len(last := last_complete_week(s, as_of))), default=0
    )
    needed = rule_history(rules, ctx.thresholds, ctx.budget)
    flags.attrs.update(
        as_of=as_of, history_weeks=weeks, weeks_needed=needed, not_evaluated=not_evaluated(needed, weeks)
    )
    return flags
