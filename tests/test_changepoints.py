"""detect_change_points: agreement with ruptures, known answers, intervals (exactness: test_pelt_exact.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ruptures as rpt
from hypothesis import given, settings
from hypothesis import strategies as hs

from casualtystats.changepoints import AutoPenalty, ChangePoints, detect_change_points
from casualtystats.changepoints.detect import choose_cost
from casualtystats.errors import CasualtyStatsError


def ruptures_l2(y, pen, min_size):
    return rpt.Pelt(model="l2", min_size=min_size, jump=1).fit(y).predict(pen=pen)[:-1]


def l2_objective(y, cuts, pen):
    """Penalised l2 objective of a partition, in ruptures' arithmetic (var() x length per segment)."""
    bounds = [0, *cuts, len(y)]
    return sum(y[a:b].var() * (b - a) + pen for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def compare_with_ruptures(y, pen, min_size) -> str:
    """'same' where ruptures' answer is optimal (then the change points must be identical, or
    an exact tie of the objective that rounding broke the other way: [0, -1, 3, 4, 0, -2, 4]
    with min_size 3 costs 35.667 cut at 3 or at 4), 'better' where ruptures pruned away the
    optimum (then ours must be strictly better)."""
    ours = detect_change_points(y, cost="l2", penalty=pen, min_size=min_size).locations
    theirs = ruptures_l2(y, pen, min_size)
    ours_obj, theirs_obj = l2_objective(y, ours, pen), l2_objective(y, theirs, pen)
    tolerance = 1e-9 * (abs(ours_obj) + pen)
    if theirs_obj <= ours_obj + tolerance:
        assert ours == theirs or abs(ours_obj - theirs_obj) <= tolerance, (ours, theirs)
        return "same"
    assert ours_obj < theirs_obj
    return "better"


def random_series(rng, kind, n):
    if kind == "noise":  # no change
        return rng.normal(size=n)
    if kind == "shifts":
        return np.repeat(rng.normal(scale=3, size=6), n // 6 + 1)[:n] + rng.normal(size=n)
    if kind == "counts":  # integer data: exact ties happen and must break as in ruptures
        return rng.poisson(3, size=n).astype(float)
    return 1e4 + np.repeat(rng.integers(0, 4, size=4), n // 4 + 1)[:n] + rng.normal(scale=0.3, size=n)


def test_l2_identical_to_ruptures_wherever_ruptures_is_optimal():
    # ruptures prunes a start as soon as it is dominated, which loses the optimum for
    # some series when min_size >= 2; ours keeps it min_size steps longer
    rng = np.random.default_rng(20240601)
    outcomes = []
    for case in range(240):
        kind = ("noise", "shifts", "counts", "offset")[case % 4]
        n = int(rng.integers(5, 90))
        min_size = int(rng.integers(1, 7))
        pen = float(rng.choice([0.5, 2.0, 5.0, 20.0, 100.0]))
        y = random_series(rng, kind, n)
        if n < min_size:
            continue
        outcomes.append(compare_with_ruptures(y, pen, min_size))
        if min_size == 1:
            assert outcomes[-1] == "same", case  # with min_size 1 ruptures' pruning is exact
    assert outcomes.count("same") > 150 and outcomes.count("better") >= 1


@settings(max_examples=60, deadline=None)
@given(
    y=hs.lists(hs.integers(-5, 5), min_size=4, max_size=40).map(lambda v: np.array(v, dtype=float)),
    min_size=hs.integers(1, 4),
    pen=hs.sampled_from([0.1, 1.0, 3.0, 10.0]),
)
def test_l2_identical_to_ruptures_property(y, min_size, pen):
    compare_with_ruptures(y, pen, min_size)


def test_no_change_series_gives_no_change_points_for_every_cost():
    rng = np.random.default_rng(1)
    counts = rng.poisson(6, size=300)
    assert detect_change_points(np.full(200, 7)).locations == []
    for cost in ("poisson", "negbin", "normal_mean", "normal_meanvar", "normal_trend", "l2"):
        assert detect_change_points(counts, cost=cost, penalty="mbic").locations == [], cost
        assert detect_change_points(np.full(120, 3.0), cost=cost, penalty="bic").locations == [], cost


def test_poisson_doubling_found_within_two_weeks_at_default_penalty():
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(20):
        y = np.r_[rng.poisson(5, 80), rng.poisson(10, 60)]
        cp = detect_change_points(y)
        assert cp.cost == "negbin"  # a dispersion per segment; Poisson is its limit
        hits += len(cp.locations) == 1 and abs(cp.locations[0] - 80) <= 2
    assert hits >= 18


@pytest.mark.parametrize("cost", ["normal_mean", "normal_meanvar", "normal_trend", "l2"])
def test_gaussian_mean_shift_found(cost):
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(0, 1, 100), rng.normal(3, 1, 100)]
    assert detect_change_points(y, cost=cost, penalty="mbic").locations in ([99], [100], [101])


def test_variance_change_found_by_meanvar():
    rng = np.random.default_rng(4)
    y = np.r_[rng.normal(0, 1, 150), rng.normal(0, 4, 150)]
    (loc,) = detect_change_points(y, cost="normal_meanvar").locations
    assert abs(loc - 150) <= 5


def test_trend_break_is_one_change_not_a_staircase():
    rng = np.random.default_rng(5)
    t = np.arange(200.0)
    y = np.where(t < 120, 0.5 * t, 60 - 0.8 * (t - 120)) + rng.normal(0, 1, 200)
    (loc,) = detect_change_points(y).locations
    assert abs(loc - 120) <= 3


@pytest.mark.parametrize("cost,size", [("poisson", None), ("negbin", 4.0)])
def test_segment_intervals_cover_true_rate_at_nominal_level(cost, size):
    rng = np.random.default_rng(11)
    rates = (4.0, 12.0)
    covered = total = 0
    for _ in range(150):
        lam = np.repeat(rates, 60)
        y = rng.poisson(lam) if size is None else rng.negative_binomial(size, size / (size + lam))
        seg = detect_change_points(y, cost=cost).segments
        for _, row in seg.iterrows():
            true = rates[0] if row["end"] <= 60 else rates[1] if row["start"] >= 60 else None
            if true is not None:
                covered += row["ci_low"] <= true <= row["ci_high"]
                total += 1
    assert total > 200
    assert 0.90 <= covered / total <= 0.99


def test_poisson_rate_ratio_exact_interval_covers_true_ratio():
    rng = np.random.default_rng(12)
    inside = 0
    for _ in range(200):
        y = np.r_[rng.poisson(3, 50), rng.poisson(9, 30)]
        rr = detect_change_points(y, cost="poisson").rate_ratios(method="naive")  # the exact interval itself
        assert list(rr.columns[:7]) == ["location", "label", "before", "after", "ratio", "ci_low", "ci_high"]
        if len(rr) == 1 and rr.loc[0, "location"] == 50:
            inside += rr.loc[0, "ci_low"] <= 3.0 <= rr.loc[0, "ci_high"]
        else:
            inside += 1  # misplaced segments are not an interval failure; counted as covered
    assert inside >= 180


def test_negbin_ratio_interval_wider_than_poisson_for_overdispersed_counts():
    rng = np.random.default_rng(13)
    lam = np.repeat([5.0, 20.0], 70)
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + lam))
    nb = detect_change_points(y, cost="negbin").rate_ratios()
    po = detect_change_points(y, cost="poisson", penalty=1e9).segments  # one segment, for the API only
    assert len(po) == 1
    assert len(nb) >= 1
    row = nb.iloc[0]
    assert row["ci_low"] < row["ratio"] < row["ci_high"]


