"""casualtystats.forecast: contract shapes, discrete quantiles, calibration, panels, errors, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import casualtystats as cs
from casualtystats.forecast import QUANTILES, ForecastError
from casualtystats.parallel import map_series

QUANTILE_COLUMNS = [f"q{q:g}" for q in QUANTILES]


def weekly(values, start="2020-01-06") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="7D", name="week"))


def nb_counts(rng, n, mean, dispersion):
    """NB2 counts with Var = mean + dispersion * mean^2."""
    return rng.negative_binomial(1 / dispersion, 1 / (1 + dispersion * mean), n)


@pytest.fixture(scope="module")
def sim_panel():
    sim = cs.simulate_incidents(
        regions=["Anbar", "Ninawa", "Basra"],
        actors={"ISIS": {"Anbar": 4.0, "Ninawa": 1.0, "Basra": 0.1}},
        start="2016-01-01",
        end="2018-12-31",
        seed=3,
    )
    return cs.weekly_panel(sim.incidents[sim.incidents["actor"] == "ISIS"], by="region")


def test_single_series_contract():
    y = weekly(np.random.default_rng(1).poisson(3, 120))
    fc = cs.forecast(y, horizon=13)
    frame = fc.to_frame()
    assert isinstance(fc, cs.Forecast)
    assert frame.index.name == "week" and len(frame) == 13
    assert list(frame.columns[:8]) == ["mean", *QUANTILE_COLUMNS]
    assert frame.index[0] == y.index[-1] + pd.Timedelta(days=7)
    assert (np.diff(frame.index.to_numpy()) == np.timedelta64(7, "D")).all()
    assert "Forecast of" in fc.summary()


def test_panel_contract_by_region(sim_panel):
    fc = cs.forecast(sim_panel, horizon=6, by="region")
    frame = fc.to_frame()
    assert list(frame.columns) == ["region", "measure", "week", "mean", *QUANTILE_COLUMNS]
    assert len(frame) == 3 * 2 * 6
    assert set(frame["measure"]) == {"incidents", "fatalities_best"}
    # the data end on Monday 31 Dec 2018: that week holds 1 day of 7, so it is forecast, not read
    assert sim_panel.attrs["last_week_days"] == 1
    assert frame["week"].min() == sim_panel["week"].max()
    monthly = fc.monthly()
    assert list(monthly.columns[:11]) == ["region", "measure", "month", "mean", *QUANTILE_COLUMNS]
    assert isinstance(monthly["month"].iloc[0], pd.Timestamp)
    # the busy region forecasts more than the quiet one
    means = frame[frame["measure"] == "incidents"].groupby("region")["mean"].mean()
    assert means["Anbar"] > means["Ninawa"] > means["Basra"]
    assert "Month" in fc.summary()


def test_months_are_first_days_that_merge_with_a_monthly_table(sim_panel):
    """`monthly()` labels a month by its first day, as a table grouped with pd.Grouper(freq="MS")."""
    fc = cs.forecast(sim_panel[sim_panel["week"] < "2018-06-15"], horizon=8, by="region", paths=200)
    monthly = fc.monthly()
    assert (monthly["month"] == monthly["month"].dt.to_period("M").dt.start_time).all()
    actual = sim_panel.groupby(["region", pd.Grouper(key="week", freq="MS")])["incidents"].sum()
    actual = actual.rename_axis(["region", "month"]).rename("actual").reset_index()
    merged = monthly[monthly["measure"] == "incidents"].merge(actual, on=["region", "month"])
    assert sorted(merged["month"].dt.strftime("%Y-%m").unique()) == ["2018-06", "2018-07", "2018-08"]
    assert len(merged) == 3 * 3


def test_by_none_uses_the_group_columns_present(sim_panel):
    fc = cs.forecast(sim_panel, horizon=2)
    assert fc.by == ["region"]
    total = sim_panel.groupby("week", as_index=False)[["incidents", "fatalities_best"]].sum()
    assert cs.forecast(total, horizon=2).to_frame().columns[:3].tolist() == ["measure", "week", "mean"]
    anbar = sim_panel[sim_panel["region"] == "Anbar"].set_index("week")[["incidents", "fatalities_best"]]
    assert len(cs.forecast(anbar, horizon=2).to_frame()) == 4  # a week-indexed slice


def test_quantiles_are_monotone_integers_and_totals_add_up(sim_panel):
    fc = cs.forecast(sim_panel, horizon=13, by="region")
    for frame in (fc.to_frame(), fc.monthly()):
        values = frame[QUANTILE_COLUMNS].to_numpy()
        assert np.issubdtype(values.dtype, np.integer)
        assert (np.diff(values, axis=1) >= 0).all()
        assert (values >= 0).all()
    monthly = fc.monthly()
    weekly_frame = fc.to_frame()
    # a month's total mean = its forecast weeks' means + its observed weeks
    row = monthly[(monthly["region"] == "Anbar") & (monthly["measure"] == "incidents")].iloc[1]
    weeks = weekly_frame[(weekly_frame["region"] == "Anbar") & (weekly_frame["measure"] == "incidents")]
    in_month = (weeks["week"] + pd.Timedelta(days=3)).dt.to_period("M").dt.start_time == row["month"]
    assert row["mean"] == pytest.approx(weeks.loc[in_month, "mean"].sum())


@settings(max_examples=15, deadline=None)
@given(
    values=st.lists(st.integers(0, 500), min_size=8, max_size=60),
    horizon=st.integers(1, 8),
)
def test_any_count_series_gives_ordered_integer_quantiles(values, horizon):
    frame = cs.forecast(np.array(values), horizon=horizon, paths=200).to_frame()
    quantiles = frame[QUANTILE_COLUMNS].to_numpy()
    assert len(frame) == horizon
    assert (np.diff(quantiles, axis=1) >= 0).all() and (quantiles >= 0).all()
    assert np.isfinite(frame["mean"]).all()


@settings(max_examples=15, deadline=None)
@given(
    weeks=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 60), st.integers(0, 40)), min_size=8, max_size=60
    ),
    massacre=st.sampled_from([0, 1, 5000]),
)
def test_any_incidents_and_deaths_give_a_sane_compound_forecast(weeks, massacre):
    """Deaths only in weeks with incidents, any sizes, a massacre or not: ordered integer quantiles,
    finite means, a proper distribution, no deaths in a path's week without incidents."""
    incidents = np.array([n for n, _, _ in weeks], dtype=float)
    deaths = np.array([f if n else 0 for n, f, _ in weeks], dtype=float)
    incidents[-1], deaths[-1] = incidents[-1] + 1, deaths[-1] + massacre
    panel = pd.DataFrame({"week": weekly(incidents).index, "incidents": incidents, "fatalities_best": deaths})
    fc = cs.forecast(panel, horizon=4, paths=200, seed=weeks[0][2])
    frame = fc.to_frame()
    quantiles = frame[QUANTILE_COLUMNS].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all() and (quantiles >= 0).all()
    assert np.isfinite(frame["mean"]).all()
    n, dist = fc.distribution("incidents").samples, fc.distribution("fatalities_best")
    assert (dist.samples[n == 0] == 0).all()
    assert np.allclose(dist.cdf(10**9), 1.0) and (dist.mean >= 0).all()


