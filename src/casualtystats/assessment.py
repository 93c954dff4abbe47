"""The assessment: what the report and the briefing say, decided once.

`assess(...)` turns what the other stages returned (weekly and monthly panels
by region, `fit_trend` results, `find_resurgence` flags, optionally the
region's past alerts, a monthly forecast table and the merge's overlap and
unrecorded-incident tables) into one consolidated `Assessment`:

- one `RegionAssessment` per region: its direction, the rules that fired on
  which measures in one cell, since when, its previous alert, this month
  against the previous month and the same month a year earlier, a strength
  of evidence used for ranking, and the evidence sentences;
- 3-5 key judgments, one sentence each with its numbers, ranked by strength;
- the outlook (next month's median and 80% range) where a forecast exists;
- the caveats (coverage, quarantine, merge overlap, which sources the totals
  come from).

`build_assessment(loaded, ...)` composes the public pipeline to get those
inputs from loaded incidents; the report (HTML) and the briefing (markdown,
JSON) only render its result. Nothing here is estimated: every number is read
from a panel or from a result object of another stage.

Definitions (the defaults are module constants):

- direction (`DIRECTION_MEASURE` = weekly incidents, the count least moved
  by a single mass-casualty attack): `fit_trend`'s `growth_per_month` over its
  growth window (`growth_window_weeks`, 13 weeks by the trend stage's
  contract): *rising* when its interval lies above 0, *falling* below 0,
  *steady* only when it lies within +-`STEADY_BAND` (10%) a month, so that
  neither a rise nor a fall of any size that matters is compatible with the
  data; *no clear trend* when it contains 0 but reaches beyond that band (the
  data cannot tell a rise from a fall); *not estimated* (with the reason) when
  the series cannot take a trend. The trend is fitted on the last
  `DIRECTION_HISTORY_WEEKS` (156) weeks complete by the as-of date.
- strength of evidence: how many standard errors the region's clearest
  interval estimate lies from "no change", ``|log(point)| / se`` with
  ``se = (log(high) - log(low)) / (2 z)`` from a two-sided interval: the
  trend's growth (as 1 + growth) and each changepoint flag's rate ratio.
  Tracker rules (surge, threat, record) carry no interval and add no
  strength.
- region order: regions where a rule fired or whose direction is rising or
  falling come first, by strength, then more rules fired, then more incidents
  this month; then the rest by incidents this month (a trend that is not a
  signal orders nothing: a quiet region must not rank above an active one).
- direction: not estimated from fewer than `MIN_DIRECTION_WEEKS` (26) complete
  weeks, or when the growth window holds no incident (growth from 0 to 0).
- rules: `find_resurgence` by region and on the all-regions series.
  "Alert since" is, per rule, the first week of its current run of flagged
  weeks; for the changepoint rule no earlier than the change its evidence
  cites (a continuous alert can outlive the change that began it). Rules
  the history was too short for (`find_resurgence`'s ``not_evaluated``) are
  said to be "not evaluated: N weeks of history, the rules need M" (a
  judgment and a caveat), never "no rule fired".
- outlook: `forecast` of the all-regions series and each listed region; a
  series whose forecast fails (`ForecastError`, e.g. deaths unknown in every
  week with incidents) is left out and named in a caveat, the others keep
  theirs.
- sources: when a source's records stop (or start) inside the data's span
  (`compose.SOURCE_GAP_PROBABILITY`), the caveats say so, and every judgment
  whose compared period or alert spans that date says the change may be the
  source's.
- a region is listed when it had an incident in the `ACTIVE_MONTHS` months
  to the as-of date or a rule fired on it. Incidents without a region are a
  row of their own, "no region recorded", never a region called "Unknown".
"""

from __future__ import annotations

import functools
import math
import operator
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import compose
from .aggregate import complete_weeks
from .resurgence.rules import RULES
from .sources.citation import SourceTerms, cite
from .sources.load import UNKNOWN_REGION

#: Weekly measure whose trend gives a region's direction.
DIRECTION_MEASURE = "incidents"
#: Weeks of history the direction trend is fitted on: the direction is a statement about the last
#: weeks, and a decade-old regime should neither stiffen the curve at its end nor cost fitting time.
DIRECTION_HISTORY_WEEKS = 156
#: Fewest complete weeks a direction is estimated from: two growth windows, so that the growth
#: over the last one is read against weeks before it, not from the window's weeks alone.
MIN_DIRECTION_WEEKS = 26
#: Directions and their arrows.
ARROWS = {"rising": "↑", "falling": "↓", "steady": "→", "no clear trend": "~", "not estimated": "·"}
#: "Steady" only when the growth interval lies within +-this much a month (over a 13-week window
#: about +-30% in all): a wider interval containing 0 is "no clear trend", not evidence of stability.
STEADY_BAND = 0.10
#: How incidents without a region are named (never as if "Unknown" were a place).
NO_REGION = "no region recorded"
#: Name of the series of all regions together.
ALL_REGIONS = "all regions"
#: A region is listed when it had incidents in this many months up to the as-of date (or an alert).
ACTIVE_MONTHS = 12
#: A trend alone makes a key judgment only where the series averaged at least this many incidents
#: a week over the growth window (rules that fired always do: they carry their own minimums).
MIN_WEEKLY_INCIDENTS = 1.0
#: A key judgment on the share of the month's incidents in its top regions needs at least this many.
MIN_CONCENTRATION_INCIDENTS = 10
#: The all-regions judgment leads the list when it has a signal, or when the month's incidents
#: changed on the previous month by at least this share of the larger month ...
LEAD_CHANGE = 0.5
#: ... with at least this many incidents in one of the two months.
LEAD_MIN_INCIDENTS = 10
#: A month the data end this many days or more before its end is a part month: not compared.
PART_MONTH_DAYS = 7
#: Key judgments: at least / at most.
MIN_JUDGMENTS, MAX_JUDGMENTS = 3, 5
#: Growth window assumed when a trend result does not state its own (the trend stage's default).
DEFAULT_GROWTH_WINDOW_WEEKS = 13
#: Measures of the outlook, in the order shown.
OUTLOOK_MEASURES = ("incidents", "fatalities_best")
#: Measured coverage of the outlook's 80% ranges for next month's total in the rolling-origin
#: backtest of benchmarks/forecast.py (UCDP GED Iraq, 19 governorates, 2008-2018; the first
#: calendar month wholly after each origin), by measure. The forecasts gave those ranges 94% and
#: 93%: an integer range of small counts holds more than its level (a quiet governorate's [0, 1]
#: can hold 95% of the probability); the randomised PIT coverage of the month totals is 0.79.
FORECAST_COVERAGE_80 = {"incidents": 0.93, "killed": 0.92}
#: How the outputs name a measure.
MEASURE_WORDS = {"incidents": "incidents", "fatalities_best": "killed", "injuries_best": "injured"}

_VERBS = {
    "rising": "rose",
    "falling": "fell",
    "steady": "held steady",
    "no clear trend": "showed no clear trend",
    "not estimated": "changed",
}


# --- result objects -------------------------------------------------------------------------


