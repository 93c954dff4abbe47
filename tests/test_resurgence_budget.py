"""Thresholds under a false-alarm budget and consolidated alerts: the budget is
honoured when the chosen threshold is replayed on the series' own history,
thresholds rise as the budget shrinks, a persisting run is one alert with its
start, and without a budget the fixed rules are unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import casualtystats as cs
from casualtystats.resurgence import DEFAULT_FALSE_ALARM_BUDGET, alert_history, backtest, find_resurgence
from casualtystats.resurgence.calibrate import threshold_path
from casualtystats.resurgence.rules import CALIBRATED, Context, tracker_paths, weekly_series

START = pd.Timestamp("2020-01-06")
TRACKERS = ("surge", "threat", "record")
NO_ONSETS = pd.DataFrame({"date": pd.to_datetime([])})


def panel(values, region="R") -> pd.DataFrame:
    weeks = START + pd.to_timedelta(np.arange(len(values)) * 7, unit="D")
    return pd.DataFrame(
        {"week": weeks, "actor": "ISIS", "region": region, "fatalities_best": pd.array(values, dtype="Int64")}
    )


def last_thresholds(p: pd.DataFrame, budget, direction="both", **settings) -> dict:
    """{(rule, direction): threshold chosen at the panel's last week}."""
    ctx = Context.make(p, "ISIS", "region", "fatalities_best", direction, settings, budget)
    (series,) = weekly_series(p, "ISIS", ["region"], "fatalities_best")
    return {
        (rule, d): float(path.threshold[-1])
        for rule in TRACKERS
        for d, path in tracker_paths(rule, series, ctx)[1].items()
    }


counts = st.lists(st.integers(0, 40), min_size=60, max_size=140)


@settings(max_examples=15, deadline=None)
@given(values=counts, budget=st.sampled_from([0.0, 0.3, 1.0, 2.5, 6.0]))
def test_budget_is_honoured_when_the_threshold_is_replayed_on_the_history(values, budget):
    p = panel(values)
    for (rule, direction), threshold in last_thresholds(p, budget, record_min=10).items():
        replay = backtest(
            p,
            NO_ONSETS,
            rules=(rule,),
            direction=direction,
            false_alarm_budget=None,  # the chosen threshold, held fixed over the whole history
            **{"record_min": 10, CALIBRATED[rule]: threshold},
        )
        rates = replay.summary_frame().set_index("direction")["false_alarms_per_year"]
        assert rates.loc[direction] <= budget + 1e-9, (rule, direction, threshold)


@settings(max_examples=25, deadline=None)
@given(values=counts)
def test_thresholds_rise_as_the_budget_shrinks_and_never_fall_below_the_default(values):
    p = panel(values)
    budgets = [8.0, 2.0, 1.0, 0.5, 0.0]
    chosen = [last_thresholds(p, b, record_min=10) for b in budgets]
    fixed = last_thresholds(p, None, record_min=10)
    for key in chosen[0]:
        path = [c[key] for c in chosen]
        assert path == sorted(path), key
        assert path[0] >= fixed[key]
    # a budget of zero admits no alarm at all on the history, so nothing is flagged
    flags = find_resurgence(p, rules=TRACKERS, direction="both", record_min=10, false_alarm_budget=0)
    assert flags.empty


def test_threshold_path_by_hand():
    strength = np.full(157, np.nan)
    strength[[60, 61, 62]] = [5.0, 3.0, 5.0]  # one run at a threshold of 2 or 3, two runs at 5
    strength[80] = 2.5
    strength[120] = 6.0
    years = np.arange(1, 158) / (365.25 / 7)
    path = threshold_path(strength, 2.0, 1.0, years)
    # nothing observed yet: the default stands
    assert path.threshold[30] == 2.0 and path.alarms[30] == 0
    # after a year one alarm is admitted: the default keeps the run at 60-62 as one alarm
    assert path.threshold[62] == 2.0 and path.flags[62] and path.alarms[62] == 1
    # week 80 would be a second alarm within 1.55 years: the threshold rises to 3 (seen at week 61)
    assert path.threshold[80] == 3.0 and not path.flags[80]
    assert path.threshold[120] == 3.0 and path.flags[120] and path.alarms[120] == 2
    # after three years the three alarms of the default fit
    assert path.threshold[156] == 2.0 and path.alarms[156] == 3
    assert (path.alarms <= years + 1e-9).all()
    # the alert start of a flagged week is the first week of its run
    assert path.alert_start[62] == 60 and path.alert_start[120] == 120 and path.alert_start[80] == -1
    fixed = threshold_path(strength, 2.0, None, years)
    assert (fixed.threshold == 2).all() and fixed.flags.sum() == 5 and fixed.alarms[-1] == 3
    # a budget of zero silences the rule
    assert np.isinf(threshold_path(strength, 2.0, 0.0, years).threshold[60:]).all()


def test_no_budget_is_the_fixed_rule_and_a_huge_budget_gives_the_same_flags():
    rng = np.random.default_rng(5)
    values = rng.negative_binomial(2, 0.25, 150)
    values[120:] *= 3
    p = pd.concat([panel(values, "A"), panel(rng.poisson(5, 150), "B")])
    same = ["rule", "region", "direction", "date", "alert_start", "value", "baseline", "ratio"]
    for as_of in ("2022-03-06", "2022-09-18"):
        fixed = find_resurgence(p, rules=TRACKERS, as_of=as_of, direction="both", false_alarm_budget=None)
        huge = find_resurgence(p, rules=TRACKERS, as_of=as_of, direction="both", false_alarm_budget=1e6)
        assert len(fixed) > 0
        pd.testing.assert_frame_equal(fixed[same], huge[same])
        assert fixed["threshold"].str.endswith("(fixed)").all()
        assert not fixed["evidence"].str.contains("budget").any()
        assert huge["evidence"].str.contains("false-alarm budget of 1,000,000 a year").all()


def test_evidence_names_the_threshold_the_budget_gave():
    # a noisy year (many surges), then a large rise: the surge ratio has to rise above 2
    rng = np.random.default_rng(1)
    values = list(rng.poisson(6, 104)) + [60]
    out = find_resurgence(panel(values), rules="surge")
    assert len(out) == 1 and DEFAULT_FALSE_ALARM_BUDGET == 1.0
    row = out.iloc[0]
    ratio = float(row["threshold"].split()[1])
    assert ratio > 2 and "default 2" in row["threshold"]
    assert f"raised the surge ratio from 2 to {ratio:.2f}: " in row["evidence"]
    assert f"asks for at least {ratio:.2f} times" in row["evidence"]


# --- consolidation ---


def test_a_persisting_alert_is_one_alert_with_its_start():
    values = [2] * 80 + [10] * 12 + [2] * 10 + [10] * 6
    p = panel(values)
    kwargs = {"rules": "threat", "false_alarm_budget": None}
    week = [START + pd.Timedelta(weeks=i) for i in range(len(values))]
    history = alert_history(p, **kwargs)
    assert list(history.columns) == [
        "rule",
        "actor",
        "region",
        "measure",
        "direction",
        "start",
        "end",
        "ongoing",
    ]
    # two rises, two alerts: the first from its first week (2, 2, 2, 10 averages 2x the year's 2)
    # to a week after the fall, the second still running
    first, second = history.itertuples(index=False)
    assert first.start == week[80] and week[92] <= first.end < week[102] and not first.ongoing
    assert week[102] <= second.start and second.end == week[-1] and second.ongoing
    # every week of the first run reports that run's start
    for i in range(80, values.index(2, 80) + 1):
        out = find_resurgence(p, as_of=week[i] + pd.Timedelta(days=6), **kwargs)
        if week[i] <= first.end:
            assert out["alert_start"].tolist() == [week[80]]
        else:
            assert out.empty
    # as of an earlier date the second alert does not exist yet and the first is ongoing
    earlier = alert_history(p, as_of=week[90] + pd.Timedelta(days=6), **kwargs)
    assert earlier[["start", "end", "ongoing"]].values.tolist() == [[week[80], week[90], True]]
    assert alert_history(p, since=week[100], **kwargs)["start"].tolist() == [second.start]


def test_alert_history_matches_the_flags_raised_each_week():
    rng = np.random.default_rng(7)
    values = rng.negative_binomial(3, 0.3, 130)
    values[90:] *= 3
    p = pd.concat([panel(values, "A"), panel(rng.poisson(6, 130), "B")])
    kwargs = {"rules": ("surge", "threat"), "direction": "both"}
    replay = backtest(p, NO_ONSETS, start=START, **kwargs).flags
    replay["week"] = replay["as_of"] - pd.Timedelta(days=6)
    history = alert_history(p, **kwargs)
    key = ["rule", "region", "direction"]
    assert len(history) == len(replay.drop_duplicates([*key, "alert_start"])) > 5
    for alert in history.itertuples(index=False):
        mine = replay[(replay[key] == [alert.rule, alert.region, alert.direction]).all(axis=1)]
        weeks = set(mine["week"])
        run = set(pd.date_range(alert.start, alert.end, freq="7D"))
        assert run <= weeks
        assert alert.start - pd.Timedelta(weeks=1) not in weeks
        assert alert.end + pd.Timedelta(weeks=1) not in weeks
        # the flags of the run all carry its start
        assert (mine.loc[mine["week"].isin(run), "alert_start"] == alert.start).all()


def test_budget_on_ucdp_iraq_is_honoured_per_governorate(ucdp_iraq_path):
    incidents = cs.involving(cs.load_incidents(ucdp_iraq_path).incidents, "ISIS")
    p = cs.weekly_panel(incidents, by=["actor", "region"], start="2004-03-15", end="2018-12-31")
    ctx = Context.make(p, "ISIS", "region", "incidents", "up", {}, 1.0)
    for series in weekly_series(p, "ISIS", ["region"], "incidents"):
        for rule in TRACKERS:
            path = tracker_paths(rule, series, ctx)[1]["up"]
            assert path.alarms[-1] <= path.years[-1] + 1e-9
            fixed = tracker_paths(rule, series, Context.make(p, "ISIS", "region", "incidents", "up", {}))[1]
            assert path.threshold[-1] >= fixed["up"].threshold[-1]


@pytest.mark.parametrize("budget", [None, 1.0])
def test_attrs_record_the_budget(budget):
    out = find_resurgence(panel([1] * 30), rules="surge", false_alarm_budget=budget)
    assert out.attrs["false_alarm_budget"] == budget
    assert {"alert_start", "threshold"} <= set(out.columns)
