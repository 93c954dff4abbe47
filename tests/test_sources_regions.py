"""Region names shared by several countries are qualified with the country, so no series mixes countries."""

from __future__ import annotations

import pandas as pd

import casualtystats as cs


def _log(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": [f"2021-01-{d:02d}" for d in range(1, len(rows) + 1)],
            "country": [c for c, _ in rows],
            "region": [r for _, r in rows],
            "actor": "ISIS",
            "fatalities": "1",
        }
    )


def test_a_name_in_two_countries_becomes_two_regions_and_totals_are_kept():
    rows = [("Israel", "Central"), ("Uganda", "Central"), ("Uganda", "Central"), ("Iraq", "Anbar")]
    result = cs.load_incidents(_log(rows))
    regions = result.incidents.groupby("region")["fatalities_best"].sum().to_dict()
    assert regions == {"Central (Israel)": 1, "Central (Uganda)": 2, "Anbar": 1}
    assert any("Central (Uganda)" in note for note in result.notes)
    panel = cs.weekly_panel(result.incidents, by="region")
    assert panel["fatalities_best"].sum() == 4


def test_a_single_country_file_is_unchanged():
    result = cs.load_incidents(_log([("Iraq", "Anbar"), ("Iraq", "Unknown"), ("Iraq", "Anbar")]))
    assert set(result.incidents["region"]) == {"Anbar", "Unknown"} and not result.notes


def test_gtd_global_file_has_no_region_across_countries(gtd_2021h1_path):
    incidents = cs.load_incidents(gtd_2021h1_path).incidents
    assert incidents.groupby("region")["country"].nunique().max() == 1
    assert {"Central (Israel)", "Central (Uganda)", "Unknown (Afghanistan)"} <= set(incidents["region"])
