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
    assert cp.cost == "freqsev"
    found = pd.DatetimeIndex([cp.labels[i] for i in cp.locations])
    # nothing in the first weeks, where events dated only by a long range would land
    first = iraq_isis_weekly.index[0]
    assert not (found < first + WITHIN).any(), list(found)
    assert all(cp.labels[i] >= first + WITHIN for i in cp.outliers)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "issue 9 goal not met: with the 63 imprecisely dated events set aside, the dependence factor of "
        "the incident part is estimated at about 8 and the joint cost puts one change where both parts "
        "gain most, so the default finds 2013-08-26 and 2017-09-25 only (21 and 11 weeks late); "
        "it passed before only because those events made spikes on their start weeks"
    ),
)
def test_default_on_the_casualty_panel_finds_the_three_turns(iraq_isis_weekly):
    cp = detect_change_points(iraq_isis_weekly)
    found = pd.DatetimeIndex([cp.labels[i] for i in cp.locations])
    for onset in map(pd.Timestamp, ONSETS):
        assert (abs(found - onset) <= WITHIN).any(), (onset, list(found))
    # the jump of 2014 is a rise in deaths per week with an interval clear of 1; in 2017 the
    # incidents collapse first (deaths per incident stay high through the offensives of August
    # and September), so the change near the onset is a fall in the incident rate
    rr = cp.rate_ratios()
    jump = rr.loc[(abs(pd.DatetimeIndex(rr["label"]) - pd.Timestamp(ONSETS[1])) <= WITHIN)].iloc[0]
    assert jump["ci_low"] > 1
    seg = cp.segments
    after = seg.index[(abs(pd.DatetimeIndex(seg["start_label"]) - pd.Timestamp(ONSETS[2])) <= WITHIN)][0]
    assert seg.loc[after, "incident_ci_high"] < seg.loc[after - 1, "incident_ci_low"]
