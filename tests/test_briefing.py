"""The monthly briefing: its numbers equal the incidents' own totals, it never looks
past the month, it says what it cannot know, and the CLI gives markdown or JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_report import direct_totals, write_sample

from casualtystats import briefing, find_resurgence, involving, load_incidents, weekly_panel
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


def test_no_look_ahead(sample, incidents, tmp_path):
    cut = tmp_path / "to_june.csv"
    raw = pd.read_csv(sample)
    raw[raw["date_start"] <= "2024-06-30"].to_csv(cut, index=False)
    full, truncated = briefing(sample, "2024-06").to_dict(), briefing(cut, "2024-06").to_dict()
    # what the files hold as a whole (rows accepted, names unmatched) differs; what is said of the month may not
    file_level = (
        "rows_accepted",
        "rows_quarantined",
        "quarantine_reasons",
        "unmatched_actors",
        "unmatched_regions",
        "data_end",
        "month_complete",
    )
    for brief in (full, truncated):
        brief.pop("files")
        for key in file_level:
            brief["caveats"].pop(key)
    assert full == truncated


def test_caveats_and_uncovered_comparison(sample):
    brief = briefing(sample, "2023-03")
    assert brief.compared["same_month_last_year"] is None  # before the data starts
    text = brief.to_markdown()
    assert "not covered" in text
    caveats = brief.to_dict()["caveats"]
    assert caveats["rows_quarantined"] == 1 and caveats["month_complete"]
    assert caveats["sources"][0]["kind"] == "synthetic"
    assert "SYNTHETIC" in text and "Rows quarantined as invalid: 1 of" in text
    assert "Injuries unknown for" in text  # some synthetic incidents have no injury figure


def test_month_after_the_data_is_a_user_error(sample, capsys):
    with pytest.raises(CasualtyStatsError, match="no data covers 2031-01"):
        briefing(sample, "2031-01")
    assert main(["brief", str(sample), "--month", "2031-01"]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["brief", str(sample), "--month", "October"]) != 0
    assert "not a month" in capsys.readouterr().err


def test_cli_json_and_markdown_agree(sample, capsys):
    assert main(["brief", str(sample), "--month", "2024-10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["brief", str(sample), "--month", "2024-10"]) == 0
    text = capsys.readouterr().out
    assert data["month"] == "2024-10" and data["as_of"] == "2024-10-31"
    assert f"**{data['totals']['incidents']:,} incidents**" in text
    assert f"**{data['totals']['killed']:,} killed**" in text
    assert len(data["resurgence"]) == text.count("\n- **")


@pytest.mark.shared
def test_ucdp_month_equals_incidents(ucdp_iraq_path):
    incidents = load_incidents(ucdp_iraq_path).incidents
    brief = briefing(ucdp_iraq_path, "2017-06")
    expected = direct_totals(month_rows(incidents, "2017-06"))
    assert {k: brief.totals[k] for k in expected} == expected
    assert brief.totals["injured"] is None
    assert "Injuries unknown for" in brief.to_markdown()  # UCDP has no injuries
