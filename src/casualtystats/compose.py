"""Shared plumbing of the assessment and its renderings (report, briefing).

Input paths, date and month arguments, date selection, the totals of one
period of a panel and the coverage caveats, once. Nothing here estimates
anything: totals are read from the panels `aggregate` built.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .aggregate import IMPRECISE_SUFFIX, covered_days
from .errors import CasualtyStatsError

#: Panel measure -> the word the outputs use.
MEASURES = {
    "incidents": "incidents",
    "fatalities_best": "killed",
    "fatalities_low": "killed_low",
    "fatalities_high": "killed_high",
    "injuries_best": "injured",
    "injuries_low": "injured_low",
    "injuries_high": "injured_high",
}

#: Measures the resurgence rules judge, each on its own. Incident counts come
#: first: heavy-tailed fatalities hide all but large rises from the change-point
#: rule (see the backtest in the README), while one mass-casualty attack moves them most.
FLAG_MEASURES = ("incidents", "fatalities_best")

#: A source's records "stop" (or "start") inside the analysed period when, at the source's own
#: average daily rate over its span, the gap between its last (first) incident and the end (start)
#: of the data would hold none of its incidents with less than this probability (Poisson): a gap a
#: busy source cannot have by chance, while a sparse source's quiet months are not called an end.
SOURCE_GAP_PROBABILITY = 0.001

#: A growth per month is printed as "not estimable" when the upper end of its interval, as a growth
#: factor (1 + growth), is more than this many times the lower end: such an interval cannot tell a
#: halving every month from a fiftyfold rise, and its percentages (e.g. -94% to +127,441%) read as
#: findings. A quiet end (the trend's `growth_estimable`) is the other case with no growth to print.
MAX_GROWTH_RATIO = 100.0

_SYNTHETIC = re.compile(r"synth|simulat", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MONTH = re.compile(r"^\d{4}-\d{2}$")


def as_paths(sources) -> list[str]:
    """One path or several, as the list `load_incidents` takes."""
    if isinstance(sources, (str, os.PathLike)):
        return [os.fspath(sources)]
    paths = [os.fspath(p) for p in sources]
    if not paths:
        raise CasualtyStatsError("no input files given")
    return paths


def load(paths: list[str], merge: bool | str = "auto", columns=None):
    """`load_incidents(paths, merge=merge, columns=columns)`: several sources of the same
    incidents are merged ("auto", when more than one source is present) or stacked (False);
    `columns` names an analyst's own columns after the canonical ones."""
    from .sources import load_incidents

    return load_incidents(paths, merge=merge, columns=columns)


def parse_date(value, what: str) -> pd.Timestamp | None:
    """A date from the command line (YYYY-MM-DD) or a date-like object; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise CasualtyStatsError(f"{what}: {value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as err:
        raise CasualtyStatsError(f"{what}: {value!r} is not a date (expected YYYY-MM-DD)") from err


def parse_month(value) -> pd.Period:
    """A month as YYYY-MM (or a Period/date-like object)."""
    if isinstance(value, str) and not _ISO_MONTH.match(value.strip()):
        raise CasualtyStatsError(f"month: {value!r} is not a month (expected YYYY-MM)")
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError) as err:
        raise CasualtyStatsError(f"month: {value!r} is not a month (expected YYYY-MM)") from err


def select_dates(
    incidents: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Incidents that started within [start, end] (the panels' rule: an event counts at its start date)."""
    keep = pd.Series(True, index=incidents.index)
    if start is not None:
        keep &= incidents["date_start"] >= start
    if end is not None:
        keep &= incidents["date_start"] < end + pd.Timedelta(days=1)
    return incidents[keep]


def totals(panel: pd.DataFrame, period_column: str, period) -> dict:
    """The measures of one period of a one-series panel, named as the outputs say them.

    Missing counts stay missing (a source without injuries reports `None`, not 0), and so do
    the injuries of a period without incidents when no period with incidents knows any: the
    panel's zeros then stand for a source that records no injuries (UCDP), not for none.
    """
    row = panel.loc[panel[period_column] == period]
    if row.empty:
        return {name: None for name in MEASURES.values()}
    row = row.iloc[0]
    out = {name: (None if pd.isna(row[col]) else int(row[col])) for col, name in MEASURES.items()}
    if not (panel["injuries_best"].notna() & (panel["incidents"] > 0)).any():
        out.update(injured=None, injured_low=None, injured_high=None)
    return out


