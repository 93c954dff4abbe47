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
  change to ``as_of``.
- ``surge`` (ACLED Subnational Surge Tracker): the last week is at least
  ``surge_ratio`` (2) times the mean of the ``surge_weeks`` (4) weeks before it,
  and that mean is at least ``surge_min_baseline`` (1). Down: at most half.
- ``threat`` (ACLED Subnational Threat Tracker): the weekly mean of the last
  ``threat_weeks`` (4, "the last month") weeks is at least ``threat_ratio`` (2)
  times the weekly mean of the ``threat_baseline_weeks`` (52) weeks before that
  month, the baseline being at least ``threat_min_baseline`` (0: new activity in
  a quiet area counts) and the month's weekly mean at least ``threat_min_recent``
  (1: ACLED's dashboard keeps only admin-1 units whose four-week average is at
  least one event, so a single event in a quiet area is not a threat). Down: at
  most half of a non-zero baseline.
- ``record`` (HDX Signals): the total of the last ``record_weeks`` (4 weeks =
  28 days, the weekly panel's nearest to HDX's 30 days) exceeds every 4-week
  total that ended in the ``record_years`` (1 or 3) years before the current
  window, and is at least ``record_min`` (100). Up only: a record low is not a
  signal.

The tracker rules are computed for every week at once from backward-looking
windows, so the value at week t uses weeks up to t only; `backtest` relies on
this and `find_resurgence` takes the last week.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import CasualtyStatsError

RULES = ("changepoint", "surge", "threat", "record")
UP_ONLY = frozenset({"record"})
DIRECTIONS = ("up", "down")
WEEKS_PER_YEAR = 365.25 / 7
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
    changepoint_min_weeks: int = 12
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


