"""The monthly briefing: the assessment of one month, as markdown to paste or JSON for tools.

`briefing(sources, "2014-06", actor="ISIS")` loads the files, keeps the
incidents up to the month's last day (a briefing for a past month says what
could have been said then) and renders the `Assessment` of that month
(`casualtystats.assessment`): key judgments first, then one row per region
(direction arrow, the rules that fired consolidated in one cell, the previous
alert, the month against the previous month and the same month a year
earlier), then the outlook (next month's median and 80% range where a
forecast exists), then the caveats, and last the evidence sentences by
region. Markdown and JSON carry the same content; the JSON follows the
versioned schema shipped as ``casualtystats/data/briefing.schema.json``
(`SCHEMA_VERSION`). It estimates nothing itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from . import compose
from .assessment import (
    ALL_REGIONS,
    DIRECTION_RULE,
    ORDER_RULE,
    Assessment,
    build_assessment,
    coverage_statement,
    outlook_text,
    rules_silence,
    source_line,
)
from .errors import CasualtyStatsError
from .normalize import canonical_actor, involving
from .parallel import single_thread_blas

#: Version of the JSON layout (`to_dict`), also in the shipped schema; bump on any change of it.
SCHEMA_VERSION = "1.1"
#: The JSON-Schema of `Briefing.to_dict()`, shipped in the package.
SCHEMA_FILE = "briefing.schema.json"
#: The comparisons of a briefing, in order: name -> months back.
COMPARISONS = {"previous_month": 1, "same_month_last_year": 12}


def schema() -> dict:
    """The JSON-Schema (draft 2020-12) that `Briefing.to_dict()` follows."""
    text = resources.files("casualtystats").joinpath("data", SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@dataclass
class Briefing:
    """A month's assessment for one actor; `to_markdown()` to paste, `to_dict()` for tools."""

    assessment: Assessment
    files: list[str]

    @property
    def coverage(self) -> compose.Coverage:
        return self.assessment.coverage

    @property
    def data_end(self) -> pd.Timestamp:
        """The last incident date in the files (only used to say whether the month is complete)."""
        return self.assessment.data_end

    @property
    def actor(self) -> str:
        return self.assessment.actor

    @property
    def month(self) -> pd.Period:
        return self.assessment.month

    @property
    def as_of(self) -> pd.Timestamp:
        return self.assessment.as_of

    @property
    def flags(self) -> pd.DataFrame:
        return self.assessment.flags

    @property
    def totals(self) -> dict:
        return self.assessment.overall.month

    @property
    def compared(self) -> dict:
        o = self.assessment.overall
        return {"previous_month": o.previous_month, "same_month_last_year": o.same_month_last_year}

    @property
    def change(self) -> dict:
        return self.assessment.overall.change

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
        """The briefing as JSON-ready data, following `schema()` (version `SCHEMA_VERSION`)."""
        a = self.assessment
        return {
            "schema_version": SCHEMA_VERSION,
            "actor": self.actor,
            "month": str(self.month),
            "as_of": self.as_of.date().isoformat(),
            "files": [Path(f).name for f in self.files],
            "sources": [s.to_dict() for s in a.sources],
            "key_judgments": [k.sentence for k in a.key_judgments],
            "key_judgment_strengths": [round(float(k.strength), 3) for k in a.key_judgments],
            "direction_measure": "incidents",
            "growth_window_weeks": a.growth_window_weeks,
            "alert_history_available": a.history_available,
            "overall": _plain_tree(a.overall.to_dict()),
            "regions": [_plain_tree(r.to_dict()) for r in a.regions],
            "totals": self.totals,
            "compared": self.compared,
            "change": self.change,
            "outlook": self._outlook_dict(),
            "caveats": list(a.caveats),
            "coverage": {
                **self.coverage.to_dict(),
                "month_complete": self.complete,
                "data_end": self.data_end.date().isoformat(),
                "weeks_without_reports_in_month": [
                    w.date().isoformat() for w in self.weeks_without_reports_in_month()
                ],
                "sources": [_plain(r) for r in self.coverage.sources.to_dict(orient="records")],
            },
            "resurgence": [_plain(record) for record in self.flags.to_dict(orient="records")],
        }

    def _outlook_dict(self) -> dict | None:
        rows = self._outlook_rows()
        if not rows:
            return None
        from . import assessment

        return {
            "month": str(rows[0][1]["month"]),
            "coverage_80": assessment.FORECAST_COVERAGE_80,
            "coverage_statement": coverage_statement(),
            "rows": [{"region": region, **{**o, "month": str(o["month"])}} for region, o in rows],
        }

    def _outlook_rows(self) -> list[tuple[str, dict]]:
        a = self.assessment
        return [(r.region, o) for r in [a.overall, *a.regions] for o in r.outlook]

    def summary(self) -> str:
        """The briefing as plain text (its markdown), as the other result objects' `summary()`."""
        return self.to_markdown()

    def to_frame(self) -> pd.DataFrame:
        """One row per region, as the briefing's table (`Assessment.to_frame`)."""
        return self.assessment.to_frame()

    def to_markdown(self) -> str:
        a, name = self.assessment, f"{self.month:%B %Y}"
        lines = [
            f"# {_md(self.actor)}: briefing for {name}",
            "",
            f"As of {self.as_of:%d %B %Y}. Data: {', '.join(_md(Path(f).name) for f in self.files)}.",
            "",
        ]
        lines += [f"- {_md(source_line(s))}" for s in a.sources]
        lines += ["", "## Key judgments", ""]
        lines += [f"{i}. {_md(k.sentence)}" for i, k in enumerate(a.key_judgments, 1)]

        before = [self.month - back for back in COMPARISONS.values()]
        lines += [
            "",
            "## Regions",
            "",
            f"| Region | Direction | Rules fired | Alert since | Previous alert | Incidents {name} | "
            f"vs {before[0]:%B %Y} | vs {before[1]:%B %Y} | Killed {name} |",
            "|---|---|---|---|---|---:|---:|---:|---:|",
        ]
        for r in [a.overall, *a.regions]:
            label = f"**{ALL_REGIONS.capitalize()}**" if r.region == ALL_REGIONS else _md(r.region)
            previous = _day(r.previous_alert) if a.history_available else "not computed"
            rules = _md(r.rules_text) or "—"
            if r.region == ALL_REGIONS and not a.overall_rules_run:
                rules = "not run (rules run per region only)"
            cells = [
                label,
                f"{r.arrow} {r.direction}",
                rules,
                _day(r.since),
                "—" if r.region == ALL_REGIONS else previous,
                _n(r.month["incidents"]),
                _versus(r.previous_month, r.change.get("previous_month")),
                _versus(r.same_month_last_year, r.change.get("same_month_last_year")),
                _n(r.month["killed"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        t = self.totals
        lines += [
            "",
            f"All regions, {name}: **{compose.counted(t['incidents'], 'incident')}** involving {_md(self.actor)}, "
            f"**{_n(t['killed'])} killed** ({_range(t, 'killed')}) and **{_n(t['injured'])} injured** "
            f"({_range(t, 'injured')}).",
            "",
            f"Direction: the trend of weekly incidents (`fit_trend`) over the last {a.growth_window_weeks} "
            f"weeks: {DIRECTION_RULE} Rules: `find_resurgence` as of the month's last day, per region "
            + ("and on all regions together" if a.overall_rules_run else "only")
            + "; ↑/↓ the direction flagged, the measures in brackets; alert since: the start of the "
            "alert (for a change point, no earlier than the change its evidence cites). Versus columns: that "
            f"month's incidents (change). {ORDER_RULE}",
            "",
        ]
        levels = [r.growth["level"] for r in a.regions if r.growth is not None]
        if len(levels) > 1:
            lines += [compose.multiple_testing_note(len(levels), levels[0]), ""]
        lines += [
            "## Outlook",
            "",
        ]
        rows = self._outlook_rows()
        if rows:
            lines += [
                f"| Region | Measure | {rows[0][1]['month']:%B %Y}: median and 80% range | Mean |",
                "|---|---|---:|---:|",
            ]
            for region, o in rows:
                label = f"**{ALL_REGIONS.capitalize()}**" if region == ALL_REGIONS else _md(region)
                lines.append(f"| {label} | {o['measure']} | {outlook_text(o)} | {o['mean']:,.1f} |")
            lines += ["", coverage_statement() + " " + compose.outlook_coverage_note(self.files)]
        else:
            lines.append("No forecast is available for this briefing.")
        lines += ["", "## Caveats", ""]
        lines += [f"- {_md(c)}" for c in a.caveats]
        lines += ["", "## Evidence by region", ""]
        evidenced = [r for r in [a.overall, *a.regions] if r.evidence]
        if not evidenced:
            silence = rules_silence(a.rules_not_evaluated, a.history_weeks)
            lines.append(f"For {_md(self.actor)} in any region, {silence}.")
        for r in evidenced:
            label = ALL_REGIONS.capitalize() if r.region == ALL_REGIONS else r.region
            lines += [f"**{_md(label)}**", ""] + [f"- {_md(e)}" for e in r.evidence] + [""]
        return "\n".join(lines).rstrip("\n") + "\n"


def briefing(
    sources,
    month,
    *,
    actor: str = "ISIS",
    merge: bool | str = "auto",
    outlook=None,
    outlook_weekly=None,
    columns=None,
) -> Briefing:
    """The briefing for `month` ("YYYY-MM") from one or several incident files.

    Only incidents up to the month's last day are used. `merge` is passed to the loader
    ("auto": merge reports of the same incident when several sources are present; False:
    stack them). `columns` names the columns of an analyst's own table after the canonical
    ones (see `casualtystats.load_incidents`). `outlook` (a monthly forecast table, see
    `casualtystats.assessment.assess`) replaces the forecast the assessment makes itself.
    """
    paths = compose.as_paths(sources)
    month = compose.parse_month(month)
    as_of = month.end_time.normalize()
    actor = canonical_actor(actor)  # the name the data and every output use ("Daesh" -> "ISIS")
    loaded = compose.load(paths, merge, columns)
    incidents = compose.select_dates(loaded.incidents, None, as_of)
    dates = loaded.incidents["date_start"]
    if dates.empty:
        raise CasualtyStatsError(f"no data covers {month}: the files hold no incidents")
    # a month inside the data without incidents is briefed (a quiet month is news); one outside is not
    if month.start_time > dates.max() or as_of < dates.min():
        raise CasualtyStatsError(
            f"no data covers {month}: the data runs from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"
        )
    involved = involving(incidents, actor)
    if involved.empty:
        raise CasualtyStatsError(
            f"no incidents involving {actor!r} up to {as_of:%Y-%m-%d} in {', '.join(Path(p).name for p in paths)}"
            + compose.actor_hint(incidents, actor)
        )
    with single_thread_blas():
        assessed = build_assessment(
            loaded,
            incidents,
            actor=actor,
            month=month,
            as_of=as_of,
            outlook=outlook,
            outlook_weekly=outlook_weekly,
            involved=involved,
        )
    return Briefing(assessed, paths)


def _n(value) -> str:
    return "unknown" if value is None else f"{value:,}"


def _day(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%d %b %Y}"


def _versus(before: dict | None, change: dict | None) -> str:
    if before is None:
        return "not covered"
    return f"{_n(before['incidents'])} ({_delta(change, 'incidents')})"


def _range(totals: dict, measure: str) -> str:
    low, high = totals[f"{measure}_low"], totals[f"{measure}_high"]
    if totals[measure] is None:
        return "not reported"
    if low is None and high is None:
        return "no range reported"
    if high is None:
        return f"at least {_n(low)}: no upper bound reported"
    return f"range {_n(low) if low is not None else '?'}–{_n(high)}"


def _delta(change: dict, measure: str) -> str:
    c = change[measure]
    if c["absolute"] is None:
        return "n/a"
    return f"{c['absolute']:+,}" + ("" if c["relative"] is None else f", {c['relative']:+.0%}")


#: Text markdown would read as HTML: a tag's opening `<` (`<b`, `</`, `<!`, `<?`) or an entity
#: (`&amp;`, `&#38;`). Only these are escaped: a plain "&" or "a < b" reads as itself, in the
#: raw text as in the rendered page ("Armed Conflict Location & Event Data", not "&amp;").
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")


def _md(text) -> str:
    """Data text safe in markdown: markup markdown would pass through as HTML is escaped
    (`_MARKUP`); no pipe or line break may break a table or list."""
    text = _MARKUP.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", str(text))
    return text.replace("|", "\\|").replace("\n", " ")


def _plain_tree(value):
    """A nested structure with JSON-ready leaves (see `_plain`)."""
    if isinstance(value, dict):
        return {k: _plain_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_tree(v) for v in value]
    return _plain({"v": value})["v"]


def _plain(record: dict) -> dict:
    """A record with JSON-ready values: dates as ISO strings, NaN/NA as None, numpy scalars as Python."""
    out = {}
    for key, value in record.items():
        if isinstance(value, pd.Timestamp):
            value = value.date().isoformat() if value == value.normalize() else value.isoformat()
        elif isinstance(value, pd.Period):
            value = str(value)
        elif value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out
