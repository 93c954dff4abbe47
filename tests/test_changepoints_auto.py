"""cost="auto" on single series: counts of events get the negative binomial cost at every scale;
integer series that move as smooth levels get the Gaussian trend cost (benchmarks/count_scale.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats import detect_change_points
from casualtystats.changepoints.detect import MIN_COUNT_NOISE, choose_cost, relative_noise

N, AT, WITHIN = 260, 156, 8


def nb_weeks(seed: int, mean: float, ratio: float, size: float = 3.0) -> np.ndarray:
    """NB(size) weekly counts, x`ratio` from week AT on."""
    rate = np.full(N, mean)
    rate[AT:] *= ratio
    return np.random.default_rng(seed).negative_binomial(size, size / (size + rate)).astype(float)


def found(y: np.ndarray) -> bool:
    return any(abs(c - AT) <= WITHIN for c in detect_change_points(y).locations)


def test_overdispersed_counts_get_negbin_at_every_scale():
    # the old rule switched at median 1000: country-wide weekly deaths got the Gaussian trend cost
    for mean in (30.0, 300.0, 3_000.0, 30_000.0, 300_000.0):
        assert choose_cost(nb_weeks(0, mean, 1.0)) == "negbin", mean


def test_power_does_not_fall_when_the_counts_are_larger():
    # the same seeds and a rise or fall of the same ratio at mean 300 and at 30,000 (NB size 3)
    # the old rule found 18 of 24 at 300 and 11 of 24 at 30,000
    small = sum(found(nb_weeks(seed, 300.0, ratio)) for seed in range(12) for ratio in (1.5, 0.67))
    large = sum(found(nb_weeks(seed, 30_000.0, ratio)) for seed in range(12) for ratio in (1.5, 0.67))
    assert large >= small - 3, (small, large)
    assert (
        sum(len(detect_change_points(nb_weeks(seed, 30_000.0, 1.0)).locations) > 0 for seed in range(12)) <= 1
    )


def test_smooth_integer_levels_get_the_trend_cost():
    rng = np.random.default_rng(3)
    t = np.arange(200)
    population = np.round((2e5 + 5e6 / (1 + np.exp(-(t - 120) / 25))) * np.exp(rng.normal(0, 0.002, 200)))
    spending = np.round(5e4 * np.exp(0.004 * t + rng.normal(0, 0.03, 200)))
    for y in (population, spending, np.arange(100_000.0, 100_100.0)):
        assert relative_noise(y) < MIN_COUNT_NOISE
        assert choose_cost(y) == "normal_trend"


def test_small_counts_are_counts_whatever_their_noise():
    # Poisson noise alone is 1 / sqrt(mean) of the mean: at means up to 100 a count series is
    # never a smooth level, even when its rate does not vary at all
    rng = np.random.default_rng(5)
    for mean in (0.3, 3.0, 30.0, 90.0):
        assert choose_cost(rng.poisson(mean, 300).astype(float)) == "negbin", mean
    # no noise to judge (a constant series, two values): counts, as they always were
    for y in (np.zeros(50), np.full(50, 7.0), np.full(20, 50_000.0), np.array([4.0, 9.0])):
        assert choose_cost(y) == "negbin", y


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.5, 5_000.0),
    st.sampled_from([0.5, 3.0, 30.0, 1e4]),
    st.integers(2, 10_000),
    st.integers(0, 2**32 - 1),
)
def test_the_rule_does_not_depend_on_the_unit(mean, size, unit, seed):
    # counting in pairs, dozens or thousands of the same thing changes no choice: the rule has no scale
    y = np.random.default_rng(seed).negative_binomial(size, size / (size + mean), 120).astype(float)
    assert choose_cost(unit * y) == choose_cost(y)
