"""A seasonal cycle shared by all segments of a count series (changepoints.season).

Fast versions of benchmarks/changepoint_sim.py's seasonal rows: a fighting
season alone is not a change, a doubling inside one still is, a series
without a season is segmented exactly as with season=None, a step is not
taken by a season that mimics it, and PELT stays exact with the seasonal
exposures.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from test_pelt_exact import check_exact, cost_matrix

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.costs import FrequencyLogSeverity, NegBin
from casualtystats.changepoints.detection.pelt import pelt
from casualtystats.changepoints.errors import ChangePointError
from casualtystats.changepoints.season import (
    Season,
    penalised_cost,
    period_from_labels,
    periodogram_period,
    segment_index,
)

WEEKS = pd.date_range("2015-01-05", periods=260, freq="7D")
YEAR = 365.25 / 7


def seasonal_counts(rng, mean=10.0, amplitude=1.0, doubling_at=None, n=260, size=10.0):
    t = np.arange(n)
    lam = mean * np.exp(amplitude * np.sin(2 * np.pi * t / YEAR))
    if doubling_at is not None:
        lam = lam * np.where(t < doubling_at, 1.0, 2.0)
    return rng.negative_binomial(size, size / (size + lam)).astype(float)


def test_a_season_alone_is_not_a_change_and_is_reported():
    rng = np.random.default_rng(3)
    changes = []
    for _ in range(4):
        cp = detect_change_points(pd.Series(seasonal_counts(rng), index=WEEKS))
        changes.append(cp.n_changes)
        assert cp.season is not None and cp.season.source == "index"
        assert cp.season.period == pytest.approx(YEAR)
        assert 4.0 < cp.season.amplitude < 14.0  # truth: e^2 = 7.4
    assert sum(changes) == 0, changes  # without the season: ~9.6 changes a series
    assert "season (shared by all segments): period(s) 52.18 (index)" in cp.summary()


def test_a_doubling_within_a_season_is_found_once():
    rng = np.random.default_rng(4)
    for _ in range(3):
        cp = detect_change_points(pd.Series(seasonal_counts(rng, mean=3.0, doubling_at=156), index=WEEKS))
        assert len(cp.locations) == 1 and abs(cp.locations[0] - 156) <= 8, cp.locations
        ratio = cp.segments["estimate"].iloc[1] / cp.segments["estimate"].iloc[0]
        assert 1.4 < ratio < 2.9  # de-seasonalised levels: the truth is 2
        judged = cp.rate_ratios().iloc[0]  # on the same de-seasonalised levels
        assert judged["ratio"] == pytest.approx(ratio, rel=0.05)
        assert judged["ci_low"] < 2.0 < judged["ci_high"] and judged["p_value"] < 0.05


def test_a_plain_array_finds_its_period_in_the_periodogram():
    cp = detect_change_points(seasonal_counts(np.random.default_rng(5)))
    assert cp.n_changes == 0
    assert cp.season.source == "periodogram" and abs(cp.season.period - YEAR) < 1.0


def test_a_wandering_rate_is_not_a_season_but_a_measles_like_cycle_is():
    # A latent AR(1) log-rate (phi 0.8, sd 0.3) at a large count raises the low frequencies
    # smoothly; its largest periodogram ordinate passes Fisher's g test against white noise
    # in most such series. A season is a line above its neighbours.
    rng = np.random.default_rng(8)
    n, wandering = 260, 0
    for _ in range(20):
        z = np.zeros(n)
        for t in range(1, n):
            z[t] = 0.8 * z[t - 1] + rng.normal(0, 0.3 * math.sqrt(1 - 0.8**2))
        y = rng.poisson(1300 * np.exp(z)).astype(float)
        wandering += periodogram_period(y, np.arange(n), n) is not None
    assert wandering <= 2  # with the g test alone: 19 of these 20
    # epidemic peaks (far from a sinusoid: harmonics and a biennial line) and a step
    t = np.arange(1000)
    lam = 120 * np.exp(1.6 * np.cos(2 * np.pi * t / YEAR) + 0.4 * np.cos(np.pi * t / YEAR))
    lam[700:] *= 0.3
    y = rng.negative_binomial(5, 5 / (5 + lam)).astype(float)
    assert abs(periodogram_period(y, t, 1000) - YEAR) < 0.5
    assert detect_change_points(y).n_changes == 1


def test_a_panel_slice_gets_the_season_on_its_incidents():
    rng = np.random.default_rng(6)
    incidents = seasonal_counts(rng, doubling_at=156)
    deaths = np.array([np.round(rng.lognormal(1.3, 1.2, int(k))).sum() for k in incidents])
    frame = pd.DataFrame({"week": WEEKS, "incidents": incidents, "fatalities_best": deaths})
    cp = detect_change_points(frame)
    assert cp.season is not None and cp.season.period == pytest.approx(YEAR)
    assert [abs(c - 156) <= 8 for c in cp.locations] == [True], cp.part_locations


def test_no_season_leaves_the_segmentation_as_it_was():
    rng = np.random.default_rng(7)
    for mean in (1.0, 3.0, 10.0):
        y = pd.Series(seasonal_counts(rng, mean=mean, amplitude=0.0, doubling_at=130), index=WEEKS)
        cp = detect_change_points(y)
        assert cp.season is None
        assert cp.locations == detect_change_points(y, season=None).locations


def test_a_step_the_season_can_mimic_stays_a_step():
    # No season, a x4 rise at week 140 of 165 (mean 2 a week, NB size 1). An annual cycle
    # rising into the last weeks mimics the step: estimated given no change it passes its test,
    # then absorbs the step and passes again given the segments it shaped (p = 0.003), and no
    # change was found. Judged against the seasonless segments by the same penalised cost, the
    # season loses and the step stays.
    n, onset = 165, 140
    rng = np.random.default_rng(1)
    lam = np.where(np.arange(n) < onset, 2.0, 8.0)
    y = pd.Series(rng.negative_binomial(1.0, 1.0 / (1.0 + lam)).astype(float), index=WEEKS[:n])
    cp = detect_change_points(y)
    assert cp.season is None
    assert cp.locations == detect_change_points(y, season=None).locations
    assert [abs(c - onset) <= 8 for c in cp.locations] == [True], cp.locations
    assert cp.rate_ratios().iloc[0]["ci_low"] > 1.0


@settings(max_examples=40, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    size=hs.sampled_from([0.5, 3.0, math.inf]),
    factor=hs.floats(1.0, 6.0),
    seasonal=hs.booleans(),
)
def test_the_criterion_is_the_cost_pelt_minimises(seed, size, factor, seasonal):
    """penalised_cost (how seasonal_counts judges a seasonless and a seasonal model) prices
    PELT's optimum at exactly PELT's objective, season exposures and long-run factor included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 60))
    y = rng.negative_binomial(2, 0.3, n).astype(float)
    season = Season((12.0,), (0.6, -0.4), "given") if seasonal else None
    model = NegBin(size=size).with_season(season)
    model.fit(y, times=np.arange(n))
    model.set_weights([factor])
    change, length_weight = float(rng.uniform(1.0, 20.0)), float(rng.uniform(0.0, 2.0))
    cuts, trace = pelt(model, change, 2, length_weight)
    segment = segment_index(list(zip([0, *cuts], [*cuts, n], strict=True)), n)
    value = penalised_cost(y, model.units, segment, size, factor, change, length_weight)
    assert value == pytest.approx(trace[-1], rel=1e-9, abs=1e-7)


