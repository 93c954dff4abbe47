"""The monthly briefing: its numbers equal the incidents' own totals, it never looks
past the month, it says what it cannot know, it renders the assessment (one row per
region, key judgments first), and its JSON (validated against the shipped schema)
and markdown carry the same content."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from test_report import direct_totals, write_sample

from casualtystats import briefing, find_resurgence, involving, load_incidents, weekly_panel
from casualtystats.briefing import SCHEMA_VERSION, _md, schema
from casualtystats.cli import main
from casualtystats.errors import CasualtyStatsError


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("brief") / "sample.csv", injection=False)


@pytest.fixture(scope="module")
def incidents(sample):
    return load_incidents(sample).incidents


def month_rows(incidents, month: str, actor: str = "ISIS"):
    mine = involving(incidents, actor)
    period = pd.Period(month, freq="M")
    return mine[(mine["date_start"] >= period.start_time) & (mine["date_start"] <= period.end_time)]


def test_totals_and_comparisons_equal_the_incidents(sample, incidents):
    brief = briefing(sample, "2024-10")
    for key, month in (
        ("month", "2024-10"),
        ("previous_month", "2024-09"),
        ("same_month_last_year", "2023-10"),
    ):
        stated = brief.totals if key == "month" else brief.compared[key]
        expected = direct_totals(month_rows(incidents, month))
        assert {k: stated[k] for k in expected} == expected, key
    now, before = brief.totals, brief.compared["previous_month"]
    assert brief.change["previous_month"]["killed"]["absolute"] == now["killed"] - before["killed"]
    assert brief.totals["killed_low"] <= brief.totals["killed"] <= brief.totals["killed_high"]


def test_flags_are_the_resurgence_rules_as_of_month_end(sample, incidents):
    brief = briefing(sample, "2024-12")
    upto = incidents[incidents["date_start"] <= "2024-12-31"]
    panel = weekly_panel(involving(upto, "ISIS"), by=["actor", "region"])
    expected = find_resurgence(
        panel, actor="ISIS", by="region", measure=("incidents", "fatalities_best"), as_of="2024-12-31"
    )
    pd.testing.assert_frame_equal(brief.flags.reset_index(drop=True), expected.reset_index(drop=True))
    assert "Raqqa" in set(brief.flags["region"])  # the planted resurgence
    text = brief.to_markdown()
    for sentence in brief.flags["evidence"]:
        assert sentence in text
    # the same flags, consolidated: one row per region
    assert [r.region for r in brief.assessment.regions].count("Raqqa") == 1


def test_no_look_ahead(sample, incidents, tmp_path):
    cut = tmp_path / "to_june.csv"
    raw = pd.read_csv(sample)
    raw[raw["date_start"] <= "2024-06-30"].to_csv(cut, index=False)
    full, truncated = briefing(sample, "2024-06").to_dict(), briefing(cut, "2024-06").to_dict()
    # what the files hold as a whole (rows accepted, names unmatched, last date) differs; what is
    # said of the month may not
    said = ("key_judgments", "overall", "regions", "totals", "compared", "change", "outlook", "resurgence")
    assert {k: full[k] for k in said} == {k: truncated[k] for k in said}
    assert full["coverage"]["month_complete"] and truncated["coverage"]["month_complete"]


def test_caveats_and_uncovered_comparison(sample):
    brief = briefing(sample, "2023-03")
    assert brief.compared["same_month_last_year"] is None  # before the data starts
    text = brief.to_markdown()
    assert "not covered" in text
    caveats = brief.to_dict()["coverage"]
    assert caveats["rows_quarantined"] == 1 and caveats["month_complete"]
    assert caveats["sources"][0]["kind"] == "synthetic"
    assert "SYNTHETIC" in text and "Rows quarantined as invalid: 1 of" in text
    assert "Injuries unknown for" in text  # some synthetic incidents have no injury figure


def test_unknown_injuries_are_counted_over_the_actors_own_incidents(sample, incidents):
    as_of = pd.Timestamp("2023-03-31")
    mine = involving(incidents[incidents["date_start"] <= as_of], "ISIS")
    unknown, total = int(mine["injuries_best"].isna().sum()), len(mine)
    everyone = incidents[incidents["date_start"] <= as_of]
    assert total < len(everyone)  # the sample has another actor: the two counts differ
    text = briefing(sample, "2023-03").to_markdown()
    source = mine["source"].iloc[0]
    assert f"Injuries unknown for {unknown:,} of the {total:,} {source} incidents involving ISIS" in text


def test_any_spelling_of_the_actor_is_briefed_under_its_canonical_name(sample):
    brief = briefing(sample, "2024-10", actor="Daesh")
    assert brief.to_markdown().startswith("# ISIS: briefing for October 2024")
    assert brief.totals == briefing(sample, "2024-10").totals
    assert set(brief.flags["actor"]) <= {"ISIS"}
    # the result-object API the other stages have
    assert brief.summary() == brief.to_markdown()
    assert list(brief.to_frame()["region"]) == [r.region for r in brief.assessment.regions]


def test_rows_left_out_of_scope_are_said_and_counted():
    fixture = Path(__file__).parent / "fixtures" / "acled_export_2024.csv"
    brief = briefing(fixture, "2024-03")
    text = "\n".join(brief.assessment.caveats)
    assert "Rows left out as not incidents: 1 of" in text and "not political violence (ACLED" in text
    coverage = brief.to_dict()["coverage"]
    assert coverage["rows_excluded"] == 1 and sum(coverage["exclusion_reasons"].values()) == 1
    assert coverage["rows_read"] == coverage["rows_accepted"] + coverage["rows_quarantined"] + 1


def test_a_month_inside_the_data_without_incidents_is_briefed(sample, tmp_path):
    rows = pd.read_csv(sample)
    gap = tmp_path / "gap.csv"
    rows[~rows["date_start"].str.startswith("2023-06")].to_csv(gap, index=False)
    brief = briefing(gap, "2023-06")
    assert brief.totals["incidents"] == 0 and brief.compared["previous_month"]["incidents"] > 0


def test_month_after_the_data_is_a_user_error(sample, capsys):
    with pytest.raises(CasualtyStatsError, match="no data covers 2031-01"):
        briefing(sample, "2031-01")
    with pytest.raises(CasualtyStatsError, match="no data covers 2020-01: the data runs from 2023-01"):
        briefing(sample, "2020-01")
    assert main(["brief", str(sample), "--month", "2031-01"]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["brief", str(sample), "--month", "October"]) != 0
    assert "not a month" in capsys.readouterr().err


def test_cli_json_and_markdown_agree(sample, capsys):
    assert main(["brief", str(sample), "--month", "2024-10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["brief", str(sample), "--month", "2024-10"]) == 0
    text = capsys.readouterr().out
    assert_same_content(data, text)
    assert data["month"] == "2024-10" and data["as_of"] == "2024-10-31"


def assert_same_content(data: dict, text: str) -> None:
    """Everything the JSON states is in the markdown (as markdown-safe text), in the briefing's order."""
    jsonschema.validate(data, schema())
    assert data["schema_version"] == SCHEMA_VERSION
    assert f"**{data['totals']['incidents']:,} incidents**" in text
    assert f"**{data['totals']['killed']:,} killed**" in text
    order = [text.index(h) for h in ("## Key judgments", "## Regions", "## Outlook", "## Caveats")]
    assert order == sorted(order)
    judgments = text[order[0] : order[1]]
    for i, sentence in enumerate(data["key_judgments"], 1):
        assert f"{i}. {_md(sentence)}" in judgments
    rows = [line for line in text[order[1] : order[2]].splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 1 + len(data["regions"])  # the all-regions row, then one per region
    for line, region in zip(rows[1:], data["regions"], strict=True):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells[0] == _md(region["region"])
        assert cells[1] == f"{region['arrow']} {region['direction']}"
        assert cells[2] == (_md(region["rules_text"]) or "—")
        assert cells[5] == f"{region['month']['incidents']:,}"
    for caveat in data["caveats"]:
        assert f"- {_md(caveat)}" in text[order[3] :]
    for region in data["regions"]:
        for sentence in region["evidence"]:
            assert f"- {_md(sentence)}" in text
    flagged = {f["region"] for f in data["resurgence"]}
    assert flagged == {r["region"] for r in data["regions"] if r["rules"]}
    if data["outlook"] is None:
        assert "No forecast is available" in text
    else:
        for row in data["outlook"]["rows"]:
            assert f"median {row['median']:,.0f} (80% range {row['low80']:,.0f}–{row['high80']:,.0f})" in text
        # quoted once, under the outlook table; the caveat only points to it
        assert text.count(data["outlook"]["coverage_statement"]) == 1


def test_briefing_layout_one_row_per_region(sample):
    brief = briefing(sample, "2024-12")
    data = brief.to_dict()
    regions = [r["region"] for r in data["regions"]]
    assert len(regions) == len(set(regions)) and set(regions) == {"Ninawa", "Anbar", "Raqqa"}
    raqqa = next(r for r in data["regions"] if r["region"] == "Raqqa")
    # the planted resurgence (x4 from 16 weeks before the end), one row; over the last 13 weeks the
    # level is already flat at its new height, so the growth arrow may honestly read no clear trend
    assert any(r["rule"] == "changepoint" and r["direction"] == "up" for r in raqqa["rules"])
    assert raqqa["direction"] in ("rising", "steady", "no clear trend")
    assert regions[0] == "Raqqa"  # the strongest evidence first
    # the rise shows in all regions together too (the rules run on that series as well), so the
    # judgments open with both
    assert data["overall"]["rules"] and "Raqqa" in " ".join(data["key_judgments"][:2])
    assert 3 <= len(data["key_judgments"]) <= 5
    assert not data["alert_history_available"] or "previous_alert" in raqqa
    assert_same_content(data, brief.to_markdown())


def test_outlook_from_a_forecast_table(sample):
    """A hand-made monthly forecast table shaped as the forecast stage's `monthly()`."""
    rows = []
    for region in (None, "Raqqa"):
        for measure, m in (("incidents", 12.0), ("fatalities_best", 40.0)):
            quantiles = {
                "q0.025": 0.3,
                "q0.1": 0.5,
                "q0.25": 0.75,
                "q0.5": 1.0,
                "q0.75": 1.3,
                "q0.9": 1.7,
                "q0.975": 2.2,
            }
            rows.append(
                {"region": region, "measure": measure, "month": "2025-01", "mean": m * 1.05}
                | {q: m * f for q, f in quantiles.items()}
            )
    brief = briefing(sample, "2024-12", outlook=pd.DataFrame(rows))
    data = brief.to_dict()
    assert data["outlook"]["month"] == "2025-01"
    assert [(r["region"], r["measure"], r["median"]) for r in data["outlook"]["rows"]] == [
        ("all regions", "incidents", 12.0),
        ("all regions", "killed", 40.0),
        ("Raqqa", "incidents", 12.0),
        ("Raqqa", "killed", 40.0),
    ]
    text = brief.to_markdown()
    assert "median 12 (80% range 6–20)" in text
    # the coverage figure was measured on another data set: the brief says it was not checked on this one
    assert "UCDP GED Iraq" in text and "not checked on sample.csv" in text
    assert_same_content(data, text)


def test_schema_is_shipped_and_rejects_what_it_must():
    s = schema()
    assert s["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert {"schema_version", "key_judgments", "regions"} <= set(s["required"])
    assert {"region", "direction", "rules", "previous_alert"} <= set(s["$defs"]["region"]["required"])
    good_region = {
        "region": "Anbar",
        "direction": "rising",
        "arrow": "↑",
        "rules": [{"rule": "threat", "direction": "up", "measures": ["incidents"], "since": "2014-06-02"}],
        "rules_text": "threat ↑ (incidents)",
        "since": "2014-06-02",
        "previous_alert": None,
        "month": {"incidents": 3, "killed": None, "injured": None},
        "previous_month": None,
        "same_month_last_year": None,
        "change": {"previous_month": None, "same_month_last_year": None},
        "strength": 0.0,
        "evidence": [],
        "outlook": [],
    }
    region_schema = {"$defs": s["$defs"], **s["$defs"]["region"]}
    jsonschema.validate(good_region, region_schema)
    for bad in ({"region": "Unknown"}, {"direction": "up"}, {"previous_alert": "June"}, {"strength": -1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(good_region | bad, region_schema)


@pytest.mark.shared
def test_ucdp_month_equals_incidents(ucdp_iraq_path):
    incidents = load_incidents(ucdp_iraq_path).incidents
    brief = briefing(ucdp_iraq_path, "2017-06")
    expected = direct_totals(month_rows(incidents, "2017-06"))
    assert {k: brief.totals[k] for k in expected} == expected
    assert brief.totals["injured"] is None
    assert "Injuries unknown for" in brief.to_markdown()  # UCDP has no injuries


@pytest.mark.shared
def test_ucdp_iraq_june_2014_is_one_row_per_governorate(ucdp_iraq_path):
    """The issue's case: 20 flag bullets, a governorate up to four times and "Unknown" as a
    governorate become one row per governorate, key judgments first, missing regions named so."""
    brief = briefing(ucdp_iraq_path, "2014-06")
    data = brief.to_dict()
    regions = [r["region"] for r in data["regions"]]
    assert len(regions) == len(set(regions)) and "Unknown" not in regions
    assert "no region recorded" in regions  # UCDP events placed no closer than Iraq
    assert sum(len(r["rules"]) for r in data["regions"]) < len(data["resurgence"])  # consolidated
    ninawa = next(r for r in data["regions"] if r["region"] == "Ninawa")
    assert {"changepoint", "threat"} <= {rule["rule"] for rule in ninawa["rules"]}
    assert any("Ninawa" in k for k in data["key_judgments"][:3])
    assert data["sources"][0]["license"] == "CC BY 4.0"
    text = brief.to_markdown()
    assert text.index("## Key judgments") < text.index("## Regions") < text.index("## Caveats")
    assert "| Unknown |" not in text and "CC BY 4.0" in text
    assert data["sources"][0]["citation"] in text  # the JSON's citation, in the markdown too
    assert_same_content(data, text)


# --- several sources: what the briefing says of them reads no data after the month --------------


def write_two_sources(folder, *, second_until: str | None = None):
    """The sample as source ALPHA and a second source BETA that re-reports about half of the same
    attacks (own ids, same dates and places), optionally only up to `second_until`."""
    alpha = write_sample(folder / "alpha.csv", injection=False, source="ALPHA")
    rows = pd.read_csv(alpha)
    rows = rows[rows["incident_id"] != "BAD1"]
    beta = rows.sample(frac=0.5, random_state=3).assign(
        source="BETA", incident_id=lambda d: "B" + d["incident_id"].astype(str)
    )
    if second_until is not None:
        beta = beta[beta["date_start"] <= second_until]
    beta.to_csv(folder / "beta.csv", index=False)
    return [alpha, folder / "beta.csv"], rows


def cut_files(paths, folder, last_day: str):
    out = []
    for path in paths:
        raw = pd.read_csv(path)
        raw[raw["date_start"] <= last_day].to_csv(folder / Path(path).name, index=False)
        out.append(folder / Path(path).name)
    return out


def merge_caveats(brief) -> list[str]:
    words = ("Sources merged", "no source recorded", "totals of ISIS come from")
    return [c for c in brief.assessment.caveats if any(w in c for w in words)]


def test_merge_caveats_use_no_data_after_the_month(tmp_path):
    """The overlap counts and the unrecorded-incidents estimate of a past month's briefing are
    those the files cut at the month's last day give: no incident after it is read."""
    (tmp_path / "full").mkdir()
    (tmp_path / "cut").mkdir()
    paths, _ = write_two_sources(tmp_path / "full")
    cut = cut_files(paths, tmp_path / "cut", "2024-06-30")
    full, truncated = briefing(paths, "2024-06"), briefing(cut, "2024-06")
    assert full.assessment.overlap is not None
    said = merge_caveats(full)
    assert len(said) == 3 and said == merge_caveats(truncated)
    pd.testing.assert_frame_equal(
        full.assessment.overlap.reset_index(drop=True), truncated.assessment.overlap.reset_index(drop=True)
    )
    assert full.assessment.overlap["year"].max() == 2024
    text = "\n".join(said)
    # the caveat says whose incidents it counts and that its year is not over
    assert "Incidents of all actors (not only ISIS) that no source recorded in 2024 (to 30 Jun" in text
    assert "of all actors up to 30 Jun 2024" in text


def test_a_source_that_stops_is_said_and_flags_the_comparisons(tmp_path):
    paths, rows = write_two_sources(tmp_path, second_until="2024-06-30")
    brief = briefing(paths, "2024-12")
    text = brief.to_markdown()
    assert "BETA's records stop on" in text and "before the data's last date" in text
    # December against December 2023 spans the stop: every judgment comparing across it says so
    signals = [k for k in brief.assessment.key_judgments if "a year earlier" in k.sentence]
    assert signals and all("sources changed inside the period compared" in k.sentence for k in signals)
    edges = brief.to_dict()["coverage"]["source_edges"]
    assert [(e["source"], e["edge"]) for e in edges] == [("BETA", "stops")]
    # a month before the stop: no such caveat
    assert "records stop" not in briefing(paths, "2024-05").to_markdown()


def test_the_reports_charts_mark_where_a_source_stops(tmp_path):
    from casualtystats.report import build_report

    paths, _ = write_two_sources(tmp_path, second_until="2024-06-30")
    page = build_report(paths, tmp_path / "r.html", progress=False).read_text(encoding="utf-8")
    trends = page[page.index('<section id="trends">') : page.index('<section id="map">')]
    assert "BETA stops" in trends and "ALPHA stops" not in trends and "ALPHA starts" not in trends


def test_stacked_sources_say_shared_incidents_count_once_per_source(tmp_path):
    paths, rows = write_two_sources(tmp_path)
    stacked = briefing(paths, "2024-06", merge=False)
    assert any("counted once per source" in c for c in stacked.assessment.caveats)
    merged = briefing(paths, "2024-06")
    assert not any("counted once per source" in c for c in merged.assessment.caveats)
    # quarantined rows are counted against the rows read from the files, not the merged incidents
    read = sum(len(pd.read_csv(p)) for p in paths)
    assert merged.coverage.input_rows == read > len(load_incidents(paths).incidents)
    assert f"Rows quarantined as invalid: 1 of {read:,} rows read" in merged.to_markdown()


def test_imprecisely_dated_reports_are_said_where_the_figures_treat_them_apart(tmp_path):
    path = write_sample(tmp_path / "dated.csv", injection=False)
    rows = pd.read_csv(path)
    base = rows[rows["actor"] == "ISIS"].iloc[0].to_dict()
    coarse = [
        {**base, "incident_id": "MONTH1", "date_start": "2024-10-01", "date_end": "2024-10-31",
         "date_precision": "month", "region": "Ninawa", "fatalities_low": 40, "fatalities_best": 40,
         "fatalities_high": 40},
        {**base, "incident_id": "YEAR1", "date_start": "2024-01-01", "date_end": "2024-12-31",
         "date_precision": "year", "region": "Anbar", "fatalities_low": 500, "fatalities_best": 500,
         "fatalities_high": 500},
    ]  # fmt: skip
    pd.concat([rows, pd.DataFrame(coarse)]).to_csv(path, index=False)
    brief = briefing(path, "2024-10")
    text = "\n".join(brief.assessment.caveats)
    assert "Dates: 40 of the October 2024 killed are in 1 report dated only to the month" in text
    assert "they count in the month's totals but not in the weekly trends, rules or outlook" in text
    assert "Dates: 500 killed in 1 report dated only to the quarter or year" in text
    # the month's total holds the month-dated report and not the year-dated one
    incidents = load_incidents(path).incidents
    month = month_rows(incidents, "2024-10")
    assert brief.totals["killed"] == int(
        month.loc[month["date_precision"] != "year", "fatalities_best"].sum()
    )
    # a month without such reports says nothing of them
    assert not any(c.startswith("Dates:") for c in briefing(path, "2023-10").assessment.caveats)


def test_partial_month_is_named_as_such(sample, incidents):
    last = incidents["date_start"].max()
    brief = briefing(sample, f"{last:%Y-%m}")
    assert not brief.complete
    month_words = f"{last:%B %Y} (to {last:%d %b})"
    assert any(month_words in k.sentence for k in brief.assessment.key_judgments)


def test_synthetic_data_is_named_plainly(sample):
    text = briefing(sample, "2024-06").to_markdown()
    assert "SYNTHETIC (simulated) records" in text and "none needed" not in text


def test_markdown_escapes_only_what_would_read_as_html():
    assert _md("Armed Conflict Location & Event Data") == "Armed Conflict Location & Event Data"
    assert _md("a < b > c") == "a < b > c"
    assert _md("<script>alert(1)</script>") == "&lt;script>alert(1)&lt;/script>"
    assert _md("&amp; &#38;") == "&amp;amp; &amp;#38;"
    assert _md("a|b\nc") == "a\\|b c"


def test_open_ranges_and_single_counts_read_as_words(sample):
    from casualtystats.briefing import _range

    assert _range({"killed": 35, "killed_low": 35, "killed_high": None}, "killed") == (
        "at least 35: no upper bound reported"
    )
    text = briefing(sample, "2024-10").to_markdown()
    assert not re.search(r"\b1 incidents\b", text)


def test_regions_tested_one_by_one_carry_a_multiple_testing_note(sample):
    brief = briefing(sample, "2024-10")
    tested = sum(r.growth is not None for r in brief.assessment.regions)
    assert tested > 1
    assert f"{tested} regions tested without a correction for their number" in brief.to_markdown()


def test_an_actor_first_seen_mid_week_has_a_whole_first_week_when_the_data_cover_it(sample, tmp_path):
    table = pd.read_csv(sample, parse_dates=["date_start"])
    first = table["date_start"].min()  # a Monday
    isis = table["actor"].eq("ISIS")
    # ISIS's first incident is on the Thursday; the data (other actors) began on the Monday
    early = isis & (table["date_start"] < first + pd.Timedelta(days=3))
    table.loc[early, "actor"] = "Government of Iraq"
    table.loc[table.index[~isis][0], "date_start"] = first
    path = tmp_path / "mid_week.csv"
    table.to_csv(path, index=False)
    loaded = load_incidents(path)
    assert involving(loaded.incidents, "ISIS")["date_start"].min().day_name() != "Monday"
    panels = briefing(path, "2024-06").assessment.panels
    for name in ("weekly", "weekly_total"):
        assert panels[name].attrs["first_week"] == first and panels[name].attrs["first_week_days"] == 7
