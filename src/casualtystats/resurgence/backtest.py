"""Backtest: replay the resurgence rules week by week with only the data known
then, and score them against known onsets.

Replay. For every week W from `start` to `end` the rules are evaluated with
as_of = the last day of W, i.e. on the weeks up to W only. The tracker rules
(surge, threat, record) are computed for all weeks at once from backward
windows, which is the same as evaluating them week by week (tests check it);
the changepoint rule refits the change points on the history up to W, every
`step` weeks (default every week). Under a false-alarm budget (the default,
as in `find_resurgence`) every replayed week sets its thresholds from the data
known then, so the replay is what `find_resurgence` would have said each week.

Scoring, per rule, group and direction ("up" or "down"):

- Detection of a true onset O (the week containing its date): the first flag
  of the onset's direction raised in a week W with O <= W <= O + `window`
  weeks (default 26) whose `date` (when the flagged change or surge began) is
  no earlier than O - `tolerance` weeks (default 8). Its delay is W - O in
  weeks (0 = flagged at the end of the onset week). A flag about an older
  change that is still being reported does not count.
- False alarm: consecutive replay weeks with a flag form one alarm (a flag
  repeated every week is one alarm, not many). An alarm whose first week does
  not fall in [O - tolerance, O + window] of an onset of the same group and
  direction is false. Rates are per series-year monitored: the number of
  groups times the years replayed.

A truth table without the `by` columns applies each onset to every group; its
other columns (e.g. an event name) are carried into `detections`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..normalize import actor_names, normalize_actors, normalize_regions
from .calibrate import DEFAULT_FALSE_ALARM_BUDGET
from .rules import (
    RULES,
    UP_ONLY,
    WEEK,
    WEEKS_PER_YEAR,
    Context,
    ResurgenceError,
    check_rules,
    evaluate,
    normalize_by,
    weekly_series,
)


@dataclass
class BacktestResult:
    """Per-onset detections, false alarms and every replayed flag."""

    detections: pd.DataFrame
    false_alarms: pd.DataFrame
    flags: pd.DataFrame
    monitored_series_years: float
    rules: tuple
    window: int
    tolerance: int
    step: int
    start: pd.Timestamp
    end: pd.Timestamp
    by: list = field(default_factory=list)
    false_alarm_budget: float | None = None
    directions: tuple = ("up",)

    def summary_frame(self) -> pd.DataFrame:
        """One row per rule and direction: onsets, detected, detection rate,
        median and mean delay (weeks), false alarms, false alarms per series-year,
        and `chance_in_window`: the probability that a detection window holds a
        false alarm by chance (a detection rate near it means little)."""
        rows = []
        directions = sorted(
            set(self.detections["direction"]) | set(self.false_alarms["direction"]) | set(self.directions),
            key=("up", "down").index,
        )
        for rule in self.rules:
            for direction in directions:
                if rule in UP_ONLY and direction == "down":
                    continue
                det = self.detections[
                    (self.detections["rule"] == rule) & (self.detections["direction"] == direction)
                ]
                fa = self.false_alarms[
                    (self.false_alarms["rule"] == rule) & (self.false_alarms["direction"] == direction)
                ]
                delays = det.loc[det["detected"], "delay_weeks"].astype(float)
                rate = len(fa) / self.monitored_series_years if self.monitored_series_years else np.nan
                rows.append(
                    {
                        "rule": rule,
                        "direction": direction,
                        "onsets": len(det),
                        "detected": int(det["detected"].sum()),
                        "detection_rate": det["detected"].mean() if len(det) else np.nan,
                        "median_delay_weeks": delays.median() if len(delays) else np.nan,
                        "mean_delay_weeks": delays.mean() if len(delays) else np.nan,
                        "false_alarms": len(fa),
                        "false_alarms_per_year": rate,
                        # how often a window of this length would hold an alarm by chance
                        # (alarms as a Poisson process at the false-alarm rate)
                        "chance_in_window": -np.expm1(-rate * (self.window + 1) / WEEKS_PER_YEAR),
                    }
                )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        table = self.summary_frame()
        head = (
            f"Backtest {self.start.date()} to {self.end.date()}, {self.monitored_series_years:.1f} series-years "
            f"monitored; detection = a flag of the right direction within {self.window} weeks after the onset "
            f"(about a change that began at most {self.tolerance} weeks before it); "
            f"changepoint replayed every {self.step} week(s), the other rules every week; "
            + (
                "fixed thresholds."
                if self.false_alarm_budget is None
                else f"thresholds under a false-alarm budget of {self.false_alarm_budget:g} a year."
            )
        )
        body = table.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-")
        return f"{head}\n{body}"


def backtest(
    panel: pd.DataFrame,
    truth: pd.DataFrame,
    rules=RULES,
    start=None,
    end=None,
    *,
    actor: str | None = "ISIS",
    by="region",
    measure: str = "fatalities_best",
    direction: str | None = None,
    window: int = 26,
    tolerance: int = 8,
    step: int = 1,
    false_alarm_budget: float | None = DEFAULT_FALSE_ALARM_BUDGET,
    **thresholds,
) -> BacktestResult:
    """Replay `rules` on every week from `start` to `end` (only the data known
    then) and score them against `truth` (columns `date`, optional `direction`
    ("up"/"down", default "up") and `by` columns). `direction=None` replays
    "both" directions when the truth has a downward onset, else "up".
    `false_alarm_budget` and the thresholds are those of `find_resurgence`
    (None: fixed thresholds). An empty truth table scores every alarm as false."""
    by_cols = normalize_by(by)
    rules = check_rules(rules)
    onsets = _onsets(truth, actor, by_cols)
    if direction is None:
        direction = "both" if (onsets["direction"] == "down").any() else "up"
    if int(step) < 1 or int(window) < 0 or int(tolerance) < 0:
        raise ResurgenceError("step must be >= 1 and window, tolerance >= 0 weeks")
    ctx = Context.make(panel, actor, by_cols, measure, direction, thresholds, false_alarm_budget)
    series_list = weekly_series(panel, actor, by_cols, measure)
    if not series_list:
        raise ResurgenceError("the panel has no rows to replay")
    weeks = series_list[0].weeks
    first = weeks[0] if start is None else pd.Timestamp(start)
    last = weeks[-1] if end is None else pd.Timestamp(end)
    replay = np.flatnonzero((weeks >= first) & (weeks <= last))
    if len(replay) == 0:
        raise ResurgenceError(f"no panel week between {first.date()} and {last.date()}")

    frames = []
    trackers = [r for r in rules if r != "changepoint"]
    if trackers:
        frames.append(evaluate(series_list, trackers, ctx, lambda s: replay))
    if "changepoint" in rules:
        frames.append(evaluate(series_list, ["changepoint"], ctx, lambda s: replay[:: int(step)]))
    flags = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    flags["week"] = flags["as_of"] - pd.Timedelta(days=6)

    group_keys = [s.key for s in series_list]
    _check_onset_groups(onsets, ctx.by, group_keys)
    detections = _detections(flags, onsets, rules, ctx, group_keys, weeks, window, tolerance)
    false_alarms = _false_alarms(flags, onsets, ctx, weeks, window, tolerance, step)
    years = len(series_list) * len(replay) / WEEKS_PER_YEAR
    return BacktestResult(
        detections=detections,
        false_alarms=false_alarms,
        flags=flags.drop(columns="week"),
        monitored_series_years=years,
        rules=rules,
        window=int(window),
        tolerance=int(tolerance),
        step=int(step),
        start=weeks[replay[0]],
        end=weeks[replay[-1]],
        by=by_cols,
        false_alarm_budget=ctx.budget,
        directions=ctx.directions,
    )


def _onsets(truth: pd.DataFrame, actor, by_cols) -> pd.DataFrame:
    if "date" not in truth.columns:
        raise ResurgenceError("the truth table needs a 'date' column of onset dates")
    onsets = truth.copy()
    if actor is not None and "actor" in onsets.columns and "actor" not in by_cols:
        onsets = onsets[normalize_actors(onsets["actor"]).isin(actor_names(actor))]
    if "region" in onsets.columns:
        onsets["region"] = normalize_regions(onsets["region"])  # "Nineveh" is the panel's "Ninawa"
    onsets["date"] = pd.to_datetime(onsets["date"])
    if "direction" not in onsets.columns:
        onsets["direction"] = "up"
    bad = set(onsets["direction"]) - {"up", "down"}
    if bad:
        raise ResurgenceError(f"truth directions must be 'up' or 'down', got {sorted(map(str, bad))}")
    return onsets.reset_index(drop=True)


def _check_onset_groups(onsets: pd.DataFrame, by_cols: list, group_keys: list) -> None:
    """An onset naming a group the panel does not have would be scored as missing nothing."""
    for i, col in enumerate(by_cols):
        if col not in onsets.columns:
            continue
        known = {k[i] for k in group_keys}
        unknown = sorted(map(str, set(onsets[col].dropna()) - known))
        if unknown:
            raise ResurgenceError(
                f"truth {col} not in the panel: {', '.join(unknown)} (the panel has "
                f"{', '.join(sorted(map(str, known))[:10])}{', ...' if len(known) > 10 else ''})"
            )


def _onset_week(date: pd.Timestamp, weeks: pd.DatetimeIndex) -> pd.Timestamp:
    """The panel week that contains `date`."""
    pos = weeks.searchsorted(date, side="right") - 1
    return weeks[0] + WEEK * int(np.floor((date - weeks[0]) / WEEK)) if pos < 0 else weeks[pos]


def _matching_groups(onset, ctx: Context, group_keys) -> list[tuple]:
    shared = [c for c in ctx.by if c in onset.index]
    return [k for k in group_keys if all(onset[c] == k[ctx.by.index(c)] for c in shared)]


def _group_mask(flags: pd.DataFrame, ctx: Context, key: tuple) -> pd.Series:
    mask = pd.Series(True, index=flags.index)
    for col, value in zip(ctx.by, key, strict=True):
        mask &= flags[col] == value
    return mask


def _detections(flags, onsets, rules, ctx, group_keys, weeks, window, tolerance) -> pd.DataFrame:
    # other truth columns (labels such as an event name) are carried into the detections
    extra = [c for c in onsets.columns if c not in {"date", "direction", "actor", *ctx.by}]
    rows = []
    for _, onset in onsets.iterrows():
        week = _onset_week(onset["date"], weeks)
        for key in _matching_groups(onset, ctx, group_keys):
            in_group = _group_mask(flags, ctx, key)
            for rule in rules:
                if rule in UP_ONLY and onset["direction"] == "down":
                    continue
                hits = flags[
                    in_group
                    & (flags["rule"] == rule)
                    & (flags["direction"] == onset["direction"])
                    & (flags["week"] >= week)
                    & (flags["week"] <= week + window * WEEK)
                    & (flags["date"] >= week - tolerance * WEEK)
                ].sort_values("week")
                first = hits.iloc[0] if len(hits) else None
                row = dict(zip(ctx.by, key, strict=True))
                row.update(
                    {
                        "rule": rule,
                        "onset": week,
                        "direction": onset["direction"],
                        "detected": first is not None,
                        "delay_weeks": (first["week"] - week) / WEEK if first is not None else np.nan,
                        "flagged_on": first["as_of"] if first is not None else pd.NaT,
                        "flag_date": first["date"] if first is not None else pd.NaT,
                        "evidence": first["evidence"] if first is not None else "",
                    }
                )
                row.update({c: onset[c] for c in extra})
                rows.append(row)
    columns = [
        "rule",
        *ctx.by,
        "onset",
        "direction",
        *extra,
        "detected",
        "delay_weeks",
        "flagged_on",
        "flag_date",
        "evidence",
    ]
    out = pd.DataFrame(rows, columns=columns)
    out["detected"] = out["detected"].astype(bool)
    return out


def _false_alarms(flags, onsets, ctx, weeks, window, tolerance, step) -> pd.DataFrame:
    """The first flag of every alarm (run of consecutive flagged replay weeks)
    that no onset explains."""
    onset_weeks = onsets.assign(
        week=pd.Series(
            [_onset_week(d, weeks) for d in onsets["date"]], index=onsets.index, dtype="datetime64[ns]"
        )
    )
    rows = []
    for (rule, direction, *key), group in flags.groupby(["rule", "direction", *ctx.by], sort=False):
        stride = (step if rule == "changepoint" else 1) * WEEK
        alarm_weeks = group["week"].drop_duplicates().sort_values()
        gaps = alarm_weeks.diff()
        starts = alarm_weeks[gaps.isna() | (gaps > stride)]
        relevant = onset_weeks[onset_weeks["direction"] == direction]
        for col, value in zip(ctx.by, key, strict=True):
            if col in relevant.columns:
                relevant = relevant[relevant[col] == value]
        for start_week in starts:
            explained = (
                (start_week >= relevant["week"] - tolerance * WEEK)
                & (start_week <= relevant["week"] + window * WEEK)
            ).any()
            if not explained:
                rows.append(group[group["week"] == start_week].iloc[0])
    columns = ["rule", *ctx.by, "direction", "as_of", "date", "value", "baseline", "ratio", "evidence"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows)[columns].reset_index(drop=True)
