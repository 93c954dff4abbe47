"""`build_report`: incident files in, one self-contained offline HTML trend report out.

The report composes the public pipeline (load -> the assessment of
`casualtystats.assessment`, which runs panels, trends, resurgence, and the
forecast and merge stages where present -> change points and trends of the
charted series) and draws what it returns; the briefing renders the same
assessment. To stay fast on millions of
incidents it aggregates first: every model sees a weekly series (a few hundred
to a few thousand points) whatever the number of incidents, only the overall
series and a bounded number of regions are modelled and drawn, and the map
shows at most `sections.MAP_POINTS` incidents, sampled, with a note saying so.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from .. import compose
from ..aggregate import weekly_panel
from ..assessment import build_assessment
from ..changepoints import detect_change_points
from ..errors import CasualtyStatsError
from ..normalize import canonical_actor, involving
from ..outputs import write_atomic
from ..parallel import single_thread_blas, start_series
from ..trend import fit_trend
from .sections import ReportPage

#: Regions with the most fatalities that get their own chart (flagged regions are added, up to MAX_REGION_CHARTS).
TOP_REGIONS = 6
MAX_REGION_CHARTS = 8
#: A region is charted and modelled on its own only with incidents in at least this many weeks
#: (unless a resurgence rule flags it): a trend through three isolated weeks says nothing.
MIN_ACTIVE_WEEKS = 8


@dataclass
class SeriesModel:
    """One modelled weekly series: its panel rows and what the engines returned for it."""

    name: str
    weekly: pd.DataFrame
    change_points: object | None
    trend: object | None
    problem: str | None = None


class _Steps:
    """A rich progress bar over the build steps (hidden when not on a terminal or not wanted)."""

    def __init__(self, enabled: bool):
        self.console = Console(stderr=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=not (enabled and self.console.is_terminal),
        )

    def __enter__(self):
        self.bar.start()
        self.task = self.bar.add_task("loading", total=None)
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def expect(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def __call__(self, description: str) -> None:
        """Start a step: the previous one is done."""
        self.bar.update(self.task, description=description)

    def done(self) -> None:
        self.bar.advance(self.task)


def build_report(
    sources,
    output="reports/report.html",
    *,
    actor: str = "ISIS",
    start=None,
    end=None,
    progress: bool = True,
    merge: bool | str = "auto",
    outlook: pd.DataFrame | None = None,
    outlook_weekly: pd.DataFrame | None = None,
    columns=None,
) -> Path:
    """Build the HTML trend report for `actor` from one or several incident files.

    `start`/`end` (dates, inclusive) restrict the incidents by their start date.
    `merge` is passed to the loader ("auto": merge reports of the same incident when
    several sources are present; False: stack them). `columns` names the columns of an
    analyst's own table after the canonical ones (see `casualtystats.load_incidents`).
    `outlook` / `outlook_weekly` (monthly and weekly forecast tables, see
    `casualtystats.assessment.assess`) replace the forecast the assessment makes
    itself. The file is written atomically:
    if anything fails, a previous report at `output` is left as it was. Returns
    the path written.
    """
    began = time.perf_counter()
    actor = canonical_actor(actor)  # the name the data and every output use ("Daesh" -> "ISIS")
    paths = compose.as_paths(sources)
    start, end = compose.parse_date(start, "--from"), compose.parse_date(end, "--to")
    if start is not None and end is not None and start > end:
        raise CasualtyStatsError(f"--from {start:%Y-%m-%d} is after --to {end:%Y-%m-%d}")

    with single_thread_blas(), _Steps(progress) as step:
        step(f"loading {len(paths)} file{'s' * (len(paths) > 1)}")
        loaded = compose.load(paths, merge, columns)
        incidents = compose.select_dates(loaded.incidents, start, end)
        mine = involving(incidents, actor)
        if mine.empty:
            raise CasualtyStatsError(_nothing_for(actor, incidents, loaded.incidents, paths, start, end))
        step.done()

        step("assessing: panels, trends, resurgence")
        # The data's range, for coverage; the actor's series start at its first incident (years of
        # zeros before a group existed would only distort its trend) and run to the end of the data,
        # so a quiet recent stretch counts as the zeros it is. Rules and trends are judged as of the
        # data's last day: a week still being reported is not judged as if it were complete.
        last = end if end is not None else incidents["date_start"].max()
        assessed = build_assessment(
            loaded,
            incidents,
            actor=actor,
            month=pd.Period(last, freq="M"),
            as_of=last,
            start=start,
            outlook=outlook,
            outlook_weekly=outlook_weekly,
            involved=mine,
        )
        first = start if start is not None else incidents["date_start"].min()
        panels = dict(assessed.panels)
        panels["weekly_actors"] = weekly_panel(incidents, by=["actor"], start=first, end=last)
        flags = assessed.flags
        step.done()

        regions = _regions_to_chart(panels["weekly"], flags)
        step.expect(3)
        names, series = [], []
        for name, rows in [("all regions", panels["weekly_total"])] + [
            (region, panels["weekly"][panels["weekly"]["region"] == region]) for region in regions
        ]:
            # a boundary week the data cover in part is not a week: its count would read as a fall
            whole = compose.week_days(rows["week"], first, last).to_numpy() == 7
            names.append(name)
            series.append(rows[whole])
        step(f"fitting {len(series)} series, drawing the page")
        # independent fits, on the other cores while the page's sections that do not draw them are drawn
        with start_series(_model, names, series) as fits:
            report = ReportPage(
                actor=actor,
                paths=paths,
                start=first,
                end=last,
                loaded=loaded,
                incidents=incidents,
                involved=mine,
                panels=panels,
                assessment=assessed,
                names=names,
                fits=fits,
            )
            written = write_atomic(output, report.chunks())
        step.done()

    if progress:
        seconds = time.perf_counter() - began
        size = written.stat().st_size / 2**20
        print(
            f"{written}: {compose.counted(len(mine), 'incident')} involving {actor}, "
            f"{compose.counted(report.figure_count, 'chart')}, "
            f"{compose.counted(sum(bool(r.rules) for r in assessed.regions), 'region')} with resurgence flags "
            f"({size:.1f} MiB in {seconds:.1f} s)"
        )
    return written


def _nothing_for(actor, incidents, everything, paths, start, end) -> str:
    """Why there is no report: `incidents` are those in the dates chosen, `everything` all loaded."""
    span = "".join(
        f" {word} {date:%Y-%m-%d}" for word, date in (("from", start), ("to", end)) if date is not None
    )
    names = ", ".join(Path(p).name for p in paths)
    if len(incidents):
        hint = compose.actor_hint(incidents, actor)
    elif len(everything):
        dates = everything["date_start"]
        hint = f" (no incidents at all in these dates; the data runs from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d})"
    else:
        hint = " (the files hold no incidents)"
    return f"no incidents involving {actor!r} in {names}{span}{hint}"


def _regions_to_chart(weekly: pd.DataFrame, flags: pd.DataFrame) -> list[str]:
    """The regions with the most fatalities, then flagged regions, at most MAX_REGION_CHARTS."""
    by_region = weekly.groupby("region", observed=True)
    active = by_region["incidents"].agg(lambda n: int((n > 0).sum()))
    by_total = by_region["fatalities_best"].sum()[active >= MIN_ACTIVE_WEEKS].sort_values(ascending=False)
    chosen = [r for r in by_total.index[:TOP_REGIONS] if by_total[r] > 0]
    for region in flags.get("region", pd.Series(dtype=str)):
        if region not in chosen and len(chosen) < MAX_REGION_CHARTS:
            chosen.append(region)
    return chosen


def _model(name: str, rows: pd.DataFrame) -> SeriesModel:
    """Change points and trend of one weekly fatalities series. A series the trend
    cannot take (all zeros, too short) is drawn without it, with the reason; the
    fitters' numerical warnings are counted for the methods table, not printed
    over the progress bar."""
    rows = rows.sort_values("week").reset_index(drop=True)
    killed = rows.set_index("week")["fatalities_best"].astype("Float64")
    fitted, problem = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = detect_change_points(killed)
        try:
            fitted = fit_trend(killed)
        except CasualtyStatsError as err:
            problem = f"no trend: {err}"
        except (ValueError, np.linalg.LinAlgError) as err:
            # a numerical failure of the fitter on one series must not cost the whole report
            problem = f"no trend: the fit failed ({type(err).__name__}: {err})"
    if caught:
        kinds = ", ".join(sorted({w.category.__name__ for w in caught}))
        note = f"{len(caught)} numerical warning{'s' * (len(caught) > 1)} while fitting ({kinds})"
        problem = f"{problem}; {note}" if problem else note
    return SeriesModel(name, rows, found, fitted, problem)
