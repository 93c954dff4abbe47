"""Past alerts: one row per consolidated alert (a run of consecutive flagged
weeks), each week judged on the data and thresholds known then."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..normalize import canonical_actor
from .calibrate import DEFAULT_FALSE_ALARM_BUDGET, run_starts
from .rules import (
    RULES,
    ChangepointReplay,
    Context,
    Series,
    check_rules,
    last_complete_week,
    resolve_as_of,
    tracker_paths,
    weekly_series,
)

HISTORY_COLUMNS = ["direction", "start", "end", "ongoing"]
#: Rules `alert_history` replays by default: the trackers are judged every week at
#: no extra cost; the changepoint rule needs a refit per replayed week (opt in).
HISTORY_RULES = ("surge", "threat", "record")


def _runs(points: np.ndarray, flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) point of every run of consecutive flagged points."""
    starts = np.flatnonzero(run_starts(flags))
    ends = np.flatnonzero(run_starts(flags[::-1]))[::-1]
    ends = len(flags) - 1 - ends
    return [(int(points[a]), int(points[b])) for a, b in zip(starts, ends, strict=True)]


def _series_alerts(series: Series, rule: str, last: int, first: int, ctx: Context) -> list[tuple]:
    """(direction, first week, last week) of the alerts of one rule on one series."""
    series = series.upto(last)
    if rule == "changepoint":
        replay = ChangepointReplay(series, ctx)
        # every `changepoint_step` weeks back from the last week, as `find_resurgence` dates alert starts
        points = np.arange(last, first - 1, -int(ctx.thresholds.changepoint_step))[::-1]
        readings = [replay.at(int(p)) for p in points]
        flagged = {d: np.array([r.flags(d) for r in readings], dtype=bool) for d in ctx.directions}
    else:
        _, paths = tracker_paths(rule, series, ctx)
        points = np.arange(first, last + 1)
        flagged = {d: path.flags[first:] for d, path in paths.items()}
    return [(d, a, b) for d, flags in flagged.items() for a, b in _runs(points, flags)]


def alert_history(
    panel: pd.DataFrame,
    actor: str | None = "ISIS",
    by="region",
    measure: str | Sequence[str] = "fatalities_best",
    as_of=None,
    rules=HISTORY_RULES,
    *,
    direction: str = "up",
    false_alarm_budget: float | None = DEFAULT_FALSE_ALARM_BUDGET,
    since=None,
    **thresholds,
) -> pd.DataFrame:
    """One row per consolidated alert up to `as_of`: [rule, actor (when the
    panel has one), by columns, measure, direction, start, end, ongoing].

    An alert is a run of consecutive weeks that `find_resurgence` (same
    arguments) would have flagged at the end of each week, on the data and
    with the thresholds known then; `start` and `end` are its first and last
    weeks (week starts, as in the panel) and `ongoing` says it is still flagged
    in the week of `as_of`. `since` starts the replay at that date (an alert
    running then starts there). The tracker rules (the default `rules`) are
    judged every week, all at once (under a second for 19 Iraqi governorates x
    2 measures x 15 years). The changepoint rule, when asked for, is judged
    every ``changepoint_step`` (4) weeks back from `as_of`, one refit each
    (about 35 ms per fit of 15 years: some 35 s for 19 governorates x 2
    measures over two years), as `find_resurgence` dates its alert starts."""
    measures = (measure,) if isinstance(measure, str) else tuple(measure)
    rules = check_rules(rules)
    label = None if actor is None else canonical_actor(actor)  # as the panel names it
    frames = []
    for one in measures:
        ctx = Context.make(panel, actor, by, one, direction, thresholds, false_alarm_budget)
        series_list = weekly_series(panel, actor, ctx.by, one)
        query = resolve_as_of(series_list, as_of, panel.attrs.get("data_end"))
        rows = []
        for series in series_list:
            last = last_complete_week(series, query)
            if len(last) == 0:
                continue
            last = int(last[0])
            first = 0 if since is None else int(np.searchsorted(series.weeks, pd.Timestamp(since)))
            first = min(first, last)
            for rule in rules:
                for d, a, b in _series_alerts(series, rule, last, first, ctx):
                    row = {"rule": rule, **dict(zip(ctx.by, series.key, strict=True)), "measure": one}
                    if "actor" in ctx.columns and "actor" not in ctx.by:
                        row["actor"] = label
                    row.update(direction=d, start=series.weeks[a], end=series.weeks[b], ongoing=b == last)
                    rows.append(row)
        columns = [c for c in ctx.columns if c in ("rule", "actor", *ctx.by, "measure")] + HISTORY_COLUMNS
        frame = pd.DataFrame(rows, columns=columns)
        frames.append(frame.astype({"start": "datetime64[us]", "end": "datetime64[us]", "ongoing": bool}))
    history = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    order = {rule: i for i, rule in enumerate(RULES)}
    keys = [
        "rule",
        *[c for c in history.columns if c not in ("rule", *HISTORY_COLUMNS)],
        "direction",
        "start",
    ]
    history = history.sort_values(keys, key=lambda c: c.map(order) if c.name == "rule" else c, kind="stable")
    return history.reset_index(drop=True)
