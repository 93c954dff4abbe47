"""Backtest: the replay equals running find_resurgence week by week on the data
known then (thresholds under the default false-alarm budget included), and
detections, delays and false alarms are scored as documented (on the fixed
thresholds, whose answers are known by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from casualtystats import backtest, find_resurgence
from casualtystats.errors import CasualtyStatsError

START = pd.Timestamp("2019-01-07")


def panel(series: dict) -> pd.DataFrame:
    rows = [
        {"week": START + pd.Timedelta(weeks=i), "actor": "ISIS", "region": region, "fatalities_best": v}
        for region, values in series.items()
        for i, v in enumerate(values)
    ]
    frame = pd.DataFrame(rows)
    frame["fatalities_best"] = frame["fatalities_best"].astype("Int64")
    return frame


def week(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(weeks=i)


def replay_by_hand(p, rules, first, last, **kwargs) -> pd.DataFrame:
    """find_resurgence at the end of every week, on the panel cut at that week."""
    frames = []
    for i in range(first, last + 1):
        as_of = week(i) + pd.Timedelta(days=6)
        frames.append(find_resurgence(p[p["week"] <= as_of], rules=rules, as_of=as_of, **kwargs))
    return pd.concat(frames, ignore_index=True)


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["rule", "region", "direction", "as_of", "date"]).reset_index(drop=True)


def test_tracker_replay_equals_weekly_find_resurgence():
    rng = np.random.default_rng(12)
    values = {"A": rng.negative_binomial(2, 0.2, 90), "B": rng.poisson(4, 90)}
    values["A"][70:] *= 3
    p = panel(values)
    rules = ("surge", "threat", "record")
    kwargs = {"direction": "both", "record_min": 30}
    truth = pd.DataFrame({"region": ["A"], "date": [week(70)]})
    res = backtest(p, truth, rules=rules, start=week(10), end=week(89), **kwargs)
    expected = replay_by_hand(p, rules, 10, 89, **kwargs)
    assert len(expected) > 20
    pd.testing.assert_frame_equal(canonical(res.flags), canonical(expected))


def steady_then_jump():
    """2 per week; a one-week blip of 6 at week 20; 10 per week from week 70."""
    values = [2] * 100
    values[20] = 6
    values[70:] = [10] * 30
    return values


def test_scoring_of_known_flags():
    p = panel({"Anbar": steady_then_jump(), "Diyala": [2] * 100})
    truth = pd.DataFrame({"region": ["Anbar"], "date": [week(70) + pd.Timedelta(days=3)]})
    res = backtest(p, truth, rules=("surge", "threat", "record"), record_min=30, false_alarm_budget=None)
    det = res.detections.set_index("rule")
    # surge: 10 >= 2 x 2 at week 70 itself
    assert det.loc["surge", "detected"] and det.loc["surge", "delay_weeks"] == 0
    # threat: week 70's month (2,2,2,10) averages 4 < 2 x 2.08 (the year includes the blip); week 71 passes
    assert det.loc["threat", "delay_weeks"] == 1
    # record: 4-week totals 16, 24, then 32 >= 30 beats the year's high of 12 at week 72
    assert det.loc["record", "delay_weeks"] == 2
    assert det.loc["record", "flagged_on"] == week(72) + pd.Timedelta(days=6)
    assert "Anbar: 32 ISIS fatalities" in det.loc["record", "evidence"]
    # the blip at week 20 is the only false alarm, of the surge rule, and counted once
    fa = res.false_alarms
    assert fa["rule"].tolist() == ["surge"] and fa["as_of"].tolist() == [week(20) + pd.Timedelta(days=6)]
    summary = res.summary_frame().set_index("rule")
    assert summary.loc["surge", "false_alarms"] == 1
    assert summary.loc["surge", "false_alarms_per_year"] == pytest.approx(1 / (2 * 100 / (365.25 / 7)))
    assert summary.loc["threat", "detection_rate"] == 1.0
    assert "series-years" in res.summary()


def test_truth_names_are_read_through_the_alias_tables():
    p = panel({"Ninawa": steady_then_jump(), "Diyala": [2] * 100})
    date = week(70) + pd.Timedelta(days=3)
    spelled = pd.DataFrame({"region": ["Nineveh"], "actor": ["Daesh"], "date": [date]})
    plain = pd.DataFrame({"region": ["Ninawa"], "date": [date]})
    kwargs = dict(rules=("surge",), false_alarm_budget=None)
    found = backtest(p, spelled, **kwargs).detections
    assert len(found) == 1 and found["detected"].all()
    assert found.drop(columns=["actor"], errors="ignore").equals(backtest(p, plain, **kwargs).detections)


def test_flags_before_the_onset_window_are_not_detections():
    p = panel({"Anbar": steady_then_jump()})
    # an onset placed 30 weeks after the jump: the flags of the jump precede it
    late = pd.DataFrame({"date": [week(100 - 1)]})
    res = backtest(p, late, rules=("surge",), by="region", false_alarm_budget=None)
    assert not res.detections["detected"].any()
    # and a window of 0 weeks keeps only same-week flags
    on_time = backtest(
        p,
        pd.DataFrame({"date": [week(71)]}),
        rules=("record",),
        record_min=30,
        window=0,
        false_alarm_budget=None,
    )
    assert not on_time.detections["detected"].any()


def test_truth_without_groups_applies_to_every_group_and_down_is_inferred():
    p = panel({"A": [8] * 60 + [2] * 20, "B": [8] * 80})
    truth = pd.DataFrame({"date": [week(60)], "direction": ["down"]})
    res = backtest(p, truth, rules=("threat",), false_alarm_budget=None)
    det = res.detections.set_index("region")
    # the month's mean falls to half the year's 8 at week 62: (8 + 2 + 2 + 2) / 4 = 3.5 <= 4
    assert det.loc["A", "detected"] and det.loc["A", "delay_weeks"] == 2
    assert not det.loc["B", "detected"]
    assert set(res.flags["direction"]) == {"down"}


def test_changepoint_replay_equals_weekly_find_resurgence():
    rng = np.random.default_rng(3)
    values = {"A": np.r_[rng.poisson(3, 40), rng.poisson(9, 20)], "B": rng.poisson(3, 60)}
    p = panel(values)
    res = backtest(
        p, pd.DataFrame({"region": ["A"], "date": [week(40)]}), rules=("changepoint",), start=week(30)
    )
    expected = replay_by_hand(p, ("changepoint",), 30, 59)
    pd.testing.assert_frame_equal(canonical(res.flags), canonical(expected))
    # the default budget (1 a year) admits no alarm before the series has a year of history
    det = res.detections.iloc[0]
    assert det["detected"] and det["delay_weeks"] == 52 - 40
    fixed = backtest(
        p,
        pd.DataFrame({"region": ["A"], "date": [week(40)]}),
        rules=("changepoint",),
        start=week(30),
        false_alarm_budget=None,
    )
    det = fixed.detections.iloc[0]
    assert det["detected"] and det["delay_weeks"] <= 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"truth": pd.DataFrame({"when": [week(3)]})},
        {"truth": pd.DataFrame({"date": [week(3)], "direction": ["sideways"]})},
        {"start": week(500)},
        {"step": 0},
        {"rules": ("oracle",)},
        {"truth": pd.DataFrame({"date": [week(3)], "region": ["Atlantis"]})},
    ],
)
def test_backtest_user_errors(kwargs):
    args = {"truth": pd.DataFrame({"date": [week(3)]}), **kwargs}
    with pytest.raises(CasualtyStatsError):
        backtest(panel({"A": [1] * 30}), **args)
