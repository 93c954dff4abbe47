"""Trend models: intervals that cover the truth, growth rates, the options and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from casualtystats import fit_trend
from casualtystats.errors import CasualtyStatsError

WEEKS_PER_YEAR = 365.25 / 7


def weekly_index(n, start="2015-01-05"):
    return pd.date_range(start, periods=n, freq="7D")


def nb_draw(rng, mu, alpha):
    size = 1 / alpha
    return rng.negative_binomial(size, size / (size + mu))


def piecewise_truth(n=156, knot=80):
    """Log-linear rise, then a level jump and a decline from `knot` on."""
    t = np.arange(n) / WEEKS_PER_YEAR
    eta = np.log(4) + 0.5 * t + np.where(np.arange(n) >= knot, 0.7 - 1.2 * (t - t[knot]), 0.0)
    growth = np.expm1((0.5 - 1.2) / 12)
    return np.exp(eta), growth


def test_negbin_interval_covers_true_trend_at_nominal_rate():
    # 100 simulated NB series (alpha 0.5) with a known piecewise log-linear trend;
    # the model with the true knot is correctly specified, so the 95% pointwise
    # intervals should cover the true mean in 95% of weeks: accept 0.92..0.98.
    rng = np.random.default_rng(20240101)
    mu, growth = piecewise_truth()
    idx = weekly_index(len(mu))
    covered, growth_covered = [], []
    for _ in range(100):
        y = nb_draw(rng, mu, 0.5)
        res = fit_trend(pd.Series(y, index=idx), "negbin", knots=[idx[80]])
        f = res.fitted
        covered.append(np.mean((f["ci_low"] <= mu) & (mu <= f["ci_high"])))
        g = res.growth_per_month
        growth_covered.append(g["ci_low"] <= growth <= g["ci_high"])
    assert 0.92 <= np.mean(covered) <= 0.98
    # the growth interval too (100 reps: a binomial 95% band around 0.95 is about 0.90..0.99)
    assert 0.88 <= np.mean(growth_covered) <= 1.0


def test_smooth_spline_interval_covers_smooth_truth():
    # A smooth (sine) truth with the default AIC-chosen natural spline: pointwise
    # coverage stays near nominal despite the model choice (tolerance 0.90..0.98).
    rng = np.random.default_rng(7)
    n = 156
    t = np.arange(n) / WEEKS_PER_YEAR
    mu = np.exp(np.log(5) + 0.8 * np.sin(1.5 * t))
    idx = weekly_index(n)
    covered = []
    for _ in range(60):
        res = fit_trend(pd.Series(nb_draw(rng, mu, 0.5), index=idx), "negbin")
        f = res.fitted
        covered.append(np.mean((f["ci_low"] <= mu) & (mu <= f["ci_high"])))
    assert 0.90 <= np.mean(covered) <= 0.98


def test_negbin_estimates_dispersion_and_poisson_intervals_are_narrower():
    rng = np.random.default_rng(3)
    mu, _ = piecewise_truth(n=400, knot=200)
    y = pd.Series(nb_draw(rng, mu, 0.5), index=weekly_index(400))
    nb = fit_trend(y, "negbin", knots=[y.index[200]])
    pois = fit_trend(y, "poisson", knots=[y.index[200]])
    assert 0.35 < nb.dispersion < 0.7
    assert np.isnan(pois.dispersion)
    width = lambda r: (r.fitted["ci_high"] - r.fitted["ci_low"]).mean()  # noqa: E731
    assert width(pois) < width(nb)


def test_growth_sign_follows_trend_for_every_model():
    rng = np.random.default_rng(11)
    n = 200
    t = np.arange(n) / WEEKS_PER_YEAR
    rise, fall = np.exp(1.0 + 0.6 * t), np.exp(3.5 - 0.6 * t)
    rising = pd.Series(nb_draw(rng, rise, 0.2), index=weekly_index(n))
    falling = pd.Series(nb_draw(rng, fall, 0.2), index=weekly_index(n))
    for model in ("negbin", "poisson", "local_linear_trend"):
        if model == "poisson":  # on overdispersed data AIC would pick a wiggly Poisson spline
            up = fit_trend(pd.Series(rng.poisson(rise), index=rising.index), model).growth_per_month
            down = fit_trend(pd.Series(rng.poisson(fall), index=rising.index), model).growth_per_month
        else:
            up = fit_trend(rising, model).growth_per_month
            down = fit_trend(falling, model).growth_per_month
        assert up["ci_low"] <= up["estimate"] <= up["ci_high"]
        assert up["estimate"] > 0.02 and down["estimate"] < -0.02, model
    # 0.6 per year is exp(0.05) - 1 = 5.1% per month
    g = fit_trend(rising, "negbin").growth_per_month
    assert g["ci_low"] < np.expm1(0.6 / 12) < g["ci_high"]


def test_local_level_fits_and_gives_growth_interval():
    rng = np.random.default_rng(5)
    y = pd.Series(rng.poisson(20, size=120), index=weekly_index(120))
    res = fit_trend(y, "local_level")
    f = res.fitted
    assert (f["ci_low"] <= f["fitted"]).all() and (f["fitted"] <= f["ci_high"]).all()
    assert abs(f["fitted"].iloc[-1] - 19) < 4  # expm1 of the mean of log1p: a bit under 20
    g = res.growth_per_month
    assert g["ci_low"] < 0 < g["ci_high"]
    # the draws are seeded: the same fit gives the same growth
    assert fit_trend(y, "local_level").growth_per_month.equals(g)


def test_seasonal_terms_recover_annual_cycle():
    rng = np.random.default_rng(9)
    n = 52 * 6
    t = np.arange(n) / WEEKS_PER_YEAR
    mu = np.exp(2.0 + 0.8 * np.sin(2 * np.pi * t))
    y = pd.Series(nb_draw(rng, mu, 0.1), index=weekly_index(n))
    seasonal = fit_trend(y, "negbin", seasonal=True, df=1)
    plain = fit_trend(y, "negbin", df=1)
    assert seasonal.aic < plain.aic - 50
    assert abs(seasonal.params["sin_year_1"] - 0.8) < 0.15
    assert fit_trend(y, "local_level", seasonal=True).fitted.shape == (n, 4)


def test_plain_array_and_missing_values():
    rng = np.random.default_rng(2)
    y = rng.poisson(6, size=80).astype(float)
    y[[10, 11, 50]] = np.nan
    res = fit_trend(y, "negbin")
    assert list(res.fitted.index) == list(range(80))
    assert res.nobs == 77
    assert res.fitted["fitted"].notna().all()
    assert np.isnan(res.fitted["observed"].iloc[10])
    text = res.summary()
    assert "Current growth per month" in text and "NB dispersion" in text


def test_piecewise_knots_by_position_and_label_agree():
    rng = np.random.default_rng(4)
    mu, _ = piecewise_truth()
    y = pd.Series(nb_draw(rng, mu, 0.3), index=weekly_index(len(mu)))
    by_label = fit_trend(y, knots=[y.index[80]])
    by_position = fit_trend(y.to_numpy(), knots=[80])
    np.testing.assert_allclose(by_label.params.to_numpy(), by_position.params.to_numpy(), rtol=1e-6)
    assert by_label.knots == [y.index[80].date().isoformat()]
    # the level shift at the knot is the planted +0.7
    assert abs(by_label.params["level_shift_1"] - 0.7) < 0.4


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
        (np.ones(30), {"alpha": 1.5}),
        (np.ones(30), {"knots": [100]}),
        (np.ones(30), {"knots": "everywhere"}),
        (-np.ones(30), {}),
        (np.ones(30), {"model": "local_level", "knots": [5]}),
    ],
)
def test_user_errors_are_casualtystats_errors(series, kwargs):
    with pytest.raises(CasualtyStatsError):
        fit_trend(series, **kwargs)


def _assert_finite_fit(res):
    f = res.fitted
    assert np.isfinite(f[["fitted", "ci_low", "ci_high"]].to_numpy()).all()
    assert ((f["ci_low"] <= f["fitted"]) & (f["fitted"] <= f["ci_high"])).all()
    assert np.isfinite(res.growth_per_month.to_numpy()).all()


def test_long_leading_zeros_fit_with_finite_bounded_intervals():
    # 15 years of zero weeks (before an actor existed), then 6 years of events:
    # the plain MLE does not exist (the log mean of the zero stretch runs to -inf).
    # The fit must not raise or warn, and the zero stretch keeps a sane interval.
    rng = np.random.default_rng(21)
    n_zero, n_active = 780, 312
    t = np.arange(n_active) / WEEKS_PER_YEAR
    y = np.r_[np.zeros(n_zero), nb_draw(rng, np.exp(1.5 + 1.2 * np.sin(t)), 1.0)]
    series = pd.Series(y, index=weekly_index(len(y), start="1989-01-02"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_trend(series)
    _assert_finite_fit(res)
    assert res.fitted["ci_high"].iloc[: n_zero - 52].max() < 5  # not 1e11 events a week
    assert res.fitted["fitted"].iloc[: n_zero - 52].max() < 0.1
    assert abs(res.fitted["fitted"].iloc[n_zero + 100 :].mean() - y[n_zero + 100 :].mean()) < 1.5
    assert any("below" in w for w in res.warnings) and "Warning:" in res.summary()


def test_sparse_series_fits_without_warnings():
    # 98% zero weeks with a few bursts (a quiet governorate): fits quietly, the
    # dispersion stays within its bounds, the growth interval is finite.
    rng = np.random.default_rng(13)
    y = np.zeros(670)
    y[rng.choice(670, 13, replace=False)] = rng.integers(1, 12, 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in ("negbin", "poisson"):
            res = fit_trend(pd.Series(y, index=weekly_index(670)), model)
            _assert_finite_fit(res)
    assert 1 < fit_trend(y).dispersion <= 1e3


@pytest.mark.shared
def test_ucdp_iraq_from_1989_fits(ucdp_iraq_path):
    # the report-stage bug: ISIS fatalities on a panel starting 1989 (ISIS rows start 2004)
    import casualtystats as cs

    inc = cs.involving(cs.load_incidents(ucdp_iraq_path).incidents, "ISIS")
    panel = cs.weekly_panel(inc, by=None, start="1989-01-02")
    res = fit_trend(panel.set_index("week")["fatalities_best"])
    _assert_finite_fit(res)
    assert res.fitted["ci_high"].loc[:"2003-01-01"].max() < 5


def test_singular_design_is_a_trend_error():
    # a knot at every week cannot be fitted: a clear error, not a numpy one
    from casualtystats.trend import TrendError

    with pytest.raises(TrendError, match="could not be fitted"):
        fit_trend(np.arange(1, 13, dtype=float), "poisson", knots=list(range(1, 12)))
