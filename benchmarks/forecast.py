"""Rolling-origin backtest of `casualtystats.forecast` against four baselines.

At every origin (every 4 weeks), each series is cut at the origin week, every
method forecasts the next 1-13 weeks from that past only, and each forecast is
scored against what happened:

- CRPS, exact for discrete distributions: sum over k of (F(k) - 1{y <= k})^2
  (for the model's sample paths this is the CRPS of their empirical distribution);
- log score: -log P(Y = y) (the model's P is its mixture of negative binomials;
  an outcome given probability 0 is scored at -log 1e-6 and counted);
- coverage of the central 50/80/95% intervals [q(a/2), q(1-a/2)] (integers; for
  small counts they cover more than nominal), beside their content (the probability
  the forecast itself gives the interval, which a calibrated forecast's coverage
  matches) and the randomised coverage, the share of randomised PIT values inside
  [a/2, 1-a/2], which is nominal for a calibrated forecast;
- the briefing's outlook: coverage of the model's 50/80/95% ranges for the total of
  the first calendar month wholly after the origin (`Forecast.monthly()`);
- randomised PIT histograms (10 bins; flat = calibrated).

Baselines (written here): always zero; Poisson with the mean of the last 4 weeks;
"conflictology" (VIEWS prediction challenge): the empirical distribution of the
series' last 52 weeks; an NB GLM without trend (the mean of all past weeks,
dispersion by maximum likelihood).

Data: (1) UCDP GED Iraq (../shared), ISIS-involved events, weekly per governorate,
forecasts of weeks in 2008-2018 from all data before each origin (from 2004);
(2) simulated governorates (`simulate_incidents`) with declines and resurgences at
dates the model is not told. (What the outlook adds to the report's time is measured in
benchmarks/report.py.) Massacre (issue 11): next month's
fatalities of a stationary slice with and without one incident of 3,000 deaths.

    .venv/bin/python benchmarks/forecast.py [--quick] [--only ucdp|simulated|massacre ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

import casualtystats as cs
from casualtystats.forecast import week_month

ROOT = Path(__file__).resolve().parents[1]
UCDP_IRAQ = ROOT.parent / "shared" / "data" / "raw" / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"
HORIZON = 13
STEP = 4
LEVELS = (0.5, 0.8, 0.95)
MEASURES = ("incidents", "fatalities_best")
FLOOR = 1e-6
PARTS = ("ucdp", "simulated", "massacre")
METHODS = ("model", "zero", "last4 Poisson", "conflictology", "NB no trend")


# --- baselines: each gives cdf(k), pmf(k) and quantile(q) of one week's count -------------------


class PointZero:
    def cdf(self, k):
        return (np.asarray(k) >= 0).astype(float)

    def pmf(self, k):
        return (np.asarray(k) == 0).astype(float)

    def quantile(self, q):
        return 0


class Scipy:
    """A frozen scipy discrete distribution (Poisson or NB)."""

    def __init__(self, frozen):
        self.frozen = frozen

    def cdf(self, k):
        return self.frozen.cdf(k)

    def pmf(self, k):
        return self.frozen.pmf(k)

    def quantile(self, q):
        return self.frozen.ppf(q)


class Empirical:
    def __init__(self, values):
        self.values = np.sort(np.asarray(values, dtype=float))

    def cdf(self, k):
        return np.searchsorted(self.values, np.floor(k), side="right") / len(self.values)

    def pmf(self, k):
        return self.cdf(k) - self.cdf(np.asarray(k) - 1)

    def quantile(self, q):
        return self.values[max(int(np.ceil(q * len(self.values))) - 1, 0)]


def poisson_last4(history):
    rate = history[-4:].mean()
    return Scipy(stats.poisson(rate)) if rate > 0 else PointZero()


def conflictology(history):
    return Empirical(history[-52:])


def nb_no_trend(history):
    mean = history.mean()
    if mean == 0:
        return PointZero()

    def negative_loglik(log_size):
        size = np.exp(log_size)
        return -stats.nbinom.logpmf(history, size, size / (size + mean)).sum()

    size = np.exp(optimize.minimize_scalar(negative_loglik, bounds=(-6, 10), method="bounded").x)
    return Scipy(stats.nbinom(size, size / (size + mean)))


BASELINES = {
    "zero": lambda h: PointZero(),
    "last4 Poisson": poisson_last4,
    "conflictology": conflictology,
    "NB no trend": nb_no_trend,
}


# --- scores -------------------------------------------------------------------------------------


def crps_from_cdf(dist, y) -> np.ndarray:
    """Exact CRPS of a distribution on 0, 1, 2, ... for each outcome in y:
    sum_k (F(k) - 1{y <= k})^2, summed until F = 1."""
    y = np.asarray(y, dtype=float)
    top = int(max(np.max(y), dist.quantile(1 - 1e-10))) + 1
    k = np.arange(top + 1)
    cdf = dist.cdf(k)
    return np.sum((cdf - (y[..., None] <= k)) ** 2, axis=-1)


def crps_from_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact CRPS of the empirical distribution of samples (paths x weeks) for each week."""
    x = np.sort(samples, axis=0).astype(float)
    m = x.shape[0]
    weights = (2 * np.arange(1, m + 1) - m - 1)[:, None]
    return np.mean(np.abs(x - y[None, :]), axis=0) - np.sum(weights * x, axis=0) / m**2


