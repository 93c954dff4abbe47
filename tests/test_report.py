"""The HTML report: headline numbers equal the incidents' own totals, data text is
escaped, nothing is fetched from the network, writes are atomic, errors are one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from casualtystats import compose, involving, load_incidents, merge_incidents
from casualtystats.cli import main
from casualtystats.errors import CasualtyStatsError
from casualtystats.outputs import write_atomic
from casualtystats.report import build_report, sections
from casualtystats.report.figures import plot_text
from casualtystats.report.html import SORT_SCRIPT, esc, table
from casualtystats.sources.citation import cite

INJECTION = "<script>alert(1)</script>"
REGIONS = {"Ninawa": (36.3, 43.1), "Anbar": (33.4, 42.0), "Raqqa": (35.95, 39.0)}


def write_sample(
    path: Path, *, weeks: int = 104, seed: int = 7, injection: bool = True, source: str = "synthetic test"
) -> Path:
    """A small synthetic incident table (canonical columns) with a resurgence in Raqqa
    in its last weeks, another actor, one row that fails validation and, optionally,
    script tags in every kind of data text."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    rows = []
    for week in range(weeks):
        for region, (lat, lon) in REGIONS.items():
            rate = 4.0 if region == "Raqqa" and week >= weeks - 16 else 1.0
            for actor in ("ISIS", "Government of Iraq"):
                for _ in range(rng.poisson(rate if actor == "ISIS" else 0.3)):
                    day = start + pd.Timedelta(days=7 * week + int(rng.integers(7)))
                    killed = int(rng.negative_binomial(1, 0.35))
                    injured = int(rng.poisson(killed)) if rng.random() < 0.8 else None
                    rows.append(
                        {
                            "source": source,
                            "date_start": day.date().isoformat(),
                            "country": "Syria" if region == "Raqqa" else "Iraq",
                            "region": region,
                            "location": f"{region} town",
                            "latitude": round(lat + rng.normal(0, 0.3), 4),
                            "longitude": round(lon + rng.normal(0, 0.3), 4),
                            "actor": actor,
                            "target": "Civilians",
                            "fatalities_best": killed,
                            "fatalities_low": killed,
                            "fatalities_high": killed + int(rng.integers(3)),
                            "injuries_best": injured,
                            "notes": f"attack near {region}",
                        }
                    )
    frame = pd.DataFrame(rows)
    frame.insert(0, "incident_id", [f"T{i}" for i in range(len(frame))])
    extra = [
        # fails validation: low > best
        {**rows[0], "incident_id": "BAD1", "fatalities_low": 9, "fatalities_best": 1, "notes": "bad row"},
    ]
    if injection:
        day = (start + pd.Timedelta(days=7 * weeks - 10)).date().isoformat()
        base = {
            **rows[0],
            "date_start": day,
            "fatalities_best": 60,
            "fatalities_low": 55,
            "fatalities_high": 70,
        }
        extra += [
            {**base, "incident_id": "X1", "location": INJECTION, "notes": INJECTION, "target": INJECTION},
            {**base, "incident_id": "X2", "region": INJECTION, "notes": "region text"},
            {
                **base,
                "incident_id": "X3",
                "actor": INJECTION,
                "fatalities_best": 3,
                "fatalities_low": 3,
                "fatalities_high": 3,
            },
        ]
    frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    frame.to_csv(path, index=False)
    return path


def headline(page: str) -> dict[str, int | None]:
    """The headline numbers as the page states them in its data- attributes."""
    found = re.findall(r'data-headline="([^"]+)" data-value="([^"]*)"', page)
    return {key: (int(value) if value else None) for key, value in found}


def direct_totals(incidents: pd.DataFrame) -> dict[str, int | None]:
    def total(column):
        value = incidents[column].sum(min_count=1)
        return None if pd.isna(value) else int(value)

    return {
        "incidents": len(incidents),
        "killed": total("fatalities_best"),
        "injured": total("injuries_best"),
    }


