"""changepoints.abrupt: the window test that keeps only abrupt trend breaks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.abrupt import (
    bic_margin,
    least_squares,
    side_variance_statistic,
    variance_dependence,
)


def test_a_jump_on_a_trend_is_abrupt_without_paying_for_a_second_slope():
    # the level-shift model (Perron's model A): a 2.5 sd jump on a trend in a 40-point window
    # is kept in about half the windows; two separate lines alone (one more parameter) keep
    # it in under 30%
    t = np.arange(40.0)
    kept = [
        bic_margin(t, 0.05 * t + np.where(t >= 20, 2.5, 0.0) + rng.normal(0, 1, 40), 20, 1.0, 1.0) > 0
        for rng in (np.random.default_rng(seed) for seed in range(100))
    ]
    assert np.mean(kept) > 0.4


def test_a_smooth_curve_is_not_abrupt():
    t = np.arange(60.0)
    rng = np.random.default_rng(5)
    margins = [bic_margin(t, 0.01 * (t - 30) ** 2 + rng.normal(0, 1, 60), k, 1.0, 1.0) for k in (15, 30, 45)]
    assert max(margins) < 0


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.01, 100.0),
    offset=st.floats(-1e3, 1e3),
    slope=st.floats(-10.0, 10.0),
    k=st.integers(3, 27),
)
def test_margin_ignores_units_and_a_common_trend(seed, scale, offset, slope, k):
    """Every model holds a line, so adding one changes no fit; rescaling the data
    (and the noise variance with it) changes every BIC by the same amount."""
    rng = np.random.default_rng(seed)
    t = np.arange(30.0)
    y = rng.normal(0, 1, 30) + np.where(t >= k, rng.normal(0, 3), 0.0)
    base = bic_margin(t, y, k, 1.0, 0.5)
    moved = bic_margin(t, offset + slope * t + scale * y, k, 1.0, 0.5 * scale**2)
    assert moved == pytest.approx(base, rel=1e-6, abs=1e-6)


def test_a_jump_in_the_noise_alone_is_abrupt():
    # the cost gives each segment its own variance, so the test must too: sd x 2 at the middle of a
    # 200-point window is kept in 50 of 50 windows (a test of mean models alone cannot keep it)
    t = np.arange(200.0)
    kept = [
        bic_margin(t, rng.normal(0, 1, 200) * np.where(t >= 100, 2.0, 1.0), 100, 1.0, 1.0) > 0
        for rng in (np.random.default_rng(seed) for seed in range(50))
    ]
    assert np.mean(kept) > 0.9


def test_a_few_points_about_their_own_line_are_no_evidence_of_a_variance_change():
    # 4 points after their own line keep 2 degrees of freedom: their variance is biased low by half,
    # which the plain likelihood ratio counts as evidence; with Bartlett's degrees of freedom and
    # correction, pure noise in 14-point windows keeps a break in 1 of 400
    t = np.arange(14.0)
    kept = [
        bic_margin(t, rng.normal(0, 1, 14), 4, 1.0, 1.0) > 0
        for rng in (np.random.default_rng(seed) for seed in range(200))
    ]
    assert np.mean(kept) < 0.03


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 28), scale=st.floats(0.01, 100.0))
def test_side_variance_statistic_is_a_non_negative_unit_free_likelihood_ratio(seed, k, scale):
    rng = np.random.default_rng(seed)
    t = np.arange(30.0)
    r, leverage = least_squares(np.c_[np.ones(30), t], rng.normal(0, 1, 30) * np.where(t >= k, 3.0, 1.0))
    before = t < k
    base = side_variance_statistic(r, leverage, before, 0.1)
    assert base >= 0
    assert side_variance_statistic(scale * r, leverage, before, 0.1 * scale**2) == pytest.approx(
        base, rel=1e-6, abs=1e-9
    )


def test_clustered_volatility_raises_the_variance_factor_and_independent_noise_does_not():
    rng = np.random.default_rng(3)
    t = np.arange(2000.0)
    log_sd = np.zeros(2000)
    for i in range(1, 2000):  # a latent AR(1) log-volatility, as in daily returns
        log_sd[i] = 0.97 * log_sd[i - 1] + rng.normal(0, 0.12)
    assert variance_dependence(rng.normal(0, 1, 2000), t, []) < 1.1
    assert variance_dependence(rng.normal(0, 1, 2000) * np.exp(log_sd), t, []) > 2.0


def test_detect_keeps_a_doubling_of_the_noise():
    found = []
    for seed in range(8):
        y = np.random.default_rng(seed).normal(0, 0.01, 400)
        y[200:] *= 2
        found.append(any(abs(c - 200) <= 20 for c in detect_change_points(y).locations))
    assert np.mean(found) >= 0.75


def test_heavy_tails_raise_the_variance_factor_even_in_a_segment_of_their_own():
    # Box's kurtosis correction: 2% spikes of 10 sd; measured against the segment's own sd
    # (which the spikes set) the tails would hardly show
    rng = np.random.default_rng(4)
    t = np.arange(1000.0)
    y = rng.normal(0, 1, 1000)
    y[rng.random(1000) < 0.02] += 10.0
    assert variance_dependence(y, t, [500]) > 5.0
