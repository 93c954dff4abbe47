"""Multivariate series: several columns observed at the same times, one set of change points.

Small fast versions of benchmarks/multivariate.py (which holds the full grid)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.costs import Joint, NegBin, NormalMean, NormalTrend
from casualtystats.changepoints.detection.pelt import pelt
from casualtystats.errors import CasualtyStatsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import multivariate as sim  # noqa: E402


def shifted(rng: np.random.Generator, n: int = 200, d: int = 3, shift=3.0, at: int = 100) -> np.ndarray:
    """d Gaussian columns on scales 1, 10, 100, ..., each shifted by `shift` sds from `at`."""
    step = np.where(np.arange(n) >= at, 1.0, 0.0)[:, None] * np.broadcast_to(shift, (d,))
    return (rng.normal(0.0, 1.0, (n, d)) + step) * 10.0 ** np.arange(d)


def test_a_frame_and_an_array_are_segmented_jointly_and_alike():
    y = shifted(np.random.default_rng(1))
    weeks = pd.date_range("2020-01-05", periods=len(y), freq="W")
    frame = pd.DataFrame({"week": weeks, "a": y[:, 0], "b": y[:, 1], "c": y[:, 2]})
    from_frame, from_array = detect_change_points(frame), detect_change_points(y)
    assert from_frame.cost == from_array.cost == "joint"
    assert from_frame.locations == from_array.locations
    assert any(abs(c - 100) <= 2 for c in from_frame.locations)
    assert from_frame.columns == ("a", "b", "c") and from_array.columns == ("0", "1", "2")
    assert from_frame.labels.equals(pd.Index(weeks))
    assert from_frame.values.shape == y.shape


def test_only_named_columns_make_a_panel_slice():
    rng = np.random.default_rng(2)
    incidents = rng.poisson(np.r_[np.full(60, 3.0), np.full(60, 9.0)])
    deaths = rng.negative_binomial(np.maximum(incidents, 1), 0.3) * (incidents > 0)
    pair = np.column_stack([incidents, deaths]).astype(float)
    panel = detect_change_points(pd.DataFrame({"incidents": pair[:, 0], "fatalities_best": pair[:, 1]}))
    assert panel.cost == "freqsev_log" and panel.columns == ()
    # the same numbers without the names are two count series, each with its own count cost
    bare = detect_change_points(pair)
    assert bare.cost == "joint" and all(isinstance(c, NegBin) for c in bare.cost_model.columns)
    with pytest.raises(CasualtyStatsError, match="incidents and fatalities_best"):
        detect_change_points(pair, cost="freqsev")


def test_auto_gives_each_column_the_cost_its_own_series_would_get():
    rng = np.random.default_rng(3)
    counts = rng.poisson(4.0, 150).astype(float)
    level = np.round(1e6 + np.cumsum(rng.normal(0, 500, 150)))  # an integer level that moves smoothly
    real = rng.normal(0.0, 1.0, 150)
    cp = detect_change_points(np.column_stack([counts, level, real]))
    assert [c.name for c in cp.cost_model.columns] == ["negbin", "normal_trend", "normal_trend"]
    assert cp.cost_model.n_params == 2 + 3 + 3


def test_a_cost_of_one_series_is_used_for_every_column_and_a_joint_cost_as_given():
    y = shifted(np.random.default_rng(4), d=2)
    same = detect_change_points(y, cost="normal_mean")
    assert [c.name for c in same.cost_model.columns] == ["normal_mean", "normal_mean"]
    given = Joint([NormalMean(), NormalTrend()], names=["x", "y"])
    assert detect_change_points(y, cost=given).cost_model is given
    with pytest.raises(CasualtyStatsError, match="joint"):
        detect_change_points(shifted(np.random.default_rng(4), d=3), cost=given)


def test_a_shift_in_every_column_too_weak_in_each_is_found_jointly():
    # 0.5 sd in each of 5 columns (fixed-variance Gaussian costs): each alone gains about
    # 100 x 0.25 / 2 = 12 in -2 log-likelihood, below its penalty; together 5 times that
    rng = np.random.default_rng(5)
    joint, alone = [], []
    for _ in range(20):
        y = shifted(rng, d=5, shift=0.5)
        joint.append(any(abs(c - 100) <= 5 for c in detect_change_points(y, cost="normal_mean").locations))
        alone.append(
            np.mean(
                [
                    any(abs(c - 100) <= 5 for c in detect_change_points(col, cost="normal_mean").locations)
                    for col in y.T
                ]
            )
        )
    assert np.mean(joint) >= 0.8 and np.mean(alone) <= 0.4, (np.mean(joint), np.mean(alone))


def test_a_missing_value_in_one_column_makes_its_row_missing():
    y = shifted(np.random.default_rng(6), shift=2.0)
    gap = y.copy()
    gap[50, 1] = np.nan
    with_gap = detect_change_points(gap, cost="normal_mean")
    without = detect_change_points(np.delete(y, 50, axis=0), cost="normal_mean")
    assert 50 not in with_gap.observed_positions and with_gap.observed_positions.size == len(y) - 1
    assert with_gap.locations == [c + (c >= 50) for c in without.locations]


def test_each_column_is_tempered_by_its_own_dependence():
    rng = np.random.default_rng(7)
    dependent = np.zeros(300)
    for t in range(1, 300):
        dependent[t] = 0.8 * dependent[t - 1] + rng.normal()
    cp = detect_change_points(np.column_stack([dependent, rng.normal(0.0, 1.0, 300)]))
    assert cp.dependence[0] > 3.0 and cp.dependence[1] < 1.5, cp.dependence
    # without its factor the dependent column alone would be cut into pieces
    assert cp.n_changes <= 1


def test_an_outlying_row_is_set_aside_whole_not_cut_out_as_a_segment():
    y = shifted(np.random.default_rng(8), shift=0.0)
    y[80, 2] += 15 * 100.0  # 15 sds in column 2 (scale 100)
    cp = detect_change_points(y)
    assert 80 in cp.outliers and cp.n_changes == 0
    assert 80 not in cp.observed_positions


def test_results_are_given_per_column():
    y = shifted(np.random.default_rng(9), shift=3.0)
    frame = pd.DataFrame(y, columns=["pace", "distance", "climb"])
    cp = detect_change_points(frame)
    assert cp.n_changes >= 1
    seg = cp.segments
    assert {"pace", "pace_ci_low", "distance_ci_high", "climb"} <= set(seg.columns)
    ratios = cp.rate_ratios()
    assert len(ratios) == 3 * cp.n_changes and set(ratios["part"]) == {"pace", "distance", "climb"}
    pace = cp.column("pace")
    assert np.array_equal(pace.values, y[:, 0]) and pace.locations == cp.locations
    assert pace.dependence == (cp.dependence[0],)
    first = ratios[ratios["part"] == "pace"].drop(columns="part").reset_index(drop=True)
    assert first.equals(pace.rate_ratios()[first.columns])
    table = cp.to_frame()
    assert list(table.columns[:3]) == ["pace", "distance", "climb"] and table["change"].sum() == cp.n_changes
    assert "each column's level" in cp.summary()
    assert len(cp.location_intervals()) == cp.n_changes
    with pytest.raises(CasualtyStatsError, match="no column"):
        cp.column("speed")


@pytest.mark.parametrize(
    "values,kwargs",
    [
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "2", "3"]}), {}),
        (pd.DataFrame({"incidents": [1, 2, 3], "other": [1.0, 2.0, 3.0]}), {}),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0]}), {}),
        (pd.DataFrame({"date": pd.date_range("2020", periods=3), "a": [1.0, 2, 3], "b": [3.0, 2, 1]}), {}),
        (np.column_stack([np.arange(10.0), np.linspace(0, 1, 10)]), {"cost": "negbin"}),
        (np.column_stack([np.arange(10.0), np.full(10, np.inf)]), {}),
    ],
)
def test_bad_multivariate_input_is_a_user_error(values, kwargs):
    with pytest.raises(CasualtyStatsError):
        detect_change_points(values, **kwargs)


def test_an_error_in_one_column_names_the_column():
    with pytest.raises(CasualtyStatsError, match="column 'b' must be numbers or missing: not a number at 0"):
        detect_change_points(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "2", "3"]}))
    with pytest.raises(CasualtyStatsError, match="column 1 must be finite"):
        detect_change_points(np.column_stack([np.arange(4.0), [0.0, np.inf, 1.0, 2.0]]))


def test_dividing_a_columns_cost_by_its_factor_is_multiplying_the_penalty():
    # a constant second column adds n log(floor) whatever the segments: the joint optimum at penalty P
    # with the first column's cost divided by f is the univariate optimum at penalty f P
    rng = np.random.default_rng(12)
    for _ in range(20):
        y = shifted(rng, n=120, d=1, shift=rng.uniform(0.5, 2.0))[:, 0]
        factor, penalty = rng.uniform(1.0, 6.0), rng.uniform(2.0, 15.0)
        joint = Joint([NormalTrend(), NormalTrend()]).fit(np.column_stack([y, np.full(y.size, 2.0)]))
        joint.set_weights([factor, 1.0])
        alone = NormalTrend().fit(y)
        assert pelt(joint, penalty, 3)[0] == pelt(alone, factor * penalty, 3)[0]


@pytest.mark.parametrize("scenario", ["none", "none_ar"])
def test_no_change_gives_few_false_alarms(scenario):
    # fast version of benchmarks/multivariate.py: 3 columns on scales 1, 10, 0.1
    assert sim.run(scenario, reps=20, seed=1)["joint"][0] <= 0.1


def test_a_shift_in_all_columns_under_dependence_is_found():
    found, count = sim.run("mean_all_ar", reps=20, seed=1)["joint"]
    assert found >= 0.4 and count <= 1.5


column_kinds = hs.sampled_from(["real", "counts", "constant", "level", "sparse"])


def random_column(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """One column of a kind real multivariate series show: reals, counts, a constant, a large
    smooth integer level, counts that are mostly zero; some values missing."""
    y = {
        "real": lambda: (
            rng.normal(0.0, rng.choice([1e-3, 1.0, 1e4]), n) + np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
        ),
        "counts": lambda: rng.poisson(rng.choice([0.5, 5.0, 500.0]), n).astype(float),
        "constant": lambda: np.full(n, 3.0),
        "level": lambda: np.round(1e7 + np.cumsum(rng.normal(0, 1e3, n))),
        "sparse": lambda: (rng.random(n) < 0.05) * rng.integers(1, 50, n).astype(float),
    }[kind]()
    y[rng.random(n) < 0.05] = np.nan
    return y


@settings(max_examples=60, deadline=None)
@given(
    kinds=hs.lists(column_kinds, min_size=2, max_size=4), n=hs.integers(1, 80), seed=hs.integers(0, 2**32 - 1)
)
def test_any_multivariate_series_is_segmented_without_failing(kinds, n, seed):
    rng = np.random.default_rng(seed)
    y = np.column_stack([random_column(kind, rng, n) for kind in kinds])
    if np.isnan(y).any(axis=1).all():
        with pytest.raises(CasualtyStatsError, match="no observed value"):
            detect_change_points(y)
        return
    cp = detect_change_points(y)
    assert all(0 < c < n for c in cp.locations) and cp.locations == sorted(cp.locations)
    assert len(cp.dependence) == len(kinds) and len(cp.segments) == cp.n_changes + 1


def test_large_counts_in_count_columns_are_kept_not_set_aside():
    # sparse heavy-tailed weekly deaths (NB size 0.3, mean 3): a lone large week is what such counts
    # produce, and the Gaussian rule would set many aside; count columns are not judged by it
    rng = np.random.default_rng(10)
    deaths = rng.negative_binomial(0.3, 0.3 / 3.3, (300, 3)).astype(float)
    cp = detect_change_points(deaths)
    assert all(c.name == "negbin" for c in cp.cost_model.columns)
    assert cp.outliers == [] and cp.n_changes == 0


def test_the_order_and_the_units_of_the_columns_change_nothing():
    # the joint cost is a sum over columns, each in its own robust scale: permuting the columns or
    # rescaling one (by a power of 2, exact in floating point) gives the same change points and
    # sets the same rows aside
    rng = np.random.default_rng(13)
    aside = 0
    for _ in range(15):
        y = shifted(rng, n=150, d=3, shift=rng.uniform(0.0, 2.0, 3))
        y[int(rng.integers(20, 130)), 0] += 12.0  # an outlying row (column 0 has sd 1)
        order = rng.permutation(3)
        rescaled = y[:, order] * 2.0 ** rng.integers(-8, 9, 3)
        first, second = detect_change_points(y), detect_change_points(rescaled)
        assert first.locations == second.locations and first.outliers == second.outliers
        aside += bool(first.outliers)
        assert np.allclose(np.array(first.dependence)[order], second.dependence)
    assert aside >= 12  # the comparison covered the rows set aside