def counted(value, noun: str) -> str:
    """A count with its noun in the right number: "1 incident", "2,345 incidents", "an unknown
    number of incidents" (nouns whose plural adds an s)."""
    if value is None or pd.isna(value):
        return f"an unknown number of {noun}s"
    return f"{int(value):,} {noun}{'' if int(value) == 1 else 's'}"


def multiple_testing_note(tested: int, level: float = 0.95) -> str:
    """What a list of per-region 95% intervals is worth together: with `tested` regions each
    tested on its own (no correction for the family), about (1 - level) x tested of them show a
    rise or fall by chance alone where nothing changed. '' for fewer than two."""
    if tested < 2:
        return ""
    chance = (1 - level) * tested
    return (
        f"Each region's direction is its own {level:.0%} interval, {tested:,} regions tested without a "
        f"correction for their number: where nothing changed, about {chance:.1f} of them would show a rise "
        "or fall by chance alone, so read one region's direction with its numbers, and weigh the "
        "all-regions series (one test) first."
    )


def file_names(files) -> str:
    """The files' names without their folders, for a sentence ("these data" when none)."""
    return ", ".join(os.path.basename(str(f)) for f in files) or "these data"


def outlook_coverage_note(files) -> str:
    """The outlook's measured coverage (`assessment.coverage_statement`) was measured on one
    series set: this says it was not checked on the files at hand."""
    return (
        f"That coverage was not checked on {file_names(files)}: on other countries, sources or actors the "
        "ranges may hold less often."
    )


