"""Count change points: robust dispersion, dependence, excursions, frequency-severity input.

Small fast versions of benchmarks/changepoint_sim.py (which holds the full grid)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.costs import COSTS, FrequencyLogSeverity, FrequencySeverity, NegBin
from casualtystats.changepoints.costs.freqsev_log import log_severity_variance
from casualtystats.changepoints.detect import merge_cuts
from casualtystats.changepoints.penalties import count_dependence, long_run_factor
from casualtystats.errors import CasualtyStatsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import changepoint_sim as sim  # noqa: E402


def test_one_aggregated_report_no_longer_wrecks_the_count_model():
    # the audit's case: NB(size 3.5) weekly deaths doubling at week 156, plus one week of 3,000
    rng = np.random.default_rng(101)
    old_hits = new_hits = 0
    sizes = []
    for _ in range(12):
        mu = np.where(np.arange(sim.N_WEEKS) < sim.CHANGE_AT, 10.0, 20.0)
        y = rng.negative_binomial(3.5, 3.5 / (3.5 + mu)).astype(float)
        week = int(rng.integers(5, sim.N_WEEKS - 5))
        y[week] += sim.AGGREGATED_DEATHS
        cp = detect_change_points(y)
        assert week in cp.outliers
        sizes.append(cp.cost_model.size)
        new_hits += sim.found(cp.locations, True)
        old_hits += sim.found(sim.old_default(y), True)
    assert sim.local_dispersion(y)[1] < 0.1  # the old moment estimate is wrecked...
    assert 2.0 <= np.median(sizes) <= 6.0  # ...the new one is not
    assert old_hits <= 2 and new_hits >= 9


def test_aggregated_week_alone_gives_no_change_and_is_listed():
    rng = np.random.default_rng(102)
    for rate in (1.0, 10.0):
        frame = sim.simulate(rng, rate, aggregated=True)
        week = int(np.argmax(frame["fatalities_best"].to_numpy()))
        for values in (frame, frame["fatalities_best"]):
            cp = detect_change_points(values)
            assert cp.locations == [] and cp.outliers == [week]
            assert cp.to_frame()["outlier"].sum() == 1


def test_latent_ar_counts_get_the_long_run_factor_and_no_spurious_changes():
    rng = np.random.default_rng(103)
    factors, spurious = [], 0
    for _ in range(12):
        incidents = sim.simulate(rng, 10.0, phi=0.8)["incidents"]
        cp = detect_change_points(incidents)
        factors.append(cp.dependence[0])
        spurious += cp.n_changes > 0
    truth = sim.true_factor(10.0, 0.8)  # 6.9: the old lag-1 AR(1) factor gave about 2-4
    assert 0.6 * truth <= np.median(factors) <= 1.4 * truth
    assert spurious <= 2


def test_long_run_factor_is_one_for_independent_noise_and_ar1_for_ar1():
    rng = np.random.default_rng(104)
    assert long_run_factor(rng.normal(size=400)) == 1.0
    x = np.zeros(4000)
    for t in range(1, x.size):
        x[t] = 0.6 * x[t - 1] + rng.normal()
    assert abs(long_run_factor(x / x.std()) - 4.0) < 1.0  # (1 + 0.6) / (1 - 0.6)


def test_casualty_frame_uses_frequency_severity_and_reports_both_factors():
    rng = np.random.default_rng(105)
    frame = sim.simulate(rng, 3.0, sev=3.0)
    cp = detect_change_points(frame)
    assert cp.cost == "freqsev_log" and len(cp.locations) == 1
    assert abs(cp.locations[0] - sim.CHANGE_AT) <= sim.TOLERANCE
    seg = cp.segments
    for col in (
        "incident_rate",
        "deaths_per_incident",
        "incident_ci_low",
        "severity_ci_high",
        "median_ci_low",
    ):
        assert col in seg.columns
    # a severity change: the incident rate stays, deaths per incident triple
    assert seg.loc[0, "incident_ci_low"] <= 3.0 <= seg.loc[0, "incident_ci_high"]
    ratio = seg.loc[1, "deaths_per_incident"] / seg.loc[0, "deaths_per_incident"]
    assert 1.8 < ratio < 5
    assert (seg["ci_low"] < seg["estimate"]).all() and (seg["estimate"] < seg["ci_high"]).all()
    rr = cp.rate_ratios()
    assert {"ratio", "ci_low", "ci_high"} <= set(rr.columns) and rr.loc[0, "ratio"] > 1.5
    assert "freqsev_log" in cp.summary()
    # a panel slice with a week column works too, and a Series of counts as before
    assert detect_change_points(frame.rename_axis("week").reset_index()).locations == cp.locations
    assert detect_change_points(frame["fatalities_best"]).cost == "negbin"


def test_frequency_doubling_found_at_three_incidents_a_week():
    rng = np.random.default_rng(106)
    hits = sum(
        sim.found(detect_change_points(sim.simulate(rng, 3.0, freq=2.0)).locations, True) for _ in range(10)
    )
    assert hits >= 8


def test_incidents_and_deaths_per_incident_change_on_their_own_dates():
    # incidents fall to a third at week 140, deaths per incident triple at week 156 (5 incidents a
    # week): one joint change is pulled between the two dates (the old default found both within
    # 4 weeks in 2 of 12 such series); each part's own changes find both
    rng = np.random.default_rng(107)
    hits = 0
    for _ in range(8):
        frame = sim.simulate(rng, 5.0, freq=1 / 3, change_at=140)
        frame.iloc[156:, 1] *= 3
        cp = detect_change_points(frame)
        hits += all(any(abs(c - t) <= 4 for c in cp.locations) for t in (140, 156))
        assert cp.n_changes <= 3
    assert hits >= 6


@given(
    parts=hs.lists(hs.lists(hs.integers(2, 60), max_size=8), min_size=1, max_size=3),
    min_size=hs.integers(1, 5),
)
def test_merged_changes_keep_the_minimum_length_and_lose_none_by_more(parts, min_size):
    merged = merge_cuts([sorted(set(p)) for p in parts], min_size)
    every = set().union(*parts)
    assert set(merged) <= every and merged == sorted(merged)
    assert all(b - a >= min_size for a, b in zip([0, *merged], merged, strict=False))
    assert all(any(0 <= c - m < min_size for m in merged) for c in every if c >= min_size)


@pytest.mark.parametrize(
    "frame,kwargs",
    [
        (pd.DataFrame({"incidents": [1, 2, 3]}), {}),
        (pd.DataFrame({"incidents": [0, 2, 3], "fatalities_best": [4, 1, 1]}), {}),
        (pd.DataFrame({"incidents": [1, 2, -3], "fatalities_best": [4, 1, 1]}), {}),
        (pd.DataFrame({"incidents": [1, 2], "fatalities_best": [4, 1]}, index=[0, 0]), {}),
        (pd.DataFrame({"incidents": [1, 2, 3], "fatalities_best": [4, 1, 1]}), {"cost": "poisson"}),
    ],
)
def test_bad_casualty_frames_raise_a_user_error(frame, kwargs):
    with pytest.raises(CasualtyStatsError):
        detect_change_points(frame, **kwargs)


def test_freqsev_needs_a_frame():
    with pytest.raises(CasualtyStatsError):
        detect_change_points(np.arange(10.0), cost="freqsev")


def brute_force(model, n, pen, min_size):
    """O(n^2) optimal partitioning with the same cost and penalty."""
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    for s in range(min_size, n + 1):
        for t in range(0, s - min_size + 1):
            if t == 0 or t >= min_size:
                best[s] = min(best[s], best[t] + model.error(t, s) + pen)
    return best[n]


@settings(max_examples=40, deadline=None)
@given(
    incidents=hs.lists(hs.integers(0, 6), min_size=4, max_size=24),
    severity=hs.lists(hs.integers(0, 40), min_size=24, max_size=24),
    min_size=hs.integers(1, 4),
    pen=hs.sampled_from([1.0, 5.0, 15.0]),
)
def test_count_costs_pelt_matches_brute_force(incidents, severity, min_size, pen):
    from casualtystats.changepoints.detection.pelt import pelt

    n = len(incidents)
    if n < min_size:
        return
    counts = np.array(incidents, dtype=float)
    deaths = np.where(counts > 0, np.array(severity[:n], dtype=float), 0.0)
    frame = np.c_[counts, deaths]
    for model, data in ((NegBin(), deaths), (FrequencySeverity(), frame), (FrequencyLogSeverity(), frame)):
        model.fit(data)
        model.set_weights(np.ones(model.parts))
        cuts, trace = pelt(model, pen, min_size)
        assert trace[n] == pytest.approx(brute_force(model, n, pen, min_size), rel=1e-9, abs=1e-9)


def test_new_cost_is_registered():
    assert COSTS["freqsev"] is FrequencySeverity and COSTS["negbin"] is NegBin
    assert COSTS["freqsev_log"] is FrequencyLogSeverity


def test_log_severity_variance_is_recovered_and_robust():
    rng = np.random.default_rng(108)
    incidents = rng.integers(1, 12, 400)
    exact = np.array([rng.lognormal(1.3, 1.2, k).sum() for k in incidents])  # no rounding
    estimate = log_severity_variance(incidents.astype(float), exact)
    assert 1.44 * 0.8 <= estimate <= 1.44 * 1.25
    # one aggregated week and a doubling of every incident's deaths barely move it
    spoilt = exact.copy()
    spoilt[200:] *= 2
    spoilt[50] += 3000
    assert abs(log_severity_variance(incidents.astype(float), spoilt) - estimate) < 0.1 * estimate


def test_log_severity_mean_does_not_move_with_the_incident_rate():
    # Fenton-Wilkinson's mean correction: weeks of 1 and of 10 incidents estimate the same mu
    rng = np.random.default_rng(109)
    incidents = np.r_[np.ones(300), np.full(300, 10.0)]
    deaths = np.array([rng.lognormal(1.3, 1.2, int(k)).sum() for k in incidents])
    model = FrequencyLogSeverity().fit(np.c_[incidents, np.round(deaths)])
    few, many = model.log_severity_mean(0, 300)[0], model.log_severity_mean(300, 600)[0]
    assert abs(few - many) < 0.25  # a doubling is log 2 = 0.69
    assert model.detail(0, 600)["median_deaths_per_incident"] == pytest.approx(np.exp(1.3), rel=0.25)


def test_count_dependence_can_leave_the_residual_variance_out():
    rng = np.random.default_rng(110)
    wide = 2.0 * rng.normal(size=(300, 2))
    # the variance of residuals clipped at 3: E min(4 Z^2, 9) = 3.11
    assert count_dependence(wide)[0] == pytest.approx(3.11, rel=0.1)
    assert list(count_dependence(wide, [True, False])[1:]) == [1.0]


def test_severity_doubling_is_found_more_often_with_the_log_part():
    # the grid's "sev x2" cell at 3 incidents a week (benchmarks/changepoint_sim.py): every
    # incident's deaths double; the mean deaths per incident follows the largest incidents
    rng = np.random.default_rng(111)
    hits = {"freqsev": 0, "freqsev_log": 0}
    for _ in range(10):
        frame = sim.simulate(rng, 3.0, sev=2.0)
        for cost in hits:
            hits[cost] += sim.found(detect_change_points(frame, cost=cost).locations, True)
    assert hits["freqsev_log"] >= 8 and hits["freqsev_log"] >= hits["freqsev"]


def test_log_part_adds_changes_and_leaves_freqsev_ones_and_excursions_alone():
    # step 1 leaves the robust log part out, so the same weeks are set aside and freqsev's changes
    # stay (merged with a log-part change at most min_size - 1 weeks earlier)
    rng = np.random.default_rng(112)
    for i in range(8):
        rate, sev = [1.0, 3.0, 10.0][i % 3], [1.0, 2.0, 3.0][i % 3]
        frame = sim.simulate(
            rng, rate, freq=[1.0, 2.0][i % 2], sev=sev, phi=[0.0, 0.8][i % 2], aggregated=i % 4 == 0
        )
        nb, log = detect_change_points(frame, cost="freqsev"), detect_change_points(frame)
        assert nb.outliers == log.outliers
        assert all(any(0 <= c - d < 2 for d in log.locations) for c in nb.locations), (
            nb.locations,
            log.locations,
        )
