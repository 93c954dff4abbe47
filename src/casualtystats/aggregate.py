"""Panels: incidents summed by period (week, month or year) and group, long and complete.

One code path (`_panel`) serves `weekly_panel`, `monthly_panel` and `yearly_panel`.
DuckDB does the group-by, scanning the caller's pandas frame in place (no copy of
the incident table); the small aggregated result is then zero-filled into the
complete period x group grid with numpy and checked against `PanelSchema`.

Rules, the same for every period length:

- Range. The panel covers whole periods, from the one containing `start` (default:
  the first incident) to the one containing `end` (default: the last incident). An
  incident counts when the day it is assigned to falls in a covered period.
- Groups. Every combination of the `by` columns that occurs anywhere in the input
  (also outside the range) gets every period of the range; a missing group value
  (NA) is a group of its own. Periods without incidents are rows of zeros.
- Multi-day events. By default an incident belongs to the day it started
  (`date_start`). With ``spread=True`` it is split evenly over its days
  (`date_start` .. `date_end`), so panel values become fractional.
- Dates coarser than the period (``imprecise="aside"``, the default). An incident
  whose date is known less exactly than the period is long -- for weeks: precision
  'month' or 'year' (UCDP date_prec 4-5, GTD iday=0 or imonth=0, ACLED
  time_precision 3), or a 'range' (or unstated precision) whose `date_start` ..
  `date_end` spans more than 7 days; for months: 'year', or a range of more than 31
  days; for years: a range of more than 366 days -- is set aside from the period's
  measures into ``<measure>_imprecise`` columns of the period it starts in. So a
  year-long aggregated report ("1,700 killed in Anbar in 2006") is neither a
  one-week spike in the series the models see nor lost: ``incidents`` +
  ``incidents_imprecise`` (and each measure + its ``_imprecise`` twin) conserve
  the totals, and ``*_imprecise`` says how much of each period is imprecisely
  dated. A day-precise start with a long end (a kidnapping resolved months later)
  is precise: its start is known. ``imprecise="start"`` counts every incident at
  its start (no ``_imprecise`` columns); the rule needs `date_precision` and/or
  `date_end` and is skipped for tables that have neither. Not used with ``spread``.
- Unknown counts are never read as zero. In each cell (period x group):

  * ``*_best`` is the sum of the known best estimates; an incident that gave only a
    lower bound ("at least 10") counts that bound, the schema's own reading of
    such reports. NA when no incident in the cell has either.
  * ``*_low`` is the sum of the known lower bounds, a valid lower bound for the
    cell (an incident without one contributes nothing); NA when none is known.
  * ``*_high`` is the sum of the upper bounds only when every incident in the cell
    has one: a single unbounded report ("at least 10", high unknown) makes the
    cell's upper bound unknown (NA), because summing the others would
    understate it.
  * A cell whose incidents all had unknown injuries therefore says NA, not 0.
    When only some are unknown, ``best`` is the total of what was reported: a
    floor for the true number, which the bounds bracket honestly.

  Consequences: ``low <= best <= high`` holds in every cell where all three are
  known, and totals are conserved: summed over the panel, ``incidents``,
  ``*_low`` and ``*_best`` (as defined above, each plus its ``_imprecise`` twin)
  equal their sums over the incidents in range, and ``*_high`` does wherever it
  is known.

Boundary periods. The first and last period may be covered only in part by the
data (GTD's first half of 2021 starts on Friday 1 January and ends on Wednesday
30 June: its first and last weeks hold 3 days each). The panel records, in
``panel.attrs``, the days the data cover: ``data_start`` and ``data_end`` (the
`start` / `end` given, else the first / last incident's day: its `date_start`,
or `date_end` with ``spread=True``), and for the boundary periods, named by the
period column (``week``, ``month`` or ``year``): ``first_week`` and
``last_week`` (their first days) with ``first_week_days`` and
``last_week_days``, the days of each the data cover (7 for a complete week;
a month's or year's own length for those). A week short of 7 days is not a low
week: models should leave it out or scale it. When the incidents are a subset
of a larger table (one actor), pass that table's span as `start` / `end`, or
the boundary is read from the subset's own first and last incidents. The
totals are those of the incidents, whatever the days: nothing is scaled.
(pandas keeps ``attrs`` through filtering and sorting; check the dates
before using the days of a frame cut from the panel.)

Only the columns a call uses are needed: `date_start` (and `date_end` with
``spread=True``), the `by` columns, and whichever of the six measures are
present (absent measures are absent from the panel).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from .errors import CasualtyStatsError
from .schema import COUNT_COLUMNS

#: Columns a panel can be grouped by.
GROUP_COLUMNS = ("actor", "target", "region", "country", "event_type")
#: Names of the period column, by period length.
PERIOD_COLUMNS = ("week", "month", "year")
#: Accepted `week_start` values (ISO weeks start on Monday).
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
#: Ways to place incidents dated less exactly than the period (see the module docstring).
IMPRECISE_RULES = ("aside", "start")
#: Suffix of the columns that hold what was set aside as imprecisely dated.
IMPRECISE_SUFFIX = "_imprecise"
#: Per period: the date precisions coarser than it, and the longest precise range in days.
_COARSER = {"week": (("month", "year"), 7), "month": (("year",), 31), "year": ((), 366)}

# Day numbers are shifted by a multiple of 7 so that integer division also
# floors correctly for dates before 1970 (DuckDB's // truncates toward zero).
_SHIFT_DAYS = 7 * 100_000
_EPOCH = np.datetime64("1970-01-01", "D")
_US_PER_DAY = 86_400_000_000


class PanelError(CasualtyStatsError, ValueError):
    """A panel cannot be built from the given table or arguments."""


# --- the panel schema -------------------------------------------------------


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _period_column(df: pd.DataFrame) -> str:
    names = [c for c in PERIOD_COLUMNS if c in df.columns]
    if len(names) != 1:
        raise PanelError(f"a panel has exactly one of the columns {PERIOD_COLUMNS}, found {names}")
    return names[0]


def _one_period_column(df: pd.DataFrame) -> bool:
    return sum(c in df.columns for c in PERIOD_COLUMNS) == 1


def _cells_ordered(df: pd.DataFrame) -> bool:
    """low <= best <= high wherever both sides are known (tolerant of float rounding)."""
    for measure, suffix in itertools.product(("fatalities", "injuries"), ("", IMPRECISE_SUFFIX)):
        cols = [f"{measure}_{b}{suffix}" for b in ("low", "best", "high")]
        present = [c for c in cols if c in df.columns]
        for i, lower in enumerate(present):
            for upper in present[i + 1 :]:
                lo = df[lower].to_numpy(dtype=float, na_value=np.nan)
                hi = df[upper].to_numpy(dtype=float, na_value=np.nan)
                if np.any(lo > hi + 1e-9 * np.maximum(1.0, np.abs(hi))):
                    return False
    return True


def _complete_grid(df: pd.DataFrame) -> bool:
    """One row per (period, group), and every group has every period."""
    if not _one_period_column(df):
        return False
    period = _period_column(df)
    by = [c for c in GROUP_COLUMNS if c in df.columns]
    if df.duplicated([period, *by]).any():
        return False
    n_groups = len(df[by].drop_duplicates()) if by else min(len(df), 1)
    return len(df) == df[period].nunique() * n_groups


def _contiguous_periods(df: pd.DataFrame) -> bool:
    """Periods are consecutive weeks, months or years, each given by its first day."""
    if not _one_period_column(df):
        return False
    period = _period_column(df)
    days = np.unique(df[period].to_numpy().astype("datetime64[D]"))
    if len(days) == 0:
        return True
    if period == "week":
        return bool(np.all(np.diff(days).astype(np.int64) == 7))
    unit = "M" if period == "month" else "Y"
    starts = days.astype(f"datetime64[{unit}]")
    first_day = np.all(starts.astype("datetime64[D]") == days)
    return bool(first_day and np.all(np.diff(starts).astype(np.int64) == 1))


def _measure_column(required: bool) -> pa.Column:
    return pa.Column(
        None,
        checks=[pa.Check(_is_numeric, element_wise=False, error="numeric"), pa.Check.ge(0)],
        nullable=True,
        required=required,
    )


#: Schema of every panel: one period column (`week`, `month` or `year`, the first
#: day of the period), any of the group columns, `incidents` and the measures.
PanelSchema = pa.DataFrameSchema(
    columns={
        r"^(week|month|year)$": pa.Column(
            None,
            regex=True,
            checks=pa.Check(pd.api.types.is_datetime64_dtype, element_wise=False, error="datetime"),
        ),
        **{c: pa.Column(None, nullable=True, required=False) for c in GROUP_COLUMNS},
        "incidents": pa.Column(
            None, checks=[pa.Check(_is_numeric, element_wise=False, error="numeric"), pa.Check.ge(0)]
        ),
        **{c: _measure_column(required=False) for c in COUNT_COLUMNS},
        **{f"{c}{IMPRECISE_SUFFIX}": _measure_column(required=False) for c in ("incidents", *COUNT_COLUMNS)},
    },
    checks=[
        pa.Check(_one_period_column, error="exactly one period column: week, month or year"),
        pa.Check(_cells_ordered, error="low <= best <= high in every cell"),
        pa.Check(_complete_grid, error="one row per period and group, every group has every period"),
        pa.Check(_contiguous_periods, error="consecutive periods, each given by its first day"),
    ],
    strict=True,
    name="PanelSchema",
)


# --- public functions -------------------------------------------------------


def weekly_panel(
    incidents: pd.DataFrame,
    by: Iterable[str] | str | None = ("actor", "region"),
    start=None,
    end=None,
    week_start: str = "MON",
    spread: bool = False,
    imprecise: str = "aside",
) -> pd.DataFrame:
    """Weekly totals per group, long and complete (see the module docstring for the rules).

    Parameters
    ----------
    incidents : DataFrame with `date_start` (and `date_end` if `spread`), the `by`
        columns and any of the six measures, e.g. the output of `load_incidents`.
    by : any subset of ``GROUP_COLUMNS``; ``()`` or None for one series.
    start, end : dates; the panel covers the whole weeks containing them.
    week_start : first day of the week, ``"MON"`` (ISO weeks) .. ``"SUN"``.
    spread : split a multi-day incident evenly over its days (fractional values).
    imprecise : ``"aside"`` (default): incidents dated less exactly than a week go to
        the ``*_imprecise`` columns, not the weekly measures; ``"start"``: at their start.

    Returns
    -------
    DataFrame validated by `PanelSchema`: `week` (first day), the `by` columns,
    `incidents` and the measures present in the input (with their ``_imprecise``
    twins when the rule applies), sorted by group then week. ``attrs`` record the
    days the data cover of the first and last weeks (``first_week_days``,
    ``last_week_days``, with ``first_week``, ``last_week``, ``data_start``,
    ``data_end``; see the module docstring).
    """
    return _panel(incidents, "week", by, start, end, week_start, spread, imprecise)


def monthly_panel(
    incidents: pd.DataFrame,
    by: Iterable[str] | str | None = ("actor", "region"),
    start=None,
    end=None,
    spread: bool = False,
    imprecise: str = "aside",
) -> pd.DataFrame:
    """Calendar-month totals per group; `month` is the first day of the month. See `weekly_panel`."""
    return _panel(incidents, "month", by, start, end, "MON", spread, imprecise)


def yearly_panel(
    incidents: pd.DataFrame,
    by: Iterable[str] | str | None = ("actor", "region"),
    start=None,
    end=None,
    spread: bool = False,
    imprecise: str = "aside",
) -> pd.DataFrame:
    """Calendar-year totals per group; `year` is 1 January of the year. See `weekly_panel`."""
    return _panel(incidents, "year", by, start, end, "MON", spread, imprecise)


# --- the one code path --------------------------------------------------------


def _group_columns(by) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)
    unknown = [c for c in cols if c not in GROUP_COLUMNS]
    if unknown:
        raise PanelError(f"cannot group by {unknown}: choose from {list(GROUP_COLUMNS)}")
    if len(set(cols)) != len(cols):
        raise PanelError(f"`by` names a column twice: {cols}")
    return cols


class _Periods:
    """Integer period keys, computed the same way in SQL and in Python."""

    def __init__(self, period: str, week_start: str):
        self.period = period
        if period == "week":
            if not isinstance(week_start, str) or week_start.upper() not in WEEKDAYS:
                raise PanelError(f"week_start must be one of {WEEKDAYS}, got {week_start!r}")
            # 1970-01-01 was a Thursday (index 3): day numbers congruent to
            # `offset` mod 7 fall on `week_start`.
            self.offset = (WEEKDAYS.index(week_start.upper()) - 3) % 7

    def sql(self, day: str) -> str:
        """SQL expression of the period key of the timestamp expression `day`."""
        if self.period == "week":
            days = f"((epoch_us({day}) // {_US_PER_DAY}) + {_SHIFT_DAYS})"
            return f"(({days} - {self.offset}) // 7)"
        if self.period == "month":
            return f"((year({day}) - 1970) * 12 + month({day}) - 1)"
        return f"(year({day}) - 1970)"

    def key(self, when) -> int:
        ts = pd.Timestamp(when)
        if self.period == "week":
            day = (ts.normalize() - pd.Timestamp("1970-01-01")).days + _SHIFT_DAYS
            return (day - self.offset) // 7
        if self.period == "month":
            return (ts.year - 1970) * 12 + ts.month - 1
        return ts.year - 1970

    def first_days(self, keys: np.ndarray) -> np.ndarray:
        """datetime64[ns] first day of each period key."""
        if self.period == "week":
            days = keys * 7 + self.offset - _SHIFT_DAYS
            return (_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[ns]")
        unit = "M" if self.period == "month" else "Y"
        return keys.astype(f"datetime64[{unit}]").astype("datetime64[ns]")


def _as_datetime(series: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_dtype(series):
        return series
    try:
        return pd.to_datetime(series)
    except (ValueError, TypeError) as exc:
        raise PanelError(f"column {name!r} is not a date: {exc}") from exc


def _check_counts(incidents: pd.DataFrame, measures: list[str]) -> None:
    """The incident schema's count rules, at the panel's boundary: a table that was never
    validated gets one sentence naming the rule and the rows, not a failed panel check."""
    values = {}
    for m in measures:
        if not _is_numeric(incidents[m]):
            raise PanelError(f"column {m!r} is not numeric ({incidents[m].dtype})")
        values[m] = incidents[m].to_numpy(dtype=float, na_value=np.nan)
    broken = [(f"{m} >= 0", values[m] < 0) for m in measures]
    for measure in ("fatalities", "injuries"):
        present = [f"{measure}_{b}" for b in ("low", "best", "high") if f"{measure}_{b}" in values]
        broken += [
            (f"{lo} <= {hi}", values[lo] > values[hi]) for lo, hi in itertools.combinations(present, 2)
        ]
    for rule, bad in broken:
        if bad.any():
            rows = incidents.index[bad]
            shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
            raise PanelError(
                f"{len(rows)} incident(s) break the rule {rule} (rows {shown}); "
                "load files with load_incidents, or validate the table with IncidentSchema, first"
            )


def imprecisely_dated(incidents: pd.DataFrame, period: str = "week") -> np.ndarray:
    """Per incident: dated less exactly than `period` (the rule `weekly_panel` applies, see the
    module docstring): a precision coarser than the period, or a range of days longer than it."""
    coarse, longest = _COARSER[period]
    days = (incidents["date_end"] - incidents["date_start"]).dt.days.to_numpy() + 1
    ranged = incidents["date_precision"].fillna("range").eq("range").to_numpy() & (days > longest)
    return incidents["date_precision"].isin(coarse).to_numpy() | ranged


def _imprecise_sql(period: str, columns) -> str | None:
    """SQL condition of an incident dated less exactly than `period` (module docstring), or
    None when the table says nothing about date precision."""
    coarse, longest = _COARSER[period]
    tests = []
    if "date_precision" in columns and coarse:
        tests.append(f"date_precision IN ({', '.join(repr(c) for c in coarse)})")
    if "date_end" in columns:
        span = f"datediff('day', date_start, date_end) + 1 > {longest}"
        # a day-precise start is known even when the event lasted long (a kidnapping)
        ranged = "coalesce(date_precision, 'range') = 'range'" if "date_precision" in columns else "TRUE"
        tests.append(f"({ranged} AND {span})")
    return f"coalesce({' OR '.join(tests)}, FALSE)" if tests else None


def _cell_sql(
    aliases: list[str], measures: list[str], where: str | None, total: str, weight: str
) -> list[str]:
    """Cell totals of the incidents selected by `where` (all when None), named `aliases`."""
    only = f" FILTER (WHERE {where})" if where else ""
    columns = []
    for m, alias in zip(measures, aliases, strict=True):
        name, bound = m.rsplit("_", 1)
        if bound == "best":
            low = f"{name}_low" if f"{name}_low" in measures else "NULL"
            value = total.format(f"coalesce({m}, {low}){weight}", only)
        elif bound == "low":
            value = total.format(f"{m}{weight}", only)
        else:  # high: a bound only if every selected incident in the cell has one
            value = (
                f"CASE WHEN count({m}){only} = count(*){only} THEN {total.format(f'{m}{weight}', only)} END"
            )
        if where:  # a cell may hold incidents of the other kind only: then this part is 0, not unknown
            value = f"CASE WHEN count(*){only} = 0 THEN 0 ELSE {value} END"
        columns.append(f"{value} AS {alias}")
    return columns


def _aggregate_sql(
    periods: _Periods, by: list[str], measures: list[str], spread: bool, aside: str | None
) -> str:
    """The group-by: period key, group columns, incident count and cell totals (and the
    totals of what `aside` sets apart, under the ``_imprecise`` names)."""
    if spread:
        # One row per day of each incident, weighted 1/days, so an incident's
        # weights sum to exactly one over its days.
        source = (
            "(SELECT *, 1.0 / n_days AS w, date_start + to_days(CAST(unnest(range(n_days)) AS INTEGER)) AS day"
            " FROM (SELECT *, datediff('day', date_start, date_end) + 1 AS n_days FROM incidents))"
        )
        day, count, weight = "day", "sum(w)", " * w"
        total = "sum({}){}"
    else:
        source, day, count, weight = "incidents", "date_start", "count(*)", ""
        total = "CAST(sum({}){} AS BIGINT)"
    columns = [f"{periods.sql(day)} AS period_key", *by]
    if aside is None:
        columns += [f"{count} AS incidents", *_cell_sql(measures, measures, None, total, weight)]
    else:
        twins = [f"{m}{IMPRECISE_SUFFIX}" for m in measures]
        columns += [
            f"count(*) FILTER (WHERE NOT ({aside})) AS incidents",
            f"count(*) FILTER (WHERE {aside}) AS incidents{IMPRECISE_SUFFIX}",
            *_cell_sql(measures, measures, f"NOT ({aside})", total, weight),
            *_cell_sql(twins, measures, aside, total, weight),
        ]
    group_order = ", ".join(f'"{c}" NULLS LAST' for c in by)
    group_code = f"dense_rank() OVER (ORDER BY {group_order}) - 1" if by else "0"
    return (
        f"WITH cells AS (SELECT {', '.join(columns)} FROM {source} GROUP BY ALL)"
        f" SELECT {group_code} AS group_code, * FROM cells"
    )


def _panel(incidents, period, by, start, end, week_start, spread, imprecise="aside") -> pd.DataFrame:
    by = _group_columns(by)
    periods = _Periods(period, week_start)
    if imprecise not in IMPRECISE_RULES:
        raise PanelError(f"imprecise must be one of {IMPRECISE_RULES}, got {imprecise!r}")
    if not isinstance(incidents, pd.DataFrame):
        raise PanelError(f"incidents must be a pandas DataFrame, got {type(incidents).__name__}")
    dates = ["date_start", "date_end"] if spread else ["date_start"]
    missing = [c for c in (*dates, *by) if c not in incidents.columns]
    if missing:
        raise PanelError(f"the incident table has no column {missing} (needed for this panel)")
    measures = [m for m in COUNT_COLUMNS if m in incidents.columns]
    _check_counts(incidents, measures)
    aside, extra = None, []
    if imprecise == "aside" and not spread:
        aside = _imprecise_sql(period, incidents.columns)
        dates += ["date_end"] if "date_end" in incidents.columns else []
        extra = ["date_precision"] if "date_precision" in incidents.columns else []
    frame = incidents[[*dates, *extra, *by, *measures]]  # copy-on-write: no data copied
    for d in dates:
        if not pd.api.types.is_datetime64_dtype(frame[d]):
            frame = frame.assign(**{d: _as_datetime(frame[d], d)})
    integer = not spread and all(pd.api.types.is_integer_dtype(frame[m]) for m in measures)

    con = duckdb.connect()
    try:
        con.register("incidents", frame)
        if spread:
            bad = con.execute(
                "SELECT count(*) FROM incidents WHERE date_start IS NULL OR date_end IS NULL"
                " OR date_end < date_start"
            ).fetchone()[0]
            if bad:
                raise PanelError(f"{bad} incidents lack date_start/date_end or end before they start")
        cells = con.execute(_aggregate_sql(periods, by, measures, spread, aside)).df()
    finally:
        con.close()

    keys = cells["period_key"]
    if keys.isna().any():
        raise PanelError(f"{int(cells.loc[keys.isna(), 'incidents'].sum())} incidents have no date_start")
    keys = keys.to_numpy(dtype=np.int64)
    twins = [f"{c}{IMPRECISE_SUFFIX}" for c in ("incidents", *measures)] if aside else []
    if start is None and end is None and len(keys) == 0:
        return _empty_panel(period, by, [*measures, *twins[1:]], spread, twins[:1])
    # A bound not given is the first/last incident's period, never beyond the other bound.
    data_first, data_last = (int(keys.min()), int(keys.max())) if len(keys) else (None, None)
    first = periods.key(start) if start is not None else None
    last = periods.key(end) if end is not None else None
    if first is None:
        first = last if data_first is None else min(data_first, last if last is not None else data_first)
    if last is None:
        last = first if data_last is None else max(data_last, first)
    if last < first:
        raise PanelError(f"end ({end}) is before start ({start})")
    n_periods = last - first + 1

    codes = cells["group_code"].to_numpy(dtype=np.int64)
    n_groups = int(codes.max()) + 1 if len(codes) else (0 if by else 1)
    _, first_row = np.unique(codes, return_index=True)
    groups = cells[by].iloc[first_row].reset_index(drop=True)
    # DuckDB hands back an all-NULL column as objects: keep the caller's dtypes.
    groups = groups.astype({c: frame[c].dtype for c in by})

    in_range = (keys >= first) & (keys <= last)
    cell = codes[in_range] * n_periods + (keys[in_range] - first)
    size = n_groups * n_periods
    rows = np.repeat(np.arange(n_groups), n_periods)
    panel = {period: np.tile(periods.first_days(np.arange(first, last + 1)), n_groups)}
    for c in by:
        panel[c] = groups[c].take(rows).reset_index(drop=True)
    for c in ("incidents", *twins[:1]):
        panel[c] = _scatter(cells[c][in_range], cell, size, integer=not spread, masked=False)
    for m in [*measures, *twins[1:]]:
        panel[m] = _scatter(cells[m][in_range], cell, size, integer=integer, masked=True)
    out = PanelSchema.validate(pd.DataFrame(panel))
    day = "date_end" if spread else "date_start"
    data_start = pd.Timestamp(start if start is not None else frame["date_start"].min()).normalize()
    data_end = pd.Timestamp(end if end is not None else frame[day].max()).normalize()
    out.attrs.update(data_start=data_start, data_end=data_end)
    bounds = pd.Series(periods.first_days(np.array([first, last, first + 1, last + 1])))
    begins, ends = bounds[:2], bounds[2:].reset_index(drop=True) - pd.Timedelta(days=1)
    days = covered_days(begins, ends, data_start, data_end)
    for side, begin, covered in zip(("first", "last"), begins, days, strict=True):
        out.attrs[f"{side}_{period}"] = begin
        out.attrs[f"{side}_{period}_days"] = int(covered)
    return out


def complete_weeks(data, as_of=None):
    """`data` (a weekly panel, a slice of it, or a Series indexed by week) without the weeks
    the data do not cover in full: the boundary weeks its ``attrs`` (as `weekly_panel` sets
    them, kept by pandas on slices and Series cut from the panel) record as covered only in
    part, and, given `as_of`, the weeks that end after it (still being reported). Three days
    of data are not a quiet week. Weeks without dates are returned as they are."""
    attrs = getattr(data, "attrs", None) or {}
    partial = [attrs[f"{side}_week"] for side in ("first", "last") if attrs.get(f"{side}_week_days", 7) < 7]
    if isinstance(data, pd.DataFrame) and "week" in data.columns:
        weeks = pd.DatetimeIndex(pd.to_datetime(data["week"]))
    elif isinstance(getattr(data, "index", None), pd.DatetimeIndex):
        weeks = data.index
    else:
        return data  # an array, or weeks without dates: nothing to match the dates to
    keep = ~weeks.isin(pd.DatetimeIndex(partial))
    if as_of is not None:
        keep &= weeks + pd.Timedelta(days=6) <= pd.Timestamp(as_of)
    return data if keep.all() else data[keep]


def covered_days(begins: pd.Series, ends: pd.Series, first, last) -> pd.Series:
    """Days of each period (its first and last day) that fall within the data's dates
    [first, last]: the whole period inside the data, fewer for a boundary period the data
    cover only in part, 0 outside them."""
    begins, ends = pd.to_datetime(begins), pd.to_datetime(ends)
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    lo = begins.where(begins > first, first)
    hi = ends.where(ends < last, last)
    return ((hi - lo).dt.days + 1).clip(lower=0)


def _scatter(values: pd.Series, cell: np.ndarray, size: int, *, integer: bool, masked: bool):
    """Place aggregated values at their cells of the complete grid; other cells are 0."""
    dtype = np.int64 if integer else np.float64
    out = np.zeros(size, dtype=dtype)
    known = values.notna().to_numpy()
    out[cell[known]] = values[known].to_numpy(dtype=dtype)
    if not masked:
        return out
    mask = np.zeros(size, dtype=bool)
    mask[cell[~known]] = True
    if integer:
        return pd.arrays.IntegerArray(out, mask)
    return pd.arrays.FloatingArray(out, mask)


def _empty_panel(period, by, measures, spread, counts=()) -> pd.DataFrame:
    dtype = "Float64" if spread else "Int64"
    panel = pd.DataFrame(
        {
            period: pd.Series(dtype="datetime64[ns]"),
            **{c: pd.Series(dtype="str") for c in by},
            **{c: pd.Series(dtype="float64" if spread else "int64") for c in ("incidents", *counts)},
            **{m: pd.Series(dtype=dtype) for m in measures},
        }
    )
    return PanelSchema.validate(panel)