def week_days(weeks: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """Days of each week (its first day, as in a weekly panel) that fall within the data's dates
    [first, last]: 7 inside the data, fewer for a boundary week the data cover only in part (GTD's
    half-year ending on a Wednesday leaves 3 days of its last week). A part week's count drawn or
    modelled as a week's reads as a fall."""
    start = pd.to_datetime(weeks)
    return covered_days(start, start + pd.Timedelta(days=6), first, last)


def growth_text(growth: dict | None, level: float = 0.95) -> str:
    """A growth per month ({estimate, ci_low, ci_high}, fractions) as "+5% a month (95% CI -3% to
    +12%)", or "not estimable (...)" when its interval spans more than `MAX_GROWTH_RATIO`."""
    from .assessment import signed_percent

    if growth is None:
        return "not estimable"
    low, high = float(growth["ci_low"]), float(growth["ci_high"])
    if not (1 + low > 0 and 1 + high <= MAX_GROWTH_RATIO * (1 + low)):
        # its bounds are left out: percentages such as +127,441% would still read as a finding
        return f"not estimable (its {level:.0%} interval spans more than {MAX_GROWTH_RATIO:g}-fold)"
    interval = f"{signed_percent(low)} to {signed_percent(high)}"
    return f"{signed_percent(float(growth['estimate']))} a month ({level:.0%} CI {interval})"


def combined_totals(panel: pd.DataFrame) -> dict:
    """The measures of several periods of a one-series panel taken together, by the
    panels' own rules one level up: `best` and `low` add what is known (unknown when
    no period with incidents knows them); `high` is unknown as soon as one period
    with incidents has no upper bound. Periods without incidents add nothing.
    What the panel set aside as imprecisely dated (`*_imprecise`) counts too."""
    parts = [("", "incidents")]
    if f"incidents{IMPRECISE_SUFFIX}" in panel:
        parts.append((IMPRECISE_SUFFIX, f"incidents{IMPRECISE_SUFFIX}"))
    out = {"incidents": int(sum(panel[count].sum() for _, count in parts))}
    for col, name in MEASURES.items():
        if col == "incidents":
            continue
        known = []
        for suffix, count in parts:
            values = panel.loc[panel[count] > 0, col + suffix]
            if col.endswith("_high") and values.isna().any():
                known = [None]
                break
            known.append(values.sum(min_count=1))
        known = [k for k in known if k is None or not pd.isna(k)]
        out[name] = None if not known or None in known else int(sum(known))
    return out


def change(now: dict, before: dict) -> dict:
    """Change of each measure between two periods: absolute and relative (None where undefined)."""
    out = {}
    for name in ("incidents", "killed", "injured"):
        a, b = now.get(name), before.get(name)
        if a is None or b is None:
            out[name] = {"absolute": None, "relative": None}
        else:
            out[name] = {"absolute": a - b, "relative": None if b == 0 else (a - b) / b}
    return out


def source_kind(source: str) -> str:
    """`synthetic` for simulated records (the simulator names its source so), else `reported`."""
    return "synthetic" if _SYNTHETIC.search(str(source)) else "reported"


@dataclass
class Coverage:
    """What the data covers and what it leaves out: the caveats of any figure drawn from it."""

    first_date: pd.Timestamp
    last_date: pd.Timestamp
    weeks: int
    weeks_without_reports: list[pd.Timestamp]
    quarantined: int
    accepted: int
    quarantine_reasons: pd.Series
    unknown_injuries: pd.DataFrame
    unmatched_actors: pd.DataFrame
    unmatched_regions: pd.DataFrame
    sources: pd.DataFrame
    input_rows: int = 0  # rows read from the files (before validation and merging)
    spans: pd.DataFrame | None = None  # per single source: incidents, first_date, last_date
    #: rows left out as outside the incidents' scope (ACLED demonstrations, ...), by reason
    excluded_reasons: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))

    def edges(self) -> pd.DataFrame:
        """Sources whose records stop before the data's last date or start after its first,
        by `SOURCE_GAP_PROBABILITY`: [source, edge ("stops" / "starts"), date (its last / first
        incident), other (the data's last / first date)]. Empty with one source."""
        rows = []
        spans = self.spans
        if spans is not None and len(spans) > 1:
            start, end = spans["first_date"].min(), spans["last_date"].max()
            for s in spans.itertuples():
                rate = s.incidents / ((s.last_date - s.first_date).days + 1)
                for edge, date, other in (("stops", s.last_date, end), ("starts", s.first_date, start)):
                    gap = abs((other - date).days)
                    if gap and np.exp(-rate * gap) < SOURCE_GAP_PROBABILITY:
                        rows.append((s.source, edge, date, other))
        return pd.DataFrame(rows, columns=["source", "edge", "date", "other"])

    def gaps(self) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Runs of consecutive weeks without reports, as (first week, last week)."""
        runs: list[tuple[pd.Timestamp, pd.Timestamp]] = []
        for week in self.weeks_without_reports:
            if runs and week - runs[-1][1] == pd.Timedelta(weeks=1):
                runs[-1] = (runs[-1][0], week)
            else:
                runs.append((week, week))
        return runs

    def to_dict(self) -> dict:
        return {
            "first_date": self.first_date.date().isoformat(),
            "last_date": self.last_date.date().isoformat(),
            "weeks": self.weeks,
            "weeks_without_reports": len(self.weeks_without_reports),
            "gaps": [[a.date().isoformat(), b.date().isoformat()] for a, b in self.gaps()],
            "rows_accepted": self.accepted,
            "rows_quarantined": self.quarantined,
            "quarantine_reasons": {str(k): int(v) for k, v in self.quarantine_reasons.items()},
            "unknown_injuries": self.unknown_injuries.to_dict(orient="records"),
            "unmatched_actors": self.unmatched_actors.to_dict(orient="records"),
            "unmatched_regions": self.unmatched_regions.to_dict(orient="records"),
            "rows_read": self.input_rows,
            "rows_excluded": int(self.excluded_reasons.sum()),
            "exclusion_reasons": {str(k): int(v) for k, v in self.excluded_reasons.items()},
            "source_edges": [
                {"source": r.source, "edge": r.edge, "date": r.date.date().isoformat()}
                for r in self.edges().itertuples()
            ],
        }


def coverage(
    loaded, incidents: pd.DataFrame, weekly_all: pd.DataFrame, involved: pd.DataFrame | None = None
) -> Coverage:
    """Coverage caveats of `incidents` (already date-selected) from the load result and
    the all-actor weekly panel over the same range: a week without any record is a
    week nobody reported, not necessarily a quiet one. Unknown injuries are counted over
    `involved` (the actor's incidents, whose injuries the outputs report) when given, else
    over `incidents`."""
    quiet = weekly_all.loc[weekly_all["incidents"] == 0, "week"]
    by_source = incidents.groupby("source", observed=True)
    per_source = pd.DataFrame(
        {
            "incidents": by_source.size(),
            "first_date": by_source["date_start"].min(),
            "last_date": by_source["date_start"].max(),
        }
    ).reset_index()
    per_source["kind"] = per_source["source"].map(source_kind)
    counted = (incidents if involved is None else involved).groupby("source", observed=True)
    unknown_injuries = pd.DataFrame(
        {
            "incidents": counted.size(),
            "injuries_unknown": counted["injuries_best"].agg(lambda s: int(s.isna().sum())),
        }
    ).reset_index()
    return Coverage(
        first_date=weekly_all["week"].min() if incidents.empty else incidents["date_start"].min(),
        last_date=weekly_all["week"].max() if incidents.empty else incidents["date_start"].max(),
        weeks=int(weekly_all["week"].nunique()),
        weeks_without_reports=[pd.Timestamp(w) for w in quiet],
        quarantined=len(loaded.quarantine),
        accepted=len(loaded.incidents),
        input_rows=int(getattr(loaded, "n_input", len(loaded.incidents) + len(loaded.quarantine))),
        spans=source_spans(per_source),
        quarantine_reasons=quarantine_reasons(loaded.problems, loaded.quarantine),
        unknown_injuries=unknown_injuries,
        unmatched_actors=loaded.unmatched_actors,
        unmatched_regions=loaded.unmatched_regions,
        sources=per_source[["source", "kind", "incidents", "first_date", "last_date"]],
        excluded_reasons=loaded.excluded["reason"].value_counts()
        if len(getattr(loaded, "excluded", ()))
        else pd.Series(dtype="int64"),
    )


def source_spans(by_value: pd.DataFrame) -> pd.DataFrame:
    """Per single source: incidents, first_date, last_date, from a table per `source` value
    [source, incidents, first_date, last_date] in which a merged value ("GTD+UCDP") counts
    for each of its sources."""
    parts = by_value.assign(source=by_value["source"].astype(str).str.split("+")).explode("source")
    return (
        parts.groupby("source", sort=True)
        .agg(incidents=("incidents", "sum"), first_date=("first_date", "min"), last_date=("last_date", "max"))
        .reset_index()
    )


def quarantine_reasons(problems: pd.DataFrame, quarantine: pd.DataFrame) -> pd.Series:
    """How many quarantined rows failed for each reason (a row can fail for several).

    `problems` also lists repairs made to rows that were kept; only the
    quarantined rows' reasons count here.
    """
    if quarantine.empty:
        return pd.Series(dtype="int64", name="rows")
    rejected = problems.merge(quarantine[["file", "line"]].drop_duplicates(), on=["file", "line"])
    column = rejected["column"].fillna("").astype(str)
    reason = column.where(column == "", column + ": ") + rejected["problem"].astype(str)
    per_row = pd.DataFrame(
        {"file": rejected["file"], "line": rejected["line"], "reason": reason}
    ).drop_duplicates()
    return per_row["reason"].value_counts().rename("rows")


def actor_hint(incidents: pd.DataFrame, actor: str) -> str:
    """What to add to "no incidents involving X": the data's names closest to `actor`
    (`normalize.close_actor_names`), else its most frequent actors."""
    from .normalize import close_actor_names

    close = close_actor_names(incidents, actor)
    if close:
        return f" (did you mean {' or '.join(map(repr, close))}?)"
    present = incidents["actor"].value_counts().head(5).index.tolist()
    return f" (actors present: {', '.join(present)})" if present else ""
