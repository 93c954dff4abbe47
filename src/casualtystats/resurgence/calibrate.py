"""Thresholds under a false-alarm budget, and alerts as runs of flagged weeks.

What counts as a false alarm on a real series. A series carries no truth
labels, so nothing tells a true alarm from a false one. Every alarm start on
the series' own history therefore counts against the budget: the budget caps
the alarm rate, and since false alarms are a subset of alarms, the false-alarm
rate is at most the budget whatever the truth was. This is `backtest`'s
definition with no onsets given (an alarm = a run of consecutive flagged
replay weeks; the rate is per series-year replayed), so a budget `b` means:
replaying the rule with the chosen threshold on the weeks known at `as_of`
raises at most ``b x series-years`` alarms. Where real changes happened the
budget is spent partly on them, which makes it conservative, never loose.

Each rule calibrates one threshold, stricter than or equal to its fixed
default (the budget tightens a rule, never loosens it below its published
convention; a rule whose defaults already honour the budget is unchanged):

- surge: ``surge_ratio`` (the mirror 1/ratio for "down");
- threat: ``threat_ratio`` (likewise);
- record: ``record_min``, the smallest 4-week total that may count as a record;
- changepoint: the evidence level of the rate-ratio interval (``alpha`` 0.05,
  then 0.01, 0.001, 0.0001); see `rules.read_changepoints` for how its history
  is counted (from its fit of that history, not a weekly replay).

The chosen threshold is the smallest candidate that keeps the replayed alarms
within the budget. Candidates are the default and every rule strength observed
up to that week (the alarm count only changes there), so the choice is exact,
not on a grid, and uses only the data known then. It rises as the budget
shrinks (a smaller budget admits a subset of the candidates), although the
count itself need not fall as the threshold rises (a run of flags can split).
A rule with no admissible threshold is silenced
(threshold infinite). A series needs 1/budget years of history before the
budget admits its first alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Alarms per series-year (per rule and direction) that `find_resurgence`,
#: the report and the briefing allow by default: at most one a year.
DEFAULT_FALSE_ALARM_BUDGET = 1.0
WEEKS_PER_YEAR = 365.25 / 7


def run_starts(flags: np.ndarray) -> np.ndarray:
    """True where a run of consecutive True values begins."""
    flags = np.asarray(flags, dtype=bool)
    previous = np.r_[False, flags[:-1]] if flags.ndim == 1 else np.pad(flags, ((0, 0), (1, 0)))[:, :-1]
    return flags & ~previous


def run_start_index(flags: np.ndarray) -> np.ndarray:
    """For each flagged position, the position where its run began (-1 where unflagged)."""
    flags = np.asarray(flags, dtype=bool)
    marks = np.where(run_starts(flags), np.arange(len(flags)), -1)
    return np.where(flags, np.maximum.accumulate(marks) if len(flags) else marks, -1)


@dataclass(frozen=True)
class ThresholdPath:
    """A rule's threshold and flags at every point of a series, each from the
    data known at that point; `alarms`: the alarms the chosen threshold raised
    on the history up to the point, `years`: the series-years of that history."""

    threshold: np.ndarray
    flags: np.ndarray
    alarms: np.ndarray
    years: np.ndarray

    @property
    def alert_start(self) -> np.ndarray:
        return run_start_index(self.flags)


def threshold_path(
    strength: np.ndarray, default: float, budget: float | None, years: np.ndarray
) -> ThresholdPath:
    """Thresholds of one rule and direction at every point (see the module docstring).

    strength: the rule's statistic per point (flag when >= threshold; NaN =
    the rule cannot flag there, +inf = it flags at any finite threshold).
    years: series-years monitored up to and including each point."""
    strength = np.asarray(strength, dtype=float)
    years = np.asarray(years, dtype=float)
    n = len(strength)
    with np.errstate(invalid="ignore"):
        at_default = (strength >= default) & np.isfinite(default)  # an infinite threshold silences the rule
    if budget is None:
        alarms = np.cumsum(run_starts(at_default))
        return ThresholdPath(np.full(n, float(default)), at_default, alarms, years)
    finite = np.isfinite(strength) & at_default
    values, first = np.unique(strength[finite], return_index=True)
    first = np.flatnonzero(finite)[first]  # position where each candidate was first observed
    keep = values > default
    candidates = np.r_[default, values[keep], np.inf]  # ascending; inf = the rule silenced
    seen_from = np.r_[0, first[keep], 0]
    with np.errstate(invalid="ignore"):
        flagged = strength[None, :] >= candidates[:-1, None]
    flagged = np.vstack([flagged, np.zeros((1, n), dtype=bool)])
    alarms = np.cumsum(run_starts(flagged), axis=1)
    allowed = budget * years + 1e-9
    seen = seen_from[:, None] <= np.arange(n)[None, :]
    # a candidate not yet observed is not a choice at that point
    within = (alarms <= allowed[None, :]) & seen
    pick = np.argmax(within, axis=0)  # the smallest admissible; the silenced row always is
    cols = np.arange(n)
    return ThresholdPath(candidates[pick], flagged[pick, cols], alarms[pick, cols], years)


def series_years(n_points: int) -> np.ndarray:
    """Series-years monitored up to each week of a weekly series."""
    return np.arange(1, n_points + 1) / WEEKS_PER_YEAR