@dataclass(frozen=True)
class Context:
    actor: str | None
    by: list
    measure: str
    thresholds: Thresholds
    directions: tuple
    by_dtypes: dict

    @classmethod
    def make(cls, panel: pd.DataFrame, actor, by, measure: str, direction: str, thresholds: dict) -> Context:
        by_cols = normalize_by(by)
        dtypes = {c: panel[c].dtype for c in by_cols if c in panel.columns}
        return cls(
            actor, by_cols, measure, Thresholds.from_kwargs(thresholds), check_direction(direction), dtypes
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
    "as_of",
    "value",
    "baseline",
    "ratio",
    "ci_low",
    "ci_high",
    "probability",
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
        rows = panel["actor"] == actor
        if not rows.any():
            actors = ", ".join(sorted(map(str, panel["actor"].dropna().unique()))[:10])
            raise ResurgenceError(f"actor {actor!r} is not in the panel (actors: {actors})")
        panel = panel.loc[rows]
    if panel.empty:
        return []
    weeks = pd.DatetimeIndex(pd.to_datetime(panel["week"]))
    frame = pd.DataFrame(
        {"week": weeks, "value": pd.to_numeric(panel[measure]).astype("Float64").to_numpy()},
        index=panel.index,
    )
    keys = by or ["_all"]
    for col in by:
        frame[col] = panel[col].to_numpy()
    if not by:
        frame["_all"] = ""
    grouped = frame.groupby(["week", *keys], sort=True, observed=True, dropna=False)["value"]
    sums = grouped.sum(min_count=1).astype(float)
    wide = sums.unstack(keys)
    wide = wide.mask(grouped.size().unstack(keys).isna(), 0.0)
    all_weeks = pd.date_range(wide.index.min(), wide.index.max(), freq="7D")
    if len(all_weeks) != len(wide.index) or not all_weeks.equals(pd.DatetimeIndex(wide.index)):
        if not wide.index.isin(all_weeks).all():
            raise ResurgenceError("panel weeks are not on a 7-day grid; build it with weekly_panel")
        wide = wide.reindex(all_weeks, fill_value=0.0)
    out = []
    for column in wide.columns:
        key = column if isinstance(column, tuple) else (column,)
        label = " / ".join(plain(k) for k in key) if by else "all regions"
        out.append(
            Series(key if by else (), label, pd.DatetimeIndex(wide.index), wide[column].to_numpy(float))
        )
    return out


# --- tracker rules: arrays over every week, each from backward windows only ---


def _masked(values: np.ndarray, first_valid: int) -> np.ndarray:
    values = np.asarray(values, dtype=float).copy()
    values[: max(first_valid, 0)] = np.nan
    return values


def surge_arrays(y: np.ndarray, t: Thresholds) -> dict:
    s = pd.Series(y)
    w = int(t.surge_weeks)
    baseline = _masked(s.shift(1).rolling(w, min_periods=1).mean(), w)
    ok = baseline >= t.surge_min_baseline
    with np.errstate(invalid="ignore"):
        up = ok & (y >= t.surge_ratio * baseline)
        down = ok & (y <= baseline / t.surge_ratio)
    return {"value": np.asarray(y, float), "baseline": baseline, "up": up, "down": down, "span": 1}


def threat_arrays(y: np.ndarray, t: Thresholds) -> dict:
    s = pd.Series(y)
    w, b = int(t.threat_weeks), int(t.threat_baseline_weeks)
    value = _masked(s.rolling(w, min_periods=1).mean(), w - 1)
    baseline = _masked(s.shift(w).rolling(b, min_periods=1).mean(), w + b - 1)
    ok = baseline >= t.threat_min_baseline
    with np.errstate(invalid="ignore"):
        up = ok & (value > 0) & (value >= t.threat_min_recent) & (value >= t.threat_ratio * baseline)
        down = ok & (baseline > 0) & (value <= baseline / t.threat_ratio)
    return {"value": value, "baseline": baseline, "up": up, "down": down, "span": w}


def record_arrays(y: np.ndarray, t: Thresholds) -> dict:
    w = int(t.record_weeks)
    total = pd.Series(y).fillna(0.0).rolling(w).sum()
    up = np.zeros(len(y), dtype=bool)
    baseline = np.full(len(y), np.nan)
    years = np.full(len(y), np.nan)
    for n_years in t.record_years:  # ascending: a longer record overwrites a shorter one
        horizon = int(round(n_years * WEEKS_PER_YEAR))
        # 4-week totals that ended w .. horizon weeks before the current one (none overlaps it)
        previous = total.shift(w).rolling(horizon - w + 1).max().to_numpy()
        with np.errstate(invalid="ignore"):
            beaten = (total.to_numpy() > previous) & (total.to_numpy() >= t.record_min)
        up |= beaten
        baseline = np.where(beaten, previous, baseline)
        years = np.where(beaten, n_years, years)
    return {
        "value": total.to_numpy(),
        "baseline": baseline,
        "up": up,
        "down": np.zeros(len(y), dtype=bool),
        "span": w,
        "years": years,
    }


TRACKERS = {"surge": surge_arrays, "threat": threat_arrays, "record": record_arrays}


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "infinite" if x > 0 else "n/a"
    if abs(x - round(x)) < 1e-9 and abs(x) >= 1:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"


def _day(ts) -> str:
    return pd.Timestamp(ts).date().isoformat()


def tracker_flags(rule: str, series: Series, arrays: dict, positions, ctx: Context) -> list[dict]:
    """Flag rows of a tracker rule at the given week positions (as_of = end of that week)."""
    t = ctx.thresholds
    rows = []
    for pos in positions:
        for direction in ctx.directions:
            if not arrays[direction][pos]:
                continue
            value, baseline = float(arrays["value"][pos]), float(arrays["baseline"][pos])
            start = series.weeks[pos - arrays["span"] + 1]
            as_of = series.weeks[pos] + LAST_DAY
            ratio = value / baseline if baseline > 0 else np.inf
            what = ctx.measure_text
            if rule == "surge":
                text = (
                    f"{series.label}: {_num(value)} {what} in the week of {_day(start)}, "
                    f"{_num(ratio)} times the average of the {t.surge_weeks} weeks before ({_num(baseline)} per week); "
                    f"the surge rule asks for {'at least' if direction == 'up' else 'at most'} "
                    f"{_num(t.surge_ratio if direction == 'up' else 1 / t.surge_ratio)} times "
                    f"a baseline of at least {_num(t.surge_min_baseline)}."
                )
            elif rule == "threat":
                text = (
                    f"{series.label}: {what} averaged {_num(value)} per week in the {t.threat_weeks} weeks "
                    f"{_day(start)} to {_day(as_of)}, {_num(ratio)} times the weekly average of the "
                    f"{t.threat_baseline_weeks} weeks before ({_num(baseline)}); the threat rule asks for "
                    f"{'at least' if direction == 'up' else 'at most'} "
                    f"{_num(t.threat_ratio if direction == 'up' else 1 / t.threat_ratio)} times."
                )
            else:
                n_years = int(arrays["years"][pos])
                text = (
                    f"{series.label}: {_num(value)} {what} in the {t.record_weeks} weeks {_day(start)} to "
                    f"{_day(as_of)}, more than in any {t.record_weeks} weeks of the {n_years} "
                    f"year{'s' if n_years > 1 else ''} before (previous high {_num(baseline)}; "
                    f"minimum {_num(t.record_min)})."
                )
            rows.append(
                _row(
                    rule,
                    series,
                    ctx,
                    direction,
                    start,
                    as_of,
                    value,
                    baseline,
                    ratio,
                    np.nan,
                    np.nan,
                    np.nan,
                    text,
                )
            )
    return rows


def _row(rule, series, ctx, direction, date, as_of, value, baseline, ratio, ci_low, ci_high, prob, evidence):
    row = {
        "rule": rule,
        "direction": direction,
        "date": pd.Timestamp(date),
        "as_of": pd.Timestamp(as_of),
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "probability": prob,
        "evidence": plain(evidence),
    }
    row.update(dict(zip(ctx.by, series.key, strict=True)))
    if "actor" in ctx.columns and "actor" not in ctx.by:
        row["actor"] = ctx.actor
    row["measure"] = ctx.measure
    return row


# --- change-point rule: one fit of the whole history known at as_of ---


def changepoint_flags(series: Series, end: int, ctx: Context) -> list[dict]:
    """Flags of the changepoint rule on the weeks [0, end] (as_of = end of week `end`)."""
    from ..changepoints import bocpd, detect_change_points

    t = ctx.thresholds
    n = end + 1
    y = series.values[:n]
    if n < t.changepoint_min_weeks or not np.nansum(y) > 0:
        return []
    known = pd.Series(y, index=series.weeks[:n])
    cps = detect_change_points(known)
    recent = [loc for loc in cps.locations if n - loc <= t.changepoint_recent_weeks]
    if not recent:
        return []
    ratios = cps.rate_ratios(alpha=t.alpha)
    segments = cps.segments.reset_index(drop=True)
    as_of = series.weeks[end] + LAST_DAY
    candidates = []
    for change in ratios.itertuples(index=False):
        loc = int(change.location)
        if loc not in recent:
            continue
        before_seg = segments.index[segments["end"] == loc]
        has_earlier = len(before_seg) > 0 and before_seg[0] > 0
        earlier = segments.loc[before_seg[0] - 1, "estimate"] if has_earlier else np.nan
        history = float(np.nanmean(y[:loc]))
        before = float(change.before)
        for direction, significant, lower, verb in (
            ("up", change.ci_low > 1, before < earlier, "rose"),
            ("down", change.ci_high < 1, before > earlier, "fell"),
        ):
            at_or_beyond = before <= history if direction == "up" else before >= history
            if direction not in ctx.directions or not significant or not (lower or at_or_beyond):
                continue
            if lower:
                regime = f"a {'decline' if direction == 'up' else 'rise'} from {_num(earlier)} per week"
            elif has_earlier:
                side = "below" if direction == "up" else "above"
                regime = f"a regime at or {side} the average before it ({_num(history)} per week)"
            else:
                regime = f"a steady level since the week of {_day(series.weeks[0])}"
            candidates.append((direction, change, verb, regime))
    if not candidates:
        return []
    online = bocpd(known)
    level = f"{100 * (1 - t.alpha):.0f}%"
    rows = []
    for direction, change, verb, regime in candidates:
        loc = int(change.location)
        k = n - loc
        prob = float(online.prob_recent_change(k))
        date = series.weeks[loc]
        text = (
            f"{series.label}: {ctx.measure_text} {verb} from {_num(change.before)} to {_num(change.after)} "
            f"per week from the week of {_day(date)} (rate ratio {_num(change.ratio)}, {level} CI "
            f"{_num(change.ci_low)} to {_num(change.ci_high)}) after {regime}; "
            f"BOCPD probability of a change in the last {k} weeks: {prob:.2f}; data to {_day(as_of)}."
        )
        rows.append(
            _row(
                "changepoint",
                series,
                ctx,
                direction,
                date,
                as_of,
                float(change.after),
                float(change.before),
                float(change.ratio),
                float(change.ci_low),
                float(change.ci_high),
                prob,
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
        for rule in rules:
            if rule == "changepoint":
                for pos in positions:
                    rows += changepoint_flags(series, int(pos), ctx)
            else:
                arrays = TRACKERS[rule](series.values, ctx.thresholds)
                rows += tracker_flags(rule, series, arrays, positions, ctx)
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
    types = dict.fromkeys(["rule", "actor", "measure", "direction", "evidence"], "str")
    types |= dict.fromkeys(["date", "as_of"], "datetime64[us]")
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


def find_resurgence(
    panel: pd.DataFrame,
    actor: str | None = "ISIS",
    by="region",
    measure: str | Sequence[str] = "fatalities_best",
    as_of=None,
    rules=RULES,
    *,
    direction: str = "up",
    **thresholds,
) -> pd.DataFrame:
    """Resurgence flags, one row per flag, from a weekly panel (see the module
    docstring for the rules). Only weeks complete by `as_of` are used, so the
    answer for a date never depends on data after it. `direction="down"` or
    `"both"` also reports declines (changepoint, surge, threat).

    `measure` may name several panel columns (e.g. ``("incidents",
    "fatalities_best")``): each is judged on its own and the flags stacked, the
    `measure` column telling them apart. The thresholds used and the as-of date
    are kept in ``flags.attrs`` (``"thresholds"``, ``"as_of"``, ``"measures"``)."""
    measures = (measure,) if isinstance(measure, str) else tuple(measure)
    rules = check_rules(rules)
    frames = [_find_one(panel, actor, by, one, as_of, rules, direction, thresholds) for one in measures]
    flags = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    flags.attrs = {
        "thresholds": dataclasses.asdict(Thresholds.from_kwargs(thresholds)),
        "as_of": flags.attrs.get("as_of"),
        "measures": measures,
        "rules": rules,
    }
    return flags


def _find_one(panel, actor, by, measure: str, as_of, rules, direction, thresholds) -> pd.DataFrame:
    ctx = Context.make(panel, actor, by, measure, direction, thresholds)
    series_list = weekly_series(panel, actor, ctx.by, measure)
    if as_of is None:
        cutoff = max((s.weeks[-1] for s in series_list), default=None)
        as_of = None if cutoff is None else cutoff + LAST_DAY
    else:
        as_of = pd.Timestamp(as_of).normalize()

    def last_complete_week(series: Series):
        complete = np.flatnonzero(series.weeks + LAST_DAY <= as_of)
        return complete[-1:] if len(complete) else complete

    flags = evaluate(series_list, rules, ctx, last_complete_week, as_of)
    flags.attrs["as_of"] = as_of
    return flags