def expected_headline(incidents: pd.DataFrame, actor: str) -> dict[str, int | None]:
    """Latest week, latest month and whole-period totals computed straight from the incidents."""
    mine = involving(incidents, actor)
    last = incidents["date_start"].max()
    week = last.normalize() - pd.Timedelta(days=last.weekday())
    month = last.normalize().replace(day=1)
    periods = {
        "week": mine[(mine["date_start"] >= week) & (mine["date_start"] < week + pd.Timedelta(days=7))],
        "month": mine[mine["date_start"] >= month],
        "whole": mine,
    }
    return {f"{p}.{k}": v for p, rows in periods.items() for k, v in direct_totals(rows).items()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("sample") / "sample.csv")


@pytest.fixture(scope="module")
def report(sample, tmp_path_factory) -> tuple[Path, str]:
    out = build_report(sample, tmp_path_factory.mktemp("report") / "report.html", progress=False)
    return out, out.read_text(encoding="utf-8")


# --- the page -----------------------------------------------------------------


def test_headline_equals_totals_of_the_incidents(sample, report):
    incidents = load_incidents(sample).incidents
    stated = headline(report[1])
    assert {k: stated[k] for k in expected_headline(incidents, "ISIS")} == expected_headline(
        incidents, "ISIS"
    )


def test_page_has_every_section_and_as_many_drawings_as_figures(report):
    page = report[1]
    anchors = [
        "judgments",
        "caveats",
        "headline",
        "glance",
        "resurgence",
        "trends",
        "map",
        "largest",
        "quality",
        "methods",
    ]
    positions = [page.index(f'<section id="{anchor}">') for anchor in anchors]
    assert positions == sorted(positions)  # key judgments first, the glance panel above the detailed charts
    # the forecast stage draws the outlook; one source, so nothing was merged and no overlap is shown
    assert '<section id="outlook">' in page and '<section id="overlap">' not in page
    figures = int(re.search(r'data-figure-count="(\d+)"', page).group(1))
    assert figures == page.count('class="figure"') == page.count("Plotly.newPlot(")
    names = re.findall(r'data-figure="([^"]+)"', page)
    assert len(names) == figures
    assert {
        "glance",
        "series:all regions",
        "series:Raqqa",
        "series:Ninawa",
        "series:Anbar",
        "actors",
        "map",
    } <= set(names)


