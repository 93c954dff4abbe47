"""detect_change_points with a Gaussian cost: isolated excursions set aside by the count costs' rule."""

from __future__ import annotations

import numpy as np
import pytest

from casualtystats.changepoints import AutoPenalty, detect_change_points


def spiky(seed: int) -> np.ndarray:
    """A level shift of 4 sd at 150 and four isolated spikes of 12-14 sd, up and down."""
    y = np.random.default_rng(seed).normal(0, 1, 300) + np.where(np.arange(300) >= 150, 4.0, 0.0)
    y[[40, 100, 220, 270]] += [12.0, -12.0, 14.0, 12.0]
    return y


@pytest.mark.parametrize("seed", range(3))
def test_isolated_spikes_either_way_are_set_aside_not_cut_around(seed):
    # without the step each spike is cut out as a 3-point segment: 9 changes instead of 1
    cp = detect_change_points(spiky(seed))
    assert cp.locations == [150]
    assert cp.outliers == [40, 100, 220, 270]


def test_a_short_real_regime_keeps_its_changes_and_its_values():
    # 6 points 6 sd up: setting its largest value aside leaves a segment there, so it goes back
    y = np.random.default_rng(100).normal(0, 1, 80)
    y[40:46] += 6.0
    cp = detect_change_points(y)
    assert cp.locations == [40, 46]
    assert cp.outliers == []


def test_a_short_last_segment_is_kept_as_the_newest_data():
    y = np.random.default_rng(1).normal(0, 1, 120)
    y[-3:] += 10.0
    cp = detect_change_points(y)
    assert cp.locations == [117]
    assert cp.outliers == []


def test_numeric_penalty_sets_nothing_aside():
    # only "auto" (an AutoPenalty) treats excursions; an explicit penalty is plain PELT
    cp = detect_change_points(spiky(0), penalty=30.0)
    assert cp.outliers == []
    assert len(cp.locations) > 1


def test_outliers_are_positions_in_the_input_with_missing_values():
    y = spiky(0)
    y[[10, 11, 12]] = np.nan
    cp = detect_change_points(y, penalty=AutoPenalty())
    assert cp.outliers == [40, 100, 220, 270]
    assert cp.locations == [150]


def pairs_of_spikes(seed: int) -> np.ndarray:
    """No change: 400 Gaussian values with three pairs of 10-12 sd spikes, each pair 6-11
    values apart (a pair makes a short segment between them when left in)."""
    y = np.random.default_rng(seed).normal(0, 1, 400)
    y[[60, 66, 200, 211, 300, 308]] += [10.0, 11.0, -12.0, -10.0, 12.0, 10.0]
    return y


@pytest.mark.parametrize("seed", range(3))
def test_pairs_of_spikes_a_few_values_apart_are_outliers_not_a_segment(seed):
    # before: a change at each spike of a pair (4-6 changes on a series without any)
    cp = detect_change_points(pairs_of_spikes(seed))
    assert cp.locations == []
    assert cp.outliers == [60, 66, 200, 211, 300, 308]


def test_heavy_tailed_noise_makes_no_changes():
    # Student t with 2 degrees of freedom: before, 1.1 changes per series on average (20 series)
    found = [detect_change_points(np.random.default_rng(s).standard_t(2, 600)).n_changes for s in range(8)]
    assert sum(found) <= 1


def test_a_value_that_would_not_pay_for_two_changes_stays_in():
    # a one-value dip of 4.5 sd: beyond the Bonferroni bound (3.7 at n = 150) but under
    # sqrt(2 x penalty of a change), so it is data, not an outlier
    y = np.random.default_rng(5).normal(0, 1, 150)
    y[70] -= 4.5
    cp = detect_change_points(y)
    assert cp.outliers == []
    assert cp.locations == []


def test_the_last_value_is_never_set_aside_as_a_single_outlier():
    y = np.random.default_rng(2).normal(0, 1, 200)
    y[-1] += 15.0
    assert detect_change_points(y).outliers == []