def test_isolated_mass_casualty_weeks_are_not_change_points():
    # A quiet governorate: no deaths in most weeks, then now and then one attack
    # killing several. The rate is the same throughout, so no change.
    rng = np.random.default_rng(7)
    hits = []
    for seed in range(10):
        weeks = np.zeros(670, dtype=int)
        attacks = rng.random(670) < 0.02
        weeks[attacks] = np.ceil(rng.lognormal(1.0, 0.8, attacks.sum())).astype(int)
        cp = detect_change_points(weeks)
        assert cp.cost == "negbin", seed
        hits.append(len(cp.locations))
    assert sum(h > 0 for h in hits) <= 1, hits


def test_missing_values_are_skipped_and_positions_kept():
    rng = np.random.default_rng(6)
    y = np.r_[rng.poisson(3, 60), rng.poisson(15, 60)].astype(float)
    y[[5, 58, 59, 61, 90]] = np.nan
    labels = pd.date_range("2015-01-05", periods=y.size, freq="W-MON")
    cp = detect_change_points(pd.Series(y, index=labels))
    assert isinstance(cp, ChangePoints)
    assert cp.locations == [60]
    seg = cp.segments
    assert seg["start"].tolist() == [0, 60] and seg["end"].tolist() == [60, 120]
    assert seg["n"].tolist() == [57, 58]
    assert seg.loc[1, "start_label"] == labels[60]
    frame = cp.to_frame()
    assert frame.index.equals(labels) and frame["change"].sum() == 1
    assert "rate ratios" in cp.summary()