@dataclass
class RegionAssessment:
    """One region (or all regions together): direction, alerts, month comparisons, evidence."""

    region: str
    direction: str
    growth: dict | None  # estimate, ci_low, ci_high, window_weeks, alpha (growth per month)
    direction_note: str
    rules: list[dict]  # one per rule fired: rule, direction, measures, since
    since: pd.Timestamp | None
    previous_alert: pd.Timestamp | None
    month: dict  # totals of the month: incidents, killed, injured (+ low/high)
    previous_month: dict | None
    same_month_last_year: dict | None
    change: dict  # previous_month / same_month_last_year -> change of each measure
    strength: float
    evidence: list[str]
    outlook: list[dict] = field(default_factory=list)  # measure, month, mean, median, low80, high80
    window_incidents: float | None = None  # incidents in the trend's growth window

    @property
    def arrow(self) -> str:
        return ARROWS[self.direction]

    @property
    def rules_text(self) -> str:
        """The rules that fired, consolidated: 'changepoint ↑ (incidents); threat ↑ (incidents, killed)'."""
        return "; ".join(
            f"{r['rule']} {ARROWS['rising' if r['direction'] == 'up' else 'falling']} ({', '.join(r['measures'])})"
            for r in self.rules
        )

    def to_dict(self) -> dict:
        return {
            "region": self.region,
            "direction": self.direction,
            "arrow": self.arrow,
            "growth_per_month": self.growth,
            "direction_note": self.direction_note,
            "rules": [{**r, "since": _iso(r["since"])} for r in self.rules],
            "rules_text": self.rules_text,
            "since": _iso(self.since),
            "previous_alert": _iso(self.previous_alert),
            "month": self.month,
            "previous_month": self.previous_month,
            "same_month_last_year": self.same_month_last_year,
            "change": self.change,
            "strength": round(float(self.strength), 3),
            "evidence": list(self.evidence),
            "outlook": [{**o, "month": str(o["month"])} for o in self.outlook],
            "window_incidents": self.window_incidents,
        }


@dataclass
class KeyJudgment:
    sentence: str
    strength: float
    region: str | None