def test_calibration_on_simulated_stationary_series():
    """Many short (2-year) NB series with dependence: randomised PIT of the next 13 weeks is
    roughly uniform and the 50/80/95% randomised coverage is within 6 points."""
    rng = np.random.default_rng(2024)
    pits = []
    for run in range(60):
        mean, dispersion = [(3.0, 0.3), (0.7, 1.0), (8.0, 0.1)][run % 3]
        latent = np.exp(np.convolve(rng.normal(0, 0.3, 130), 0.7 ** np.arange(12))[:117] - 0.1)
        y = rng.poisson(rng.gamma(1 / dispersion, dispersion * mean * latent))
        dist = cs.forecast(y[:104], horizon=13, paths=500, seed=run).distribution()
        actual = y[104:]
        below, at = dist.cdf(actual - 1), dist.cdf(actual)
        pits.append(below + rng.uniform(size=13) * (at - below))
    pit = np.concatenate(pits)
    for level in (0.5, 0.8, 0.95):
        inside = np.mean(np.abs(pit - 0.5) <= level / 2)
        assert abs(inside - level) <= 0.06, (level, inside)
    counts = np.histogram(pit, bins=5, range=(0, 1))[0] / len(pit)
    assert counts.min() > 0.13 and counts.max() < 0.27