def randomised_pit(cdf_y, cdf_below, rng):
    return cdf_below + rng.uniform(size=np.shape(cdf_y)) * (cdf_y - cdf_below)


def score_rows(panel: pd.DataFrame, first_target, last_target, rng) -> pd.DataFrame:
    """Backtest every series of `panel` (weekly, by region): one row per origin, region,
    measure, horizon and method."""
    weeks = np.sort(panel["week"].unique())
    first_origin = np.searchsorted(weeks, np.datetime64(first_target)) - 1
    last = np.searchsorted(weeks, np.datetime64(last_target), side="right") - 1
    by_region = {r: g.set_index("week").sort_index() for r, g in panel.groupby("region", observed=True)}
    months = pd.Series(week_month(weeks), index=weeks)
    blocks, month_rows = [], []
    for origin in range(first_origin, last, STEP):
        cut = weeks[origin]
        targets = weeks[origin + 1 : min(origin + HORIZON, last) + 1]
        fc = cs.forecast(panel[panel["week"] <= cut], HORIZON, by="region", measures=MEASURES, seed=origin)
        month_rows.append(next_month_rows(fc, by_region, months[months.index <= weeks[last]], rng))
        for region, series in by_region.items():
            for measure in MEASURES:
                history = series.loc[:cut, measure].to_numpy(dtype=float)
                actual = series.loc[targets, measure].to_numpy(dtype=float)
                horizon = np.arange(1, len(actual) + 1)[~np.isnan(actual)]
                y = actual[~np.isnan(actual)]
                if not len(y):
                    continue
                label = dict(region=region, measure=measure, origin=cut, horizon=horizon, y=y)
                # the model: its mixture for log score and PIT, its samples for CRPS and intervals
                dist = fc.distribution(measure, region=region)
                padded = _pad(y, horizon)
                at, below = dist.cdf(padded)[horizon - 1], dist.cdf(padded - 1)[horizon - 1]
                ordered = np.sort(dist.samples[:, horizon - 1], axis=0)
                intervals = {
                    lv: (_sample_quantile(ordered, (1 - lv) / 2), _sample_quantile(ordered, (1 + lv) / 2))
                    for lv in LEVELS
                }
                blocks.append(
                    _block(
                        {**label, "median": _sample_quantile(ordered, 0.5)},
                        "model",
                        crps_from_samples(ordered, y),
                        dist.pmf(padded)[horizon - 1],
                        randomised_pit(at, below, rng),
                        intervals,
                        lambda k, h=horizon, d=dist: d.cdf(_pad(k, h))[h - 1],
                    )
                )
                known = history[~np.isnan(history)]
                for name, make in BASELINES.items():
                    base = make(known)
                    intervals = {
                        lv: (base.quantile((1 - lv) / 2), base.quantile((1 + lv) / 2)) for lv in LEVELS
                    }
                    blocks.append(
                        _block(
                            {**label, "median": np.full(len(y), base.quantile(0.5))},
                            name,
                            crps_from_cdf(base, y),
                            base.pmf(y),
                            randomised_pit(base.cdf(y), base.cdf(y - 1), rng),
                            intervals,
                            base.cdf,
                        )
                    )
    return (
        pd.concat([pd.DataFrame(b) for b in blocks], ignore_index=True),
        pd.concat(month_rows, ignore_index=True),
    )


