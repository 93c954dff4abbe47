"""Global Terrorism Database (START/UMD): full release schema (CSV or XLSX)
and extracts with fewer columns.

Conventions (GTD codebook): the date comes in parts ``iyear``/``imonth``/
``iday``; ``iday`` = 0 means the day is unknown (precision 'month', the event
spans the month) and ``imonth`` = 0 the month (precision 'year').
``approxdate`` is free text; a range in it ('February 17-24, 2021', 'April 29 - May 1,
2021', 'May 5, 2021 - May 31, 2021') sets both ``date_start`` and ``date_end`` and precision
'range' (GTD then codes ``iday`` as a day inside the range, not its start). A range that
does not overlap the iyear/imonth/iday date is ignored with a warning. Extended incidents (kidnappings) end on
``resolution``. ``gname`` is the actor ('Unknown' stays 'Unknown'),
``targtype1_txt`` the target (the victim's type; GTD's type 'Unknown' names no party and is
NA, so that it never answers a search for the actor 'Unknown'), ``provstate`` the region,
``city`` the location, ``summary`` the notes, ``attacktype1_txt`` the event type.

Attribution: an incident has one actor, GTD's first perpetrator ``gname``, so per-actor counts
add up to the total. What GTD says beyond it is kept in the notes, after the summary: further
perpetrators (``gname2``, ``gname3``: "Further perpetrators (GTD gname2/gname3): X; Y.", which
``involving(..., further=True)`` reads) and suspected attributions (``guncertain1``/2/3 = 1:
"Attribution suspected, not confirmed (GTD guncertain1)." and "(suspected)" after a further
name). ``nkill`` and
``nwound`` count *confirmed* deaths and injuries (codebook), so each is both the best and
the low figure (as ACLED's conservative count); the high is not known. Blank (and the GTD
unknown codes -9/-99) is NA, never 0.

Reduced extracts (such as the 18-column Iraq extract of the lgcpSPDE R package) may
lack ``eventid`` (ids are then generated from the row), ``provstate`` (the region then
comes from the coordinates, see `casualtystats.merge.region`), ``nwound`` and
``summary``, and name the country column ``country`` instead of ``country_txt``.
"""

from __future__ import annotations

import pandas as pd

from ..normalize import FURTHER_PERPETRATORS
from .convert import Format, Problems, column

UNKNOWN_CODES = (-9, -99)

# 'February 17-24, 2021', 'April 29 - May 1, 2021', 'May 5, 2021 - May 31, 2021',
# 'December 30, 2020 - January 2, 2021'
_RANGE = (
    r"^\s*(?P<month1>[A-Za-z]+)\.?\s+(?P<day1>\d{1,2})(?:[,.]?\s*(?P<year1>\d{4}))?\s*[-\u2013]\s*"
    r"(?:(?P<month2>[A-Za-z]+)\.?\s+)?(?P<day2>\d{1,2})[,.]?\s*(?P<year2>\d{4})\s*$"
)


