"""The monthly briefing: the numbers a written brief needs, as markdown or JSON.

`briefing(sources, "2026-10", actor="ISIS")` loads the files, and reports for
that month: the actor's incidents, killed and injured (with the sources'
low-high ranges), the change against the previous month and the same month a
year earlier, the regions the resurgence rules flag as of the month's last day
(with their evidence sentences), and the caveats a reader must know (what the
data covers, weeks nobody reported, quarantined rows, sources without
injuries). It composes the public pipeline; it estimates nothing itself.
Data after the month is ignored, so a briefing for a past month says what
could have been said then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .aggregate import monthly_panel, weekly_panel
from .errors import CasualtyStatsError
from .normalize import involving
from .report import compose
from .resurgence import find_resurgence
from .sources import load_incidents

#: The comparisons of a briefing, in order: name -> months back.
COMPARISONS = {"previous_month": 1, "same_month_last_year": 12}


@dataclass
class Briefing:
    """A month's numbers for one actor; `to_markdown()` to paste, `to_dict()` for tools."""

    actor: str
    month: pd.Period
    files: list[str]
    totals: dict
    compared: dict
    change: dict
    flags: pd.DataFrame
    coverage: compose.Coverage
    data_end: pd.Timestamp

    @property
    def as_of(self) -> pd.Timestamp:
        return self.month.end_time.normalize()

    @property
    def complete(self) -> bool:
        """Whether the data runs to the month's last day."""
        return self.data_end >= self.as_of

    def weeks_without_reports_in_month(self) -> list[pd.Timestamp]:
        first = self.month.start_time
        return [
            w for w in self.coverage.weeks_without_reports if first - pd.Timedelta(days=6) <= w <= self.as_of
        ]

    def to_dict(self) -> dict:
        return {
            "actor": self.actor,
            "month": str(self.month),
            "as_of": self.as_of.date().isoformat(),
            "files": [Path(f).name for f in self.files],
            "totals": self.totals,
            "compared": self.compared,
            "change": self.change,
            "resurgence": [_plain(record) for record in self.flags.to_dict(orient="records")],
            "caveats": {
                **self.coverage.to_dict(),
                "month_complete": self.complete,
                "data_end": self.data_end.date().isoformat(),
                "weeks_without_reports_in_month": [
                    w.date().isoformat() for w in self.weeks_without_reports_in_month()
                ],
                "sources": [_plain(r) for r in self.coverage.sources.to_dict(orient="records")],
            },
        }

    def to_markdown(self) -> str:
        name = f"{self.month:%B %Y}"
        lines = [f"# {self.actor}: briefing for {name}", ""]
        t = self.totals
        lines += [
            f"In {name}, the data records **{_n(t['incidents'])} incidents** involving {self.actor}, with "
            f"**{_n(t['killed'])} killed** ({_range(t, 'killed')}) and **{_n(t['injured'])} injured** "
            f"({_range(t, 'injured')})."
            + (
                ""
                if self.complete
                else f" The data ends on {self.data_end:%d %B %Y}: the month is incomplete."
            ),
            "",
        ]
        headers = [name] + [f"{self.month - back:%B %Y}" for back in COMPARISONS.values()]
        lines += ["| | " + " | ".join(headers) + " |", "|---|" + "---:|" * len(headers)]
        for measure, label in (("incidents", "Incidents"), ("killed", "Killed"), ("injured", "Injured")):
            cells = [_n(t[measure])]
            for key in COMPARISONS:
                before = self.compared[key]
                cells.append(
                    "not covered"
                    if before is None
                    else f"{_n(before[measure])} ({_delta(self.change[key], measure)})"
                )
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += ["", "Change in brackets: this month against that one.", ""]

        lines += [f"## Resurgence flags as of {self.as_of:%d %B %Y}", ""]
        if self.flags.empty:
            lines.append(f"No rule flags a resurgence of {self.actor} in any region.")
        for flag in self.flags.itertuples():
            where = getattr(flag, "region", "")
            lines.append(
                f"- **{_md(where)}** ({_md(flag.rule)}, since {pd.Timestamp(flag.date):%d %b %Y}): {_md(flag.evidence)}"
            )
        lines += ["", "## Caveats", ""]
        lines += [f"- {c}" for c in self._caveats()]
        return "\n".join(lines) + "\n"

    def _caveats(self) -> list[str]:
        cov = self.coverage
        kinds = ", ".join(
            f"{_md(s.source)} ({'SYNTHETIC, simulated' if s.kind == 'synthetic' else 'reported'})"
            for s in cov.sources.itertuples()
        )
        out = [
            f"Data: {', '.join(_md(Path(f).name) for f in self.files)}; sources {kinds}; "
            f"incidents from {cov.first_date:%d %b %Y} to {self.data_end:%d %b %Y}"
            + (
                f" (only those up to {self.as_of:%d %b %Y} are used here)."
                if self.data_end > self.as_of
                else "."
            )
        ]
        in_month = self.weeks_without_reports_in_month()
        out.append(
            f"Weeks with no report of any incident: {len(in_month)} touching {self.month:%B %Y}, "
            f"{len(cov.weeks_without_reports):,} of {cov.weeks:,} weeks in the whole coverage."
        )
        reasons = ", ".join(f"{r} ({n:,})" for r, n in cov.quarantine_reasons.head(3).items())
        out.append(
            f"Rows quarantined as invalid: {cov.quarantined:,} of {cov.quarantined + cov.accepted:,}"
            + (f"; most common reasons: {reasons}." if reasons else ".")
        )
        for s in cov.unknown_injuries.itertuples():
            if s.injuries_unknown:
                out.append(
                    f"Injuries unknown for {s.injuries_unknown:,} of {s.incidents:,} {_md(s.source)} incidents "
                    "(counted as unknown, not zero)."
                )
        if len(cov.unmatched_actors) or len(cov.unmatched_regions):
            out.append(
                f"Names not in the alias tables, kept as given: {len(cov.unmatched_actors)} "
                f"actor{'s' * (len(cov.unmatched_actors) != 1)}, "
                f"{len(cov.unmatched_regions)} region{'s' * (len(cov.unmatched_regions) != 1)}."
            )
        return out