def test_no_look_ahead():
    y = np.random.default_rng(5).poisson(2, 150)
    before = cs.forecast(weekly(y[:100]), seed=1).to_frame()
    changed = y.copy()
    changed[100:] = 1000
    after = cs.forecast(weekly(changed[:100]), seed=1).to_frame()
    pd.testing.assert_frame_equal(before, after)
    # the panel path: later weeks of a panel never reach a forecast made from its first weeks
    panel = pd.DataFrame({"week": weekly(y).index, "incidents": y, "fatalities_best": 2 * y})
    cut = panel[panel["week"] <= panel["week"].iloc[99]]
    spiked = panel.assign(fatalities_best=np.where(panel.index >= 100, 10**6, panel["fatalities_best"]))
    a = cs.forecast(cut, seed=1).to_frame()
    b = cs.forecast(spiked[spiked["week"] <= panel["week"].iloc[99]], seed=1).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_recent_level_matters_at_short_horizons_and_fades():
    rng = np.random.default_rng(8)
    y = np.r_[rng.poisson(2, 150), rng.poisson(12, 6)]
    frame = cs.forecast(y, horizon=52).to_frame()
    assert frame["mean"].iloc[0] > 6  # follows the recent surge
    assert frame["mean"].iloc[-1] < frame["mean"].iloc[0]  # and reverts towards the history


def test_fatalities_are_zero_without_incidents_and_heavy_tailed():
    rng = np.random.default_rng(9)
    incidents = rng.poisson(1.0, 200)
    deaths = np.array([rng.negative_binomial(0.3 * n, 0.3 / 2.3) if n else 0 for n in incidents])
    panel = pd.DataFrame({"week": weekly(incidents).index, "incidents": incidents, "fatalities_best": deaths})
    fc = cs.forecast(panel, horizon=4)
    n = fc.distribution("incidents").samples
    f = fc.distribution("fatalities_best").samples
    assert (f[n == 0] == 0).all()
    assert np.quantile(f[:, 0], 0.975) > 3 * max(np.median(f[:, 0]), 1)


def test_unknown_fatalities_and_a_series_of_zeros():
    rng = np.random.default_rng(10)
    incidents = rng.poisson(2, 80).astype(float)
    deaths = incidents * 3
    deaths[[5, 40, 79]] = np.nan
    panel = pd.DataFrame(
        {"week": weekly(incidents).index, "region": "A", "incidents": incidents, "fatalities_best": deaths}
    )
    quiet = panel.assign(region="B", incidents=0.0, fatalities_best=0.0)
    frame = cs.forecast(pd.concat([panel, quiet]), horizon=3).to_frame()
    assert frame[frame["region"] == "A"]["mean"].notna().all()
    zeros = frame[frame["region"] == "B"]
    assert (zeros["q0.5"] == 0).all() and (zeros["mean"] > 0).all() and (zeros["mean"] < 0.1).all()
    nullable = pd.Series(deaths, index=weekly(deaths).index, dtype="Float64")  # NaN -> <NA>, as the report
    assert nullable.isna().sum() == 3
    assert len(cs.forecast(nullable, horizon=2).to_frame()) == 2


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ([1, 2, 3], {}, "at least 8"),
        ([1, 2, -3, 4, 5, 6, 7, 8, 9], {}, "negative"),
        (np.ones((10, 2)), {}, "one-dimensional"),
        (["a"] * 10, {}, "numbers"),
        ([1] * 20, {"horizon": 0}, "horizon"),
        ([1] * 20, {"horizon": 2.5}, "horizon"),
        (pd.Series([1] * 10, index=pd.to_datetime(["2020-01-06"] * 10)), {}, "7 days apart"),
    ],
)
def test_bad_input_raises_forecast_error(data, kwargs, message):
    with pytest.raises(ForecastError, match=message):
        cs.forecast(data, **kwargs)


