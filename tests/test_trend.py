"""Trend model: coverage of the truth (a small version of benchmarks/trend.py),
the growth window, the options, the numerical kernels and the errors."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats import fit_trend
from casualtystats.errors import CasualtyStatsError
from casualtystats.trend import TrendError, _banded_inverse, _cholesky_banded, _solve_banded

WEEKS_PER_YEAR = 365.25 / 7
ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("trend_benchmark", ROOT / "benchmarks" / "trend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _benchmark()


def weekly_index(n, start="2015-01-05"):
    return pd.date_range(start, periods=n, freq="7D")


def nb_draw(rng, mu, alpha):
    size = 1 / alpha
    return rng.negative_binomial(size, size / (size + mu))


@pytest.mark.parametrize(("scenario", "rate"), [("late_rise", 5), ("ar0.8", 5)])
def test_intervals_cover_truth_in_small_simulation(scenario, rate):
    # benchmarks/trend.py at 12 series per cell: the model sees only the counts. Goals
    # 0.90-0.98 mean coverage and >= 0.88 growth coverage (both met in these two cells at
    # 100 series). Twelve series' mean coverage swings by several points (one series'
    # weeks miss or hit together), so here: coverage >= 0.85 (the benchmark checks the band),
    # at most 2 growth misses, and in the late rise at most 1 significant decline.
    row = bench.run_cell(scenario, rate, reps=12, seed=11)
    assert row["fits"] == 12
    assert row["coverage"] >= 0.85, row
    assert row["growth_cov"] >= 10 / 12, row
    if scenario == "late_rise":
        assert row["sig_decline"] <= 1 / 12, row


def test_line_band_does_not_depend_on_where_the_smoothness_box_ends(monkeypatch):
    # a flat truth: the marginal likelihood is flat from the box's lower end up to slightly
    # wiggly trends. Averaging the grid's posterior variances made the band depend on where the
    # box ends (more "line" grid points, narrower band: flat at 30/week covered 0.997); the
    # first-order form (variance at the estimate + spread of the modes) does not
    import casualtystats.trend as trend_module

    mean, _, _ = bench.truth("flat", 30)
    counts, _ = bench.simulate(np.random.default_rng(6), mean, 0.0)
    y = pd.Series(counts, index=weekly_index(len(counts)))
    widths = []
    for low in (1e-5, 1e-6, 1e-4):  # the default lower end, a decade below and above
        monkeypatch.setattr(trend_module, "_LOG_SIGMA_F", (np.log(low), np.log(0.5)))
        f = fit_trend(y).fitted.iloc[:-13]  # the growth window's own level is wide either way
        widths.append(np.log(f["ci_high"] / f["ci_low"]).mean())
    # the averaged-variance form moved this series' band by 2.8% and 6.2%
    assert np.max(np.abs(np.array(widths) / widths[0] - 1)) < 0.015, widths


def test_weak_ar_term_is_barely_visible_even_to_an_oracle():
    # why ar0.5 is under-covered (README): even knowing the true trend, phi and the noise model,
    # a 5% test of the lag 1-8 autocorrelations finds the ar0.5 term in a minority of series at
    # 5 a week, and holds its size without one (fast version of the benchmark's second table)
    table = bench.detectability(reps=300).set_index("rate")
    assert table.loc[5, "found_no_ar"] < 0.09
    assert 0.1 < table.loc[5, "found_ar"] < 0.45
    assert (table["signal_ar"] > table["signal_no_ar"] + 0.3).all()


def test_growth_is_average_over_the_stated_window():
    # a noiseless-ish log-linear series (high counts, tiny dispersion): growth over any window
    # is the slope, and the result says which window it used
    n = 200
    t = np.arange(n) / WEEKS_PER_YEAR
    mu = np.exp(np.log(200) + 0.6 * t)
    y = pd.Series(nb_draw(np.random.default_rng(1), mu, 0.001), index=weekly_index(n))
    for window in (13, 26):
        res = fit_trend(y, growth_window_weeks=window)
        g = res.growth_per_month
        assert res.growth_window_weeks == window
        assert g["ci_low"] < np.expm1(0.6 / 12) < g["ci_high"]
        assert abs(g["estimate"] - np.expm1(0.6 / 12)) < 0.02
        assert f"last {window} weeks" in res.summary()


def test_growth_sign_follows_a_late_turn():
    # a long decline then a strong rise over the last half-year: the growth says rising (the
    # window's line rests on its own 14 weeks, so it takes about 15 events a week to be sure)
    n = 260
    t = np.arange(n)
    log_mu = np.log(60) - 0.01 * t + np.where(t >= n - 26, 0.05 * (t - (n - 26)), 0.0)
    y = pd.Series(nb_draw(np.random.default_rng(2), np.exp(log_mu), 0.05), index=weekly_index(n))
    g = fit_trend(y).growth_per_month
    assert g["ci_low"] > 0, g


def test_growth_after_a_turn_just_before_the_window_is_not_biased():
    # +3%/month for years, then -12%/month over the last 26 weeks (13 of them before the growth
    # window): a trend pinned at the window start to the old line's level overshot to about -20%
    # a month; with the window's level free the estimates centre on the truth and cover it
    n, turn = 260, 234
    month = np.arange(n) / (365.25 / 12 / 7)
    log_mu = 0.03 * np.minimum(month, month[turn]) - 0.12 * np.maximum(month - month[turn], 0)
    mu = np.exp(log_mu - log_mu.max() + np.log(72))
    truth = np.expm1(-0.12)
    estimates, covered = [], []
    for seed in range(6):
        y = pd.Series(nb_draw(np.random.default_rng(seed), mu, 0.05), index=weekly_index(n))
        g = fit_trend(y).growth_per_month
        estimates.append(g["estimate"])
        covered.append(g["ci_low"] <= truth <= g["ci_high"])
    assert abs(np.mean(estimates) - truth) < 0.05, estimates
    assert sum(covered) >= 5, estimates


def test_dispersion_estimated_and_poisson_ignores_it():
    rng = np.random.default_rng(3)
    y = pd.Series(nb_draw(rng, np.full(400, 8.0), 0.5), index=weekly_index(400))
    nb = fit_trend(y)
    pois = fit_trend(y, "poisson")
    assert 0.3 < nb.dispersion < 0.8
    assert np.isnan(pois.dispersion)
    # Poisson's latent AR(1) term takes up the extra variance instead
    assert pois.params["ar_sd"] > nb.params["ar_sd"]


def test_seasonal_terms_recover_annual_cycle():
    rng = np.random.default_rng(9)
    n = 52 * 6
    t = np.arange(n) / WEEKS_PER_YEAR
    mu = np.exp(2.0 + 0.8 * np.sin(2 * np.pi * t))
    y = pd.Series(nb_draw(rng, mu, 0.1), index=weekly_index(n))
    seasonal = fit_trend(y, seasonal=True)
    assert abs(seasonal.params["sin_year_1"] - 0.8) < 0.15
    assert seasonal.conf_int().loc["sin_year_1", "lower"] > 0.5
    assert seasonal.aic < fit_trend(y).aic


def test_plain_array_and_missing_values():
    rng = np.random.default_rng(2)
    y = rng.poisson(6, size=80).astype(float)
    y[[10, 11, 50]] = np.nan
    res = fit_trend(y)
    assert list(res.fitted.index) == list(range(80))
    assert res.nobs == 77
    assert res.fitted["fitted"].notna().all()
    assert np.isnan(res.fitted["observed"].iloc[10])
    assert res.to_frame().equals(res.fitted)
    text = res.summary()
    assert "Growth per month over the last 13 weeks" in text and "NB dispersion" in text


def test_irregular_dates_are_placed_on_the_weekly_grid():
    rng = np.random.default_rng(6)
    idx = weekly_index(120).delete([30, 31, 77])
    y = pd.Series(rng.poisson(5, size=len(idx)), index=idx)
    res = fit_trend(y)
    assert res.fitted.index.equals(idx) and res.nobs == 117
    with pytest.raises(TrendError, match="equally spaced"):
        fit_trend(
            pd.Series(
                [1.0, 2, 3, 4, 5],
                index=pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-08", "2020-01-15", "2020-01-22"]),
            )
        )


def test_knots_by_position_and_label_agree():
    rng = np.random.default_rng(4)
    n = 156
    mu = np.where(np.arange(n) >= 80, 12.0, 4.0)
    y = pd.Series(nb_draw(rng, mu, 0.1), index=weekly_index(n))
    by_label = fit_trend(y, knots=[y.index[80]])
    by_position = fit_trend(y.to_numpy(), knots=[80])
    np.testing.assert_allclose(by_label.params.to_numpy(), by_position.params.to_numpy(), rtol=1e-4)
    assert by_label.knots == [y.index[80].date().isoformat()]
    assert abs(by_label.params["level_shift_1"] - np.log(3)) < 0.35


def test_auto_knots_come_from_change_point_engine():
    from casualtystats import detect_change_points

    rng = np.random.default_rng(8)
    y = pd.Series(np.r_[rng.poisson(3, 100), rng.poisson(12, 100)], index=weekly_index(200))
    res = fit_trend(y, knots="auto")
    expected = [y.index[i].date().isoformat() for i in detect_change_points(y).locations]
    assert res.knots == expected and res.knots
    assert abs(res.fitted["fitted"].iloc[-1] - 12) < 3


@pytest.mark.parametrize(
    ("series", "kwargs"),
    [
        (np.zeros(30), {}),
        (np.ones(3), {}),
        (np.ones(30), {"model": "arima"}),
        (np.ones(30), {"model": "local_level"}),
        (np.ones(30), {"model": "local_linear_trend"}),
        (np.ones(30), {"alpha": 1.5}),
        (np.ones(30), {"growth_window_weeks": 0}),
        (np.ones(30), {"knots": [100]}),
        (np.ones(30), {"knots": "everywhere"}),
        (-np.ones(30), {}),
    ],
)
def test_user_errors_are_casualtystats_errors(series, kwargs):
    with pytest.raises(CasualtyStatsError):
        fit_trend(series, **kwargs)


def _assert_finite_fit(res):
    f = res.fitted
    assert np.isfinite(f[["fitted", "ci_low", "ci_high"]].to_numpy()).all()
    assert ((f["ci_low"] <= f["fitted"]) & (f["fitted"] <= f["ci_high"])).all()
    g = res.growth_per_month
    assert np.isfinite(g.to_numpy()).all() and g["ci_low"] <= g["estimate"] <= g["ci_high"]


def test_long_leading_zeros_are_not_modelled():
    # 15 years of zero weeks (before an actor existed), then 6 years of events: the zero
    # stretch beyond the lead-in gets fitted 0 and the bound of a constant rate, with a warning
    rng = np.random.default_rng(21)
    n_zero, n_active = 780, 312
    t = np.arange(n_active) / WEEKS_PER_YEAR
    y = np.r_[np.zeros(n_zero), nb_draw(rng, np.exp(1.5 + 1.2 * np.sin(t)), 1.0)]
    y[n_zero] = max(y[n_zero], 1)
    series = pd.Series(y, index=weekly_index(len(y), start="1989-01-02"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_trend(series)
    _assert_finite_fit(res)
    head = res.fitted.iloc[: n_zero - 26]
    assert (head["fitted"] == 0).all() and np.allclose(head["ci_high"], -np.log(0.025) / (n_zero - 26))
    assert res.fitted["ci_high"].iloc[n_zero - 26 : n_zero].max() < 5
    assert abs(res.fitted["fitted"].iloc[n_zero + 100 :].mean() - y[n_zero + 100 :].mean()) < 1.5
    assert any("not modelled" in w for w in res.warnings) and "Warning:" in res.summary()


def _went_quiet(before, quiet, seed, n=260):
    """NB counts (dispersion 0.5) at `before` a week, an event in the last active week, then
    `quiet` zero weeks."""
    y = nb_draw(np.random.default_rng(seed), np.full(n - quiet, float(before)), 0.5).astype(float)
    y[-1] = max(y[-1], 1.0)
    return pd.Series(np.r_[y, np.zeros(quiet)], index=weekly_index(n))


def _zero_run_bound(res, j):
    """The one-sided 97.5% bound of a constant mean over j zero weeks under the fit's NB noise."""
    return np.expm1(-np.log(0.025) * res.dispersion / j) / res.dispersion


