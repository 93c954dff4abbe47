"""map_series: the per-series model work on every core gives what the serial loop gives, in
its order, with each series' warnings and errors kept as the serial loop keeps them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.assessment import _direction_trend
from casualtystats.errors import CasualtyStatsError
from casualtystats.parallel import WORKERS_VARIABLE, available_workers, map_series, start_series
from casualtystats.report.build import _model


def _square_minus(x, y):
    return x * x - y


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


def _weekly_rows(seed: int, weeks: int, region: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean = np.exp(1.0 + np.sin(np.arange(weeks) / (5 + seed)))
    return pd.DataFrame(
        {
            "week": pd.date_range("2023-01-02", periods=weeks, freq="7D"),
            "region": region,
            "incidents": rng.poisson(mean),
            "fatalities_best": rng.poisson(2 * mean),
        }
    )


@pytest.fixture
def two_workers(monkeypatch):
    """Force two workers even on one core, so the forked path runs wherever the tests do."""
    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 2)


@settings(max_examples=8, deadline=None)
@given(xs=st.lists(st.integers(-1000, 1000), max_size=7), y=st.integers(-5, 5))
def test_same_results_in_the_same_order_as_the_serial_loop(xs, y):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("casualtystats.parallel.available_workers", lambda: 2)
        assert map_series(_square_minus, xs, [y] * len(xs)) == [x * x - y for x in xs]


def test_an_error_of_one_series_propagates_as_in_the_serial_loop(two_workers):
    with pytest.raises(ValueError, match="three"):
        map_series(_fail_on_three, [1, 2, 3, 4])


def test_arguments_of_unequal_length_are_refused():
    with pytest.raises(ValueError):
        map_series(_square_minus, [1, 2], [1])


def test_the_environment_variable_caps_the_workers(monkeypatch):
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    assert available_workers() == 1
    monkeypatch.delenv(WORKERS_VARIABLE)
    assert available_workers() >= 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(WORKERS_VARIABLE, bad)
        with pytest.raises(CasualtyStatsError, match=WORKERS_VARIABLE):
            available_workers()


def test_direction_trends_on_two_cores_equal_the_serial_fits(two_workers, monkeypatch):
    # the second series has too few weeks: its reason string must come back as serially
    series = [_weekly_rows(seed, weeks, "r") for seed, weeks in ((1, 60), (2, 20), (3, 52))]
    as_of = [rows["week"].max() + pd.Timedelta(days=6) for rows in series]
    parallel = map_series(_direction_trend, series, as_of)
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    serial = [_direction_trend(rows, end) for rows, end in zip(series, as_of, strict=True)]
    assert isinstance(parallel[1], str) and parallel[1] == serial[1]
    for got, want in zip(parallel[::2], serial[::2], strict=True):
        pd.testing.assert_frame_equal(got.fitted, want.fitted, check_exact=True)
        pd.testing.assert_series_equal(got.growth_per_month, want.growth_per_month, check_exact=True)
        pd.testing.assert_series_equal(got.params, want.params, check_exact=True)
        assert got.warnings == want.warnings


def test_report_models_on_two_cores_equal_the_serial_models(two_workers):
    # an all-zero series cannot have a trend: its reason is kept, as is the fitted one's
    names = ["a", "quiet", "b"]
    rows = [
        _weekly_rows(4, 70, "a"),
        _weekly_rows(5, 30, "quiet").assign(fatalities_best=0),
        _weekly_rows(6, 45, "b"),
    ]
    parallel = map_series(_model, names, rows)
    serial = [_model(name, frame) for name, frame in zip(names, rows, strict=True)]
    assert [m.name for m in parallel] == names
    for got, want in zip(parallel, serial, strict=True):
        assert got.problem == want.problem
        pd.testing.assert_frame_equal(got.weekly, want.weekly)
        assert (got.trend is None) == (want.trend is None)
        if want.trend is not None:
            pd.testing.assert_frame_equal(got.trend.fitted, want.trend.fitted, check_exact=True)
        pd.testing.assert_frame_equal(
            got.change_points.segments, want.change_points.segments, check_exact=True
        )
    assert parallel[1].trend is None and "no trend" in parallel[1].problem


def test_the_assessment_on_two_cores_equals_the_serial_one(two_workers, monkeypatch):
    # rules, alert history and direction trends run together: the assessment must not notice
    from casualtystats import build_assessment, load_incidents, simulate_incidents

    sim = simulate_incidents(
        regions=["Anbar", "Basra", "Ninawa"],
        actors={"ISIS": 1.5},
        start="2013-01-07",
        end="2014-06-29",
        seed=5,
    )
    loaded = load_incidents(sim.incidents)
    last = loaded.incidents["date_start"].max()

    def assessed():
        return build_assessment(
            loaded, loaded.incidents, actor="ISIS", month=pd.Period(last, freq="M"), as_of=last
        )

    parallel = assessed()
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    serial = assessed()
    pd.testing.assert_frame_equal(parallel.flags, serial.flags, check_exact=True)
    assert parallel.flags.attrs.keys() == serial.flags.attrs.keys()
    assert [r.region for r in parallel.regions] == [r.region for r in serial.regions]
    assert list(parallel.trends) == list(serial.trends)
    for name, want in serial.trends.items():
        got = parallel.trends[name]
        if isinstance(want, str):
            assert got == want
        else:
            pd.testing.assert_frame_equal(got.fitted, want.fitted, check_exact=True)
    assert [r.growth for r in parallel.regions] == [r.growth for r in serial.regions]
    assert [(r.rules, r.since, r.previous_alert) for r in parallel.regions] == [
        (r.rules, r.since, r.previous_alert) for r in serial.regions
    ]
    assert [j.sentence for j in parallel.key_judgments] == [j.sentence for j in serial.key_judgments]
    assert parallel.caveats == serial.caveats


def test_started_series_give_the_serial_results_and_errors(two_workers):
    with start_series(_square_minus, [3, 1, 2], [1, 1, 1]) as pending:
        assert pending.result() == [8, 0, 3]
        assert pending.result() is pending.result()  # computed once
    with pytest.raises(ValueError, match="three"), start_series(_fail_on_three, [1, 2, 3, 4]) as failing:
        failing.result()


def test_started_series_run_serially_when_asked_for(monkeypatch):
    # one worker: nothing runs until the result is wanted (the caller's other work comes first)
    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 1)
    calls = []
    with start_series(lambda x: calls.append(x) or -x, [1, 2]) as pending:
        assert calls == []
        assert pending.result() == [-1, -2] and calls == [1, 2]