def test_cost_auto_rule():
    rng = np.random.default_rng(8)
    assert choose_cost(rng.poisson(4, 200).astype(float)) == "negbin"
    assert choose_cost(rng.negative_binomial(1, 0.05, 200).astype(float)) == "negbin"
    assert choose_cost(rng.normal(size=50)) == "normal_trend"
    assert choose_cost(np.arange(100_000.0, 100_100.0)) == "normal_trend"  # large integer quantities


def test_results_expose_penalty_cost_and_trace():
    y = np.r_[np.zeros(30), np.full(30, 5.0)] + np.random.default_rng(9).normal(0, 1, 60)
    cp = detect_change_points(y, cost="normal_mean", penalty=10.0)
    assert cp.penalty == 10.0 and cp.cost == "normal_mean"
    assert cp.cost_trace.shape == (61,) and cp.cost_trace[0] == 0.0
    assert np.isfinite(cp.cost_trace[-1])


def test_auto_penalty_is_mbic_plus_dependence_rounds():
    rng = np.random.default_rng(10)
    # AR(1) noise around a level shift and a slope change: the rounds matter here
    noise = np.zeros(240)
    for t in range(1, 240):
        noise[t] = 0.7 * noise[t - 1] + rng.normal()
    y = np.r_[np.zeros(100), np.full(80, 4.0), 4.0 + 0.1 * np.arange(60)] + noise
    default = detect_change_points(y)
    explicit = detect_change_points(y, penalty=AutoPenalty(change_weight=1, length_weight=1, rounds=2))
    assert explicit.locations == default.locations and explicit.penalty == default.penalty
    no_rounds = detect_change_points(y, penalty=AutoPenalty(rounds=0, abrupt_only=False))
    mbic = detect_change_points(y, penalty="mbic")
    assert no_rounds.locations == mbic.locations and no_rounds.penalty == mbic.penalty
    assert default.penalty_used.factor > 1.0 and default.penalty > mbic.penalty


def test_auto_keeps_jumps_and_kinks_but_not_smooth_bends():
    rng = np.random.default_rng(11)
    t = np.arange(300.0)
    bend = 50 * (t / 300) ** 2 + rng.normal(0, 0.5, 300)  # smooth curvature, no change
    split = detect_change_points(bend, penalty=AutoPenalty(abrupt_only=False))
    assert split.locations  # straight pieces approximate the curve...
    assert detect_change_points(bend).locations == []  # ...and a cubic explains it as well
    jump = np.r_[np.zeros(150), np.full(150, 3.0)] + rng.normal(0, 0.5, 300)
    assert [abs(c - 150) <= 2 for c in detect_change_points(jump).locations] == [True]
    kink = np.where(t < 150, 0.0, 0.3 * (t - 150)) + rng.normal(0, 0.5, 300)
    assert [abs(c - 150) <= 10 for c in detect_change_points(kink).locations] == [True]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cost": "nope"},
        {"penalty": True},
        {"penalty": -1},
        {"penalty": "aic"},
        {"method": "binseg"},
        {"min_size": 0},
        {"cost": "poisson"},
    ],
)
def test_bad_arguments_raise_a_user_error(kwargs):
    with pytest.raises(CasualtyStatsError):
        detect_change_points(np.linspace(0.5, 3, 20), **kwargs)