@pytest.mark.parametrize("quiet", [26, 52])
def test_long_quiet_end_gets_the_bound_of_its_zero_weeks(quiet):
    # 3 a week, then months without events: the Gaussian approximation reported 95% upper bounds
    # of 12 (26 zero weeks) and 740 (52) a week and growth up to +350% a month. Now each zero
    # week j gets the bound of a constant mean over the j weeks since the last event
    res = fit_trend(_went_quiet(3, quiet, seed=4))
    _assert_finite_fit(res)
    tail = res.fitted.iloc[-quiet:]
    assert (tail["fitted"] == 0).all() and (tail["ci_low"] == 0).all()
    expected = [_zero_run_bound(res, j) for j in range(1, quiet + 1)]
    np.testing.assert_allclose(tail["ci_high"], expected)
    assert tail["ci_high"].iloc[-1] < 1.1 * -np.log(0.025) / quiet  # close to the Poisson bound
    assert (np.diff(tail["ci_high"]) < 0).all()
    # the window lies in the quiet stretch: growth not estimable (estimate 0, unbounded above)
    g = res.growth_per_month
    assert g["estimate"] == 0 and g["ci_low"] == -1 and g["ci_high"] > 1e6
    assert any("no events" in w for w in res.warnings) and "not estimable" in res.summary()
    assert not res.growth_estimable


