"""Confidence sets for change dates (`ChangePoints.location_intervals`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.locations import deficit_quantile


def test_deficit_quantile_is_that_of_the_two_sided_drifted_brownian_maximum():
    # each side's maximum of 2W(t) - t is exponential with mean 2; the two are independent
    for alpha in (0.01, 0.05, 0.1):
        x = deficit_quantile(alpha)
        assert (1 - math.exp(-x / 2)) ** 2 == pytest.approx(1 - alpha)
    assert deficit_quantile(0.05) == pytest.approx(7.35, abs=0.01)


def test_sets_cover_the_true_week_and_hold_the_found_one():
    rng = np.random.default_rng(5)
    covered, widths = [], {}
    for jump in (1.5, 3.0):
        widths[jump] = []
        for _ in range(40):
            y = rng.poisson(np.r_[np.full(150, 4.0), np.full(100, 4.0 * jump)])
            table = detect_change_points(y).location_intervals()
            assert (table["earliest"] <= table["location"]).all()
            assert (table["location"] <= table["latest"]).all()
            near = table[(table["location"] - 150).abs() <= 8]
            if len(near):
                row = near.iloc[0]
                covered.append(row["earliest"] <= 150 <= row["latest"])
                widths[jump].append(row["latest"] - row["earliest"])
    assert np.mean(covered) >= 0.9  # measured 1.0 here; 0.96-1.00 in benchmarks/changepoint_sim.py
    assert np.median(widths[3.0]) < np.median(widths[1.5])  # a clearer change is dated more tightly


def test_panel_slice_sets_are_per_part_with_labels():
    rng = np.random.default_rng(6)
    n = 200
    incidents = rng.poisson(np.r_[np.full(120, 3.0), np.full(80, 9.0)])
    deaths = np.array([rng.poisson(4.0, k).sum() for k in incidents])
    weeks = pd.date_range("2015-01-05", periods=n, freq="W-MON")
    frame = pd.DataFrame({"incidents": incidents, "fatalities_best": deaths}, index=weeks)
    cps = detect_change_points(frame)
    table = cps.location_intervals()
    assert list(table.columns) == [
        "location", "label", "part", "earliest", "latest", "earliest_label", "latest_label"
    ]  # fmt: skip
    row = table[table["part"] == "incident_rate"].iloc[0]
    assert row["earliest"] <= 120 <= row["latest"] and row["label"] == weeks[row["location"]]
    assert row["earliest_label"] == weeks[row["earliest"]]