def next_month_rows(fc, by_region: dict, months: pd.Series, rng) -> pd.DataFrame:
    """The briefing's outlook scored: per region and measure, the model's ranges for the first
    calendar month wholly after the origin (`Forecast.monthly()`), their content and the
    randomised PIT of that month's actual total under the model's sample-path totals."""
    monthly = fc.monthly()
    ahead = monthly[(monthly["weeks_observed"] == 0) & monthly["complete"]]
    ahead = ahead[ahead["month"] == ahead["month"].min()]
    weeks_in = months[months == pd.Period(ahead["month"].min(), freq="M")].index
    if ahead.empty or len(weeks_in) != ahead["weeks_forecast"].iloc[0]:
        return pd.DataFrame()  # the month runs past the scored span
    in_month = np.asarray(fc.weeks.isin(weeks_in))
    rows = []
    for row in ahead.to_dict("records"):
        values = by_region[row["region"]][row["measure"]]
        values = values[values.index.isin(weeks_in)]
        if len(values) != len(weeks_in) or values.isna().any():
            continue
        y = values.sum()
        totals = fc.distribution(row["measure"], region=row["region"]).samples[:, in_month].sum(axis=1)
        scored = {"measure": row["measure"], "month": row["month"], "median": row["q0.5"]}
        scored["pit"] = randomised_pit(np.mean(totals <= y), np.mean(totals < y), rng)
        for lv in LEVELS:
            lo, hi = row[f"q{(1 - lv) / 2:g}"], row[f"q{(1 + lv) / 2:g}"]
            scored[f"cover{lv:g}"] = lo <= y <= hi
            scored[f"content{lv:g}"] = np.mean((lo <= totals) & (totals <= hi))
            scored[f"rcover{lv:g}"] = abs(scored["pit"] - 0.5) <= lv / 2
        rows.append(scored)
    return pd.DataFrame(rows)


