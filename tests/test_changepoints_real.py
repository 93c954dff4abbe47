"""The default change points on a real casualty series: UCDP GED Iraq, ISIS, Iraq-wide weekly."""

from __future__ import annotations

import pandas as pd
import pytest

from casualtystats import detect_change_points, involving, load_incidents, weekly_panel

#: onsets an analyst would mark: the rise of spring 2013, the fall of Mosul, the collapse after Mosul
ONSETS = ("2013-04-01", "2014-06-10", "2017-07-10")
WITHIN = pd.Timedelta(weeks=8)


@pytest.fixture(scope="module")
def iraq_isis_weekly(ucdp_iraq_path) -> pd.DataFrame:
    incidents = involving(load_incidents(ucdp_iraq_path).incidents, "ISIS")
    return weekly_panel(incidents, by=None).set_index("week")


def test_default_on_the_casualty_panel_sees_nothing_from_imprecise_dates(iraq_isis_weekly):
    cp = detect_change_points(iraq_isis_weekly)  # incidents + fatalities_best: frequency-severity
    assert cp.cost == "freqsev_log"
    found = pd.DatetimeIndex([cp.labels[i] for i in cp.locations])
    # nothing in the first weeks, where events dated only by a long range would land
    first = iraq_isis_weekly.index[0]
    assert not (found < first + WITHIN).any(), list(found)
    assert all(cp.labels[i] >= first + WITHIN for i in cp.outliers)


def test_default_on_the_casualty_panel_finds_the_three_turns(iraq_isis_weekly):
    cp = detect_change_points(iraq_isis_weekly)
    found = pd.DatetimeIndex([cp.labels[i] for i in cp.locations])
    for onset in map(pd.Timestamp, ONSETS):
        assert (abs(found - onset) <= WITHIN).any(), (onset, list(found))
    # the jump of 2014 is a rise in deaths per week, mostly in deaths per incident; in 2017 the
    # incidents collapse first (deaths per incident stay high through the offensives of August
    # and September), so the change near the onset is a fall in the incident rate. (The segments'
    # intervals are given the change dates; rate_ratios() holds them honest after detection: see below.)
    seg = cp.segments
    starts = pd.DatetimeIndex(seg["start_label"])
    jump = seg.index[abs(starts - pd.Timestamp(ONSETS[1])) <= WITHIN][0]
    assert seg.loc[jump, "estimate"] > 2 * seg.loc[jump - 1, "estimate"]
    assert seg.loc[jump, "severity_ci_low"] > seg.loc[jump - 1, "severity_ci_high"]
    after = seg.index[abs(starts - pd.Timestamp(ONSETS[2])) <= WITHIN][0]
    assert seg.loc[after, "incident_ci_high"] < seg.loc[after - 1, "incident_ci_low"]


def test_the_2014_rise_in_deaths_per_incident_is_judged_on_its_own_part(iraq_isis_weekly):
    # judged on deaths per week in the window between every part's changes this change read
    # 2.5 (0.069-22.0), p = 0.59; on its own part's quantity, deaths per incident, in that
    # part's window and given that part's detection, the interval is usable (2.4 (1.5-3.9))
    cp = detect_change_points(iraq_isis_weekly)
    table = cp.rate_ratios()
    near = abs(pd.DatetimeIndex(table["label"]) - pd.Timestamp(ONSETS[1])) <= WITHIN
    rows = table[near & (table["part"] == "deaths_per_incident").to_numpy()]
    assert len(rows) == 1, table
    row = rows.iloc[0]
    assert row.location in cp.part_locations["deaths_per_incident"]
    assert 1.0 < row.ci_low < row.ratio < row.ci_high < 4 * row.ci_low
    assert row.p_value < 0.01