def test_input_of_more_than_two_dimensions_or_one_column_rejected():
    # a 2-D array of two or more columns is a multivariate series (tests/test_changepoints_multivariate.py)
    with pytest.raises(CasualtyStatsError, match="one- or two-dimensional"):
        detect_change_points(np.zeros((5, 2, 2)))
    with pytest.raises(CasualtyStatsError, match="at least 2 columns"):
        detect_change_points(np.zeros((5, 1)))


def test_a_series_without_any_observed_value_is_a_user_error():
    with pytest.raises(CasualtyStatsError, match="no observed value"):
        detect_change_points(np.full(30, np.nan))
    with pytest.raises(CasualtyStatsError, match="infinite at 0, 1, 2 and 7 more"):
        detect_change_points(np.full(10, np.inf))


def test_step_like_series_with_long_runs_of_identical_values_give_few_change_points():
    # A price that moves in ticks of 0.25 on one day in twenty (a sticky random walk) and a
    # count rounded from gentle noise: long runs of identical values, no change in the process.
    # A per-segment variance without a floor would make every run its own segment.
    rng = np.random.default_rng(21)
    n = 600
    walk = 5 + 0.25 * np.cumsum(np.where(rng.random(n) < 0.05, rng.choice([-1, 1], n), 0))
    assert (np.diff(walk) != 0).sum() > 20
    assert len(detect_change_points(walk).locations) <= 2
    # mostly zeros with scattered +-1: before the resolution floor, 12 (mean) and 44 (meanvar) changes
    rounded = np.round(rng.normal(0, 0.3, n))
    for cost in ("normal_mean", "normal_meanvar", "normal_trend", "l2"):
        assert len(detect_change_points(rounded, cost=cost, penalty="mbic").locations) <= 2, cost


def test_gaussian_variance_floors_are_the_resolution_or_the_noise_never_zero():
    from casualtystats.changepoints.costs import COSTS
    from casualtystats.changepoints.costs.base import resolution, robust_noise_sd

    runs = np.repeat([3.0, 3.5, 3.0, 4.0], 50)  # differences almost all zero: the MAD is 0
    assert resolution(runs) == 0.5
    assert robust_noise_sd(runs) >= 0.5 / np.sqrt(12)
    assert COSTS["normal_meanvar"]().fit(runs).floor >= 0.5**2 / 12
    assert COSTS["normal_trend"]().fit(runs).sigma >= 0.5 / np.sqrt(12)
    assert COSTS["normal_mean"]().fit(np.full(10, 2.0)).sigma > 0  # constant: any positive scale


@pytest.mark.shared
def test_tcpd_default_never_finds_more_than_twice_the_most_generous_annotator(tcpd_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from tcpd import EXCLUDED_FROM_MEANS, score

    ours = score(tcpd_path)
    assert {n: r["n_cp"] for n, r in ours.items() if r["n_cp"] > 2 * r["max_annotated"]} == {}
    names = [n for n in ours if n not in EXCLUDED_FROM_MEANS]
    assert np.mean([ours[n]["f1"] for n in names]) >= 0.80


def test_conf_int_gives_each_segments_level_with_its_interval():
    rng = np.random.default_rng(5)
    cp = detect_change_points(np.r_[rng.poisson(3, 150), rng.poisson(9, 150)])
    table = cp.conf_int()
    assert list(table.columns) == ["start_label", "end_label", "estimate", "lower", "upper"]
    assert table[["estimate", "lower", "upper"]].equals(
        cp.segments[["estimate", "ci_low", "ci_high"]].set_axis(["estimate", "lower", "upper"], axis=1)
    )
    wider = cp.conf_int(0.01)
    assert (wider["lower"] <= table["lower"]).all() and (wider["upper"] >= table["upper"]).all()
    with pytest.raises(CasualtyStatsError, match="alpha"):
        cp.conf_int(2)