def test_bad_panel_raises_forecast_error(sim_panel):
    with pytest.raises(ForecastError, match="no column 'deaths'"):
        cs.forecast(sim_panel, measures=("deaths",))
    with pytest.raises(ForecastError, match="no column 'actor'"):
        cs.forecast(sim_panel, by="actor")
    with pytest.raises(ForecastError, match="week dates"):
        cs.forecast(sim_panel.drop(columns="week"))
    with pytest.raises(ForecastError, match="month totals"):
        cs.forecast(np.ones(20)).monthly()
    assert isinstance(ForecastError("x"), cs.errors.CasualtyStatsError)


def test_a_measure_known_only_where_it_is_zero_is_not_forecast_as_zero(sim_panel):
    # a source without injuries: unknown in every week with an incident, 0 in the others
    region = sim_panel[sim_panel["region"] == sim_panel["region"].iloc[0]].copy()
    region["injuries_best"] = np.where(region["incidents"] > 0, np.nan, 0.0)
    with pytest.raises(ForecastError, match="unknown in every week with incidents"):
        cs.forecast(region, measures=("injuries_best",))
    with pytest.raises(ForecastError, match="unknown in every week but those at 0"):
        cs.forecast(region.set_index("week")["injuries_best"])
    # fractional counts (spread=True panels) stay a documented quasi-likelihood input
    assert np.isfinite(cs.forecast(np.full(30, 2.5), horizon=2).to_frame()["mean"]).all()


def test_conf_int_is_the_central_interval_of_the_weekly_forecast(sim_panel):
    fc = cs.forecast(sim_panel, horizon=4, seed=5)
    wide = fc.to_frame()
    interval = fc.conf_int(0.2)
    assert list(interval.columns[-3:]) == ["mean", "lower", "upper"]
    assert interval["lower"].equals(wide["q0.1"]) and interval["upper"].equals(wide["q0.9"])
    one = cs.forecast(
        sim_panel[sim_panel["region"] == sim_panel["region"].iloc[0]].set_index("week")["incidents"]
    )
    assert one.conf_int().index.name == "week" and (one.conf_int()["lower"] <= one.conf_int()["upper"]).all()
    with pytest.raises(ForecastError, match="alpha"):
        fc.conf_int(1.5)


def test_reproducible_with_seed(sim_panel):
    a = cs.forecast(sim_panel, horizon=4, seed=3).to_frame()
    b = cs.forecast(sim_panel, horizon=4, seed=3).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_real_ucdp_iraq_governorates(ucdp_iraq_path):
    panel = cs.weekly_panel(cs.involving(cs.load_incidents(ucdp_iraq_path).incidents, "ISIS"), by="region")
    fc = cs.forecast(panel[panel["week"] < "2014-06-01"], horizon=13, by="region")
    frame = fc.to_frame()
    assert frame["region"].nunique() == panel["region"].nunique()
    assert frame[QUANTILE_COLUMNS].notna().all().all()
    nxt = fc.monthly()
    assert set(nxt["month"].dt.strftime("%Y-%m")) >= {"2014-06", "2014-07", "2014-08"}


