"""The real files in ../shared/data/raw (see their PROVENANCE.md)."""

from __future__ import annotations

import pytest

from casualtystats import IncidentSchema, involving, load_incidents
from casualtystats.normalize import region_aliases

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def ucdp(ucdp_iraq_path):
    return load_incidents(ucdp_iraq_path)


@pytest.fixture(scope="module")
def gtd(gtd_2021h1_path):
    return load_incidents(gtd_2021h1_path)


def test_ucdp_iraq_every_row_accounted_for(ucdp):
    assert len(ucdp.incidents) + len(ucdp.quarantine) == 7_473
    assert ucdp.incidents["incident_id"].is_unique
    IncidentSchema.validate(ucdp.incidents)


def test_ucdp_iraq_isis_incidents_and_deaths(ucdp):
    isis = involving(ucdp.incidents, "ISIS")
    assert len(isis) == 6_191
    assert isis["fatalities_best"].sum() == 75_072
    # a bound contradicting best is clamped to it, never erased: the range is the raw sums
    # (72,003 low, 83,909 high) moved only by the 14 low > best and 42 high < best rows
    assert isis["fatalities_low"].notna().all() and isis["fatalities_high"].notna().all()
    assert (isis["fatalities_low"].sum(), isis["fatalities_high"].sum()) == (71_948, 83_998)
    assert (isis["actor"] == "ISIS").all()
    assert isis["date_start"].min().strftime("%Y-%m-%d") == "2004-03-17"
    assert set(isis["role"]) == {"actor", "target"}


def test_ucdp_iraq_regions_are_governorates(ucdp):
    regions = ucdp.incidents["region"].value_counts()
    canonical = set(region_aliases().canonical.values())
    assert set(regions.index) <= canonical
    assert regions["Ninawa"] == 2_220 and regions["Anbar"] == 1_153
    assert regions["Kirkuk"] == 302 + 39  # 'Kirkūk province' and the old 'At-Ta'mim province'
    assert regions["Unknown"] == 413  # events UCDP places no closer than the country
    assert ucdp.unmatched_regions.empty


def test_ucdp_iraq_bound_repairs_are_reported_not_quarantined(ucdp):
    assert ucdp.quarantine.empty
    assert len(ucdp.warnings) == 69
    assert ucdp.warnings["line"].min() >= 3  # header and HXL row come first


def test_gtd_2021h1_isis_in_iraq_and_syria(gtd):
    assert len(gtd.incidents) + len(gtd.quarantine) == 4_960
    isis = involving(gtd.incidents, "ISIS")
    isis = isis[isis["country"].isin(["Iraq", "Syria"])]
    assert len(isis) == 225
    assert isis["fatalities_best"].sum() == 336 and isis["injuries_best"].sum() == 443
    top = isis["region"].value_counts()
    assert (top["Diyala"], top["Kirkuk"], top["Salah al-Din"], top["Anbar"], top["Ninawa"]) == (
        66,
        43,
        38,
        18,
        15,
    )
    assert top["Deir ez-Zor"] == 10 and top["Hasakah"] == 8


def test_gtd_2021h1_affiliates_and_unknowns_stay_separate(gtd):
    actors = gtd.incidents["actor"].value_counts()
    assert actors["ISKP"] == 49 and actors["ISCAP"] == 21 and actors["IS-Sinai"] == 8
    assert actors["Unknown"] > 0
    assert gtd.incidents["fatalities_best"].isna().sum() == 424  # unknown, not 0


def test_gtd_2021h1_approxdate_ranges_start_where_they_say(gtd):
    inc = gtd.incidents.set_index("incident_id")
    dates = {
        "202105260038": ("2021-05-05", "2021-05-31"),  # May 5, 2021 - May 31, 2021 (iday 26)
        "202101060009": ("2021-01-01", "2021-01-12"),  # January 1-12, 2021 (iday 6)
        "202101030014": ("2021-01-01", "2021-01-03"),  # January 1-3, 2021 (iday 3)
        "202104300030": ("2021-04-29", "2021-05-01"),  # April 29 - May 1, 2021
        "202101270032": ("2021-01-24", "2021-02-02"),  # January 24-30, resolved February 2
    }
    for eventid, (start, end) in dates.items():
        row = inc.loc[eventid]
        assert (f"{row.date_start:%Y-%m-%d}", f"{row.date_end:%Y-%m-%d}") == (start, end), eventid
        assert row.date_precision == "range"


def test_gtd_2021h1_summary_dates_are_start_dates(gtd):
    """A kidnapping resolved in 2022 does not stretch the file's date range."""
    assert "dates (start)   2021-01-01 to 2021-06-30" in gtd.summary()
