"""The surge, threat and record rules on small hand-made panels with known answers,
the as_of cut (no look-ahead), output shape, evidence text and user errors."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats import find_resurgence as find_budgeted
from casualtystats.errors import CasualtyStatsError

# The known answers below are those of the fixed thresholds (no false-alarm budget);
# tests/test_resurgence_budget.py covers the budget.
find_resurgence = partial(find_budgeted, false_alarm_budget=None)

START = pd.Timestamp("2021-01-04")  # a Monday


def panel(series: dict, start=START, actor="ISIS", measure="fatalities_best") -> pd.DataFrame:
    """A tidy weekly panel from {region: weekly values} (None = unknown)."""
    rows = []
    for region, values in series.items():
        for i, v in enumerate(values):
            rows.append({"week": start + pd.Timedelta(weeks=i), "actor": actor, "region": region, measure: v})
    frame = pd.DataFrame(rows)
    frame[measure] = frame[measure].astype("Int64")
    return frame


def flags(values, rule, **kwargs):
    return find_resurgence(panel({"R": values}), rules=(rule,), **kwargs)


# --- surge: last week >= 2x the mean of the 4 weeks before, that mean >= 1 ---


@pytest.mark.parametrize(
    ("values", "kwargs", "expected"),
    [
        ([1, 1, 1, 1, 2], {}, True),  # exactly 2x a baseline of exactly 1
        ([1, 1, 1, 1, 1], {}, False),
        ([3, 3, 3, 3, 5], {}, False),  # 1.67x
        ([0, 1, 1, 1, 10], {}, False),  # baseline 0.75 < 1: below the minimum
        ([0, 1, 1, 1, 10], {"surge_min_baseline": 0.5}, True),
        ([0, 0, 0, 0, 10], {"surge_min_baseline": 0}, True),  # 10 >= 2 * 0
        ([1, 1, 1, 2], {}, False),  # fewer than 4 weeks before the last
        ([5, 2, 2, 2, 2, 5], {}, True),  # only the 4 weeks just before count
        ([2, 2, 2, 2, 5], {"surge_ratio": 3}, False),
    ],
)
def test_surge_known_answers(values, kwargs, expected):
    out = flags(values, "surge", **kwargs)
    assert (len(out) == 1) is expected
    if expected:
        row = out.iloc[0]
        assert row["value"] == values[-1]
        assert row["baseline"] == pytest.approx(np.mean(values[-5:-1]))
        assert row["date"] == START + pd.Timedelta(weeks=len(values) - 1)


def test_surge_down_mirror_and_unknown_weeks():
    assert len(flags([4, 4, 4, 4, 1], "surge", direction="down")) == 1
    assert len(flags([4, 4, 4, 4, 3], "surge", direction="down")) == 0
    assert len(flags([4, 4, 4, 4, 1], "surge")) == 0  # up only by default
    # an unknown week is left out of the baseline mean: (1 + 1 + 1) / 3 = 1
    out = flags([1, 1, None, 1, 2], "surge")
    assert len(out) == 1 and out["baseline"].iloc[0] == 1
    # an unknown last week is no evidence of anything
    assert len(flags([1, 1, 1, 1, None], "surge")) == 0


# --- threat: last month's weekly mean >= 2x the weekly mean of the 52 weeks before ---


def year_then(base, last4):
    return [base] * 52 + list(last4)


@pytest.mark.parametrize(
    ("values", "kwargs", "expected"),
    [
        (year_then(1, [2, 2, 2, 2]), {}, True),  # exactly 2x
        (year_then(1, [2, 2, 2, 1]), {}, False),  # 1.75x
        (year_then(0, [1, 1, 1, 1]), {}, True),  # new activity after a quiet year
        (year_then(0, [0, 0, 1, 0]), {}, False),  # one event: below a four-week average of 1
        (year_then(0, [0, 0, 1, 0]), {"threat_min_recent": 0.25}, True),
        (year_then(0, [1, 1, 1, 1]), {"threat_min_baseline": 0.5}, False),
        (year_then(0, [0, 0, 0, 0]), {}, False),  # nothing at all is no threat
        ([1] * 51 + [5, 5, 5, 5], {}, False),  # 51 weeks: not a full year before the month
        ([9] * 10 + year_then(1, [2, 2, 2, 2]), {}, True),  # older weeks do not count
    ],
)
def test_threat_known_answers(values, kwargs, expected):
    out = flags(values, "threat", **kwargs)
    assert (len(out) == 1) is expected
    if expected:
        row = out.iloc[0]
        assert row["value"] == pytest.approx(np.mean(values[-4:]))
        assert row["baseline"] == pytest.approx(np.mean(values[-56:-4]))
        assert row["date"] == START + pd.Timedelta(weeks=len(values) - 4)


def test_threat_minimum_activity_is_in_incidents_whatever_the_measure():
    # ACLED's minimum is a four-week average of one event: one 30-death attack in a quiet area is
    # no threat on deaths either; four attacks in the month are
    def deaths_panel(incidents, deaths):
        p = panel({"R": deaths})
        return p.assign(incidents=pd.array(incidents, dtype="Int64"))

    one = deaths_panel(year_then(0, [0, 0, 1, 0]), year_then(0, [0, 0, 30, 0]))
    four = deaths_panel(year_then(0, [1, 1, 1, 1]), year_then(0, [5, 10, 10, 5]))
    assert find_resurgence(one, rules=("threat",)).empty
    assert len(find_resurgence(four, rules=("threat",))) == 1
    # a panel without incidents falls back on the measure itself
    assert len(find_resurgence(panel({"R": year_then(0, [0, 0, 30, 0])}), rules=("threat",))) == 1


def test_threat_after_a_quiet_year_says_so_rather_than_infinite_times():
    row = flags(year_then(0, [1, 1, 1, 1]), "threat").iloc[0]
    assert row["ratio"] == np.inf
    assert "after none in the 52 weeks before" in row["evidence"]
    assert "infinite" not in row["evidence"]


def test_threat_down():
    assert len(flags(year_then(4, [2, 2, 2, 2]), "threat", direction="down")) == 1
    assert len(flags(year_then(4, [2, 2, 2, 3]), "threat", direction="down")) == 0
    assert len(flags(year_then(0, [0, 0, 0, 0]), "threat", direction="down")) == 0


# --- record: 4-week total above every 4-week total of the 1 (or 3) years before, >= 100 ---


def three_years(last4, spike_total=200):
    """166 weeks of 10/week with a 4-week spike (total `spike_total`) about 2.8 years back."""
    values = [10] * 166
    values[20:24] = [spike_total // 4] * 4
    return values + list(last4)


@pytest.mark.parametrize(
    ("values", "kwargs", "years", "baseline"),
    [
        (three_years([30, 30, 30, 30]), {}, 1, 40),  # 120 > 40 (past year), < 200 (3 years)
        (three_years([60, 60, 60, 60]), {}, 3, 200),  # 240 beats the 3-year high
        (three_years([20, 20, 25, 25]), {}, None, None),  # 90: a 1-year record but below 100
        (three_years([20, 20, 25, 25]), {"record_min": 50}, 1, 40),
        (three_years([50, 50, 50, 50]), {}, 1, 40),  # 200 ties the 3-year high: a 1-year record only
        (three_years([30, 30, 30, 30]), {"record_years": 3}, None, None),
        (three_years([60, 60, 60, 60])[-60:], {}, 1, 40),  # 60 weeks of history: 1 year at most
    ],
)
def test_record_known_answers(values, kwargs, years, baseline):
    out = flags(values, "record", **kwargs)
    if years is None:
        assert out.empty
        return
    assert len(out) == 1
    row = out.iloc[0]
    assert row["value"] == sum(values[-4:])
    assert row["baseline"] == baseline
    assert f"of the {years} year{'s' if years > 1 else ''} before" in row["evidence"]


def test_record_needs_the_full_year_and_is_up_only():
    assert flags([10] * 20 + [100] * 4, "record").empty  # under a year of history
    assert flags(three_years([0, 0, 0, 0]), "record", direction="both").empty


# --- as_of, look-ahead, shape, text, errors ---


def test_as_of_uses_only_complete_weeks():
    values = [1, 1, 1, 1, 5, 1, 1]
    p = panel({"R": values})
    as_of_week5 = START + pd.Timedelta(weeks=4, days=6)  # Sunday ending the surge week
    assert len(find_resurgence(p, rules="surge", as_of=as_of_week5)) == 1
    # one day earlier the surge week is not complete yet
    assert find_resurgence(p, rules="surge", as_of=as_of_week5 - pd.Timedelta(days=1)).empty
    out = find_resurgence(p, rules="surge", as_of=as_of_week5 + pd.Timedelta(days=3))
    assert len(out) == 1 and out["as_of"].iloc[0] == as_of_week5 + pd.Timedelta(days=3)
    # default as_of: the end of the last week in the panel
    assert find_resurgence(p, rules="surge")["as_of"].tolist() == []
    assert find_resurgence(panel({"R": values[:5]}), rules="surge")["as_of"].iloc[0] == as_of_week5


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.integers(0, 60), min_size=60, max_size=120),
    cut=st.integers(1, 119),
    shift=st.integers(0, 6),
)
def test_no_look_ahead_for_tracker_rules(data, cut, shift):
    cut = min(cut, len(data) - 1)
    values = {"A": data, "B": data[::-1]}
    as_of = START + pd.Timedelta(weeks=cut, days=shift)
    full = panel(values)
    known = full[full["week"] <= as_of]
    kwargs = {"rules": ("surge", "threat", "record"), "as_of": as_of, "direction": "both", "record_min": 20}
    pd.testing.assert_frame_equal(find_resurgence(full, **kwargs), find_resurgence(known, **kwargs))
    # thresholds under a budget are set from the same known weeks
    for budget in (0.5, 2.0):
        pd.testing.assert_frame_equal(
            find_budgeted(full, false_alarm_budget=budget, **kwargs),
            find_budgeted(known, false_alarm_budget=budget, **kwargs),
        )


def test_output_columns_and_groups():
    p = panel({"Anbar": [1, 1, 1, 1, 9], "Diyala": [1, 1, 1, 1, 1]})
    out = find_resurgence(p, rules=("surge",))
    assert list(out.columns[:4]) == ["rule", "actor", "region", "measure"]
    for col in (
        "date",
        "as_of",
        "value",
        "baseline",
        "ratio",
        "ci_low",
        "ci_high",
        "probability",
        "evidence",
    ):
        assert col in out.columns
    assert out["region"].tolist() == ["Anbar"]
    # by=None: one series for the whole panel (1+1 per week, then 10 = 5x)
    whole = find_resurgence(p, by=None, rules=("surge",))
    assert len(whole) == 1 and whole["value"].iloc[0] == 10
    assert whole["evidence"].iloc[0].startswith("all regions:")
    # incidents as the measure
    inc = panel({"Anbar": [2, 2, 2, 2, 4]}, measure="incidents")
    out = find_resurgence(inc, measure="incidents", rules="surge")
    assert "4 ISIS incidents in the week of" in out["evidence"].iloc[0]


def test_missing_weeks_count_as_zero():
    p = panel({"R": [2, 2, 2, 2, 2, 3]})
    p = p[p["week"] != START + pd.Timedelta(weeks=1)]  # drop one row: a zero week
    out = find_resurgence(p, rules="surge", surge_min_baseline=1)
    assert out["baseline"].iloc[0] == pytest.approx(1.5)


def test_evidence_is_one_line_of_plain_text():
    name = "Ninawa\n<script>alert(1)</script>\x07"
    out = find_resurgence(panel({name: [1, 1, 1, 1, 5]}), rules="surge")
    text = out["evidence"].iloc[0]
    assert "\n" not in text and "\x07" not in text
    assert text.startswith("Ninawa <script>alert(1)</script>: 5 ISIS fatalities (best estimate)")
    assert "5 times the average of the 4 weeks before (1 per week)" in text


def test_other_actor_is_filtered_out():
    p = pd.concat([panel({"R": [1, 1, 1, 1, 1]}), panel({"R": [1, 1, 1, 1, 9]}, actor="JNIM")])
    assert find_resurgence(p, rules="surge").empty
    assert len(find_resurgence(p, actor="JNIM", rules="surge")) == 1
    # any spelling of the alias table names the panel's canonical actor
    spelled = find_resurgence(p, actor="Daesh", rules="surge")
    assert spelled.empty and find_resurgence(p, actor="Islamic State", rules="surge").empty
    q = panel({"R": [1, 1, 1, 1, 9]})
    assert (
        len(find_resurgence(q, actor="Daesh", rules="surge")) == len(find_resurgence(q, rules="surge")) == 1
    )
    # and the flags name it as the panel does
    assert list(find_resurgence(q, actor="Daesh", rules="surge")["actor"]) == ["ISIS"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rules": ("surge", "vibes")},
        {"rules": ()},
        {"surge_raito": 3},
        {"surge_ratio": 0.5},
        {"actor": "Nobody"},
        {"measure": "wounded"},
        {"by": "province"},
        {"direction": "sideways"},
        {"false_alarm_budget": -1},
        {"false_alarm_budget": "often"},
        {"changepoint_step": 0},
        {"as_of": "not a date"},
        {"as_of": "1990-01-01"},  # before the panel's first complete week: nothing to judge
    ],
)
def test_user_errors(kwargs):
    with pytest.raises(CasualtyStatsError):
        find_budgeted(panel({"R": [1, 1, 1, 1, 1]}), **kwargs)


def test_several_measures_are_judged_separately_and_thresholds_recorded():
    weeks = [1, 1, 1, 1, 5]
    both = panel({"R": weeks}).assign(incidents=pd.array([2, 2, 2, 2, 2], dtype="Int64"))
    out = find_resurgence(both, measure=("incidents", "fatalities_best"), rules=("surge",), surge_ratio=3)
    # only fatalities rose (5 >= 3 x 1); incidents stayed flat
    assert out["measure"].tolist() == ["fatalities_best"]
    assert out.attrs["measures"] == ("incidents", "fatalities_best")
    assert out.attrs["thresholds"]["surge_ratio"] == 3
    assert out.attrs["as_of"] == START + pd.Timedelta(weeks=4, days=6)


@settings(max_examples=15, deadline=None)
@given(
    weeks=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30)), min_size=5, max_size=40),
    budget=st.sampled_from([None, 1.0]),
)
def test_measures_judged_apart_and_stacked_are_the_call_with_all_measures(weeks, budget):
    # the report judges each measure in its own task: stacked, they must be the one call's flags
    from casualtystats.resurgence import stack_measures

    counts = {"R": [w[0] for w in weeks], "S": [w[1] for w in weeks]}
    both = panel(counts).assign(
        incidents=pd.array([min(v, 3) for region in counts.values() for v in region], dtype="Int64")
    )
    measures = ("incidents", "fatalities_best")
    together = find_budgeted(both, measure=measures, false_alarm_budget=budget, surge_ratio=1.5)
    apart = [find_budgeted(both, measure=m, false_alarm_budget=budget, surge_ratio=1.5) for m in measures]
    stacked = stack_measures(apart)
    pd.testing.assert_frame_equal(stacked, together, check_exact=True)
    assert stacked.attrs == together.attrs
    assert list(stacked.attrs) == list(together.attrs)
