"""The report's sections, in page order, from what `build_report` computed.

Key judgments, headline numbers, regions at a glance, charts, the resurgence
table (one row per region, from the assessment), the outlook and the source
overlap when present, map, largest incidents, data quality, methods. Numbers
are read from the assessment, the panels and the result objects; the method
descriptions are the result objects' own `summary()` texts and attributes, so
the page cannot drift from what was fitted.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__, aggregate, assessment, compose
from ..aggregate import IMPRECISE_SUFFIX
from ..assessment import (
    ALL_REGIONS,
    DIRECTION_RULE,
    ORDER_RULE,
    Assessment,
    coverage_statement,
    outlook_text,
    region_name,
    rules_silence,
    source_line,
)
from ..parallel import SeriesInProgress
from ..resurgence import rules as resurgence_rules
from . import figures
from .html import SORT_SCRIPT, count, count_range, esc, figure, number, page, section, table

#: Actors drawn in the "who" chart.
TOP_ACTORS = 6
#: Incidents drawn on the map at most (a random sample beyond that).
MAP_POINTS = 5000
#: The seed of the map's sample, so the same data gives the same page.
MAP_SEED = 0
#: Rows of the largest-incidents table.
LARGEST = 12
#: Quarantined rows listed (all are counted).
QUARANTINE_ROWS = 50
#: Weeks-without-reports runs listed.
GAP_ROWS = 40
#: The sections that draw the fitted series models (`ReportPage.models`).
DRAW_FITS = frozenset({"trends", "methods"})


@dataclass
class ReportPage:
    actor: str
    paths: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    loaded: object
    incidents: pd.DataFrame
    involved: pd.DataFrame
    panels: dict[str, pd.DataFrame]
    assessment: Assessment
    #: the modelled series ("all regions" first, then the charted regions) and their fits
    #: (`build.SeriesModel`s), which may still be running in worker processes (`start_series`)
    names: list[str]
    fits: SeriesInProgress
    _figures: list[str] = field(default_factory=list, init=False)

    @property
    def models(self) -> list:
        """The fitted `names` (waiting for the fits if they are still running)."""
        return self.fits.result()

    @property
    def flags(self) -> pd.DataFrame:
        return self.assessment.flags

    @property
    def coverage(self) -> compose.Coverage:
        return self.assessment.coverage

    @property
    def figure_count(self) -> int:
        return len(self._figures)

    def _figure(self, fig, caption: str, name: str) -> str:
        self._figures.append(name)
        return figure(fig, caption, name=name)

    def chunks(self):
        """The page as chunks of text, for `write_atomic`."""
        self._figures.clear()
        order = [
            ("judgments", "Key judgments", self.judgments),
            ("caveats", "Caveats", self.caveats),
            ("headline", "Headline", self.headline),
            ("glance", "Regions at a glance", self.glance),
            ("resurgence", "Regions", self.resurgence),
            ("trends", "Weekly trends", self.trends),
        ]
        if self.assessment.outlook_weekly is not None or self.assessment.outlook is not None:
            order.append(("outlook", "Outlook", self.outlook))
        if self.assessment.overlap is not None:
            order.append(("overlap", "Sources and overlap", self.overlap))
        order += [
            ("map", "Map", self.map),
            ("largest", "Largest incidents", self.largest),
            ("quality", "Data quality", self.quality),
            ("methods", "Methods", self.methods),
        ]
        # the sections that draw the fits last: until then the fits run on the other cores
        drawn = {anchor: draw() for anchor, _, draw in order if anchor not in DRAW_FITS}
        drawn |= {anchor: draw() for anchor, _, draw in order if anchor in DRAW_FITS}
        sections = [(anchor, label, drawn[anchor]) for anchor, label, _ in order]
        title = f"{self.actor}: casualties, trends and resurgence"
        kinds = sorted(set(self.coverage.sources["kind"]))
        first = self.involved["date_start"].min()
        subtitle = [
            f"Incidents involving {self.actor} (as perpetrator or party), {first:%d %b %Y} – {self.end:%d %b %Y}"
            + (f" (data of all actors from {self.start:%d %b %Y})." if self.start < first else "."),
            "Data: "
            + ", ".join(Path(p).name for p in self.paths)
            + f" ({' and '.join(kinds)} records; see Data quality).",
        ]
        subtitle += [f"Source: {source_line(terms)}" for terms in self.assessment.sources]
        if "synthetic" in kinds:
            subtitle.append(
                "Contains SYNTHETIC (simulated) incidents: they illustrate the method and are not real events."
            )
        footer = f"casualtystats {__version__} · built {datetime.now():%Y-%m-%d %H:%M} · works offline"
        yield from page(
            title, subtitle, sections, figure_count=self.figure_count, footer=footer, scripts=[SORT_SCRIPT]
        )

    def caveats(self) -> str:
        """The assessment's caveats, the same sentences the briefing lists."""
        items = "".join(f"<li>{esc(c)}</li>" for c in self.assessment.caveats)
        return section("caveats", "Caveats", f"<ul>{items}</ul>")

    # --- headline -------------------------------------------------------------

    def headline(self) -> str:
        weekly, monthly = self.panels["weekly_total"], self.panels["monthly_total"]
        whole = compose.combined_totals(weekly)
        cards = [
            self._period_cards("week", weekly, "week", pd.Timedelta(days=6)),
            self._period_cards("month", monthly, "month", None),
            _cards(
                "whole",
                f"All {self.actor} incidents ({self.involved['date_start'].min():%d %b %Y} – "
                f"{self.end:%d %b %Y})",
                whole,
                None,
            ),
        ]
        note = (
            '<p class="note">Killed and injured: best estimate, with the low–high range reported by the sources '
            'in brackets (? = no upper bound, e.g. "at least 10"). Change is against the previous period. '
            "Injuries are unknown where the sources do not report them.</p>"
        )
        return section("headline", "Headline numbers", *cards, note)

    def _period_cards(self, key: str, panel: pd.DataFrame, column: str, length) -> str:
        periods = panel[column].sort_values().unique()
        latest = periods[-1]
        now = compose.totals(panel, column, latest)
        before = compose.totals(panel, column, periods[-2]) if len(periods) > 1 else None
        last_day = latest + length if length is not None else latest + pd.offsets.MonthEnd(0)
        label = f"week of {latest:%d %b %Y}" if key == "week" else f"{latest:%B %Y}"
        if last_day > self.end:
            # a part of a period against a whole one would read as a fall
            label += f" (partial: to {self.end:%d %b})"
            return _cards(key, f"Latest {key}: {label}", now, None, absent="partial period: not compared")
        return _cards(key, f"Latest {key}: {label}", now, compose.change(now, before) if before else None)

    # --- trends ---------------------------------------------------------------

    def trends(self) -> str:
        parts = [
            '<p class="note">Each chart: killed per week (best estimate, line; low–high range, shaded), '
            "injured per week where the sources report injuries, the fitted trend with its 95% interval (it may "
            f"step where the last {self.assessment.growth_window_weeks} weeks start: the growth is read from "
            "those weeks alone), and "
            "the change points of the weekly fatalities, with the rate of each segment (dotted) and the rate "
            "ratio of each change (×, hover for its interval); where sources were combined, the dates a source's "
            "records start or stop inside the data (green, dotted). Each y axis follows the data: a model "
            "band reaching beyond it is cut (its legend says so).</p>"
        ]
        partial = self._part_weeks()
        if partial:
            parts.append(f'<p class="note">{esc(partial)}</p>')
        for i, model in enumerate(self.models):
            fig = figures.series_figure(
                model.weekly,
                f"{self.actor} – {model.name}: killed"
                + (" and injured" if figures.reports_injuries(model.weekly) else "")
                + " per week",
                change_points=model.change_points,
                trend=model.trend,
                source_edges=self.coverage.edges(),
            )
            caption = _growth_caption(model)
            if i == 1:
                parts.append("<h3>By region</h3>")
            parts.append(self._figure(fig, caption, name=f"series:{model.name}"))
        actors_panel = self._whole_weeks(self.panels["weekly_actors"])
        top = (
            actors_panel.groupby("actor", observed=True)["fatalities_best"]
            .sum()
            .sort_values(ascending=False)
            .head(TOP_ACTORS)
        )
        top = [a for a in top.index if top[a] > 0]
        if top:
            parts.append("<h3>By actor</h3>")
            parts.append(
                self._figure(
                    figures.actors_figure(actors_panel, top),
                    "All incidents in the data, each under the actor its source records first (a merged "
                    "incident counts once, under the actor the merge chose)." + self._side_a_note(),
                    name="actors",
                )
            )
        return section("trends", f"Weekly fatalities and injuries: {self.actor}", *parts)

    def _whole_weeks(self, weekly: pd.DataFrame) -> pd.DataFrame:
        """The weeks of a weekly panel that the data cover whole (`compose.week_days`)."""
        return weekly[compose.week_days(weekly["week"], self.start, self.end).to_numpy() == 7]

    def _part_weeks(self) -> str:
        """The sentence naming the boundary weeks the data cover in part, '' when none."""
        weeks = pd.Series(sorted(self.panels["weekly_total"]["week"].unique()))
        days = compose.week_days(weeks, self.start, self.end)
        part = [
            f"{week:%d %b %Y} ({n} of 7 days in the data)"
            for week, n in zip(weeks, days, strict=True)
            if 0 < n < 7
        ]
        if not part:
            return ""
        return (
            f"Left out of the weekly charts and their models: the week{'s' * (len(part) > 1)} of "
            f"{' and of '.join(part)}, which the data cover only in part; drawn as a whole week, a "
            "part week's count would read as a fall."
        )

    def _side_a_note(self) -> str:
        """What the "actor" of UCDP's events is, when UCDP is among the sources."""
        if not self.coverage.sources["source"].astype(str).str.contains("UCDP").any():
            return ""
        return (
            " UCDP records the two sides of a fight, not a perpetrator: its events are under side A, "
            "often a government, so a government's line holds the deaths of battles it fought, not "
            "only killings it carried out."
        )

    # --- key judgments and regions (the assessment) -------------------------------

    def judgments(self) -> str:
        a = self.assessment
        items = "".join(
            f'<li data-strength="{k.strength:.3f}">{esc(k.sentence)}</li>' for k in a.key_judgments
        )
        note = (
            f'<p class="note">As of {esc(f"{a.as_of:%d %b %Y}")}, ranked by strength of evidence (standard '
            "errors between an estimate and no change; see Methods). The monthly briefing "
            "(<code>casualtystats brief</code>) states the same assessment.</p>"
        )
        return section(
            "judgments", f"Key judgments: {self.actor}", f'<ol class="judgments">{items}</ol>', note
        )

    def glance(self) -> str:
        a = self.assessment
        weekly = self.panels["weekly"]
        names = {region_name(r): r for r in weekly["region"].unique()}
        shown = [
            (names[r.region], f"{r.arrow} {r.region}", r.direction) for r in a.regions if r.region in names
        ]
        if not shown:
            return section("glance", "Regions at a glance", "<p>No region to show.</p>")
        fig = figures.small_multiples(self._whole_weeks(weekly), shown)
        caption = (
            f"Weekly {self.actor} incidents per region, in the order of the Regions table. Arrow: the trend "
            f"of weekly incidents over the last {a.growth_window_weeks} weeks, {DIRECTION_RULE} Each panel "
            "has its own scale."
        )
        return section("glance", "Regions at a glance", self._figure(fig, caption, name="glance"))

    def resurgence(self) -> str:
        a = self.assessment
        month = f"{a.month:%b %Y}"
        headers = [
            ("Region", None),
            ("Direction", None),
            ("Rules fired", None),
            ("Alert since", None),
            ("Previous alert", None),
            (f"Incidents {month}", "num"),
            (f"vs {a.month - 1:%b %Y}", "num"),
            (f"vs {a.month - 12:%b %Y}", "num"),
            ("Strength", "num"),
            ("Evidence", None),
        ]
        # no initial aria-sort: the rows come signalled regions first, not by one column
        head = "".join(
            f'<th class="num" data-sort="num">{esc(h)} ⇅</th>' if kind else f"<th>{esc(h)}</th>"
            for h, kind in headers
        )
        rows = []
        for r in a.regions:
            evidence = (
                f"<details><summary>{len(r.evidence)} sentence{'s' * (len(r.evidence) != 1)}</summary>"
                + "".join(f"<p>{esc(e)}</p>" for e in r.evidence)
                + "</details>"
                if r.evidence
                else esc(_direction_note(r))
            )
            previous = _day(r.previous_alert) if a.history_available else "not computed"
            cells = [
                f"<td>{esc(r.region)}</td>",
                f'<td class="dir {esc(r.direction.replace(" ", "-"))}" title="{esc(_direction_note(r))}">'
                f"{esc(r.arrow)} {esc(r.direction)}</td>",
                f"<td>{esc(r.rules_text or '—')}</td>",
                f"<td>{esc(_day(r.since) if r.since is not None else '—')}</td>",
                f"<td>{esc(previous)}</td>",
                _num_cell(r.month["incidents"]),
                _num_cell((r.previous_month or {}).get("incidents")),
                _num_cell((r.same_month_last_year or {}).get("incidents")),
                f'<td class="num" data-value="{r.strength:.4f}">{r.strength:.1f}</td>',
                f"<td>{evidence}</td>",
            ]
            rows.append(f'<tr data-region="{esc(r.region)}">' + "".join(cells) + "</tr>")
        body = (
            f'<table class="regions sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            if rows
            else f"<p>No region had {esc(self.actor)} incidents in the last year.</p>"
        )
        o = a.overall
        if not a.overall_rules_run:
            fired = "rules run per region only"
        else:
            fired = (
                f"rules fired: {o.rules_text}, alert since {_day(o.since)}"
                if o.rules
                else rules_silence(a.rules_not_evaluated, a.history_weeks)
            )
        overall = (
            f"<p><strong>All regions</strong>: {esc(o.arrow)} {esc(o.direction)} ({esc(_direction_note(o))}); "
            f"{esc(fired)}; {esc(compose.counted(o.month['incidents'], 'incident'))} in {esc(month)}.</p>"
            + "".join(f'<p class="note">{esc(e)}</p>' for e in o.evidence)
        )
        note = (
            f'<p class="note">As of {esc(f"{a.as_of:%d %b %Y}")}. One row per region that had incidents in the '
            "last 12 months or a resurgence flag; the rules that fired (<code>find_resurgence</code> on weekly "
            f"{esc(_measure_of(self.flags))}) are consolidated in one cell: ↑/↓ the direction flagged, the "
            "measures in brackets; <em>Alert since</em> is the earliest start among them (for a change point, "
            f"no earlier than the change its evidence cites). {esc(ORDER_RULE)} Click a ⇅ header to "
            "sort (Strength: standard errors from no change, see Methods); the evidence sentences open with a "
            "click.</p>"
        )
        levels = [r.growth["level"] for r in a.regions if r.growth is not None]
        if len(levels) > 1:
            note += f'<p class="note">{esc(compose.multiple_testing_note(len(levels), levels[0]))}</p>'
        return section(
            "resurgence", f"Regions: direction and resurgence flags ({self.actor})", overall, body, note
        )

    # --- outlook and overlap --------------------------------------------------

    def outlook(self) -> str:
        a = self.assessment
        parts = []
        weekly_fc = a.outlook_weekly
        if weekly_fc is not None and len(weekly_fc):
            series = [(ALL_REGIONS, None, self._whole_weeks(self.panels["weekly_total"]))]
            weekly = self._whole_weeks(self.panels["weekly"])
            for name in self.names[1:]:
                series.append((name, name, weekly[weekly["region"] == name]))
            for name, key, observed in series:
                if "region" in weekly_fc.columns:
                    rows = (
                        weekly_fc[weekly_fc["region"].isna()]
                        if key is None
                        else weekly_fc[weekly_fc["region"] == key]
                    )
                else:
                    rows = weekly_fc if key is None else weekly_fc.iloc[0:0]
                if rows.empty:
                    continue
                fig = figures.fan_chart(
                    observed,
                    rows,
                    f"{self.actor} – {region_name(name) if key else name}: next {rows['week'].nunique()} weeks",
                )
                parts.append(
                    self._figure(
                        fig,
                        "Observed weekly counts, then the forecast's median (dashed) with its 50%, 80% and "
                        "95% ranges.",
                        name=f"outlook:{name}",
                    )
                )
        monthly = [(r.region, o) for r in [a.overall, *a.regions] for o in r.outlook]
        if monthly:
            frame = pd.DataFrame(
                [
                    {
                        "region": region,
                        "measure": o["measure"],
                        "month": f"{o['month']:%b %Y}",
                        "range": outlook_text(o),
                        "mean": o["mean"],
                    }
                    for region, o in monthly
                ]
            )
            parts.append(
                table(
                    frame,
                    {
                        "region": "Region",
                        "measure": "Measure",
                        "month": "Month",
                        "range": "Median (80% range)",
                        "mean": "Mean",
                    },
                    numeric=["mean"],
                    formats={"range": str},
                )
            )
        parts.append(
            f'<p class="note">{esc(coverage_statement())} {esc(compose.outlook_coverage_note(self.paths))}</p>'
        )
        return section("outlook", f"Outlook: {self.actor}", *parts)

    def overlap(self) -> str:
        a = self.assessment
        wide = a.overlap.pivot_table(
            index="year", columns="sources", values="incidents", aggfunc="sum", fill_value=0
        ).reset_index()
        wide.columns = [str(c) for c in wide.columns]
        combos = [c for c in wide.columns if c != "year"]
        parts = [
            "<p>The sources were merged: an attack reported by several of them is one incident. "
            "Incidents per source combination and year (all actors):</p>",
            table(wide, {"year": "Year", **{c: c for c in combos}}, numeric=combos, formats={"year": str}),
        ]
        if a.unrecorded is not None and len(a.unrecorded):
            u = a.unrecorded
            by = [
                c
                for c in u.columns
                if c
                not in (
                    "observed",
                    "estimate",
                    "unrecorded",
                    "ci_low",
                    "ci_high",
                    "estimate_possible",
                    "method",
                    "not_estimable",
                )
            ]
            shown = u.assign(ci=[_interval(lo, hi) for lo, hi in zip(u["ci_low"], u["ci_high"], strict=True)])
            parts += [
                "<h3>Incidents no source recorded (capture-recapture)</h3>",
                table(
                    shown,
                    {
                        **{c: c.capitalize() for c in by},
                        "observed": "Recorded",
                        "estimate": "Estimated total",
                        "ci": "95% CI",
                        "unrecorded": "Unrecorded",
                        "estimate_possible": "Total with possible matches",
                        "method": "Method",
                    },
                    numeric=["observed", "estimate", "unrecorded", "estimate_possible"],
                    formats={**{c: str for c in by}, "ci": str},
                ),
            ]
            if u.attrs.get("population"):
                parts.append(f'<p class="note">Counted: {esc(u.attrs["population"])}.</p>')
            if u.attrs.get("assumptions"):
                parts.append(f'<p class="note">Assumptions: {esc(u.attrs["assumptions"])}</p>')
        return section("overlap", "Sources and their overlap", *parts)

    # --- map ------------------------------------------------------------------

    def map(self) -> str:
        # choose the rows by index first: copying a million-row table to drop most of it is slow
        has_place = self.involved["latitude"].notna() & self.involved["longitude"].notna()
        rows = np.flatnonzero(has_place.to_numpy())  # positions: the index need not be unique
        missing = len(self.involved) - len(rows)
        if not len(rows):
            return section("map", "Map of incidents", "<p>No incident in the data has coordinates.</p>")
        notes = []
        if len(rows) > MAP_POINTS:
            notes.append(
                f"Showing a random sample of {MAP_POINTS:,} of the {len(rows):,} incidents with "
                "coordinates (all are counted everywhere else)."
            )
            rows = np.sort(pd.Series(rows).sample(MAP_POINTS, random_state=MAP_SEED).to_numpy())
        located = self.involved.iloc[rows]
        located = located.assign(region=located["region"].map(region_name))
        status = {r.region: _status(r) for r in self.assessment.regions}
        if missing:
            notes.append(
                f"{missing:,} incident{'s' * (missing != 1)} without coordinates "
                f"{'are' if missing != 1 else 'is'} not on the map."
            )
        notes.append(
            "Colour: the alert status of the incident's region (red: a rule flags a rise; blue: only falls "
            "flagged; grey: no flag). Marker size grows with the number killed. No base map: the page loads "
            "nothing from the network."
        )
        fig = figures.incident_map(
            located, title=f"Incidents involving {self.actor} with coordinates", status=status
        )
        return section("map", "Map of incidents", self._figure(fig, " ".join(notes), name="map"))

    # --- largest incidents ----------------------------------------------------

    def largest(self) -> str:
        killed = self.involved["fatalities_best"].reset_index(drop=True)
        top = self.involved.iloc[killed.nlargest(LARGEST).index.to_numpy()]
        top = top.assign(
            killed=[
                count_range(*r)
                for r in top[["fatalities_best", "fatalities_low", "fatalities_high"]].itertuples(index=False)
            ],
            injured=[
                count_range(*r)
                for r in top[["injuries_best", "injuries_low", "injuries_high"]].itertuples(index=False)
            ],
            note=top["notes"].map(lambda n: n if not isinstance(n, str) or len(n) <= 240 else n[:240] + "…"),
            region=top["region"].map(region_name),  # never a place called "Unknown"
            date_start=[_when(a, b) for a, b in zip(top["date_start"], top["date_end"], strict=True)],
        )
        columns = {
            "date_start": "Date",
            "source": "Source",
            "region": "Region",
            "location": "Location",
            "actor": "Actor",
            "target": "Other side",
            "killed": "Killed",
            "injured": "Injured",
            "note": "Notes",
        }
        body = table(
            top,
            columns,
            numeric=["killed", "injured"],
            formats={"date_start": str, "killed": str, "injured": str},
        )
        note = (
            '<p class="note">A row dated over a span (a year total, a month total) is a source\'s '
            "aggregate of several incidents, not one incident.</p>"
        )
        return section("largest", f"Largest incidents involving {self.actor}", body, note)

    # --- data quality ---------------------------------------------------------

    def _imprecise_dates(self) -> str:
        """The actor's incidents dated less exactly than a week: in every total, not in the weekly
        series the models read (`weekly_panel`'s rule), by year."""
        weekly = self.panels["weekly_total"]
        twins = [f"{m}{IMPRECISE_SUFFIX}" for m in ("incidents", "fatalities_best")]
        if twins[0] not in weekly or not weekly[twins[0]].any():
            return "<h3>Imprecisely dated incidents: none</h3>"
        kept = weekly[weekly[twins[0]] > 0]
        by_year = kept.groupby(kept["week"].dt.year)[[t for t in twins if t in kept]].sum().reset_index()
        n, killed = int(by_year[twins[0]].sum()), by_year.get(twins[1], pd.Series(dtype=float)).sum()
        return (
            f"<h3>Imprecisely dated incidents: {n:,} ({count(killed)} killed)</h3>"
            '<p class="note">Dated only to a month or a year, or over a range longer than a week (a '
            "source's aggregated report): kept in every total, but set aside from the weekly series "
            "that the charts, change points, trends, flags and forecasts read, where they would be a "
            "one-week spike. Year of the week each one starts in.</p>"
            + table(
                by_year,
                {"week": "Year", twins[0]: "Incidents", twins[1]: "Killed"},
                numeric=twins,
            )
        )

    def quality(self) -> str:
        cov = self.coverage
        sources = cov.sources.assign(
            kind=cov.sources["kind"].map(
                lambda k: "SYNTHETIC (simulated)" if k == "synthetic" else "reported (real)"
            )
        )
        parts = [
            "<h3>Inputs</h3>",
            f"<pre>{esc(_without_folders(self.loaded.summary(), self.loaded.files))}</pre>",
            table(
                sources,
                {
                    "source": "Source",
                    "kind": "Kind",
                    "incidents": "Incidents (all actors)",
                    "first_date": "First",
                    "last_date": "Last",
                },
                numeric=["incidents"],
                formats={"first_date": _day, "last_date": _day},
            ),
            f"<h3>Quarantined rows: {cov.quarantined:,} of {cov.input_rows or cov.quarantined + cov.accepted:,} "
            "rows read</h3>",
        ]
        if cov.quarantined:
            reasons = cov.quarantine_reasons.rename_axis("reason").reset_index()
            parts.append(table(reasons, {"reason": "Reason", "rows": "Rows"}, numeric=["rows"]))
            q = self.loaded.quarantine.head(QUARANTINE_ROWS)
            q = q.assign(
                reasons=q["reasons"].map(lambda r: "; ".join(r) if isinstance(r, (list, tuple)) else r)
            )
            shown = ["file", "line", "reasons"]
            parts.append(
                f"<details><summary>First {len(q):,} quarantined rows</summary>"
                + table(
                    q.assign(file=q["file"].map(lambda f: Path(str(f)).name)),
                    {c: c.capitalize() for c in shown},
                    numeric=["line"],
                )
                + "</details>"
            )
        else:
            parts.append("<p>Every row passed validation.</p>")
        parts.append(self._imprecise_dates())
        parts.append("<h3>Names left unmatched</h3>")
        parts.append(_name_list("Actors", cov.unmatched_actors))
        parts.append(_name_list("Regions", cov.unmatched_regions))
        gaps = cov.gaps()
        parts.append(f"<h3>Weeks with no reports: {len(cov.weeks_without_reports):,} of {cov.weeks:,}</h3>")
        if gaps:
            runs = pd.DataFrame(
                {
                    "first": [a for a, _ in gaps],
                    "last": [b + pd.Timedelta(days=6) for _, b in gaps],
                    "weeks": [(b - a).days // 7 + 1 for a, b in gaps],
                }
            )
            runs = runs.sort_values("weeks", ascending=False).head(GAP_ROWS).sort_values("first")
            parts.append(
                '<p class="note">Weeks in which the data holds no incident of any actor: a gap in '
                "reporting (or a truly quiet week); the panels count them as zeros.</p>"
            )
            parts.append(
                table(
                    runs,
                    {"first": "From", "last": "To", "weeks": "Weeks"},
                    numeric=["weeks"],
                    formats={"first": _day, "last": _day},
                )
            )
        parts.append(f"<h3>Unknown injuries by source ({esc(self.actor)} incidents)</h3>")
        unknown = cov.unknown_injuries.assign(
            share=lambda d: (d["injuries_unknown"] / d["incidents"]).map(lambda v: f"{v:.0%}")
        )
        parts.append(
            table(
                unknown,
                {
                    "source": "Source",
                    "incidents": "Incidents",
                    "injuries_unknown": "Injuries unknown",
                    "share": "Share",
                },
                numeric=["incidents", "injuries_unknown", "share"],
                formats={"share": str},
            )
        )
        return section("quality", "Data quality", *parts)

    # --- methods --------------------------------------------------------------

    def methods(self) -> str:
        cps = pd.DataFrame(
            [
                {
                    "series": m.name,
                    "cost": m.change_points.cost,
                    "penalty": f"{m.change_points.penalty_used.name} = {m.change_points.penalty:.4g}",
                    "changes": m.change_points.n_changes,
                }
                for m in self.models
            ]
        )
        trends = pd.DataFrame([_trend_row(m) for m in self.models])
        thresholds = pd.DataFrame(
            [{"threshold": k, "value": _setting(v)} for k, v in self.flags.attrs["thresholds"].items()]
        )
        parts = [
            "<h3>Weekly panels</h3>",
            f"<p>{esc(self.actor)}'s incidents (as perpetrator or party, <code>involving</code>) summed per "
            "week and region by <code>weekly_panel</code>; the overall series by the same function without "
            "grouping. Every week of the range is present; a week without incidents is zero.</p>",
            _doc("Panel rules (casualtystats.aggregate)", _public_doc(aggregate.__doc__)),
            "<h3>Change points</h3>",
            "<p>Exact PELT on each weekly fatalities series (<code>detect_change_points</code>, automatic cost "
            "and penalty):</p>",
            table(
                cps,
                {"series": "Series", "cost": "Cost", "penalty": "Penalty per change", "changes": "Changes"},
                numeric=["changes"],
            ),
            *(_changepoint_details(m) for m in self.models),
            "<h3>Trends</h3>",
            "<p>Fitted by <code>fit_trend</code> on each weekly fatalities series, with 95% intervals:</p>",
            table(
                trends,
                {
                    "series": "Series",
                    "model": "Model",
                    "trend": "Time trend",
                    "dispersion": "NB alpha",
                    "aic": "AIC",
                    "growth": "Growth per month (95% CI)",
                    "note": "Note",
                },
                numeric=["dispersion", "aic"],
            ),
            *(_trend_details(m) for m in self.models if m.trend is not None),
            "<h3>Resurgence rules</h3>",
            f"<p>Rules {esc(', '.join(self.flags.attrs['rules']))} (<code>find_resurgence</code>), each on weekly "
            f"{esc(_measure_of(self.flags))} by region, with only the weeks complete by the as-of date:</p>",
            table(thresholds, {"threshold": "Threshold", "value": "Value"}),
            _doc("Rule definitions (casualtystats.resurgence.rules)", _public_doc(resurgence_rules.__doc__)),
            "<h3>Assessment</h3>",
            "<p>The key judgments and the Regions table are one assessment (<code>casualtystats.assessment"
            "</code>), which the monthly briefing renders too: direction from the trend of each region's weekly "
            f"incidents over the last {self.assessment.growth_window_weeks} weeks, the flags consolidated per "
            "region, strength of evidence for the ranking.</p>",
            _doc("Assessment definitions (casualtystats.assessment)", _public_doc(assessment.__doc__)),
        ]
        if self.assessment.outlook is not None or self.assessment.outlook_weekly is not None:
            parts += [
                "<h3>Outlook</h3>",
                "<p>Forecasts of weekly incidents and killed for the next 13 weeks "
                f"(<code>casualtystats.forecast</code>), month totals as median and 80% range. "
                f"{esc(coverage_statement())}</p>",
            ]
        return section("methods", "Methods", *parts)


def _status(region) -> str:
    directions = {rule["direction"] for rule in region.rules}
    return "alert: rising" if "up" in directions else "alert: falling" if directions else "no alert"


def _num_cell(value) -> str:
    data = "" if value is None else str(value)
    return f'<td class="num" data-value="{esc(data)}">{esc(count(value) if value is not None else "—")}</td>'


def _cards(key: str, title: str, values: dict, change: dict | None, absent: str = "") -> str:
    """One row of headline cards (incidents, killed, injured), values in data- attributes for tools and
    tests; `absent` is said in place of the change when there is none."""
    cells = []
    for name, low, high, label in (
        ("incidents", None, None, "Incidents"),
        ("killed", "killed_low", "killed_high", "Killed"),
        ("injured", "injured_low", "injured_high", "Injured"),
    ):
        value = values.get(name)
        data = "" if value is None else str(value)
        rng = ""
        if (
            low is not None
            and value is not None
            and (values.get(low) is not None or values.get(high) is not None)
        ):
            bounds = count_range(value, values.get(low), values.get(high)).split(" ", 1)[1].strip("()")
            rng = f'<div class="range">range {esc(bounds)}</div>'
        delta = (
            _delta(change[name]) if change else f'<div class="delta">{esc(absent)}</div>' if absent else ""
        )
        cells.append(
            f'<div class="card"><h3>{esc(label)}</h3>'
            f'<div class="value" data-headline="{esc(key)}.{name}" data-value="{esc(data)}">{esc(count(value))}</div>'
            f"{rng}{delta}</div>"
        )
    return f'<h3>{esc(title)}</h3><div class="cards" data-period="{esc(key)}">{"".join(cells)}</div>'


def _delta(change: dict) -> str:
    if change["absolute"] is None:
        return '<div class="delta">no comparison</div>'
    a, rel = change["absolute"], change["relative"]
    direction = "up" if a > 0 else "down" if a < 0 else "flat"
    pct = "" if rel is None else f" ({rel:+.0%})"
    return f'<div class="delta {direction}">{a:+,}{esc(pct)} vs previous</div>'


def _without_folders(text: str, files: pd.DataFrame) -> str:
    """`text` with each input file's path reduced to its name: a shared report shows no local folders."""
    for path in files["file"] if "file" in files else []:
        text = text.replace(str(path), Path(str(path)).name)
    return text


def _day(value) -> str:
    return "—" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _interval(low, high) -> str:
    return "—" if pd.isna(low) or pd.isna(high) else f"{number(low)}–{number(high)}"


def _growth_caption(model) -> str:
    if model.trend is None:
        return model.problem or ""
    n = len(model.change_points.locations) if model.change_points is not None else 0
    growth = (
        f"now {compose.growth_text(model.trend.growth_per_month, 1 - model.trend.alpha)}"
        if model.trend.growth_estimable
        else f"growth not estimable (no event in the last {model.trend.growth_window_weeks} weeks)"
    )
    return f"Trend ({model.trend.model}) {growth}; {n} change point{'s' * (n != 1)} in the weekly fatalities."


def _direction_note(r) -> str:
    """A region's direction note with its growth as `compose.growth_text` prints it (an interval
    too wide to read is "not estimable", not percentages)."""
    if r.growth is None:
        return r.direction_note
    g = r.growth
    return f"weekly incidents {compose.growth_text(g, g['level'])} over the last {g['window_weeks']} weeks"


def _when(start, end) -> str:
    """An incident's date; a source's aggregate over a span shows the span ("2006, year total")."""
    start = pd.Timestamp(start)
    end = start if pd.isna(end) else pd.Timestamp(end)
    if end <= start:
        return _day(start)
    if start == start.replace(month=1, day=1) and end == start.replace(month=12, day=31):
        return f"{start.year} (year total)"
    if start.day == 1 and end == start + pd.offsets.MonthEnd(0):
        return f"{start:%b %Y} (month total)"
    return f"{_day(start)} – {_day(end)} (total over the span)"


def _name_list(what: str, names: pd.DataFrame) -> str:
    """Unmatched names with how many rows carry them."""
    if names.empty:
        return f"<p>{esc(what)}: all matched the alias tables.</p>"
    columns = {c: c.capitalize() for c in names.columns if c != "count"} | {"count": "Rows"}
    return (
        f"<p>{esc(what)} kept as given ({len(names):,}; extend the alias table to merge them):</p>"
        + table(names, columns, numeric=["count"])
    )


def _measure_of(flags: pd.DataFrame) -> str:
    return " and ".join(flags.attrs["measures"])


def _trend_row(model) -> dict:
    t = model.trend
    if t is None:
        return {
            "series": model.name,
            "model": "—",
            "trend": "—",
            "dispersion": None,
            "aic": None,
            "growth": "—",
            "note": model.problem,
        }
    if t.knots:
        shape = f"piecewise, knots {', '.join(map(str, t.knots))}"
    elif t.df:
        shape = "log-linear" if t.df == 1 else f"natural spline, df {t.df}"
    else:
        shape = "state space"
    return {
        "series": model.name,
        "model": t.model,
        "trend": shape,
        "dispersion": t.dispersion,
        "aic": round(t.aic, 1),
        "growth": compose.growth_text(t.growth_per_month, 1 - t.alpha)
        if t.growth_estimable
        else "not estimable (quiet end)",
        "note": model.problem or "",
    }


def _setting(value) -> str:
    """A threshold's value as text: a tuple of years is "1 and 3", not "(1, 3)"."""
    if isinstance(value, (tuple, list)):
        items = [str(v) for v in value]
        return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
    return str(value)


def _public_doc(text: str | None) -> str:
    """A module docstring as plain text for the page: reST literals (``x``, `x`) shown as x, and
    paragraphs about private code (naming a `_private` function) left out: the page explains the
    method, not the package's internals."""
    paragraphs = inspect.cleandoc(text or "").split("\n\n")
    public = [p for p in paragraphs if not re.search(r"(?<!`)`_\w+`(?!`)", p)]
    return re.sub(r"``?([^`]+?)``?", r"\1", "\n\n".join(public))


def _labels(labels) -> str:
    return ", ".join(_day(v) if isinstance(v, pd.Timestamp) else str(v) for v in labels) or "none"


def _changepoint_details(model) -> str:
    """A series' change points as tables: segments with their levels, and each change's rate ratio."""
    cp = model.change_points
    seg = cp.segments
    level = f"{100 * (1 - cp.alpha):.0f}% CI"
    parts = [
        f"<p>{esc(cp.cost)} cost, {esc(cp.penalty_used.name)} penalty {esc(number(cp.penalty))} per change; "
        f"{len(cp.values):,} weeks; changes at {esc(_labels(cp.labels[i] for i in cp.locations))}; weeks set "
        f"aside as isolated excursions: {esc(_labels(cp.labels[i] for i in cp.outliers))}.</p>",
        table(
            seg.assign(ci=[_interval(lo, hi) for lo, hi in zip(seg["ci_low"], seg["ci_high"], strict=True)]),
            {
                "start_label": "From",
                "end_label": "To",
                "n": "Weeks",
                "estimate": "Level per week",
                "ci": level,
            },
            numeric=["n", "estimate"],
            formats={"start_label": _day, "end_label": _day, "ci": str},
        ),
    ]
    if cp.n_changes:
        ratios = cp.rate_ratios(cp.alpha)
        keys = ["location", "part"] if "part" in ratios else ["location"]
        dates = cp.location_intervals(cp.alpha)[[*keys, "earliest_label", "latest_label"]]
        ratios = ratios.merge(dates, on=keys, how="left")
        ratios = ratios.assign(
            ci=[_interval(lo, hi) for lo, hi in zip(ratios["ci_low"], ratios["ci_high"], strict=True)],
            began=[
                f"{_day(a)} – {_day(b)}"
                for a, b in zip(ratios["earliest_label"], ratios["latest_label"], strict=True)
            ],
        )
        parts.append(
            table(
                ratios,
                {
                    "label": "Change",
                    "began": f"Began ({level} of the date)",
                    "before": "Before",
                    "after": "After",
                    "ratio": "Ratio",
                    "ci": level,
                },
                numeric=["before", "after", "ratio"],
                formats={"label": _day, "began": str, "ci": str},
            )
        )
    return f"<details><summary>{esc(model.name)}: change points</summary>{''.join(parts)}</details>"


def _trend_details(model) -> str:
    """A series' trend: the summary's account, then its parameters as a table in which a
    parameter without a standard error says so (no NaN on the page)."""
    t = model.trend
    account = t.summary().split("\n\n", 1)[0]
    params = t.conf_int().assign(estimate=t.params, se=t.bse).rename_axis("parameter").reset_index()
    missing = params[["se", "lower", "upper"]].isna().any(axis=1)
    note = (
        f'<p class="note">— : no standard error for {", ".join(map(str, params.loc[missing, "parameter"]))}: '
        "hyperparameters chosen by maximising the marginal likelihood and then plugged in (see the trend "
        "stage's documentation), so no interval is claimed for them.</p>"
        if missing.any()
        else ""
    )
    return (
        f"<details><summary>{esc(model.name)}: trend</summary><pre>{esc(account)}</pre>"
        + table(
            params,
            {
                "parameter": "Parameter",
                "estimate": "Estimate",
                "se": "SE",
                "lower": "Lower",
                "upper": "Upper",
            },
            numeric=["estimate", "se", "lower", "upper"],
        )
        + note
        + "".join(f'<p class="note">Warning: {esc(w)}</p>' for w in t.warnings)
        + "</details>"
    )


def _doc(title: str, text: str | None) -> str:
    """A collapsed block of a result's or module's own text."""
    return f"<details><summary>{esc(title)}</summary><pre>{esc(inspect.cleandoc(text or ''))}</pre></details>"
