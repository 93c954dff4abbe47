"""find_resurgence on simulated incidents with a planted doubling: the doubled
governorate is flagged with a rate ratio whose interval holds 2, the unchanged
ones are left alone, and nothing depends on data after as_of."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import casualtystats as cs

REGIONS = ["Anbar", "Ninawa", "Salah al-Din", "Diyala", "Kirkuk", "Baghdad"]
CHANGED = "Anbar"
ONSET = pd.Timestamp("2023-07-03")
START, END = "2021-01-04", "2024-02-25"  # 34 weeks after the onset
SEEDS = tuple(range(10))


@cache
def planted_panel(seed: int) -> pd.DataFrame:
    """Weekly ISIS panel: 4 incidents (about 8 fatalities) a week in six governorates,
    doubled in Anbar from ONSET. Fatalities per incident have a moderate tail
    (log-sd 0.5): with the simulator's default mass-casualty tail (1.5) a doubling
    is often not distinguishable from noise within 34 weeks by any count model
    (benchmarks/backtest.py measures that power)."""
    sim = cs.simulate_incidents(
        regions=REGIONS,
        actors={"ISIS": 4.0},
        start=START,
        end=END,
        change_points=[{"actor": "ISIS", "region": CHANGED, "date": ONSET, "ratio": 2.0}],
        seed=seed,
        fatality_tail=0.5,
        overdispersion=0.1,
    )
    return cs.weekly_panel(sim.incidents, by=["actor", "region"], start=START, end=END)


@cache
def changepoint_flags(seed: int) -> pd.DataFrame:
    return cs.find_resurgence(planted_panel(seed), rules="changepoint")


def test_planted_doubling_is_flagged_with_ratio_interval_holding_two():
    flags = changepoint_flags(SEEDS[0])
    row = flags[flags["region"] == CHANGED]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["direction"] == "up"
    assert row["ci_low"] <= 2 <= row["ci_high"]
    assert abs((row["date"] - ONSET).days) <= 6 * 7
    assert 0.5 <= row["probability"] <= 1
    assert row["evidence"].startswith("Anbar: ISIS fatalities (best estimate) rose from")
    assert "rate ratio" in row["evidence"] and "95% CI" in row["evidence"]


def test_doubling_found_in_most_seeds_and_unchanged_governorates_left_alone():
    # Tolerances over 10 fixed seeds: the doubling is flagged in at least 8, its
    # interval holds 2 in at least 7 of them, and at least 8 runs flag none of the
    # 5 unchanged governorates (at most 3 false flags in all 50 series).
    found, covered, clean, false_flags = 0, 0, 0, 0
    for seed in SEEDS:
        flags = changepoint_flags(seed)
        hit = flags[(flags["region"] == CHANGED) & (flags["direction"] == "up")]
        found += len(hit) > 0
        covered += bool(((hit["ci_low"] <= 2) & (2 <= hit["ci_high"])).any())
        others = flags[flags["region"] != CHANGED]
        clean += others.empty
        false_flags += others["region"].nunique()
    assert found >= 8
    assert covered >= 7
    assert clean >= 8 and false_flags <= 3


def test_tracker_rules_on_simulated_panel_are_consistent():
    flags = cs.find_resurgence(planted_panel(SEEDS[0]), rules=("surge", "threat", "record"))
    assert set(flags["rule"]) <= {"surge", "threat", "record"}
    surge = flags[flags["rule"] == "surge"]
    assert (surge["value"] >= 2 * surge["baseline"]).all() and (surge["baseline"] >= 1).all()


@pytest.mark.parametrize("as_of", ["2023-02-15", "2023-08-06", "2023-10-01", "2024-01-03"])
def test_no_look_ahead_on_simulated_panel(as_of):
    panel = planted_panel(SEEDS[1])
    as_of = pd.Timestamp(as_of)
    known = panel[panel["week"] <= as_of]
    kwargs = {"as_of": as_of, "direction": "both", "record_min": 40}
    full = cs.find_resurgence(panel, **kwargs)
    cut = cs.find_resurgence(known, **kwargs)
    pd.testing.assert_frame_equal(full, cut)
    assert (full["date"] <= as_of).all()


def test_backtest_on_simulated_doubling_detects_it_early():
    panel = planted_panel(SEEDS[0])
    truth = pd.DataFrame({"actor": ["ISIS"], "region": [CHANGED], "date": [ONSET]})
    res = cs.backtest(panel, truth, rules=("changepoint", "threat"), start="2023-01-02")
    det = res.detections.set_index("rule")
    assert det.loc["changepoint", "detected"]
    assert det.loc["changepoint", "delay_weeks"] <= 16
    assert np.isfinite(res.summary_frame()["false_alarms_per_year"]).all()


def test_changepoint_alert_start_is_the_first_week_of_its_run():
    # the run is read every `changepoint_step` (4) weeks back from the week judged
    panel = planted_panel(SEEDS[0])
    row = changepoint_flags(SEEDS[0]).query("region == @CHANGED").iloc[0]
    start = row["alert_start"]
    assert row["date"] <= start <= row["as_of"]

    def flagged_on(week) -> pd.DataFrame:
        out = cs.find_resurgence(panel, rules="changepoint", as_of=week + pd.Timedelta(days=6))
        return out[(out["region"] == CHANGED) & (out["direction"] == "up")]

    assert flagged_on(start)["alert_start"].tolist() == [start]
    assert flagged_on(start - pd.Timedelta(weeks=4)).empty
    assert "The false-alarm budget of 1 a year keeps the default interval level 95%" in row["evidence"]


def test_changepoint_level_rises_as_the_budget_shrinks():
    from casualtystats.resurgence.rules import Context, read_changepoints, weekly_series

    panel = planted_panel(SEEDS[0])
    (series,) = [
        s for s in weekly_series(panel, "ISIS", ["region"], "fatalities_best") if s.key == (CHANGED,)
    ]
    end = len(series.values) - 1
    alphas = []
    for budget in (None, 10.0, 1.0, 0.5, 0.2, 0.0):
        ctx = Context.make(panel, "ISIS", "region", "fatalities_best", "up", {}, budget)
        reading = read_changepoints(series, end, ctx)
        alphas.append(reading.alpha["up"] or 0.0)  # None: the budget silenced the rule
        assert not reading.flags("up") or alphas[-1] > 0  # a silenced rule never flags
    assert alphas == sorted(alphas, reverse=True)
    assert alphas[0] == 0.05  # no budget: today's 95% level