def test_quiet_end_inside_the_window_bounds_the_growth_below_zero():
    # 5 a week, then 9 zero weeks (far too many for the half-year before): the window starts on
    # modelled weeks, so the growth is bounded by the zero weeks' bound over the start's band
    res = fit_trend(_went_quiet(5, 9, seed=8))
    g = res.growth_per_month
    assert g["estimate"] == -1 and g["ci_low"] == -1 and g["ci_high"] < 0 and res.growth_estimable
    assert (res.fitted["fitted"].iloc[-9:] == 0).all()
    assert res.fitted["fitted"].iloc[-10] > 1


def test_a_few_zero_weeks_at_a_low_rate_stay_modelled():
    # 0.5 a week ending in 3 zero weeks is ordinary (the half-year before has many zero weeks):
    # the model reports those weeks, no quiet-stretch warning
    res = fit_trend(_went_quiet(0.5, 3, seed=2))
    assert (res.fitted["fitted"].iloc[-3:] > 0).all()
    assert not any("no events" in w for w in res.warnings)


@settings(max_examples=5, deadline=None, derandomize=True)
@given(st.sampled_from([1.0, 3.0, 10.0]), st.integers(0, 1000), st.integers(9, 40))
def test_more_zero_weeks_never_raise_the_last_weeks_upper_bound(before, seed, quiet):
    # beyond the lead-out the last week's top is the zero run's bound: one more zero week lowers
    # it, and it stays close to the Poisson bound of the run. (Within the lead-out the refitted
    # model's top can rise by a few percent: benchmarks/trend.py's monotone table.)
    series = _went_quiet(before, quiet + 1, seed=seed, n=quiet + 131)
    tops = [
        fit_trend(series.iloc[:-1]).fitted["ci_high"].iloc[-1],
        fit_trend(series).fitted["ci_high"].iloc[-1],
    ]
    assert tops[1] < tops[0] < 1.25 * -np.log(0.025) / quiet, tops


