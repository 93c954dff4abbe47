"""changepoints.abrupt: the window test that keeps only abrupt trend breaks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.changepoints.abrupt import bic_margin


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