def test_benchmark_scores_are_exact_and_agree():
    """benchmarks/forecast.py: the sample CRPS equals the CDF-sum CRPS of the same empirical
    distribution, and a point mass at 0 scores y."""
    bench = _benchmark()

    samples = np.random.default_rng(4).negative_binomial(2, 0.3, size=(300, 1))
    for y in (0.0, 3.0, 40.0):
        by_samples = bench.crps_from_samples(samples, np.array([y]))[0]
        assert by_samples == pytest.approx(bench.crps_from_cdf(bench.Empirical(samples[:, 0]), y))
    assert bench.crps_from_cdf(bench.PointZero(), 5.0) == 5.0
    poisson = bench.poisson_last4(np.array([2.0, 2.0, 2.0, 2.0]))
    assert bench.crps_from_cdf(poisson, 2.0) == pytest.approx(
        np.sum((poisson.cdf(np.arange(60)) - (np.arange(60) >= 2)) ** 2)
    )


def test_distribution_takes_one_count_for_every_week_or_one_per_week():
    dist = cs.forecast(np.r_[np.zeros(30), np.arange(30) % 5], horizon=4, paths=200, seed=1).distribution()
    assert dist.cdf(3) == pytest.approx(dist.cdf([3, 3, 3, 3]))
    assert dist.pmf(0) == pytest.approx(dist.pmf(np.zeros(4)))
    assert (dist.cdf(-1) == 0).all() and np.allclose(dist.cdf(10_000), 1)
    with pytest.raises(ForecastError, match="one per forecast week"):
        dist.cdf([0, 5, 10])


