"""bocpd: Adams & MacKay online detection with conjugate models."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.changepoints import BOCPDResult, bocpd
from casualtystats.errors import CasualtyStatsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.mark.parametrize("seed", range(5))
def test_poisson_change_probability_peaks_at_planted_change(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[rng.poisson(4, 120), rng.poisson(10, 40)]
    res = bocpd(y)
    assert isinstance(res, BOCPDResult) and res.model == "negbin"
    assert abs(int(np.argmax(res.change_prob)) - 120) <= 3
    assert res.change_prob[116:125].sum() > 0.5
    assert res.prob_recent_change(45) > 0.95
    assert abs(int(res.run_length_mode[-1]) - 40) <= 3


@pytest.mark.parametrize("seed", range(5))
def test_normal_change_probability_peaks_at_planted_change(seed):
    rng = np.random.default_rng(100 + seed)
    y = np.r_[rng.normal(10, 1, 100), rng.normal(13, 1, 80)]
    res = bocpd(y)
    assert res.model == "normal"
    assert abs(int(np.argmax(res.change_prob)) - 100) <= 3


@pytest.mark.parametrize("seed", range(5))
def test_change_probability_stays_low_on_stationary_series(seed):
    rng = np.random.default_rng(200 + seed)
    for y in (rng.poisson(5, 300), rng.normal(0, 2, 300)):
        res = bocpd(y)
        assert res.change_prob.mean() < 0.02
        assert res.change_prob.max() < 0.5
        assert res.prob_recent_change(4) < 0.2


def test_recent_change_is_flagged_online():
    rng = np.random.default_rng(9)
    y = np.r_[rng.poisson(3, 150), rng.poisson(12, 6)]
    res = bocpd(y)
    assert res.prob_recent_change(8) > 0.9
    assert bocpd(y[:150]).prob_recent_change(8) < 0.2


def test_missing_values_and_outputs():
    rng = np.random.default_rng(10)
    y = np.r_[rng.normal(0, 1, 60), rng.normal(5, 1, 60)]
    y[[10, 61, 62]] = np.nan
    res = bocpd(y)
    assert res.change_prob.shape == (120,) and res.run_length_mode.shape == (120,)
    assert abs(int(np.argmax(res.change_prob)) - 60) <= 3
    assert list(res.to_frame().columns) == ["change_prob", "run_length_mode"]
    assert "probability of a change" in res.summary()


@pytest.mark.parametrize("kwargs", [{"model": "gamma"}, {"hazard": 0}, {"hazard": 1.5}])
def test_bad_arguments(kwargs):
    with pytest.raises(CasualtyStatsError):
        bocpd(np.arange(10.0), **kwargs)


def test_recent_change_probability_is_calibrated_on_stationary_overdispersed_counts():
    from casualtystats.changepoints.bocpd import hazard_only

    rng = np.random.default_rng(300)
    probs = np.array(
        [
            [bocpd(rng.negative_binomial(3.5, 3.5 / 6.5, 200)).prob_recent_change(k) for k in (4, 13, 52)]
            for _ in range(12)
        ]
    )
    for j, k in enumerate((4, 13, 52)):
        assert abs(probs[:, j].mean() - hazard_only(0.01, k)) <= 0.05, (k, probs[:, j].mean())


def test_serially_dependent_weeks_are_not_read_as_a_change():
    # a latent AR(1) rate (phi 0.8) and no change: each week's likelihood weighs 1 / (long-run
    # variance factor), so the probability of a recent change stays near the hazard's (0.41)
    from casualtystats.changepoints.bocpd import hazard_only

    rng = np.random.default_rng(302)
    tempered, plain = [], []
    for _ in range(12):
        z = np.zeros(260)
        for t in range(1, 260):
            z[t] = 0.8 * z[t - 1] + rng.normal(0, 0.36)
        y = rng.poisson(10 * np.exp(z))
        fit = bocpd(y)
        assert fit.dependence > 1
        tempered.append(fit.prob_recent_change(52))
        plain.append(bocpd(y, dependence=1).prob_recent_change(52))
    assert abs(np.mean(tempered) - hazard_only(0.01, 52)) < 0.15 < 0.2 < np.mean(plain) - np.mean(tempered)
    with pytest.raises(CasualtyStatsError, match="dependence"):
        bocpd(y, dependence=0.5)


def test_doubling_at_three_a_week_raises_the_recent_change_probability():
    # evidence takes time at 3 a week (benchmarks/bocpd.py): 8 weeks on, well above the hazard
    # alone (0.23 for 26 weeks) but not yet certain; 16 weeks on, close to certain
    rng = np.random.default_rng(301)
    for weeks, floor in ((8, 0.5), (16, 0.9)):
        probs = [
            bocpd(np.r_[rng.poisson(3, 200), rng.poisson(6, weeks)]).prob_recent_change(26) for _ in range(12)
        ]
        assert np.mean(probs) > floor, (weeks, np.mean(probs))


def test_known_rates_reference_of_the_benchmark():
    """benchmarks/bocpd.py's reference posterior (rates known, date unknown) against a direct sum."""
    from bocpd import HAZARD, known_rates_posterior, log_pmf

    rng = np.random.default_rng(302)
    y = np.r_[rng.poisson(3, 30), rng.poisson(6, 5)]
    n = y.size
    weights = {None: (1 - HAZARD) ** (n - 1)}
    for t in range(1, n):
        gain = log_pmf(y[t:], 6.0, math.inf).sum() - log_pmf(y[t:], 3.0, math.inf).sum()
        weights[t] = HAZARD * (1 - HAZARD) ** (t - 1) * math.exp(gain)
    total = sum(weights.values())
    expected = [
        sum(w for t, w in weights.items() if t is not None and t >= n - k) / total for k in (1, 5, 20)
    ]
    assert known_rates_posterior(y, math.inf, (1, 5, 20)) == pytest.approx(expected)


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(0, 40), min_size=2, max_size=60),
    k=st.integers(1, 70),
)
def test_run_length_posterior_is_a_distribution(counts, k):
    res = bocpd(np.array(counts))
    assert res.run_length_posterior.sum() == pytest.approx(1.0, abs=1e-6)
    assert np.all((res.change_prob >= 0) & (res.change_prob <= 1 + 1e-12))
    p, q = res.prob_recent_change(k), res.prob_recent_change(k + 1)
    assert 0.0 <= p <= q <= 1.0


def test_max_runs_keeps_the_newest_run_and_the_most_probable_others():
    rng = np.random.default_rng(303)
    y = np.r_[rng.poisson(3, 80), rng.poisson(9, 20)]
    full, capped = bocpd(y, model="poisson"), bocpd(y, model="poisson", max_runs=5)
    assert np.count_nonzero(capped.run_length_posterior) <= 5
    assert capped.run_length_posterior[0] > 0  # the run that starts with the last week survives
    assert capped.prob_recent_change(30) == pytest.approx(full.prob_recent_change(30), abs=0.05)