def briefing(sources, month, *, actor: str = "ISIS", merge: bool | str = "auto") -> Briefing:
    """The briefing for `month` ("YYYY-MM") from one or several incident files.

    `merge` is passed to `load_incidents` ("auto": merge several sources; False: stack them)."""
    paths = compose.as_paths(sources)
    month = compose.parse_month(month)
    as_of = month.end_time.normalize()
    loaded = load_incidents(paths, merge=merge)
    incidents = compose.select_dates(loaded.incidents, None, as_of)
    if incidents.empty or incidents["date_start"].max() < month.start_time:
        span = (
            (
                f"the data runs from {loaded.incidents['date_start'].min():%Y-%m-%d} to "
                f"{loaded.incidents['date_start'].max():%Y-%m-%d}"
            )
            if len(loaded.incidents)
            else "the files hold no incidents"
        )
        raise CasualtyStatsError(f"no data covers {month}: {span}")
    mine = involving(incidents, actor)
    if mine.empty:
        raise CasualtyStatsError(
            f"no incidents involving {actor!r} up to {as_of:%Y-%m-%d} in {', '.join(Path(p).name for p in paths)}"
        )
    first = incidents["date_start"].min()
    # the month is complete when the files run past its end (the only use of later data: a caveat)
    data_end = loaded.incidents["date_start"].max()

    earliest = month - max(COMPARISONS.values())
    monthly = monthly_panel(mine, by=None, start=min(first, earliest.start_time), end=as_of)
    totals = compose.totals(monthly, "month", month.start_time)
    compared, change = {}, {}
    for key, back in COMPARISONS.items():
        then = month - back
        covered = then.end_time >= first
        compared[key] = compose.totals(monthly, "month", then.start_time) if covered else None
        change[key] = compose.change(totals, compared[key]) if covered else None

    weekly = weekly_panel(mine, by=["actor", "region"], start=first, end=as_of)
    flags = find_resurgence(weekly, actor=actor, by="region", measure=compose.FLAG_MEASURES, as_of=as_of)
    cover = compose.coverage(loaded, incidents, weekly_panel(incidents, by=None, start=first, end=as_of))
    return Briefing(actor, month, paths, totals, compared, change, flags, cover, data_end)


def _n(value) -> str:
    return "unknown" if value is None else f"{value:,}"


def _range(totals: dict, measure: str) -> str:
    low, high = totals[f"{measure}_low"], totals[f"{measure}_high"]
    if totals[measure] is None:
        return "not reported"
    if low is None and high is None:
        return "no range reported"
    return f"range {_n(low) if low is not None else '?'}–{_n(high) if high is not None else '?'}"


def _delta(change: dict, measure: str) -> str:
    c = change[measure]
    if c["absolute"] is None:
        return "n/a"
    return f"{c['absolute']:+,}" + ("" if c["relative"] is None else f", {c['relative']:+.0%}")


def _md(text) -> str:
    """Data text safe in markdown: markdown passes HTML through, so `<`, `>` and `&` become
    entities (shown as themselves); no pipe or line break may break a table or list."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def _plain(record: dict) -> dict:
    """A record with JSON-ready values: dates as ISO strings, NaN/NA as None, numpy scalars as Python."""
    out = {}
    for key, value in record.items():
        if isinstance(value, pd.Timestamp):
            value = value.date().isoformat() if value == value.normalize() else value.isoformat()
        elif value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out