def _derive(raw: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    year = problems.integer(raw["iyear"], "iyear")
    month = problems.integer(raw["imonth"], "imonth")
    day = problems.integer(raw["iday"], "iday")
    month_known, day_known = month.fillna(0).gt(0), day.fillna(0).gt(0)
    parts = pd.DataFrame({"year": year, "month": month.where(month_known, 1), "day": day.where(day_known, 1)})
    start = pd.to_datetime(parts, errors="coerce")
    complete = year.notna() & month.notna() & day.notna()
    problems.add(
        complete & start.isna(),
        "date_start (iyear/imonth/iday)",
        "not a valid date",
        year.astype("str") + "-" + month.astype("str") + "-" + day.astype("str"),
    )
    end = start.where(day_known, start + pd.offsets.MonthEnd(0))
    end = end.where(month_known, start + pd.offsets.YearEnd(0))
    precision = (
        pd.Series("day", index=raw.index, dtype="str").where(day_known, "month").where(month_known, "year")
    )

    approxdate = column(raw, "approxdate")
    range_start, range_end = _range(approxdate)
    parsed = range_start.notna()
    overlaps = parsed & range_start.le(end) & range_end.ge(start)
    problems.warnings.add(
        parsed & ~overlaps & start.notna(),
        "date_start (approxdate)",
        "range does not overlap iyear/imonth/iday; ignored",
        approxdate,
    )
    start, end = start.where(~overlaps, range_start), end.where(~overlaps, range_end)
    precision = precision.where(~overlaps, "range").where(~overlaps | range_start.lt(range_end), "day")

    resolution = column(raw, "resolution")
    if resolution.notna().any():
        resolved = problems.date(resolution, "date_end (resolution)")
        later = resolved.notna() & (resolved > end)
        end = end.where(~later, resolved)
    return {
        "source": pd.Series("GTD", index=raw.index, dtype="str"),
        "target": _target(raw),
        "notes": _notes(raw),
        "date_start": start,
        "date_end": end,
        "date_precision": precision,
        **_confirmed(problems, raw, "nkill", "fatalities"),
        **_confirmed(problems, raw, "nwound", "injuries"),
    }


def _text(raw: pd.DataFrame, name: str) -> pd.Series:
    """A text column stripped, blank as NA."""
    return column(raw, name).str.strip().replace("", pd.NA).astype("str")


def _target(raw: pd.DataFrame) -> pd.Series:
    """``targtype1_txt``, NA where GTD codes the type 'Unknown' (module docstring)."""
    kind = _text(raw, "targtype1_txt")
    return kind.mask(kind.str.casefold().eq("unknown").fillna(False).astype(bool))


def _notes(raw: pd.DataFrame) -> pd.Series:
    """The summary, then the further and suspected attributions (module docstring)."""

    def suspected(k: int) -> pd.Series:
        return pd.to_numeric(column(raw, f"guncertain{k}"), errors="coerce").eq(1).to_numpy()

    further = pd.Series("", index=raw.index, dtype=object)
    for k in (2, 3):
        name = _text(raw, f"gname{k}").fillna("")
        name = name.where(~suspected(k) | name.eq(""), name + " (suspected)")
        further = further.where(name.eq(""), further.where(further.eq(""), further + "; ") + name)
    parts = [
        _text(raw, "summary"),
        (FURTHER_PERPETRATORS + further + ".").where(further.ne("")),
        pd.Series("Attribution suspected, not confirmed (GTD guncertain1).", index=raw.index).where(
            suspected(1)
        ),
    ]
    joined = pd.concat(parts, axis=1).apply(lambda row: " ".join(row.dropna()), axis=1)
    return joined.replace("", pd.NA).astype("str")


def _confirmed(problems: Problems, raw: pd.DataFrame, name: str, measure: str) -> dict:
    """A confirmed count as the best and the low figure (module docstring)."""
    count = problems.integer(column(raw, name), f"{measure}_best ({name})", UNKNOWN_CODES)
    return {f"{measure}_best": count, f"{measure}_low": count}


def _range(approxdate: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day of a date range written in ``approxdate``; NaT where it is not a
    range (a single date, free text) or its end is before its start."""
    parts = approxdate.str.extract(_RANGE)
    first = parts["month1"] + " " + parts["day1"] + " " + parts["year1"].fillna(parts["year2"])
    last = parts["month2"].fillna(parts["month1"]) + " " + parts["day2"] + " " + parts["year2"]
    first, last = _month_day_year(first), _month_day_year(last)
    valid = first.notna() & last.notna() & first.le(last)
    return first.where(valid), last.where(valid)


def _month_day_year(text: pd.Series) -> pd.Series:
    """'January 3 2021' or 'Jan 3 2021' as a date; NaT otherwise."""
    full = pd.to_datetime(text, format="%B %d %Y", errors="coerce")
    return full.fillna(pd.to_datetime(text, format="%b %d %Y", errors="coerce"))


FORMAT = Format(
    key="gtd",
    name="GTD",
    source="GTD",
    markers=frozenset(
        {
            "eventid",
            "iyear",
            "imonth",
            "iday",
            "gname",
            "nkill",
            "nwound",
            "provstate",
            "targtype1_txt",
            "attacktype1_txt",
            "country_txt",
            "approxdate",
            "extended",
            "gsubname",
        }
    ),
    required=(
        ("iyear",),
        ("imonth",),
        ("iday",),
        ("country_txt", "country"),
        ("gname",),
        ("nkill", "nwound"),
    ),
    columns={
        "incident_id": ("eventid",),
        "country": ("country_txt", "country"),
        "region": ("provstate",),
        "location": ("city",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "actor": ("gname",),
        "target": ("targtype1_txt",),
        "event_type": ("attacktype1_txt",),
        "notes": ("summary",),
    },
    derive=_derive,
    derive_reads=frozenset({"resolution", "gname2", "gname3", "guncertain1", "guncertain2", "guncertain3"}),
)