def _pad(values: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """Values at the scored horizons as one value per forecast week (others 0)."""
    padded = np.zeros(HORIZON)
    padded[horizon - 1] = values
    return padded


def _sample_quantile(ordered: np.ndarray, q: float) -> np.ndarray:
    """Smallest sample value whose empirical CDF reaches q (as the package's quantiles)."""
    return ordered[max(int(np.ceil(q * len(ordered))) - 1, 0)]


def _block(label: dict, method: str, crps, p, pit, intervals, cdf) -> dict:
    y = label["y"]
    block = {
        **label,
        "method": method,
        "crps": crps,
        "log_score": -np.log(np.maximum(p, FLOOR)),
        "zero_prob": p <= 0,
        "pit": pit,
    }
    for level, (lo, hi) in intervals.items():
        block[f"cover{level:g}"] = (lo <= y) & (y <= hi)
        block[f"content{level:g}"] = cdf(hi) - cdf(lo - 1)
        block[f"rcover{level:g}"] = np.abs(pit - 0.5) <= level / 2
    return block


# --- reporting ----------------------------------------------------------------------------------


def print_scores(scores: pd.DataFrame, month_scores: pd.DataFrame, title: str) -> dict:
    print(f"\n## {title}: {(scores['method'] == 'model').sum():,} scored model forecasts")
    verdict = {}
    for measure in MEASURES:
        s = scores[scores["measure"] == measure]
        by_h = s.pivot_table(index="horizon", columns="method", values="crps", aggfunc="mean")[list(METHODS)]
        by_h.loc["mean"] = s.groupby("method")["crps"].mean()[list(METHODS)]
        print(f"\n{measure}: mean CRPS by horizon (lower is better)")
        print(by_h.to_string(float_format=lambda v: f"{v:.3f}"))
        baselines = by_h[list(METHODS[1:])]
        beat_1_4 = (by_h.loc[1:4, "model"] < baselines.loc[1:4].min(axis=1)).all()
        ok_5_13 = (by_h.loc[5:13, "model"] <= baselines.loc[5:13].min(axis=1)).all()
        lowest = by_h.loc["mean", "model"] < baselines.loc["mean"].min()
        ls = s.groupby("method")[["log_score", "zero_prob"]].mean().loc[list(METHODS)]
        kinds = ("cover", "content", "rcover")
        cover = s.groupby("method")[[f"{k}{lv:g}" for k in kinds for lv in LEVELS]].mean()
        table = pd.concat([ls, cover.loc[list(METHODS)]], axis=1)
        print(
            f"\n{measure}: log score (mean -log p, p floored at {FLOOR:g}; zero_prob = share of outcomes "
            "given probability 0); weekly interval coverage (integer quantile intervals), their content "
            "(the probability the forecast gives them; calibrated = coverage) and randomised coverage"
        )
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        model = cover.loc["model"]
        within = all(abs(model[f"cover{lv:g}"] - lv) <= 0.05 for lv in LEVELS)
        within_content = all(abs(model[f"cover{lv:g}"] - model[f"content{lv:g}"]) <= 0.05 for lv in LEVELS)
        within_r = all(abs(model[f"rcover{lv:g}"] - lv) <= 0.05 for lv in LEVELS)
        monthly = month_scores[month_scores["measure"] == measure]
        month_cover = monthly[[f"{k}{lv:g}" for k in kinds for lv in LEVELS]].astype(float).mean()
        within_month = all(abs(month_cover[f"cover{lv:g}"] - lv) <= 0.05 for lv in LEVELS)
        within_month_r = all(abs(month_cover[f"rcover{lv:g}"] - lv) <= 0.05 for lv in LEVELS)
        print(
            f"\n{measure}: the briefing's outlook, the model's ranges for the total of the first month wholly "
            f"after the origin ({len(monthly):,} region-months): coverage, content, randomised coverage"
        )
        print(month_cover.to_frame("model").T.to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"\n{measure}: the outlook's month ranges by the forecast's median")
        print(
            coverage_by_size(
                monthly.astype({c: float for c in monthly if c.startswith(("cover", "content"))})
            ).to_string(float_format=lambda v: f"{v:.3f}")
        )
        print(
            f"\n{measure}: the model's weekly coverage by the forecast's median (integer ranges can only "
            "approach nominal where counts are not small)"
        )
        print(coverage_by_size(s[s["method"] == "model"]).to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"\n{measure}: randomised PIT histogram of the model (10 bins, share x 100; flat = 10 each)")
        print(pit_histogram(s.loc[s["method"] == "model", "pit"].to_numpy()))
        print(f"\n{measure}: randomised PIT histogram of the model's month totals")
        print(pit_histogram(monthly["pit"].to_numpy()))
        verdict[measure] = dict(
            lowest_mean=lowest,
            beats_1_4=beat_1_4,
            no_worse_5_13=ok_5_13,
            weekly_coverage_within_5=within,
            weekly_coverage_within_5_of_content=within_content,
            randomised_coverage_within_5=within_r,
            monthly_coverage_within_5=within_month,
            monthly_randomised_coverage_within_5=within_month_r,
        )
    print("\nGoals:", pd.DataFrame(verdict).to_string())
    return verdict


#: Bands of the forecast's median for `coverage_by_size`.
SIZE_BANDS = (0, 1, 5, 20, np.inf)


def coverage_by_size(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage and content of the 50/80/95% ranges by band of the forecast's median: where counts are
    small an integer range holds more than its level (a range of 0-0 already holds P(0))."""
    band = pd.cut(rows["median"], SIZE_BANDS, right=False)
    columns = [f"{k}{lv:g}" for k in ("cover", "content") for lv in LEVELS]
    table = rows.groupby(band, observed=True)[columns].mean()
    table.insert(0, "forecasts", rows.groupby(band, observed=True).size())
    table.index = [
        f"median {b.left:g}-{b.right - 1:g}" if np.isfinite(b.right) else f"median >= {b.left:g}"
        for b in table.index
    ]
    return table


def pit_histogram(pit: np.ndarray, bins: int = 10) -> str:
    counts, edges = np.histogram(pit, bins=bins, range=(0, 1))
    share = counts / max(counts.sum(), 1)
    return "\n".join(
        f"  {lo:.1f}-{hi:.1f} {100 * v:5.1f} {'#' * int(round(400 * v / bins))}"
        for lo, hi, v in zip(edges[:-1], edges[1:], share, strict=True)
    )


# --- data sets ----------------------------------------------------------------------------------


def ucdp_panel() -> pd.DataFrame:
    incidents = cs.load_incidents(UCDP_IRAQ).incidents
    return cs.weekly_panel(cs.involving(incidents, "ISIS"), by="region")


def simulated_panel(seed: int = 11) -> pd.DataFrame:
    """Ten governorates at 0.2 .. 8 incidents a week with declines and resurgences (dates the
    model is not told), the simulator's default overdispersion and heavy-tailed fatalities."""
    rates = {
        "Anbar": 8.0,
        "Ninawa": 5.0,
        "Baghdad": 3.0,
        "Diyala": 2.0,
        "Kirkuk": 1.0,
        "Salah al-Din": 1.5,
        "Babil": 0.5,
        "Erbil": 0.3,
        "Basra": 0.2,
        "Wasit": 0.8,
    }
    changes = [
        {"actor": "ISIS", "region": "Anbar", "date": "2010-06-01", "ratio": 0.3},
        {"actor": "ISIS", "region": "Anbar", "date": "2014-01-01", "ratio": 4.0},
        {"actor": "ISIS", "region": "Anbar", "date": "2017-06-01", "ratio": 0.2},
        {"actor": "ISIS", "region": "Ninawa", "date": "2014-06-01", "ratio": 3.0},
        {"actor": "ISIS", "region": "Ninawa", "date": "2017-07-01", "ratio": 0.1},
        {"actor": "ISIS", "region": "Baghdad", "date": "2012-03-01", "ratio": 2.0},
        {"actor": "ISIS", "region": "Diyala", "date": "2016-01-01", "ratio": 0.5},
        {"actor": "ISIS", "region": "Kirkuk", "date": "2013-09-01", "ratio": 3.0},
        {"actor": "ISIS", "region": "Babil", "date": "2015-01-01", "ratio": 0.25},
    ]
    sim = cs.simulate_incidents(
        regions=list(rates),
        actors={"ISIS": rates},
        start="2004-01-01",
        end="2018-12-31",
        change_points=changes,
        seed=seed,
    )
    return cs.weekly_panel(sim.incidents[sim.incidents["actor"] == "ISIS"], by="region")


# --- one massacre ------------------------------------------------------------------------------


def massacre_slice(seed: int, deaths: int = 0, weeks_before_end: int = 1, weeks: int = 260) -> pd.DataFrame:
    """A stationary weekly slice: NB incidents (mean 3 a week, size 1), each killing
    round(lognormal(1.3, 1.2)) (about 7.5 on average, 22 a week); with `deaths`, one more incident
    killing that many, `weeks_before_end` weeks before the end (1 = the last week)."""
    rng = np.random.default_rng(seed)
    incidents = rng.negative_binomial(1, 1 / 4, weeks).astype(float)
    killed = np.array([np.round(rng.lognormal(1.3, 1.2, int(k))).sum() for k in incidents])
    if deaths:
        incidents[-weeks_before_end] += 1
        killed[-weeks_before_end] += deaths
    index = pd.date_range("2019-01-07", periods=weeks, freq="7D", name="week")
    return pd.DataFrame({"incidents": incidents, "fatalities_best": killed}, index=index)


def next_month_deaths(fc) -> tuple[pd.Series, np.ndarray]:
    """The forecast's first calendar month wholly after the origin: its fatalities row of
    `Forecast.monthly()` and the month totals of the sample paths."""
    monthly = fc.monthly()
    row = monthly[(monthly["measure"] == "fatalities_best") & (monthly["weeks_observed"] == 0)]
    row = row[row["complete"]].iloc[0]
    in_month = np.asarray(week_month(fc.weeks) == pd.Period(row["month"], freq="M"))
    return row, fc.distribution("fatalities_best").samples[:, in_month].sum(axis=1)


def massacre(seeds=range(5), deaths: int = 3000) -> pd.DataFrame:
    """Next month's fatalities forecast of `massacre_slice` without and with one incident of
    `deaths`, 1 to 26 weeks before the end: median over seeds of the month's quantiles, mean and
    probability of 1,000 or more deaths."""
    rows = []
    for lag in (None, 1, 5, 13, 26):
        for seed in seeds:
            data = massacre_slice(seed, deaths if lag else 0, lag or 1)
            row, totals = next_month_deaths(cs.forecast(data, horizon=13, seed=seed))
            quantiles = {q: row[q] for q in ("q0.1", "q0.5", "q0.9", "q0.975")}
            case = "without" if lag is None else f"{deaths:,} killed {lag} wk before the end"
            rows.append(
                {"case": case, **quantiles, "mean": row["mean"], "P(>=1000)": np.mean(totals >= 1000)}
            )
    table = pd.DataFrame(rows).groupby("case", sort=False).median()
    print(f"\n# One massacre: next month's fatalities (median over {len(seeds)} seeds; ~95 expected without)")
    print(table.to_string(formatters={"P(>=1000)": "{:.3f}".format}, float_format=lambda v: f"{v:,.0f}"))
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer origins (every 12th week, 2012-2016)")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only these parts (repeatable; default all)"
    )
    args = parser.parse_args(argv)
    parts = args.only or PARTS
    global STEP
    span = ("2012-01-01", "2016-12-31") if args.quick else ("2008-01-01", "2018-12-31")
    STEP = 12 if args.quick else STEP
    rng = np.random.default_rng(7)
    if not UCDP_IRAQ.exists():
        print(f"UCDP GED Iraq skipped: {UCDP_IRAQ} absent")
    if "ucdp" in parts and UCDP_IRAQ.exists():
        began = time.perf_counter()
        scores, month_scores = score_rows(ucdp_panel(), *span, rng)
        title = f"UCDP GED Iraq, ISIS, per governorate, {span[0][:4]}-{span[1][:4]}"
        print_scores(scores, month_scores, f"{title} ({time.perf_counter() - began:.0f} s)")
    if "massacre" in parts:
        massacre()
    if "simulated" in parts:
        began = time.perf_counter()
        scores, month_scores = score_rows(simulated_panel(), *span, rng)
        title = f"Simulated governorates, {span[0][:4]}-{span[1][:4]}"
        print_scores(scores, month_scores, f"{title} ({time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