def test_sparse_series_fits_without_warnings():
    # 98% zero weeks with a few bursts (a quiet governorate): fits quietly, finite intervals
    rng = np.random.default_rng(13)
    y = np.zeros(670)
    y[rng.choice(670, 13, replace=False)] = rng.integers(1, 12, 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in ("negbin", "poisson"):
            _assert_finite_fit(fit_trend(pd.Series(y, index=weekly_index(670)), model))


@settings(max_examples=6, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=12, max_size=60).filter(lambda v: sum(v) > 0),
    st.sampled_from(["negbin", "poisson"]),
)
def test_any_count_series_gives_ordered_finite_intervals(values, model):
    res = fit_trend(np.array(values, dtype=float), model)
    _assert_finite_fit(res)
    assert (res.fitted["ci_low"] >= 0).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(6, 40), st.integers(2, 6), st.integers(0, 10_000))
def test_banded_kernels_match_dense_algebra(n, bandwidth, seed):
    rng = np.random.default_rng(seed)
    offsets = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    a = rng.normal(size=(n, n)) * (offsets < bandwidth)
    dense = (a + a.T) * (offsets < bandwidth) + np.eye(n) * (2 * bandwidth * 4 + 1)
    ab = np.array([np.r_[np.diag(dense, -d), np.zeros(d)] for d in range(bandwidth)])
    cb = _cholesky_banded(ab)
    rhs = rng.normal(size=(n, 2))
    np.testing.assert_allclose(_solve_banded(cb, rhs), np.linalg.solve(dense, rhs), atol=1e-10)
    inverse = np.linalg.inv(dense)
    band = _banded_inverse(cb)
    for d in range(bandwidth):
        np.testing.assert_allclose(band[d, : n - d], np.diag(inverse, -d), atol=1e-12)


@pytest.mark.shared
def test_ucdp_iraq_from_1989_fits(ucdp_iraq_path):
    # the report-stage case: ISIS fatalities on a panel starting 1989 (ISIS rows start 2004)
    import casualtystats as cs

    inc = cs.involving(cs.load_incidents(ucdp_iraq_path).incidents, "ISIS")
    panel = cs.weekly_panel(inc, by=None, start="1989-01-02")
    res = fit_trend(panel.set_index("week")["fatalities_best"])
    _assert_finite_fit(res)
    assert res.fitted["ci_high"].loc[:"2003-01-01"].max() < 5


def test_a_growth_that_is_not_estimable_is_said_so_in_the_report():
    from types import SimpleNamespace

    from casualtystats.report.sections import _growth_caption

    res = fit_trend(_went_quiet(3, 26, seed=4))
    caption = _growth_caption(SimpleNamespace(trend=res, change_points=None, problem=None))
    assert "growth not estimable (no event in the last 13 weeks)" in caption and "e+" not in caption