def _benchmark():
    """benchmarks/forecast.py as a module (its massacre case and scores)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import forecast as bench

    return bench


@pytest.mark.parametrize("seed", [0, 1])
def test_one_massacre_goes_to_the_upper_tail_not_to_the_median(seed):
    """One incident of 3,000 deaths in the last week of a stationary slice (about 22 deaths a week):
    next month's median and 80% range stay near those without it, and a month of 1,000 or more
    deaths (another massacre) keeps real probability. (The discounted mean deaths per incident
    made the median 20 times larger.)"""
    bench = _benchmark()
    without, totals_without = bench.next_month_deaths(cs.forecast(bench.massacre_slice(seed), seed=seed))
    with_it, totals = bench.next_month_deaths(cs.forecast(bench.massacre_slice(seed, 3000), seed=seed))
    assert with_it["q0.5"] <= 1.3 * without["q0.5"]
    assert with_it["q0.9"] <= 1.5 * without["q0.9"] and with_it["q0.1"] <= 1.5 * without["q0.1"] + 1
    assert np.mean(totals >= 1000) >= 0.01 and np.mean(totals_without >= 1000) < 0.002
    assert with_it["mean"] > without["mean"]  # the massacre does raise the expected toll


def test_mixture_with_mass_casualty_incidents_agrees_with_its_samples():
    """The predictive distribution (shifted negative binomials per path) is a distribution, and its
    mean and CDF agree with the sample paths drawn from it."""
    bench = _benchmark()
    dist = cs.forecast(bench.massacre_slice(2, 3000), horizon=4, seed=2).distribution("fatalities_best")
    assert (dist.shift > 0).any()  # some paths hold a mass-casualty incident
    k = np.arange(20_000)
    pmf = np.array([dist.pmf(int(v)) for v in k[:400]])
    assert np.allclose(pmf.cumsum(axis=0)[-1], dist.cdf(399))
    assert np.allclose(dist.cdf(k[-1]), 1.0)
    assert dist.mean == pytest.approx(dist.samples.mean(axis=0), rel=0.15)
    for q in (20, 60, 200, 3000):
        assert dist.cdf(q) == pytest.approx(np.mean(dist.samples <= q, axis=0), abs=0.03)


def test_a_partly_covered_last_week_is_left_out_not_read_as_a_quiet_week():
    # three incidents a day for 30 weeks and 3 days: the data end on a Wednesday (GTD's
    # first half of 2021 ends on Wednesday 30 June), so the last week holds 3 days of 7
    days = pd.date_range("2021-01-04", "2021-08-04", freq="D")
    incidents = pd.DataFrame(
        {
            "date_start": days.repeat(3),
            "date_end": days.repeat(3),
            "fatalities_best": 1,
            "actor": "ISIS",
            "region": "Anbar",
        }
    )
    panel = cs.weekly_panel(incidents)
    assert panel.attrs["last_week_days"] == 3
    series = panel.set_index("week")["incidents"]  # a Series cut from the panel keeps its attrs
    result = cs.forecast(series, horizon=4)
    assert result.origin == panel["week"].iloc[-2]
    assert result.to_frame()["q0.5"].iloc[0] == pytest.approx(21, abs=4)  # a whole week's 21, not 9
    series.attrs = {}
    assert cs.forecast(series, horizon=4).origin == panel["week"].iloc[-1]  # without the attrs, as given


def _forecast_tables(fc) -> tuple:
    return fc.to_frame(), fc.monthly(), fc.models, fc.distributions


@pytest.mark.parametrize("measures", [("incidents", "fatalities_best"), ("fatalities_best", "incidents")])
def test_a_panel_fitted_on_two_cores_is_forecast_as_on_one(sim_panel, monkeypatch, measures):
    # the fits run in worker processes, the draws follow in the serial order: the same forecast
    # (a series of zeros, unknown deaths and either order of the measures included)
    import casualtystats.forecast as forecast_module

    quiet = sim_panel[sim_panel["region"] == "Anbar"].assign(region="Quiet", incidents=0, fatalities_best=0)
    panel = pd.concat([sim_panel, quiet], ignore_index=True)
    panel["fatalities_best"] = panel["fatalities_best"].astype("Float64")
    panel.loc[panel.index[::17], "fatalities_best"] = pd.NA
    calls = []

    def counted(function, *iterables):
        calls.append(len(iterables[0]))
        return map_series(function, *iterables)

    monkeypatch.setattr(forecast_module, "map_series", counted)
    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 2)
    parallel = _forecast_tables(cs.forecast(panel, horizon=6, measures=measures, seed=11))
    monkeypatch.setattr("casualtystats.parallel.available_workers", lambda: 1)
    serial = _forecast_tables(cs.forecast(panel, horizon=6, measures=measures, seed=11))
    assert calls == [4, 4]  # one fit per region, on two workers, then on one
    for got, want in zip(parallel[:3], serial[:3], strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert parallel[3].keys() == serial[3].keys()
    for key, want in serial[3].items():
        got = parallel[3][key]
        for part in ("size", "prob", "samples", "shift"):
            np.testing.assert_array_equal(getattr(got, part), getattr(want, part))


def test_the_first_series_that_cannot_be_forecast_is_named_on_two_cores_as_on_one(sim_panel, monkeypatch):
    # two regions fail, for different reasons: the error is the first region's, as in the serial loop
    panel = sim_panel.copy()
    panel["fatalities_best"] = panel["fatalities_best"].astype("Float64")
    unknown = (panel["region"] == "Basra") & (panel["incidents"] > 0)
    panel.loc[unknown, "fatalities_best"] = pd.NA
    short = panel[panel["region"] == "Ninawa"].iloc[:3]
    panel = pd.concat([panel[panel["region"] != "Ninawa"], short], ignore_index=True)
    messages = []
    for workers in (2, 1):
        monkeypatch.setattr("casualtystats.parallel.available_workers", lambda n=workers: n)
        with pytest.raises(ForecastError) as raised:
            cs.forecast(panel, horizon=3)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "Basra" in messages[0] and "unknown in every week with incidents" in messages[0]