@dataclass
class Assessment:
    """The consolidated assessment of one actor as of a date.

    `regions` are sorted by strength of evidence (strongest first); `overall` is
    the all-regions series; `key_judgments` 3-5 sentences; `caveats` sentences;
    `flags` the resurgence flags they consolidate; `overlap` / `unrecorded` the
    merge stage's tables (None when the load was not merged); `outlook_weekly`
    the weekly forecast table (for fan charts) when a forecast was made.
    """

    actor: str
    month: pd.Period
    as_of: pd.Timestamp
    overall: RegionAssessment
    regions: list[RegionAssessment]
    key_judgments: list[KeyJudgment]
    caveats: list[str]
    flags: pd.DataFrame
    sources: list[SourceTerms]
    history_available: bool
    growth_window_weeks: int
    outlook: pd.DataFrame | None = None
    outlook_weekly: pd.DataFrame | None = None
    overlap: pd.DataFrame | None = None
    unrecorded: pd.DataFrame | None = None
    coverage: compose.Coverage | None = None
    data_end: pd.Timestamp | None = None
    overall_rules_run: bool = False  # whether the rules were run on the all-regions series
    #: rule -> weeks of history it needs, for the rules the data were too short for (never "fired")
    rules_not_evaluated: dict = field(default_factory=dict)
    history_weeks: int | None = None  # complete weeks the rules read
    panels: dict = field(default_factory=dict, repr=False)
    trends: dict = field(default_factory=dict, repr=False)

    def region(self, name: str) -> RegionAssessment:
        for row in [self.overall, *self.regions]:
            if row.region == name:
                return row
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per region (strongest evidence first), the columns both renderings show."""
        rows = []
        for r in self.regions:
            rows.append(
                {
                    "region": r.region,
                    "direction": r.direction,
                    "arrow": r.arrow,
                    "rules": r.rules_text,
                    "since": r.since,
                    "previous_alert": r.previous_alert,
                    "incidents": r.month["incidents"],
                    "incidents_previous_month": (r.previous_month or {}).get("incidents"),
                    "incidents_same_month_last_year": (r.same_month_last_year or {}).get("incidents"),
                    "strength": r.strength,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        lines = [f"Assessment of {self.actor}, {self.month:%B %Y} (data to {self.as_of:%Y-%m-%d})", ""]
        lines += [f"{i}. {k.sentence}" for i, k in enumerate(self.key_judgments, 1)]
        lines += ["", self.to_frame().to_string(index=False) if self.regions else "(no region listed)"]
        return "\n".join(lines)


# --- composing the inputs -------------------------------------------------------------------


def build_assessment(
    loaded,
    incidents: pd.DataFrame,
    *,
    actor: str,
    month,
    as_of,
    start=None,
    outlook: pd.DataFrame | None = None,
    outlook_weekly: pd.DataFrame | None = None,
    involved: pd.DataFrame | None = None,
) -> Assessment:
    """The assessment of `actor` from a load result (`load_incidents`) and its incidents
    already restricted to the dates wanted (at most `as_of`). `involved` is
    ``involving(incidents, actor)`` when the caller has it already (selected here otherwise).

    Composes `weekly_panel` / `monthly_panel` (by region), `find_resurgence` (both flag
    measures, as of `as_of`, with the resurgence stage's default thresholds), `fit_trend`
    on each listed region's weekly incidents, the resurgence stage's `alert_history`
    and the forecast stage's `forecast` where those stages are installed, and the
    merge result `loaded.merge` when the load merged several sources. `outlook` /
    `outlook_weekly` (monthly and weekly forecast tables, see `assess`) override the
    forecast made here.
    """
    from .aggregate import imprecisely_dated, monthly_panel, weekly_panel
    from .normalize import involving
    from .parallel import map_series
    from .resurgence import find_resurgence, stack_measures

    month = compose.parse_month(month)
    as_of = pd.Timestamp(as_of).normalize()
    mine = involving(incidents, actor) if involved is None else involved
    first = incidents["date_start"].min() if start is None else start
    actor_start = mine["date_start"].min() if start is None else start
    if start is None and pd.notna(actor_start):
        # the actor's series begin with the week of its first incident, which the data cover from
        # their own start on: a week the data cover in full is not a partial week
        actor_start = max(
            pd.Timestamp(first), actor_start.normalize() - pd.Timedelta(days=actor_start.day_of_week)
        )
    # monthly panels start with the data: a month before it is "not covered", not a month of zeros
    panels = {
        "weekly": weekly_panel(mine, by=["actor", "region"], start=actor_start, end=as_of),
        "weekly_total": weekly_panel(mine, by=None, start=actor_start, end=as_of),
        "monthly": monthly_panel(mine, by="region", start=first, end=as_of),
        "monthly_total": monthly_panel(mine, by=None, start=first, end=as_of),
        "weekly_all": weekly_panel(incidents, by=None, start=first, end=as_of),
    }
    # The rules, the alert history and the direction trends do not depend on one another, so
    # they run together on every core (`map_series`: the results of running them one by one).
    # A trend needs only to know that its region is listed: the regions active in the last
    # months are known now, the ones listed only for a flag are fitted once the flags are in.
    weekly = panels["weekly"]
    active = listed_regions(panels["monthly"], pd.DataFrame(), month)
    # the longest tasks first, so that the two cores finish together: the regions' rules, one task
    # per measure (in one task they alone would bound the step)
    by_measure = [
        functools.partial(find_resurgence, weekly, actor=actor, by="region", measure=one, as_of=as_of)
        for one in compose.FLAG_MEASURES
    ]
    others = [
        functools.partial(_alert_history, weekly, actor, as_of),
        functools.partial(
            find_resurgence,
            panels["weekly_total"],
            actor=actor,
            by=None,
            measure=compose.FLAG_MEASURES,
            as_of=as_of,
        ),
        functools.partial(_direction_trend, panels["weekly_total"], as_of),
    ] + [functools.partial(_direction_trend, weekly[weekly["region"] == region], as_of) for region in active]
    done = map_series(operator.call, by_measure + others)
    flags = stack_measures(done[: len(by_measure)])
    history, overall_flags, *fits = done[len(by_measure) :]
    fitted = dict(zip([ALL_REGIONS, *active], fits, strict=True))
    listed = listed_regions(panels["monthly"], flags, month)
    flagged_only = [region for region in listed if region not in fitted]
    series = [weekly[weekly["region"] == region] for region in flagged_only]
    fitted.update(zip(flagged_only, map_series(_direction_trend, series, [as_of] * len(series)), strict=True))
    trends = {name: fitted[name] for name in [ALL_REGIONS, *listed]}
    outlook_problem = None
    if outlook is None and outlook_weekly is None:
        outlook, outlook_weekly, outlook_problem = _forecast(panels, listed, as_of)
    merge = getattr(loaded, "merge", None)  # set by load_incidents when it merged several sources
    if merge is not None:
        merge = merge.within(start, as_of)
    coverage = compose.coverage(loaded, incidents, panels["weekly_all"], involved=mine)
    in_month = compose.select_dates(mine, month.start_time, as_of)
    beyond_month = imprecisely_dated(in_month, "month")  # in no monthly total
    this_year = compose.select_dates(mine, pd.Timestamp(month.year, 1, 1), as_of)
    return assess(
        panels["monthly"],
        panels["monthly_total"],
        flags,
        trends,
        actor=actor,
        month=month,
        as_of=as_of,
        history=history,
        outlook=outlook,
        outlook_weekly=outlook_weekly,
        overall_flags=overall_flags,
        overlap=None if merge is None else merge.overlap(),
        unrecorded=None if merge is None else merge.unrecorded(by=("year",)),
        stacked=merge is None and coverage.spans is not None and len(coverage.spans) > 1,
        coverage=coverage,
        files=[Path(f).name for f in loaded.files["file"]] if "file" in loaded.files else [],
        data_end=loaded.incidents["date_start"].max(),
        month_sources=_source_counts(in_month[~beyond_month]),  # as the totals count them
        outlook_problem=outlook_problem,
        panels=panels,
        imprecise={
            # in the month's totals, not in the weekly models
            "month": in_month[imprecisely_dated(in_month, "week") & ~beyond_month],
            # the year's to as_of dated more coarsely than a month: in no monthly or weekly figure
            "wider": this_year[imprecisely_dated(this_year, "month")],
        },
    )


def listed_regions(monthly: pd.DataFrame, flags: pd.DataFrame, month: pd.Period) -> list:
    """Regions (panel values) with an incident in the `ACTIVE_MONTHS` months to `month`, or a flag."""
    recent = monthly[
        (monthly["month"] > (month - ACTIVE_MONTHS).start_time) & (monthly["month"] <= month.start_time)
    ]
    active = recent.groupby("region", observed=True)["incidents"].sum()
    names = (
        set(active.index[active > 0]) | set(flags["region"])
        if "region" in flags
        else set(active.index[active > 0])
    )
    return sorted(names, key=str)


def _direction_trend(weekly: pd.DataFrame, as_of: pd.Timestamp):
    """`fit_trend` of a series' weekly incidents, or the reason it has none (a string)."""
    from .errors import CasualtyStatsError
    from .trend import fit_trend

    rows = complete_weeks(weekly.sort_values("week"), as_of).tail(DIRECTION_HISTORY_WEEKS)
    series = rows.set_index("week")[DIRECTION_MEASURE].astype(float)
    if len(series) < MIN_DIRECTION_WEEKS:
        return f"no trend: {len(series)} complete weeks of data, fewer than {MIN_DIRECTION_WEEKS}"
    window = series.tail(DEFAULT_GROWTH_WINDOW_WEEKS)
    if not window.fillna(0).any():
        return f"no trend: no {MEASURE_WORDS[DIRECTION_MEASURE]} in the last {len(window)} weeks"
    with warnings.catch_warnings():
        # numerical warnings of one region's fit are summarised as its note, not printed
        warnings.simplefilter("ignore")
        try:
            return fit_trend(series)
        except CasualtyStatsError as err:
            return f"no trend: {err}"
        except (ValueError, np.linalg.LinAlgError) as err:
            return f"no trend: the fit failed ({type(err).__name__})"


def _alert_history(weekly: pd.DataFrame, actor: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Consolidated past alerts of every region (`resurgence.alert_history`), each judged on
    the data known at its week."""
    from .resurgence import alert_history

    return alert_history(weekly, actor=actor, by="region", measure=compose.FLAG_MEASURES, as_of=as_of)


def _forecast(panels: dict, regions: list, as_of: pd.Timestamp):
    """Monthly and weekly forecast tables of the all-regions series and each listed region
    (`casualtystats.forecast`), and {series name: reason} for the series whose forecast could
    not be made (`ForecastError`, e.g. deaths unknown in every week with incidents): those are
    left out, the others keep their outlook. The tables are None when no series could be
    forecast. Only complete weeks are given to the forecast."""
    from .errors import CasualtyStatsError  # ForecastError and the like: expected, one series at a time
    from .forecast import forecast

    weekly = complete_weeks(panels["weekly"], as_of)
    listed = weekly[weekly["region"].isin(regions)]
    made, failed = [], {}

    def attempt(name: str, panel: pd.DataFrame, by: list) -> bool:
        try:
            made.append(forecast(panel, horizon=13, measures=OUTLOOK_MEASURES, by=by))
        except CasualtyStatsError as err:
            failed[name] = str(err)
            return False
        return True

    attempt(ALL_REGIONS, complete_weeks(panels["weekly_total"], as_of), [])
    if not listed.empty and not attempt("regions", listed, ["region"]):
        # one series that cannot be forecast must not cancel the others: forecast them one by one
        del failed["regions"]
        for region, rows in listed.groupby("region", observed=True, sort=True):
            attempt(region_name(region), rows, ["region"])
    if not made:
        return None, None, failed
    monthly = pd.concat([f.monthly() for f in made], ignore_index=True)
    weekly_table = pd.concat([_long(f.to_frame()) for f in made], ignore_index=True)
    return monthly, weekly_table, failed


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    """A forecast's weekly table with `week` as a column (a single series' is indexed by it)."""
    return frame if "week" in frame.columns else frame.reset_index()


def _source_counts(incidents: pd.DataFrame) -> pd.Series | None:
    """Incidents per source combination (merged tables carry `sources`), else None."""
    if "sources" not in incidents.columns or incidents.empty:
        return None
    return incidents["sources"].astype(str).value_counts()


# --- the assessment itself ------------------------------------------------------------------


def assess(
    monthly: pd.DataFrame,
    monthly_total: pd.DataFrame,
    flags: pd.DataFrame,
    trends: dict,
    *,
    actor: str,
    month,
    as_of,
    history: pd.DataFrame | None = None,
    outlook: pd.DataFrame | None = None,
    outlook_weekly: pd.DataFrame | None = None,
    overlap: pd.DataFrame | None = None,
    unrecorded: pd.DataFrame | None = None,
    coverage: compose.Coverage | None = None,
    files: list[str] | None = None,
    data_end=None,
    month_sources: pd.Series | None = None,
    outlook_problem: str | dict | None = None,
    panels: dict | None = None,
    overall_flags: pd.DataFrame | None = None,
    stacked: bool = False,
    imprecise: dict | None = None,
) -> Assessment:
    """Consolidate the results of the other stages into one `Assessment`.

    - `monthly`: a monthly panel by region (`monthly_panel(..., by="region")`) from the
      start of the data (a comparison month before its first month is "not covered") to
      `month`; `monthly_total` the same without grouping.
    - `flags`: `find_resurgence(..., by="region")` output (with `alert_start` when the
      resurgence stage gives it, else `date` is the start).
    - `trends`: region (panel value, or `ALL_REGIONS`) -> `TrendResult` of its weekly
      incidents, or a string saying why there is none. Regions without an entry are
      "not estimated".
    - `history`: `alert_history` rows [rule, region, measure, direction, start, end], or None.
    - `outlook`: a monthly forecast table [region?, measure, month, mean, q0.1, q0.5, q0.9, ...]
      (rows without a region, or no region column, are the all-regions series);
      `outlook_weekly` the weekly one [region?, measure, week, ...] for fan charts.
    - `overlap` [year, sources, incidents] and `unrecorded` [year, observed, estimate,
      unrecorded, ci_low, ci_high, estimate_possible, method] from a merge result; `month_sources` the
      month's incidents per source combination.
    - `coverage`, `files`, `data_end`: for the caveats; `outlook_problem` why a forecast
      could not be made, or {series: reason} for the series left out of it (caveats); `stacked`: several sources were stacked, not merged (a
      caveat: shared incidents count once per source); `imprecise`: {"month": the month's
      incidents dated only to the month, "wider": the year's dated more coarsely} (caveats).
    - `overall_flags`: `find_resurgence(..., by=None)` on the all-regions series; None when
      the rules were run per region only (the outputs say so).
    """
    month = compose.parse_month(month)
    as_of = pd.Timestamp(as_of).normalize()
    z = {"alpha": _flag_alpha(flags)}
    next_month = _next_month(outlook, month)
    window = _growth_window(trends)

    overall = _region_row(
        ALL_REGIONS,
        monthly_total,
        flags.iloc[0:0] if overall_flags is None else overall_flags,
        trends.get(ALL_REGIONS),
        month,
        history=None,
        outlook=_outlook_rows(outlook, None, next_month),
        z=z,
    )
    rows = []
    for region in listed_regions(monthly, flags, month):
        rows.append(
            _region_row(
                region,
                monthly[monthly["region"] == region],
                flags[flags["region"] == region] if "region" in flags else flags.iloc[0:0],
                trends.get(region),
                month,
                history=None if history is None else history[history["region"] == region],
                outlook=_outlook_rows(outlook, region, next_month),
                z=z,
            )
        )
    rows.sort(key=_rank)
    through = as_of if data_end is None else min(as_of, pd.Timestamp(data_end))
    edges = coverage.edges() if coverage is not None else None
    # rule -> weeks of history it needs, for the rules find_resurgence could not evaluate
    unjudged = {
        rule: weeks
        for rule, weeks in flags.attrs.get("weeks_needed", {}).items()
        if rule in flags.attrs.get("not_evaluated", {})
    }
    weeks = flags.attrs.get("history_weeks")
    silence = rules_silence(unjudged, weeks, flags.attrs.get("rules", RULES))
    judgments = key_judgments(
        overall, rows, actor, month, window, through=through, edges=edges, silence=silence
    )
    caveats = _caveats(
        actor,
        month,
        as_of,
        coverage,
        files or [],
        data_end,
        overlap,
        unrecorded,
        month_sources,
        outlook is not None,
        stacked=stacked,
    )
    caveats += _imprecise_caveats(imprecise or {}, month, as_of)
    if unjudged:
        caveats.append(
            f"Resurgence rules not evaluated ({', '.join(unjudged)}): {weeks} weeks of history, "
            f"fewer than they need ({', '.join(f'{r} {w}' for r, w in unjudged.items())}); "
            "their silence is no evidence."
        )
    caveats += _outlook_caveats(outlook_problem, outlook is not None)
    return Assessment(
        actor=actor,
        month=month,
        as_of=as_of,
        overall=overall,
        regions=rows,
        key_judgments=judgments,
        caveats=caveats,
        flags=_named_regions(flags),
        sources=cite(coverage.sources["source"]) if coverage is not None else [],
        history_available=history is not None,
        growth_window_weeks=window,
        outlook=outlook,
        outlook_weekly=outlook_weekly,
        overlap=overlap,
        unrecorded=unrecorded,
        coverage=coverage,
        data_end=None if data_end is None else pd.Timestamp(data_end),
        overall_rules_run=overall_flags is not None,
        rules_not_evaluated=unjudged,
        history_weeks=weeks,
        panels=panels or {},
        trends=trends,
    )


def signalled(r: RegionAssessment) -> bool:
    """Whether a rule fired on the region or its direction is rising or falling."""
    return bool(r.rules) or r.direction in ("rising", "falling")


def _rank(r: RegionAssessment) -> tuple:
    """Sort key of the regions: signalled ones first, by strength and rules fired; then the others by
    the month's incidents (the strength of a trend that is not a signal orders nothing)."""
    strength = -r.strength if signalled(r) else 0.0
    return (not signalled(r), strength, -len(r.rules), -(r.month["incidents"] or 0), r.region)


def region_name(value) -> str:
    """A panel's region value as the outputs name it: missing regions are "no region recorded"."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == UNKNOWN_REGION:
        return NO_REGION
    return str(value)


def _region_row(region, monthly, flags, trend, month, *, history, outlook, z) -> RegionAssessment:
    name = ALL_REGIONS if region == ALL_REGIONS else region_name(region)
    now = compose.totals(monthly, "month", month.start_time)
    compared, change = {}, {}
    first = monthly["month"].min() if len(monthly) else None
    for key, back in (("previous_month", 1), ("same_month_last_year", 12)):
        then = month - back
        covered = first is not None and then.start_time >= first
        compared[key] = compose.totals(monthly, "month", then.start_time) if covered else None
        change[key] = compose.change(now, compared[key]) if covered else None

    direction, growth, note, strengths = "not estimated", None, "", []
    if trend is None:
        note = "no trend fitted"
    elif isinstance(trend, str):
        note = trend
    elif not getattr(trend, "growth_estimable", True):
        note = f"no trend: growth not estimable (no incident in the last {trend.growth_window_weeks} weeks)"
    else:
        g = trend.growth_per_month
        growth = {
            "estimate": float(g["estimate"]),
            "ci_low": float(g["ci_low"]),
            "ci_high": float(g["ci_high"]),
            "window_weeks": int(getattr(trend, "growth_window_weeks", DEFAULT_GROWTH_WINDOW_WEEKS)),
            "level": 1 - float(trend.alpha),
        }
        direction = direction_of(growth["ci_low"], growth["ci_high"])
        strengths.append(_z(1 + growth["estimate"], 1 + growth["ci_low"], 1 + growth["ci_high"], trend.alpha))
        note = (
            f"weekly {MEASURE_WORDS[DIRECTION_MEASURE]} {signed_percent(growth['estimate'])} a month over the last "
            f"{growth['window_weeks']} weeks ({growth['level']:.0%} CI {signed_percent(growth['ci_low'])} to "
            f"{signed_percent(growth['ci_high'])})"
        )

    rules = _consolidate(flags)
    for flag in flags.itertuples():
        if flag.rule == "changepoint" and np.isfinite(flag.ci_low) and np.isfinite(flag.ci_high):
            strengths.append(_z(flag.ratio, flag.ci_low, flag.ci_high, z["alpha"]))
    since = min((r["since"] for r in rules), default=None)
    return RegionAssessment(
        region=name,
        direction=direction,
        growth=growth,
        direction_note=note,
        rules=rules,
        since=since,
        previous_alert=_previous_alert(history, since),
        month=now,
        previous_month=compared["previous_month"],
        same_month_last_year=compared["same_month_last_year"],
        change=change,
        strength=max([s for s in strengths if np.isfinite(s)], default=0.0),
        evidence=[_relabel(e, name) for e in dict.fromkeys(flags["evidence"])] if len(flags) else [],
        window_incidents=_window_incidents(trend),
        outlook=outlook,
    )


def direction_of(ci_low: float, ci_high: float) -> str:
    """The direction a growth-per-month interval supports (see the module docstring)."""
    if ci_low > 0:
        return "rising"
    if ci_high < 0:
        return "falling"
    return "steady" if -STEADY_BAND <= ci_low and ci_high <= STEADY_BAND else "no clear trend"


def _relabel(evidence: str, name: str) -> str:
    """Evidence of the incidents without a region names them as such, not as a place called "Unknown"."""
    prefix = f"{UNKNOWN_REGION}:"
    return (
        f"{name}:{evidence[len(prefix) :]}" if name == NO_REGION and evidence.startswith(prefix) else evidence
    )


def _named_regions(flags: pd.DataFrame) -> pd.DataFrame:
    """The flags with incidents without a region named as such (region and evidence)."""
    if "region" not in flags.columns or not (flags["region"] == UNKNOWN_REGION).any():
        return flags
    unknown = flags["region"] == UNKNOWN_REGION
    out = flags.assign(region=flags["region"].astype(object).where(~unknown, NO_REGION))
    out.loc[unknown, "evidence"] = [_relabel(e, NO_REGION) for e in out.loc[unknown, "evidence"]]
    out.attrs = flags.attrs
    return out


def _window_incidents(trend) -> float | None:
    if trend is None or isinstance(trend, str):
        return None
    window = int(getattr(trend, "growth_window_weeks", DEFAULT_GROWTH_WINDOW_WEEKS))
    return float(trend.fitted["observed"].tail(window).sum())


def _consolidate(flags: pd.DataFrame) -> list[dict]:
    """One entry per (rule, direction): the measures it fired on and the earliest start."""
    if flags.empty:
        return []
    start = flags["alert_start"] if "alert_start" in flags.columns else flags["date"]
    # a changepoint alert is dated no earlier than the change its evidence cites: a run of readings
    # can have begun on an earlier change that the current evidence no longer names
    cited = pd.to_datetime(flags["date"])
    start = pd.to_datetime(start).where(
        (flags["rule"] != "changepoint") | (pd.to_datetime(start) >= cited), cited
    )
    frame = flags.assign(_start=pd.to_datetime(start))
    out = []
    for (rule, direction), rows in frame.groupby(["rule", "direction"], sort=False):
        measures = [MEASURE_WORDS.get(m, str(m)) for m in dict.fromkeys(rows["measure"])]
        out.append(
            {
                "rule": str(rule),
                "direction": str(direction),
                "measures": measures,
                "since": pd.Timestamp(rows["_start"].min()),
            }
        )
    order = {r: i for i, r in enumerate(RULES)}
    return sorted(out, key=lambda r: (order.get(r["rule"], len(order)), r["direction"]))


def _previous_alert(history: pd.DataFrame | None, since: pd.Timestamp | None) -> pd.Timestamp | None:
    """Start of the region's latest consolidated alert that ended before the current one
    began (or before the as-of date when none is current)."""
    if history is None or history.empty:
        return None
    past = history if since is None else history[pd.to_datetime(history["end"]) < since]
    return pd.Timestamp(pd.to_datetime(past["start"]).max()) if len(past) else None


def _z(point: float, low: float, high: float, alpha: float) -> float:
    """Standard errors between a ratio estimate and 1, from its two-sided (1 - alpha) interval."""
    if not (point > 0 and low > 0 and high > low):
        return float("nan")
    se = (math.log(high) - math.log(low)) / (2 * stats.norm.ppf(1 - alpha / 2))
    return abs(math.log(point)) / se


def _flag_alpha(flags: pd.DataFrame) -> float:
    return float(flags.attrs.get("thresholds", {}).get("alpha", 0.05))


def _growth_window(trends: dict) -> int:
    for trend in trends.values():
        if not isinstance(trend, str) and trend is not None:
            return int(getattr(trend, "growth_window_weeks", DEFAULT_GROWTH_WINDOW_WEEKS))
    return DEFAULT_GROWTH_WINDOW_WEEKS


# --- outlook --------------------------------------------------------------------------------


def _next_month(outlook: pd.DataFrame | None, month: pd.Period) -> pd.Period | None:
    """The first forecast month after `month` (the month being assessed)."""
    if outlook is None or outlook.empty:
        return None
    months = sorted({pd.Period(m, freq="M") for m in outlook["month"]})
    later = [m for m in months if m > month]
    return later[0] if later else months[0]


def _outlook_rows(outlook: pd.DataFrame | None, region, next_month) -> list[dict]:
    """Next month's mean, median and 80% range of each measure for one region (None = all regions)."""
    if outlook is None or next_month is None:
        return []
    months = outlook["month"].map(lambda m: pd.Period(m, freq="M"))
    rows = outlook[months == next_month]
    if "region" in rows.columns:
        rows = rows[rows["region"].isna()] if region is None else rows[rows["region"] == region]
    elif region is not None:
        return []
    out = []
    for measure in OUTLOOK_MEASURES:
        row = rows[rows["measure"] == measure]
        if row.empty:
            continue
        row = row.iloc[0]
        out.append(
            {
                "measure": MEASURE_WORDS[measure],
                "month": next_month,
                "mean": float(row["mean"]),
                "median": float(row["q0.5"]),
                "low80": float(row["q0.1"]),
                "high80": float(row["q0.9"]),
            }
        )
    return out


def outlook_text(row: dict) -> str:
    """'median 45 (80% range 30-62)'."""
    return f"median {row['median']:,.0f} (80% range {row['low80']:,.0f}–{row['high80']:,.0f})"


#: The direction rule in one sentence, as both renderings state it.
DIRECTION_RULE = (
    "↑ rising when its 95% interval lies above 0, ↓ falling when below 0, → steady when it lies within "
    f"±{STEADY_BAND:.0%} a month, ~ no clear trend when it contains 0 but reaches further, · not estimated."
)
#: The order of the regions, as both renderings state it.
ORDER_RULE = (
    "Regions where a rule fired or the trend is rising or falling come first, by strength of evidence; "
    "then the others, by incidents this month."
)


def source_line(terms: SourceTerms) -> str:
    """One source as the outputs name it: its name, licence and the citation it asks for;
    simulated records are said to be synthetic (no licence or citation applies)."""
    if compose.source_kind(terms.source) == "synthetic":
        return (
            f"{terms.source}: SYNTHETIC (simulated) records, not real events; no licence or citation applies."
        )
    return f"{terms.name}. Licence: {terms.license}." + (f" Cite: {terms.citation}" if terms.citation else "")


def coverage_statement() -> str:
    """What the 80% ranges are worth: their coverage measured in the forecast benchmark."""
    incidents, killed = FORECAST_COVERAGE_80["incidents"], FORECAST_COVERAGE_80["killed"]
    return (
        "In the forecast benchmark (rolling-origin backtest on UCDP GED Iraq by governorate, 2008-2018, "
        f"benchmarks/forecast.py) the 80% ranges for the next month held {incidents:.0%} of monthly "
        f"incident counts and {killed:.0%} of monthly death tolls, about what the forecasts themselves gave "
        "them: a range of small counts cannot hold exactly 80%, so read them as at least 80% ranges."
    )


# --- key judgments --------------------------------------------------------------------------


def key_judgments(
    overall: RegionAssessment,
    regions: list[RegionAssessment],
    actor: str,
    month: pd.Period,
    window: int,
    *,
    through: pd.Timestamp | None = None,
    edges: pd.DataFrame | None = None,
    silence: str = "no resurgence rule fired",
) -> list[KeyJudgment]:
    """3-5 sentences ranked by strength of evidence: the regions (and the whole) whose
    trend is rising or falling or on which a rule fired, strongest first; when fewer than
    three, the whole, the outlook and where the month's incidents were complete the list.

    `through`: the last day with data (a month that ends later is named "to <day>");
    `edges`: `Coverage.edges()`, the dates a source's records stop or start: a judgment
    whose compared months, trend window or alert span one says so; `silence`: what the
    rules said when none fired (`rules_silence`)."""
    signals = [r for r in [overall, *regions] if r.rules or _material_trend(r)]
    signals.sort(key=lambda r: (-r.strength, -len(r.rules), r.region != ALL_REGIONS))
    # the national picture leads when it is news: a rule fired, a material trend, or a large
    # change on the previous month (June 2014: 99 incidents against 32, below five regions)
    if overall in signals or (not _part_month(month, through) and _large_month_change(overall)):
        signals = [overall, *(r for r in signals if r is not overall)]

    def sentence(r):
        return _signal_sentence(r, actor, month, through=through, edges=edges)

    out = [KeyJudgment(sentence(r), r.strength, r.region) for r in signals]
    out = out[:MAX_JUDGMENTS]
    fillers = []
    if not any(k.region == ALL_REGIONS for k in out):
        fillers.append(KeyJudgment(sentence(overall), overall.strength, ALL_REGIONS))
    if not signals:
        fillers.append(
            KeyJudgment(
                f"No region shows a rise or fall of {actor} incidents over the last {window} weeks that "
                f"its trend interval can tell from no change, and {silence}.",
                0.0,
                None,
            )
        )
    if overall.outlook:
        fillers.append(KeyJudgment(_outlook_sentence(overall, actor), 0.0, ALL_REGIONS))
    where = _concentration_sentence(regions, overall, actor, month)
    if where:
        fillers.append(KeyJudgment(where, 0.0, None))
    for filler in fillers:
        if len(out) >= MIN_JUDGMENTS:
            break
        out.append(filler)
    return out


def rules_silence(not_evaluated: dict, weeks: int | None, rules=RULES) -> str:
    """What the resurgence rules (`rules` run) said when none fired: "no resurgence rule fired",
    or which could not be evaluated for lack of history (`not_evaluated`: rule -> weeks needed)."""
    if not not_evaluated:
        return "no resurgence rule fired"
    needs = sorted(set(not_evaluated.values()))
    need = f"{needs[0]}" if len(needs) == 1 else f"{needs[0]}-{needs[-1]}"
    if set(not_evaluated) >= set(rules):
        return f"the resurgence rules were not evaluated: {weeks} weeks of history, the rules need {need}"
    names = " and ".join(r for r in RULES if r in not_evaluated)
    return f"no resurgence rule fired ({names} not evaluated: {weeks} weeks of history, they need {need})"


def _large_month_change(r: RegionAssessment) -> bool:
    """The month's incidents differ from the previous month's by at least LEAD_CHANGE (as a
    share of the larger) with at least LEAD_MIN_INCIDENTS in one of them."""
    if r.previous_month is None:
        return False
    now, before = r.month["incidents"], r.previous_month["incidents"]
    larger = max(now, before)
    return larger >= LEAD_MIN_INCIDENTS and abs(now - before) >= LEAD_CHANGE * larger


def _missing_days(month: pd.Period, through: pd.Timestamp | None) -> int:
    """Days of `month` after the data's last day `through`."""
    return 0 if through is None else max((month.end_time.normalize() - through).days, 0)


def _part_month(month: pd.Period, through: pd.Timestamp | None) -> bool:
    """The data miss a week or more of `month`: it is not compared with whole months. The data's
    last day is a last incident's, so a few quiet days at the end are not a part month."""
    return _missing_days(month, through) >= PART_MONTH_DAYS


def _material_trend(r: RegionAssessment) -> bool:
    """A rise or fall worth a judgment on its own: the interval excludes 0 and the series averaged
    at least one incident a week over the growth window (ACLED's trackers likewise show only
    admin-1 units averaging one event a week; fewer make a percentage growth meaningless)."""
    if r.direction not in ("rising", "falling") or r.window_incidents is None:
        return False
    return r.window_incidents >= r.growth["window_weeks"] * MIN_WEEKLY_INCIDENTS


def _signal_sentence(
    r: RegionAssessment,
    actor: str,
    month: pd.Period,
    *,
    through: pd.Timestamp | None = None,
    edges: pd.DataFrame | None = None,
) -> str:
    where = {ALL_REGIONS: "Across all regions", NO_REGION: "Where no region was recorded"}.get(
        r.region, f"In {r.region}"
    )
    name = f"{month:%B %Y}"
    missing = _missing_days(month, through)
    partial = _part_month(month, through)
    if missing > 0:
        name += f" (to {through:%d %b}{'; part month, not compared' if partial else ''})"
    now = r.month["incidents"]
    parts = []
    if r.growth is not None:
        g = r.growth
        parts.append(
            f"{actor} incidents {_VERBS[r.direction]} ({signed_percent(g['estimate'])} a month over the last "
            f"{g['window_weeks']} weeks, {g['level']:.0%} CI {signed_percent(g['ci_low'])} to {signed_percent(g['ci_high'])})"
        )
    else:
        parts.append(f"{actor} incidents have no trend estimate ({r.direction_note})")
    compare = f"{_count(now)} incident{'' if now == 1 else 's'} in {name}"
    if r.previous_month is not None and not partial:
        compare += f" against {_count(r.previous_month['incidents'])} in {month - 1:%B}"
    if r.same_month_last_year is not None and not partial:
        compare += f" and {_count(r.same_month_last_year['incidents'])} a year earlier"
    killed = r.month.get("killed")
    if killed is not None:
        compare += f", {killed:,} killed"
    parts.append(compare)
    if r.rules:
        fired = "; ".join(_rule_phrase(rule) for rule in r.rules)
        parts.append(f"alert since {r.since:%d %b %Y} ({fired})")
    return f"{where}, " + "; ".join(parts) + "." + _edge_warning(r, month, through, edges)


def _edge_warning(r: RegionAssessment, month: pd.Period, through, edges) -> str:
    """' Sources changed ...' when a source's records stop or start inside the period the
    judgment compares (the months it names, its trend window, its alerts), else ''."""
    if edges is None or edges.empty:
        return ""
    end = through if through is not None else month.end_time.normalize()
    back = 12 if r.same_month_last_year is not None else 1 if r.previous_month is not None else 0
    starts = [(month - back).start_time]
    if r.growth is not None:
        starts.append(end - pd.Timedelta(weeks=r.growth["window_weeks"]))
    if r.since is not None:
        starts.append(pd.Timestamp(r.since))
    inside = edges[(edges["date"] >= min(starts)) & (edges["date"] <= end)]
    if inside.empty:
        return ""
    verb = {"stops": "stop", "starts": "start"}
    listing = "; ".join(
        f"{e.source}'s records {verb[e.edge]} on {e.date:%d %b %Y}" for e in inside.itertuples()
    )
    return (
        f" The sources changed inside the period compared ({listing}): part of this change may be "
        "the source's, not the violence's."
    )


def _rule_phrase(rule: dict) -> str:
    arrow = "up" if rule["direction"] == "up" else "down"
    return f"{rule['rule']} {arrow} on {' and '.join(rule['measures'])}"


def _outlook_sentence(r: RegionAssessment, actor: str) -> str:
    parts = [f"{o['measure']} {outlook_text(o)}" for o in r.outlook]
    return f"Outlook for {r.outlook[0]['month']:%B %Y}, all regions: {actor} " + "; ".join(parts) + "."


def _concentration_sentence(regions, overall, actor, month) -> str | None:
    """Where the month's incidents were: a share of the top (up to 3) regions when there are at
    least `MIN_CONCENTRATION_INCIDENTS` incidents in more regions than those named, else just
    where they were (a share of a handful says nothing)."""
    total = overall.month["incidents"]
    if not total:
        return None
    active = sorted((r for r in regions if r.month["incidents"]), key=lambda r: -r.month["incidents"])
    if not active:
        return None
    top = active[:3]
    listing = ", ".join(f"{r.region} ({r.month['incidents']:,})" for r in top)
    if total >= MIN_CONCENTRATION_INCIDENTS and len(active) > len(top):
        share = sum(r.month["incidents"] for r in top) / total
        return f"{share:.0%} of the {total:,} {actor} incidents of {month:%B %Y} were in {listing}."
    if total == 1:
        return f"The only {actor} incident of {month:%B %Y} was in {top[0].region}."
    rest = (
        "" if len(active) == len(top) else f" and {compose.counted(len(active) - len(top), 'other region')}"
    )
    return f"The {total:,} {actor} incidents of {month:%B %Y} were in {listing}{rest}."


# --- caveats --------------------------------------------------------------------------------


def _caveats(
    actor,
    month,
    as_of,
    cov,
    files,
    data_end,
    overlap,
    unrecorded,
    month_sources,
    has_outlook,
    *,
    stacked: bool = False,
) -> list[str]:
    out = []
    if cov is not None:
        kinds = ", ".join(
            f"{s.source} ({'SYNTHETIC: simulated records' if s.kind == 'synthetic' else 'reported'})"
            for s in cov.sources.itertuples()
        )
        end = pd.Timestamp(data_end) if data_end is not None else cov.last_date
        out.append(
            f"Data: {', '.join(files) or 'the input'}; sources {kinds}; incidents from "
            f"{cov.first_date:%d %b %Y} to {end:%d %b %Y}"
            + (f" (only those up to {as_of:%d %b %Y} are used here)." if end > as_of else ".")
        )
        if end < as_of:
            out.append(f"The data ends on {end:%d %B %Y}: {month:%B %Y} is incomplete.")
        in_month = [
            w for w in cov.weeks_without_reports if month.start_time - pd.Timedelta(days=6) <= w <= as_of
        ]
        out.append(
            f"Weeks with no report of any incident: {len(in_month)} touching {month:%B %Y}, "
            f"{len(cov.weeks_without_reports):,} of {cov.weeks:,} weeks in the whole coverage."
        )
        reasons = ", ".join(f"{r} ({n:,})" for r, n in cov.quarantine_reasons.head(3).items())
        read = cov.input_rows or cov.quarantined + cov.accepted
        out.append(
            f"Rows quarantined as invalid: {cov.quarantined:,} of {read:,} rows read"
            + (f"; most common reasons: {reasons}." if reasons else ".")
        )
        if cov.excluded_reasons.sum():
            why = ", ".join(f"{r} ({n:,})" for r, n in cov.excluded_reasons.items())
            out.append(
                f"Rows left out as not incidents: {int(cov.excluded_reasons.sum()):,} of {read:,} rows read: {why}."
            )
        for e in cov.edges().itertuples():
            if e.edge == "stops":
                out.append(
                    f"{e.source}'s records stop on {e.date:%d %b %Y}, before the data's last date "
                    f"({e.other:%d %b %Y}): later figures come from the other sources alone, so a fall "
                    "after that date may be the source ending, not the violence."
                )
            else:
                out.append(
                    f"{e.source}'s records start on {e.date:%d %b %Y}, after the data's first date "
                    f"({e.other:%d %b %Y}): earlier figures come from the other sources alone, so a rise "
                    "at that date may be the source starting, not the violence."
                )
        if stacked:
            out.append(
                f"Sources stacked, not merged ({', '.join(cov.spans['source'])}; merge=False, --no-merge): "
                "an incident that several sources reported is counted once per source, so totals "
                "overcount the incidents they share."
            )
        for s in cov.unknown_injuries.itertuples():
            if s.injuries_unknown:
                out.append(
                    f"Injuries unknown for {s.injuries_unknown:,} of the {s.incidents:,} {s.source} incidents "
                    f"involving {actor} (counted as unknown, not zero)."
                )
        if len(cov.unmatched_actors) or len(cov.unmatched_regions):
            out.append(
                f"Names not in the alias tables, kept as given: {len(cov.unmatched_actors)} "
                f"actor{'s' * (len(cov.unmatched_actors) != 1)}, "
                f"{len(cov.unmatched_regions)} region{'s' * (len(cov.unmatched_regions) != 1)}."
            )
    if overlap is not None and len(overlap):
        by_combo = overlap.groupby("sources")["incidents"].sum().sort_values(ascending=False)
        listing = ", ".join(f"{combo} {n:,}" for combo, n in by_combo.items())
        multi = int(by_combo[[("+" in str(c)) for c in by_combo.index]].sum())
        out.append(
            f"Sources merged: one row per real-world incident; {multi:,} of {int(by_combo.sum()):,} incidents "
            f"of all actors up to {as_of:%d %b %Y} were reported by more than one source (incidents per "
            f"source combination: {listing})."
        )
    if month_sources is not None and len(month_sources):
        listing = ", ".join(f"{combo} {n:,}" for combo, n in month_sources.items())
        out.append(
            f"The {month:%B %Y} totals of {actor} come from: {listing} (incidents per source combination; "
            "a matched incident's figures combine its sources by the merge rule, never their sum)."
        )
    if unrecorded is not None and len(unrecorded):
        out.append(_unrecorded_caveat(unrecorded, actor, month, as_of))
    if has_outlook:
        # the Outlook section quotes the whole statement; a caveat says what it means for a reader
        incidents, killed = FORECAST_COVERAGE_80["incidents"], FORECAST_COVERAGE_80["killed"]
        out.append(
            f"Outlook: read the 80% ranges as at least 80% ranges (in the forecast benchmark they held "
            f"{incidents:.0%} of monthly incident counts and {killed:.0%} of death tolls); their coverage "
            f"was not checked on {compose.file_names(files)}."
        )
    return out


#: Series whose failed forecast a caveat names with its reason; more are only counted.
MAX_NAMED_FAILURES = 5


def _outlook_caveats(problem: str | dict | None, any_outlook: bool) -> list[str]:
    """Why the outlook, or part of it, is missing: `problem` is a reason or {series: reason}."""
    if not problem:
        return []
    if isinstance(problem, str) or not any_outlook:
        reason = problem if isinstance(problem, str) else next(iter(problem.values()))
        return [f"No outlook: the forecast could not be made ({reason})."]
    names = list(problem)
    shown = ", ".join(names[:MAX_NAMED_FAILURES]) + (
        f" and {len(names) - MAX_NAMED_FAILURES} more" if len(names) > MAX_NAMED_FAILURES else ""
    )
    return [
        f"No outlook for {len(names)} series ({shown}): the forecast could not be made "
        f"({'e.g. ' if len(names) > 1 else ''}{problem[names[0]]}); the other series keep theirs."
    ]


def _imprecise_caveats(imprecise: dict, month: pd.Period, as_of: pd.Timestamp) -> list[str]:
    """What the figures leave out or treat apart for its dates (see `assess`'s `imprecise`)."""
    out = []
    texts = {
        "month": (
            f"of the {month:%B %Y} killed are in {{n}} dated only to the month or to a span of more "
            "than a week{largest}: they count in the month's totals but not in the weekly trends, rules "
            "or outlook."
        ),
        "wider": (
            f"killed in {{n}} dated only to the quarter or year, or to a span of more than a month, "
            f"starting between 1 January {month.year} and {as_of:%d %B %Y}{{largest}}, are in no "
            "monthly or weekly figure here."
        ),
    }
    for key, text in texts.items():
        rows = imprecise.get(key)
        if rows is None or rows.empty:
            continue
        killed = rows["fatalities_best"].sum(min_count=1)
        n = f"{len(rows):,} report{'s' * (len(rows) != 1)}"
        by_region = rows.groupby(rows["region"].map(region_name))["fatalities_best"].sum().sort_values()
        largest = (
            f" (most in {by_region.index[-1]}: {by_region.iloc[-1]:,.0f})"
            if len(rows) > 1 and len(by_region) and by_region.iloc[-1] > 0
            else ""
        )
        head = "Dates: " + (f"{killed:,.0f} " if pd.notna(killed) else "an unknown number ")
        out.append(head + text.format(n=n, largest=largest))
    return out


def _unrecorded_caveat(unrecorded: pd.DataFrame, actor: str, month: pd.Period, as_of: pd.Timestamp) -> str:
    """The capture-recapture estimate of the month's year (of all actors: the merge's strata are not
    by actor), else of the latest earlier year with one, saying why the month's year has none."""
    rows, missing = unrecorded, ""
    if "year" in rows.columns:
        rows = rows[rows["year"].astype(int) <= month.year].sort_values("year")
        same = rows[rows["year"].astype(int) == month.year]
        if len(same) and not np.isfinite(same["estimate"].iloc[0]):
            missing = f"no estimate for {month.year} ({same['method'].iloc[0]})"
        rows = rows[np.isfinite(rows["estimate"].astype(float))]
    elif not np.isfinite(rows["estimate"].iloc[0]):
        missing, rows = f"no estimate ({rows['method'].iloc[0]})", rows.iloc[0:0]
    population = unrecorded.attrs.get("population", "all incidents")
    head = f"Incidents of all actors (not only {actor}) that no source recorded" + (
        "" if population == "all incidents" else f" (counting only {population})"
    )
    if rows.empty:
        return f"{head}: {missing or 'no estimate'}."
    row = rows.iloc[-1]
    year = ""
    if "year" in rows.columns:
        year = f" in {int(row['year'])}"
        if as_of < pd.Timestamp(int(row["year"]), 12, 31):
            year += f" (to {as_of:%d %b}, the year being incomplete)"
    assumptions = unrecorded.attrs.get("assumptions")
    return (
        f"{head}{': ' + missing + ';' if missing else ''}{year}: about {row['unrecorded']:,.0f} beside "
        f"{int(row['observed']):,} recorded (estimated total {row['estimate']:,.0f}, 95% CI "
        f"{row['ci_low']:,.0f}–{row['ci_high']:,.0f}; {row['method']})"
        + (f"; assumptions: {str(assumptions).rstrip('.')}." if assumptions else ".")
    )


# --- text helpers ---------------------------------------------------------------------------


def signed_percent(value: float) -> str:
    """Whole per cent, with as many decimals (up to 3) as a non-zero value needs not to read as
    0%: an interval's bound "+0%" beside "rising" would contradict it."""
    digits = 0
    while digits < 3 and value != 0 and round(abs(value) * 100, digits) == 0:
        digits += 1
    return f"{value:+.{digits}%}"


def _count(value) -> str:
    return "an unknown number of" if value is None else f"{value:,}"


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()