def test_page_is_self_contained(report):
    page = report[1]
    # plotly.js inline once, one script per figure, and the table-sorting script (constant code)
    assert page.count("<script") == 2 + page.count("Plotly.newPlot(")
    assert f"<script>{SORT_SCRIPT}</script>" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(http" not in page


def test_data_text_is_escaped_everywhere(report):
    page = report[1]
    assert INJECTION not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text in tables and headings
    # inside plotly's JSON the text is entity-escaped for plotly's label markup, and '/' a unicode escape
    assert '"name":"&lt;script&gt;alert(1)&lt;\\u002fscript&gt;"' in page


def test_quarantine_and_labels_are_reported(sample, report):
    page = report[1]
    quality = page[page.index('<section id="quality">') : page.index('<section id="methods">')]
    assert "Quarantined rows: 1 of" in quality
    assert "fatalities_low" in quality  # the reason names the failed check
    assert "SYNTHETIC (simulated)" in quality
    assert "SYNTHETIC" in page[: page.index("<nav>")]
    # the input file by its name: a shared report shows no local folders
    assert "sample.csv" in quality and str(sample.parent) not in page


def test_resurgence_is_one_row_per_region_sorted_by_strength(report):
    page = report[1]
    part = page[page.index('<section id="resurgence">') : page.index('<section id="trends">')]
    rows = re.findall(r'<tr data-region="([^"]+)">(.*?)</tr>', part)
    regions = [name for name, _ in rows]
    assert len(regions) == len(set(regions)) and {"Raqqa", "Ninawa", "Anbar"} <= set(regions)
    # regions where a rule fired or the trend rises or falls first, each group by strength
    signalled = [("↑" in cells or "↓" in cells) for _, cells in rows]
    assert signalled == sorted(signalled, reverse=True)
    strengths = [float(re.findall(r'data-value="([^"]*)"', cells)[-1]) for _, cells in rows]
    for tier in (True, False):
        group = [s for s, t in zip(strengths, signalled, strict=True) if t == tier]
        assert group == sorted(group, reverse=True)
    assert regions[0] == "Raqqa"
    raqqa = dict(rows)["Raqqa"]
    # x4 from 16 weeks before the end: over the last 13 weeks the level is flat at its new height,
    # so the growth arrow may honestly read no clear trend; the change point carries the rise
    assert "changepoint ↑ (incidents" in raqqa
    assert re.search(r'class="dir (rising|steady|no-clear-trend)"', raqqa)
    assert "<details><summary>" in raqqa and "Raqqa:" in raqqa  # the evidence one click away
    judgments = page[page.index('<section id="judgments">') : page.index('<section id="headline">')]
    assert 3 <= judgments.count("<li ") <= 5 and "In Raqqa" in judgments


def test_map_colours_incidents_by_their_regions_alert(report):
    page = report[1]
    part = page[page.index('<section id="map">') : page.index('<section id="largest">')]
    assert '"name":"alert: rising"' in part and '"name":"no alert"' in part


def test_header_names_the_sources_and_their_license(report):
    header = report[1][report[1].index('<header class="page">') : report[1].index("<nav>")]
    assert "Source: synthetic test: SYNTHETIC (simulated) records, not real events; no licence" in header


def test_methods_and_caveats_read_as_text(report):
    """No NaN, no Python reprs, no private names, no reST markup in what the page says."""
    page = report[1]
    methods = page[page.index('<section id="methods">') : page.index("</main>")]
    for bad in ("NaN", "nan<", "Timestamp(", "(1, 3)", "``"):
        assert bad not in methods, bad
    assert not re.search(r"\W_panel", methods)  # a private name (weekly_panel is public)
    assert "1 and 3" in methods  # record_years
    assert "Change</th>" in methods and "Level per week</th>" in methods  # change points as tables
    caveats = page[page.index('<section id="caveats">') : page.index('<section id="headline">')]
    assert "Rows quarantined as invalid: 1 of" in caveats and "rows read" in caveats
    resurgence = page[page.index('<section id="resurgence">') : page.index('<section id="trends">')]
    assert "<strong>All regions</strong>" in resurgence and "rules run per region only" not in resurgence


def test_citations_of_known_and_unknown_sources():
    ucdp, acled, merged_gtd, mine = cite(["UCDP", "ACLED", "GTD+UCDP", "my monitor"])
    assert (ucdp.license, acled.source, merged_gtd.source) == ("CC BY 4.0", "ACLED", "GTD")
    assert "Sundberg" in ucdp.citation and "terms" in acled.license.lower() and "START" in merged_gtd.name
    assert mine.license == "terms not known to casualtystats: check with its publisher"


def test_date_filter_and_other_actor(sample, tmp_path):
    out = build_report(
        sample,
        tmp_path / "r.html",
        actor="Government of Iraq",
        start="2023-06-01",
        end="2024-06-30",
        progress=False,
    )
    incidents = load_incidents(sample).incidents
    inside = incidents[(incidents["date_start"] >= "2023-06-01") & (incidents["date_start"] <= "2024-06-30")]
    stated = headline(out.read_text(encoding="utf-8"))
    expected = expected_headline(inside, "Government of Iraq")
    assert {k: stated[k] for k in expected} == expected


def test_a_partial_period_is_not_compared_with_a_whole_one(sample, tmp_path):
    out = build_report(sample, tmp_path / "r.html", end="2024-06-26", progress=False)  # a Wednesday
    page = out.read_text(encoding="utf-8")
    for key, label in (("week", "week of 24 Jun 2024 (partial: to 26 Jun)"), ("month", "June 2024 (partial")):
        cards = page[page.index(f'data-period="{key}"') :].split("</div></div></div>")[0]
        assert label in page and "partial period: not compared" in cards and "vs previous" not in cards


# --- failures -----------------------------------------------------------------


def test_failure_mid_build_leaves_previous_report(sample, tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(sections.figures, "incident_map", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        build_report(sample, out, progress=False)
    assert out.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_write_atomic_failing_while_writing_keeps_the_old_file(tmp_path):
    out = tmp_path / "out.html"
    out.write_text("old", encoding="utf-8")

    def chunks():
        yield "<html>half a page"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(out, chunks())
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]
    write_atomic(out, iter(["new ", "page"]))
    assert out.read_text(encoding="utf-8") == "new page"
    assert out.stat().st_mode & 0o044  # readable by others as an ordinary file (umask permitting)


def test_cli_error_is_one_line_and_keeps_previous_report(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")
    assert main(["report", str(tmp_path / "missing.csv"), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.csv" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "previous report"


def test_cli_unknown_actor_and_bad_dates_are_user_errors(sample, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(sample), "-o", str(out), "--actor", "Nobody"]) != 0
    assert "no incidents involving 'Nobody'" in capsys.readouterr().err
    assert main(["report", str(sample), "-o", str(out), "--from", "2024-13-45"]) != 0
    assert "--from" in capsys.readouterr().err
    assert main(["report", str(sample), "-o", str(out), "--from", "2024-06-01", "--to", "2024-01-01"]) != 0
    capsys.readouterr()
    # dates without any incident: said as such, with the data's own range (not "no incidents at all")
    assert main(["report", str(sample), "-o", str(out), "--from", "2030-01-01"]) != 0
    err = capsys.readouterr().err
    assert (
        "from 2030-01-01" in err and "no incidents at all in these dates; the data runs from 2023-01" in err
    )
    assert not out.exists()


def test_cli_combines_files_and_prints_summary_with_path(sample, tmp_path, capsys):
    second = write_sample(
        tmp_path / "second.csv", weeks=30, seed=11, injection=False, source="second monitor"
    )
    out = tmp_path / "cli.html"
    assert main(["report", str(sample), str(second), "-o", str(out)]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert str(out) in summary and "charts" in summary
    both = load_incidents([sample, second]).incidents  # two sources: merged by default
    stated = headline(out.read_text(encoding="utf-8"))
    assert stated["whole.incidents"] == len(involving(both, "ISIS"))
    assert stated["whole.killed"] == int(involving(both, "ISIS")["fatalities_best"].sum())


# --- pieces ---------------------------------------------------------------------


def test_escaping_helpers():
    assert esc(INJECTION) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert esc(None) == "—" and esc(pd.NA) == "—"
    assert plot_text("a<b>&c") == "a&lt;b&gt;&amp;c"
    frame = pd.DataFrame({"name": [INJECTION], "n": [1234]})
    html = table(frame, {"name": "Name <x>", "n": "N"}, numeric=["n"])
    assert INJECTION not in html and "Name &lt;x&gt;" in html and "1,234" in html


def test_numbers_are_written_in_full_never_in_scientific_notation():
    import numpy as np

    from casualtystats.report.html import number

    assert number(5389.4) == "5,389" and number(7215.0) == "7,215" and number(999.5) == "1,000"
    assert number(np.int64(12345)) == "12,345" and number(-2345.6) == "-2,346"
    assert number(12.345) == "12.3" and number(0.0123) == "0.0123" and number(float("nan")) == "—"


def test_coverage_gaps_are_runs_of_weeks():
    weeks = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22", "2024-02-05", "2024-02-12"])
    cov = compose.Coverage(
        weeks[0],
        weeks[-1],
        7,
        list(weeks),
        0,
        0,
        pd.Series(dtype=int),
        pd.DataFrame(),
        [],
        [],
        pd.DataFrame(),
    )
    assert cov.gaps() == [(weeks[0], weeks[1]), (weeks[2], weeks[2]), (weeks[3], weeks[4])]


def test_change_against_previous_period():
    now = {"incidents": 12, "killed": 30, "injured": None}
    before = {"incidents": 8, "killed": 0, "injured": 5}
    assert compose.change(now, before) == {
        "incidents": {"absolute": 4, "relative": 0.5},
        "killed": {"absolute": 30, "relative": None},
        "injured": {"absolute": None, "relative": None},
    }


def test_bad_dates_are_user_errors():
    with pytest.raises(CasualtyStatsError, match="not a date"):
        compose.parse_date("yesterday-ish", "--from")
    with pytest.raises(CasualtyStatsError, match="not a month"):
        compose.parse_month("2026-13")


# --- the real UCDP file ---------------------------------------------------------


@pytest.mark.shared
def test_make_report_on_ucdp_iraq_headline_equals_incidents(ucdp_iraq_path, tmp_path):
    out = tmp_path / "ucdp.html"
    assert main(["report", str(ucdp_iraq_path), "-o", str(out)]) == 0
    stated = headline(out.read_text(encoding="utf-8"))
    expected = expected_headline(load_incidents(ucdp_iraq_path).incidents, "ISIS")
    assert {k: stated[k] for k in expected} == expected
    assert stated["whole.incidents"] == 6191 and stated["whole.killed"] == 75072
    # the 63 events dated over more than a week are in the totals and shown, not in the weekly series
    assert "Imprecisely dated incidents: 63 (5,666 killed)" in out.read_text(encoding="utf-8")
    assert stated["whole.injured"] is None  # UCDP does not report injuries: unknown, not zero
    page = out.read_text(encoding="utf-8")
    assert "killed per week" in page and "killed and injured per week" not in page  # no injuries charted
    header = page[page.index('<header class="page">') : page.index("<nav>")]
    assert "UCDP Georeferenced Event Dataset (GED)" in header and "CC BY 4.0" in header
    # the 2006 event of 1,700 killed placed no closer than Iraq: no region, never a place "Unknown"
    largest = page[page.index('<section id="largest">') : page.index('<section id="quality">')]
    assert "no region recorded" in largest and ">Unknown<" not in largest
    # each change point says when it could have begun (the 95% set of its date)
    assert "Began (95% CI of the date)" in page and re.search(r"\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d", page)


# --- stand-ins with known answers for the forecast, merge and alert-history stages ---

QUANTILES = {"q0.025": 0.3, "q0.1": 0.5, "q0.25": 0.75, "q0.5": 1.0, "q0.75": 1.3, "q0.9": 1.7, "q0.975": 2.2}


class FakeForecast:
    """What `casualtystats.forecast(panel, ...)` returns: long weekly and
    monthly tables [*by, measure, week|month, mean, q...] (here a flat level of 2 a week)."""

    def __init__(self, panel, horizon, measures, by):
        last = pd.Timestamp(panel["week"].max())
        weeks = pd.date_range(last + pd.Timedelta(weeks=1), periods=horizon, freq="7D")
        groups = panel[by].drop_duplicates().to_dict("records") if by else [{}]
        self.weekly = pd.DataFrame(
            [
                {**g, "measure": m, "week": w, "mean": 2.0} | {q: 2.0 * f for q, f in QUANTILES.items()}
                for g in groups
                for m in measures
                for w in weeks
            ]
        )

    def to_frame(self):
        return self.weekly

    def monthly(self):
        keys = [c for c in self.weekly.columns if c not in ("week", "mean", *QUANTILES)]
        month = self.weekly.assign(month=self.weekly["week"].dt.to_period("M"))
        return month.groupby([*keys, "month"], as_index=False, dropna=False)[["mean", *QUANTILES]].sum()


class FakeMerge:
    """A real merge result whose overlap and unrecorded tables are replaced by known answers."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def within(self, start=None, end=None):
        return self

    def overlap(self):
        return pd.DataFrame(
            {"year": [2023, 2023, 2024], "sources": ["GTD+UCDP", "UCDP", "UCDP"], "incidents": [40, 120, 150]}
        )

    def unrecorded(self, by=("year",)):
        frame = pd.DataFrame(
            {
                "year": [2023, 2024],
                "observed": [160, 150],
                "estimate": [190.0, 170.0],
                "unrecorded": [30.0, 20.0],
                "ci_low": [175.0, 160.0],
                "ci_high": [215.0, 190.0],
                "estimate_possible": [180.0, 165.0],
                "method": ["Chapman", "Chapman"],
            }
        )
        frame.attrs["assumptions"] = "independent sources, closed population"
        return frame


def install_other_stages(mp: pytest.MonkeyPatch) -> None:
    """Stand-ins with known answers for the forecast module, the resurgence stage's
    `alert_history` and a load that merged two sources, so the rendering can be checked exactly."""
    import importlib.machinery
    import sys
    import types

    from casualtystats import resurgence

    fake = types.ModuleType("casualtystats.forecast")
    fake.__spec__ = importlib.machinery.ModuleSpec("casualtystats.forecast", None)
    fake.forecast = lambda panel, horizon=13, *, measures, by=None: FakeForecast(panel, horizon, measures, by)
    mp.setitem(sys.modules, "casualtystats.forecast", fake)

    def history(panel, *, actor, by, measure, as_of):
        return pd.DataFrame(
            {
                "rule": ["threat"],
                "region": ["Raqqa"],
                "measure": ["incidents"],
                "direction": ["up"],
                "start": [pd.Timestamp("2023-05-01")],
                "end": [pd.Timestamp("2023-06-26")],
            }
        )

    mp.setattr(resurgence, "alert_history", history, raising=False)
    real_load = compose.load

    def merged_load(paths, merge="auto", columns=None):
        loaded = real_load(paths, merge, columns)
        loaded.incidents = loaded.incidents.assign(sources="UCDP")
        loaded.merge = FakeMerge(merge_incidents(loaded.incidents))
        return loaded

    mp.setattr(compose, "load", merged_load)


def test_forecast_merge_and_alert_history_are_rendered_when_present(tmp_path, monkeypatch):
    install_other_stages(monkeypatch)
    sample = write_sample(tmp_path / "short.csv", weeks=60, injection=False)
    page = build_report(sample, tmp_path / "r.html", progress=False).read_text(encoding="utf-8")

    outlook = page[page.index('<section id="outlook">') : page.index('<section id="overlap">')]
    fans = re.findall(r'data-figure="(outlook:[^"]+)"', outlook)
    assert fans[0] == "outlook:all regions" and {"outlook:Raqqa", "outlook:Ninawa"} <= set(fans)
    # next month's all-regions incidents: 2 a week over the forecast weeks that start in it
    last = pd.Timestamp(pd.read_csv(sample)["date_start"].max())
    next_month = pd.Period(last, freq="M") + 1
    weeks = pd.date_range(last - pd.Timedelta(days=last.weekday()), periods=14, freq="7D")
    n = int((weeks.to_period("M") == next_month).sum())
    assert f"median {2 * n} (80% range {n}–{3.4 * n:,.0f})" in outlook
    overlap = page[page.index('<section id="overlap">') : page.index('<section id="map">')]
    assert "GTD+UCDP" in overlap and "Chapman" in overlap and "independent sources" in overlap
    assert "Total with possible matches" in overlap and "175–215" in overlap.replace("&ndash;", "–")
    regions = page[page.index('<section id="resurgence">') : page.index('<section id="trends">')]
    raqqa = dict(re.findall(r'<tr data-region="([^"]+)">(.*?)</tr>', regions))["Raqqa"]
    assert "2023-05-01" in raqqa  # its previous alert
    assert "not computed" not in regions


# --- charts and wording on files nobody tuned for (audit s6 items 12, 13, 17-19) -------------------


def test_growth_with_an_absurd_interval_is_not_estimable():
    wide = compose.growth_text({"estimate": 7.67, "ci_low": -0.94, "ci_high": 1274.41})
    assert wide.startswith("not estimable") and "127441" not in wide.replace(",", "")
    assert compose.growth_text({"estimate": -1.0, "ci_low": -1.0, "ci_high": 85.42}).startswith(
        "not estimable"
    )
    assert (
        compose.growth_text({"estimate": 0.05, "ci_low": -0.03, "ci_high": 0.12})
        == "+5% a month (95% CI -3% to +12%)"
    )
    # the boundary: a 100-fold span is still printed, a wider one is not
    assert not compose.growth_text({"estimate": 0, "ci_low": -0.5, "ci_high": 49.0}).startswith("not")
    assert compose.growth_text({"estimate": 0, "ci_low": -0.5, "ci_high": 49.5}).startswith("not")


def test_chart_axis_follows_the_data_not_the_trend_interval():
    from types import SimpleNamespace

    from casualtystats.report import figures

    weeks = pd.date_range("2021-01-04", periods=30, freq="W-MON")
    killed = np.arange(30) % 4
    weekly = pd.DataFrame(
        {
            "week": weeks,
            "incidents": killed,
            "fatalities_best": killed,
            "fatalities_low": killed,
            "fatalities_high": killed + 1,
            "injuries_best": np.nan,
            "injuries_low": np.nan,
            "injuries_high": np.nan,
        }
    )
    fitted = pd.DataFrame({"fitted": 1.5, "ci_low": 0.0, "ci_high": np.linspace(2, 9e5, 30)}, index=weeks)
    fig = figures.series_figure(weekly, "t", trend=SimpleNamespace(fitted=fitted))
    assert fig.layout.yaxis.range[1] == pytest.approx(4 * figures.HEADROOM)
    assert any("cut" in (t.name or "") for t in fig.data)


@given(
    first=st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2030-01-01").date()),
    days=st.integers(0, 400),
)
def test_week_days_add_up_to_the_days_of_the_data(first, days):
    first = pd.Timestamp(first)
    last = first + pd.Timedelta(days=days)
    weeks = pd.Series(pd.date_range(first - pd.Timedelta(days=first.weekday()), last, freq="W-MON"))
    covered = compose.week_days(weeks, first, last)
    assert covered.sum() == days + 1
    assert covered.between(1, 7).all() and (covered.iloc[1:-1] == 7).all()


def test_part_weeks_are_left_out_of_weekly_charts_and_named():
    from types import SimpleNamespace

    # GTD's half year: Friday 1 January to Wednesday 30 June 2021
    weeks = pd.date_range("2020-12-28", "2021-06-28", freq="W-MON")
    panel = pd.DataFrame({"week": weeks, "incidents": 1})
    page = SimpleNamespace(
        start=pd.Timestamp("2021-01-01"), end=pd.Timestamp("2021-06-30"), panels={"weekly_total": panel}
    )
    whole = sections.ReportPage._whole_weeks(page, panel)
    assert whole["week"].min() == pd.Timestamp("2021-01-04") and whole["week"].max() == pd.Timestamp(
        "2021-06-21"
    )
    note = sections.ReportPage._part_weeks(page)
    assert "28 Dec 2020 (3 of 7 days in the data)" in note and "28 Jun 2021 (3 of 7 days in the data)" in note


def test_report_names_its_part_weeks(report, sample):
    dates = pd.to_datetime(pd.read_csv(sample)["date_start"])
    part = dates.max().weekday() != 6 or dates.min().weekday() != 0
    assert ("Left out of the weekly charts" in report[1]) == part


def test_small_panels_and_actor_chart_say_what_they_show():
    from casualtystats.report import figures

    weeks = pd.date_range("2021-01-04", periods=26, freq="W-MON")
    panel = pd.DataFrame(
        {"week": weeks, "region": "A", "incidents": 1, "actor": "UCDP side", "fatalities_best": 1}
    )
    title = figures.small_multiples(panel, [("A", "A", "steady")]).layout.title.text
    assert "all 26 weeks" in title and "104" not in title
    assert "recorded actor" in figures.actors_figure(panel, ["UCDP side"]).layout.title.text
    assert "perpetrator" not in figures.actors_figure(panel, ["UCDP side"]).layout.title.text


def test_aggregates_show_their_span_and_tiny_numbers_are_not_scientific():
    from casualtystats.report.html import number

    assert sections._when(pd.Timestamp("2006-01-01"), pd.Timestamp("2006-12-31")) == "2006 (year total)"
    assert sections._when(pd.Timestamp("2016-03-01"), pd.Timestamp("2016-03-31")) == "Mar 2016 (month total)"
    assert sections._when(pd.Timestamp("2016-03-02"), pd.Timestamp("2016-03-02")) == "2016-03-02"
    assert sections._when(pd.Timestamp("2016-03-02"), pd.NaT) == "2016-03-02"
    assert number(8.52e-07) == "≈0" and number(0.0) == "0" and number(0.25) == "0.25"
    assert (
        compose.counted(1, "incident") == "1 incident"
        and compose.counted(2345, "incident") == "2,345 incidents"
    )


def test_no_injuries_are_unknown_injuries_even_in_a_quiet_month():
    # UCDP records no injuries: the panel's zeros in a month without incidents are not "0 injured"
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2018-11-01", "2018-12-01"]),
            "incidents": [3, 0],
            **{f"fatalities_{b}": [5, 0] for b in ("best", "low", "high")},
            **{f"injuries_{b}": [np.nan, 0] for b in ("best", "low", "high")},
        }
    )
    quiet = compose.totals(monthly, "month", pd.Timestamp("2018-12-01"))
    assert quiet["injured"] is None and quiet["injured_high"] is None and quiet["killed"] == 0
    known = compose.totals(monthly.fillna(1), "month", pd.Timestamp("2018-12-01"))
    assert known["injured"] == 0


def test_short_history_says_the_rules_were_not_evaluated(tmp_path):
    # 30 weeks with a tenfold rise at the end: no rule can be judged on less than a year
    rng = np.random.default_rng(1)
    days = pd.date_range("2021-01-04", periods=30 * 7, freq="D")
    n = rng.poisson(0.5, len(days))
    n[-14:] *= 10
    dates = days.repeat(n)
    path = tmp_path / "short.csv"
    pd.DataFrame(
        {"date": dates, "country": "Iraq", "region": "Anbar", "actor": "ISIS", "fatalities": 1}
    ).to_csv(path, index=False)
    html = build_report([path], tmp_path / "r.html", progress=False).read_text(encoding="utf-8")
    assert "the resurgence rules were not evaluated: 29 weeks of history, the rules need 53-56" in html
    assert "no rule fired;" not in html


def _without_ids_and_times(page: str) -> str:
    """A page with plotly's random div ids, the load times and the build time left out."""
    page = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)
    page = re.sub(r"\([0-9.]+ s\)", "(T s)", page)
    return re.sub(r"built \d{4}-\d\d-\d\d \d\d:\d\d", "built T", page)


def test_the_page_is_the_same_when_the_fits_run_beside_it_or_after_it(sample, tmp_path, monkeypatch):
    # with two workers the fits run while the other sections are drawn; with one, the sections that do
    # not draw them come first and the fits run when the trends need them: the same page
    from casualtystats.report import build

    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 2)
    beside = build_report(sample, tmp_path / "beside.html", progress=False).read_text(encoding="utf-8")
    order = []
    fit, draw_map = build._model, sections.figures.incident_map
    monkeypatch.setattr(build, "_model", lambda *a: order.append("fit") or fit(*a))
    monkeypatch.setattr(
        sections.figures, "incident_map", lambda *a, **k: order.append("map") or draw_map(*a, **k)
    )
    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 1)
    after = build_report(sample, tmp_path / "after.html", progress=False).read_text(encoding="utf-8")
    assert _without_ids_and_times(beside) == _without_ids_and_times(after)
    assert order[0] == "map" and len(order) > 2 and set(order[1:]) == {"fit"}
