"""Alerts that mean something now: a changepoint alert holds only while its change is in
force (audit items 8 and 10), and rules that a short history cannot judge say so instead
of staying silent (item 9)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats import detect_change_points, find_resurgence, involving, load_incidents, weekly_panel
from casualtystats.resurgence.rules import (
    MIN_ACTIVE_WEEKS,
    RULES,
    Thresholds,
    current_level,
    in_force,
    record_arrays,
    rule_history,
    surge_arrays,
    threat_arrays,
    weekly_level,
)

ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2015-01-05")  # a Monday
changepoints = partial(find_resurgence, actor="ISIS", rules=("changepoint",), false_alarm_budget=None)


def panel(values, measure="incidents") -> pd.DataFrame:
    values = np.asarray(values)
    weeks = pd.date_range(START, periods=len(values), freq="7D")
    frame = pd.DataFrame({"week": weeks, "actor": "ISIS", "region": "R", measure: values})
    if measure != "incidents":
        frame["incidents"] = (values > 0).astype(int)
    return frame


# --- item 8: an old massacre is no current rise ------------------------------------------------


def test_in_force_needs_the_recent_weeks_beyond_the_old_level_and_more_than_one_active_week():
    change = SimpleNamespace(location=300, before=0.005)
    quiet = np.zeros(300)
    massacre = np.r_[quiet, 34.0, np.zeros(16)]  # one deadly week, then 16 quiet ones
    assert current_level(massacre, 300, 13) == (0.0, 13)  # the last 13 weeks: nothing
    assert not in_force(massacre, change, current_level(massacre, 300, 13), "up")
    # weeks ago, the same single week still makes the recent mean high: one week is an event
    fresh = np.r_[quiet, 34.0, np.zeros(4)]
    assert current_level(fresh, 300, 13)[0] > change.before
    assert MIN_ACTIVE_WEEKS == 2 and not in_force(fresh, change, current_level(fresh, 300, 13), "up")
    renewed = np.r_[quiet, 34.0, 0, 0, 5.0, 0]
    assert in_force(renewed, change, current_level(renewed, 300, 13), "up")
    # a fall holds while the weeks since it stay below the level before it
    fall = SimpleNamespace(location=10, before=5.0)
    assert in_force(np.r_[np.full(10, 5.0), np.ones(8)], fall, (1.0, 8), "down")
    assert not in_force(np.r_[np.full(10, 5.0), np.ones(8)], fall, (6.0, 8), "down")


@pytest.fixture(scope="module")
def muthanna() -> pd.DataFrame:
    isis = involving(load_incidents(ROOT / "datasets" / "ucdp_ged_iraq_isis.csv").incidents, "ISIS")
    weekly = weekly_panel(isis, by="region")
    return weekly[weekly["region"] == "Muthanna"]


@pytest.mark.parametrize("as_of", ["2016-06-30", "2016-08-31", "2016-09-30"])
def test_muthanna_three_incidents_ever_never_rises_months_after_the_last(muthanna, as_of):
    # 3 ISIS incidents ever, the last on 1 May 2016 (34 killed); before the fix the rule said
    # "rose ... alert since 22 Aug 2016" as of 31 Aug, 17 weeks after it, and not a month either side
    flags = find_resurgence(
        muthanna, actor="ISIS", by="region", measure="fatalities_best", as_of=as_of, rules=("changepoint",)
    )
    assert flags.empty


# --- item 10: a rise ends when a later fall is found ---------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_a_later_fall_ends_the_rise(seed):
    rng = np.random.default_rng(seed)
    values = np.r_[rng.poisson(3, 80), rng.poisson(12, 40), rng.poisson(0.5, 5)]
    both = changepoints(panel(values), measure="incidents", direction="both")
    # before the fix both flags stood at once: "up" since the rise and "down" since the fall
    assert list(both["direction"]) == ["down"]
    assert changepoints(panel(values), measure="incidents").empty
    # while the fall is not found the rise stands
    risen = changepoints(panel(values[:120]), measure="incidents")
    assert list(risen["direction"]) == ["up"]
    before = f"{risen['baseline'].iloc[0]:.2f}"
    assert (
        "weeks averaged" in risen["evidence"].iloc[0]
        and f"still above the {before} before it" in risen["evidence"].iloc[0]
    )


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from([0.2, 1.0, 4.0]),
    st.sampled_from([0.0, 0.3, 3.0, 10.0]),
    st.integers(1, 30),
)
def test_a_flagged_rise_is_in_force_at_the_date_judged(seed, low, high, weeks_high):
    rng = np.random.default_rng(seed)
    values = np.r_[rng.poisson(low, 100), rng.poisson(max(high, 0.01), weeks_high), rng.poisson(low, 8)]
    flags = changepoints(panel(values), measure="incidents", direction="both")
    assert flags["direction"].nunique() <= 1  # never a rise and a fall of one series at once
    # the levels are the fit's: de-seasonalised if it found a season (rare here, none is drawn)
    season = detect_change_points(pd.Series(values, index=panel(values)["week"])).season
    exposure = np.ones(len(values)) if season is None else season.factors(np.arange(len(values)))
    for row in flags.itertuples():
        location = int((row.date - START).days // 7)
        first = max(location, len(values) - 13)
        recent = weekly_level(values[first:].astype(float), exposure[first:])
        if row.direction == "up":
            assert recent > row.baseline and np.count_nonzero(values[location:]) >= MIN_ACTIVE_WEEKS
        else:
            assert recent < row.baseline


# --- a season: the weeks since a change are read de-seasonalised, as the fit's levels ----------

YEAR = 365.25 / 7


def seasonal_rise(seed: int, phase: int, weeks: int = 200, onset: int = 170) -> pd.DataFrame:
    """NB(size 10) weekly incidents around 4 a week with an annual cycle (peak / trough about 5),
    doubling at week `onset`; the cycle peaks at week `phase` of each year."""
    t = np.arange(weeks)
    season = np.exp(0.8 * np.cos(2 * np.pi * (t - phase) / YEAR))
    mean = np.where(t < onset, 4.0, 8.0) * season / season.mean()
    return panel(np.random.default_rng(seed).negative_binomial(10, 10 / (10 + mean)))


@pytest.mark.parametrize("phase", [13, 26, 39])
def test_a_rise_in_a_seasonal_series_stands_in_the_low_season(phase):
    # the fit finds the cycle and the doubling (de-seasonalised levels about 4 -> 8); before the
    # fix the rule set raw weekly means against those levels: in the trough the last 13 weeks
    # averaged 3.6 against 3.9 before the change (phase 13: "the rise is over"), and the raw
    # average before the change missed the level's "at or below the average" test (26, 39)
    flags = changepoints(seasonal_rise(0, phase), measure="incidents")
    assert list(flags["direction"]) == ["up"]
    row = flags.iloc[0]
    assert row["date"] >= START + pd.Timedelta(weeks=160) and row["ci_low"] > 1
    assert "de-seasonalised (the fit found an annual cycle)" in row["evidence"]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.one_of(st.floats(0, 50), st.just(np.nan)), min_size=1, max_size=30),
    st.floats(0.2, 5.0),
    st.floats(0.1, 10.0),
)
def test_weekly_level_is_the_de_seasonalised_mean(values, scale, level):
    y = np.asarray(values, dtype=float)
    known = ~np.isnan(y)
    exposure = np.linspace(0.3, 2.0, len(y))
    if not known.any():
        assert np.isnan(weekly_level(y, exposure))
        return
    # no season: the mean of the known weeks; counts that follow the season exactly: their level
    assert weekly_level(y, np.ones(len(y))) == pytest.approx(np.nanmean(y))
    assert weekly_level(np.where(known, level * exposure, np.nan), exposure) == pytest.approx(level)
    # a season scaled up by `scale` (more exposure) reads the same counts as a lower level
    assert weekly_level(y, scale * exposure) == pytest.approx(weekly_level(y, exposure) / scale)


# --- item 9: rules a short history cannot judge are named --------------------------------------


def surge_panel(weeks: int) -> pd.DataFrame:
    """`weeks` weeks of about 2 incidents a week ending with a tenfold surge (audit a8)."""
    rng = np.random.default_rng(0)
    values = np.r_[rng.poisson(2, weeks - 4), rng.poisson(20, 4)]
    frame = panel(values)
    return frame.assign(fatalities_best=3 * frame["incidents"])


def test_a_short_history_lists_the_rules_it_could_not_evaluate():
    flags = find_resurgence(surge_panel(26), actor="ISIS", measure=("incidents", "fatalities_best"))
    assert flags.empty and flags.attrs["history_weeks"] == 26
    assert flags.attrs["not_evaluated"] == {
        "changepoint": "26 weeks of history, the rule needs 53",
        "surge": "26 weeks of history, the rule needs 53",
        "threat": "26 weeks of history, the rule needs 56",
        "record": "26 weeks of history, the rule needs 56",
    }
    fixed = find_resurgence(surge_panel(26), actor="ISIS", false_alarm_budget=None)
    assert set(fixed.attrs["not_evaluated"]) == {"threat", "record"}
    assert find_resurgence(surge_panel(60), actor="ISIS").attrs["not_evaluated"] == {}
    assert set(find_resurgence(surge_panel(54), actor="ISIS").attrs["not_evaluated"]) == {"threat", "record"}


@pytest.mark.parametrize("rule", ["surge", "threat", "record"])
@pytest.mark.parametrize("kwargs", [{}, {"surge_weeks": 2, "threat_baseline_weeks": 20, "record_years": 2}])
def test_rule_history_is_exactly_where_a_rule_can_first_judge(rule, kwargs):
    t = Thresholds.from_kwargs(kwargs)
    need = rule_history((rule,), t, None)[rule]
    arrays = {"surge": surge_arrays, "threat": threat_arrays, "record": record_arrays}[rule]
    y = np.full(need + 5, 200.0)
    y[-1] = 2000.0  # the last week of each cut is a surge, a threat and a record
    assert np.isnan(arrays(y[: need - 1], t)["strength"]["up"][-1])  # one week short: nothing judged
    assert np.isfinite(arrays(np.r_[y[: need - 1], 2000.0], t)["strength"]["up"][-1])


def test_under_a_budget_every_rule_needs_a_year_over_the_budget():
    t = Thresholds()
    assert rule_history(RULES, t, 1.0) == {"changepoint": 53, "surge": 53, "threat": 56, "record": 56}
    assert rule_history(RULES, t, 2.0) == {"changepoint": 27, "surge": 27, "threat": 56, "record": 56}
    assert rule_history(RULES, t, None) == {"changepoint": 12, "surge": 5, "threat": 56, "record": 56}


def test_a_partly_covered_last_week_is_not_judged_as_a_complete_one():
    # two incidents a day for 60 weeks, then 3 days (the data end on a Wednesday) of 30 a day:
    # without as_of the rules judge the last week the data cover in full
    days = pd.date_range("2020-01-06", periods=60 * 7 + 3, freq="D")
    per_day = np.r_[np.full(60 * 7, 2), np.full(3, 30)]
    frame = pd.DataFrame({"date_start": days.repeat(per_day), "actor": "ISIS", "region": "Anbar"})
    frame["date_end"], frame["fatalities_best"] = frame["date_start"], 1
    panel = weekly_panel(frame, by="region")
    assert panel.attrs["last_week_days"] == 3
    judged = find_resurgence(panel, actor="ISIS", by="region", false_alarm_budget=None)
    assert judged.empty, judged[["rule", "as_of"]]
    panel.attrs = {}  # the same counts read as a complete week: a surge
    assert not find_resurgence(panel, actor="ISIS", by="region", false_alarm_budget=None).empty