def test_season_argument_is_checked():
    with pytest.raises(ChangePointError, match="season must be"):
        detect_change_points(np.arange(200) % 7, season="yearly")


@pytest.mark.parametrize(
    ("freq", "period"),
    [("7D", YEAR), ("W-MON", YEAR), ("MS", 12.0), ("ME", 12.0), ("QS", 4.0), ("D", 365.25)],
)
def test_period_from_dates(freq, period):
    assert period_from_labels(pd.date_range("2010-01-01", periods=40, freq=freq)) == pytest.approx(period)


def test_no_period_without_dates():
    assert period_from_labels(pd.RangeIndex(100)) is None
    assert period_from_labels(pd.date_range("2000-01-01", periods=10, freq="YS")) is None


@settings(max_examples=60, deadline=None)
@given(
    period=hs.floats(3.0, 60.0),
    coefficients=hs.lists(hs.floats(-2.0, 2.0), min_size=2, max_size=4).filter(lambda c: len(c) % 2 == 0),
)
def test_season_factors_are_positive_with_long_run_mean_one(period, coefficients):
    periods = (period, period / 2)[: len(coefficients) // 2]
    season = Season(periods, tuple(coefficients), "given")
    t = np.arange(0, 200 * period, 0.25)
    s = season.factors(t)
    assert np.all(s > 0)
    assert np.mean(s) == pytest.approx(1.0, rel=0.02)
    assert season.amplitude >= 1.0


@pytest.mark.parametrize("cost", [NegBin, FrequencyLogSeverity])
def test_pelt_stays_exact_with_a_season(cost):
    """The season enters as exposures: segment costs stay additive minima, pruning stays exact."""
    rng = np.random.default_rng(8)
    season = Season((12.0, 6.0), (0.8, -0.3, 0.2, 0.1), "given")
    for _ in range(60):
        n = int(rng.integers(8, 24))
        model = cost().with_season(season)
        data = (
            cost.random_input(rng, n) if hasattr(cost, "random_input") else rng.poisson(3.0, n).astype(float)
        )
        model.fit(data, times=np.arange(n) + int(rng.integers(0, 12)))
        c = cost_matrix(model)
        penalty = float(np.exp(rng.uniform(math.log(0.2), math.log(40.0))))
        for min_size in (1, 2, 3):
            assert check_exact(model, penalty, 1.0, min_size, c)
