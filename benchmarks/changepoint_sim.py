"""Change points on simulated casualty series: the default against the old one.

Weekly series of n = 260 weeks. Incidents per week are Poisson with rate
lambda (1, 3 or 10) times exp(x_w), x_w = 0 ("independent") or a latent AR(1)
log-rate with persistence phi and marginal sd 0.6 (mean-corrected, so lambda
stays the mean). Deaths per incident are round(lognormal(1.3, 1.2)), as in
UCDP. A change at week 156 multiplies the incident rate ("freq") or each
incident's deaths ("sev") by 1.5, 2 or 3. "+agg" adds one week holding one
aggregated report of 3,000 deaths (a year-long event put on its start week)
at a uniformly drawn week. "seasonal" multiplies the incident rate by an annual
fighting season exp(sin(2 pi t / 52.18)) (peak / trough 7.4, mean 1). No method is told the rates, the dispersion, the
dependence or the change date.

Columns: the share of series with a change found within 8 weeks of the true
one ("detect"), or with any change at all on no-change series ("false pos"):
- old: the previous default on the fatalities series (cost "auto" = negative
  binomial with one size from neighbouring-pair moments, or Poisson when the
  pair variance is <= 1.5 x mean; MBIC x the lag-1 AR(1) factor, 2 rounds),
  reproduced here with explicit settings;
- series: today's default on the fatalities series (Series input);
- freqsev: the panel slice (DataFrame with incidents and fatalities_best) with
  cost "freqsev" (incidents NB; deaths given incidents compound NB: the mean
  deaths per incident), the previous default for panel slices;
- casualty: today's default on the panel slice (cost "auto" = "freqsev_log":
  freqsev plus the log of deaths per incident).

Also printed: the audit's aggregated-report case (item 2), the long-run
variance factor against its true value (item 4), what the data hold about a
severity doubling (the log-severity part alone, no penalty, told there is one
change: how often its best date is within 8 weeks, its mean gain at the true
date against the penalty of a change there), the coverage of the 95% sets of
found changes' dates (`location_intervals`), and with --bocpd the BOCPD
calibration and power (item 6).

Run: .venv/bin/python benchmarks/changepoint_sim.py [--reps 100] [--bocpd-reps 200]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from scipy.special import i0

from casualtystats.changepoints import bocpd, detect_change_points
from casualtystats.changepoints.bocpd import hazard_only
from casualtystats.changepoints.costs import FrequencyLogSeverity, NegBin, Poisson
from casualtystats.changepoints.detect import residuals
from casualtystats.changepoints.detection.pelt import pelt
from casualtystats.changepoints.penalties import dependence_factor

N_WEEKS = 260
CHANGE_AT = 156
TOLERANCE = 8  # weeks between a found change and the true one
LOG_MEAN, LOG_SD = 1.3, 1.2  # deaths per incident (UCDP)
LATENT_SD = 0.6
AGGREGATED_DEATHS = 3000
BASELINES = (1.0, 3.0, 10.0)
WEEKS_PER_YEAR = 365.25 / 7
SEASON_AMPLITUDE = 1.0  # log-amplitude of the fighting season (peak / trough e^2 = 7.4)


def latent(rng, n: int, phi: float) -> np.ndarray:
    """exp of a stationary AR(1) with persistence phi and marginal sd LATENT_SD, mean 1."""
    if phi <= 0:
        return np.ones(n)
    x = np.empty(n)
    x[0] = rng.normal(0, LATENT_SD)
    innovation_sd = LATENT_SD * math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal(0, innovation_sd)
    return np.exp(x - LATENT_SD**2 / 2)


def seasonal(n: int, amplitude: float) -> np.ndarray:
    """An annual fighting season exp(amplitude sin(2 pi t / 52.18)), mean 1 over a year."""
    return np.exp(amplitude * np.sin(2 * np.pi * np.arange(n) / WEEKS_PER_YEAR)) / i0(amplitude)


def simulate(
    rng,
    rate: float,
    *,
    freq=1.0,
    sev=1.0,
    phi=0.0,
    aggregated=False,
    season=0.0,
    n=N_WEEKS,
    change_at=CHANGE_AT,
):
    """A weekly panel slice: DataFrame with incidents and fatalities_best, indexed by week."""
    lam = np.where(np.arange(n) < change_at, rate, rate * freq) * latent(rng, n, phi) * seasonal(n, season)
    incidents = rng.poisson(lam)
    mult = np.where(np.arange(n) < change_at, 1.0, sev)
    deaths = np.array(
        [np.round(rng.lognormal(LOG_MEAN, LOG_SD, k) * m).sum() for k, m in zip(incidents, mult, strict=True)]
    )
    if aggregated:
        week = int(rng.integers(5, n - 5))
        incidents[week] += 1
        deaths[week] += AGGREGATED_DEATHS
    weeks = pd.date_range("2014-01-06", periods=n, freq="W-MON")
    return pd.DataFrame({"incidents": incidents, "fatalities_best": deaths.astype(int)}, index=weeks)


# --- the previous default, kept here only to compare against ---


def local_dispersion(y: np.ndarray) -> tuple[float, float]:
    """The old rule: dispersion index and NB size from neighbouring-pair moments."""
    y = np.asarray(y, dtype=float)
    if y.size < 3 or y.sum() <= 0:
        return 1.0, math.inf
    half_sq = np.diff(y) ** 2 / 2.0
    pair_mean = (y[1:] + y[:-1]) / 2.0
    index = float(half_sq.sum() / max(pair_mean.sum(), 1e-12))
    excess = float(half_sq.sum() - pair_mean.sum())
    if excess <= 0:
        return index, math.inf
    mu2 = float((pair_mean**2 - half_sq / 2.0).sum())
    mu2 = max(mu2, pair_mean.size * float(pair_mean.mean()) ** 2)
    return index, mu2 / excess


def old_default(y: np.ndarray) -> list[int]:
    index, size = local_dispersion(y)
    model = NegBin(size=min(max(size, 1e-3), 1e8)) if index > 1.5 else Poisson()
    model.fit(y)
    model.set_weights([1.0])
    n = y.size
    pen, weight = 2 * math.log(n), 1.0  # MBIC with one parameter per segment
    cuts, _ = pelt(model, pen, 2, weight)
    for _ in range(2):
        factor = dependence_factor(residuals(model, cuts)) / (pen / (2 * math.log(n)))
        pen, weight = pen * factor, weight * factor
        cuts, _ = pelt(model, pen, 2, weight)
    return list(cuts)


# --- the grid ---

SCENARIOS = [
    ("no change, independent", {}),
    ("no change, AR(1) phi 0.5", {"phi": 0.5}),
    ("no change, AR(1) phi 0.8", {"phi": 0.8}),
    ("no change +agg", {"aggregated": True}),
    ("freq x1.5", {"freq": 1.5}),
    ("freq x2", {"freq": 2.0}),
    ("freq x3", {"freq": 3.0}),
    ("sev x1.5", {"sev": 1.5}),
    ("sev x2", {"sev": 2.0}),
    ("sev x3", {"sev": 3.0}),
    ("freq x2 +agg", {"freq": 2.0, "aggregated": True}),
    ("no change, seasonal", {"season": SEASON_AMPLITUDE}),
    ("freq x2, seasonal", {"freq": 2.0, "season": SEASON_AMPLITUDE}),
]


def found(locations, has_change: bool, n: int = N_WEEKS) -> bool:
    if not has_change:
        return len(locations) > 0
    return any(abs(c - CHANGE_AT) <= TOLERANCE for c in locations)


def grid_cell(rng, rate: float, spec: dict, reps: int) -> dict[str, float]:
    has_change = spec.get("freq", 1.0) != 1.0 or spec.get("sev", 1.0) != 1.0
    hits = {"old": 0, "series": 0, "freqsev": 0, "casualty": 0}
    for _ in range(reps):
        frame = simulate(rng, rate, **spec)
        deaths = frame["fatalities_best"]
        hits["old"] += found(old_default(deaths.to_numpy(dtype=float)), has_change)
        hits["series"] += found(detect_change_points(deaths).locations, has_change)
        hits["freqsev"] += found(detect_change_points(frame, cost="freqsev").locations, has_change)
        hits["casualty"] += found(detect_change_points(frame).locations, has_change)
    return {k: v / reps for k, v in hits.items()}


def run_grid(reps: int, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, spec in SCENARIOS:
        for rate in BASELINES:
            cell = grid_cell(rng, rate, spec, reps)
            kind = "false pos" if name.startswith("no change") else "detect"
            rows.append({"scenario": name, "incidents/wk": rate, "share": kind, **cell})
    return pd.DataFrame(rows)


# --- item 2: one aggregated report, the audit's case ---


def aggregated_case(reps: int, seed: int = 7) -> pd.DataFrame:
    """NB(mean 10 -> 20 at week 156, size 3.5) weekly deaths, with and without one
    week of 3,000: the old size estimate and detection against today's."""
    rng = np.random.default_rng(seed)
    rows = []
    for agg in (False, True):
        old_size, new_size, old_hit, new_hit = [], [], 0, 0
        for _ in range(reps):
            mu = np.where(np.arange(N_WEEKS) < CHANGE_AT, 10.0, 20.0)
            y = rng.negative_binomial(3.5, 3.5 / (3.5 + mu)).astype(float)
            if agg:
                y[int(rng.integers(5, N_WEEKS - 5))] += AGGREGATED_DEATHS
            old_size.append(local_dispersion(y)[1])
            cp = detect_change_points(y)
            new_size.append(cp.cost_model.size)
            old_hit += found(old_default(y), True)
            new_hit += found(cp.locations, True)
        rows.append(
            {
                "aggregated week": agg,
                "old size": np.median(old_size),
                "new size": np.median(new_size),
                "old detect": old_hit / reps,
                "new detect": new_hit / reps,
            }
        )
    return pd.DataFrame(rows)


# --- item 4: the long-run variance factor ---


def true_factor(rate: float, phi: float, lags: int = 400) -> float:
    """Long-run variance / variance of Poisson(rate exp(x)) counts, x the latent AR(1):
    cov_h = rate^2 (exp(s^2 phi^h) - 1), var = rate + rate^2 (exp(s^2) - 1)."""
    s2 = LATENT_SD**2
    var = rate + rate**2 * (math.exp(s2) - 1)
    cov = rate**2 * (np.exp(s2 * phi ** np.arange(1, lags)) - 1)
    return float((var + 2 * cov.sum()) / var)


def factor_case(reps: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for phi in (0.0, 0.5, 0.8):
        for rate in BASELINES:
            new, old, changes = [], [], []
            for _ in range(reps):
                incidents = simulate(rng, rate, phi=phi)["incidents"].to_numpy(dtype=float)
                cp = detect_change_points(incidents)
                new.append(cp.dependence[0])
                changes.append(cp.n_changes)
                old.append(dependence_factor(incidents - incidents.mean()))
            rows.append(
                {
                    "phi": phi,
                    "incidents/wk": rate,
                    "true factor": true_factor(rate, phi) if phi > 0 else 1.0,
                    "estimated (median)": np.median(new),
                    "old AR(1) factor": np.median(old),
                    "series with changes": np.mean(np.array(changes) > 0),
                }
            )
    return pd.DataFrame(rows)


# --- the severity doubling's ceiling: the log part alone, told there is one change ---


def severity_ceiling(reps: int, seed: int = 17) -> pd.DataFrame:
    """On "sev x2" series, the log-severity part of freqsev_log alone with no penalty: the share
    of series whose best single change date is within TOLERANCE weeks of the truth, and its mean
    gain (-2 log-likelihood) at the true date against the "auto" penalty of a change there,
    (2 + 1) log n + log(n_before n_after / n), n counting weeks ("gain > penalty": the share of
    series whose gain there beats it); "... informative" counts only the weeks with incidents,
    the only ones that inform the part (a variant tried and not adopted: see the README)."""
    rng = np.random.default_rng(seed)
    rows = []

    def penalty(before: int, n: int) -> float:
        return 3 * math.log(n) + math.log(before * (n - before) / n)

    for rate in BASELINES:
        near, gains, informative = 0, [], []
        for _ in range(reps):
            frame = simulate(rng, rate, sev=2.0)
            model = FrequencyLogSeverity().fit(frame.to_numpy(dtype=float))
            model.set_weights([math.inf, math.inf, 1.0])  # weight 1 / inf = 0: the log part only
            whole = model.error(0, N_WEEKS)
            gain = np.array(
                [whole - model.error(0, c) - model.error(c, N_WEEKS) for c in range(2, N_WEEKS - 1)]
            )
            near += abs(2 + int(np.argmax(gain)) - CHANGE_AT) <= TOLERANCE
            gains.append(gain[CHANGE_AT - 2])
            active = frame["incidents"].to_numpy() > 0
            informative.append(penalty(int(active[:CHANGE_AT].sum()), int(active.sum())))
        gains, informative = np.array(gains), np.array(informative)
        weeks = penalty(CHANGE_AT, N_WEEKS)
        rows.append(
            {
                "incidents/wk": rate,
                "best date within 8 wk": near / reps,
                "mean gain at true date": gains.mean(),
                "penalty of a change there": weeks,
                "gain > penalty": np.mean(gains > weeks),
                "penalty, informative": informative.mean(),
                "gain > it": np.mean(gains > informative),
            }
        )
    return pd.DataFrame(rows)


# --- when did it start? the 95% set of a found change's date ---


def date_sets(reps: int, seed: int = 19) -> pd.DataFrame:
    """Coverage of `location_intervals()` (95%) of the true week, over the changes found within
    TOLERANCE weeks of it by the part that measures it (panel slice) or on the incidents Series,
    and the sets' median width."""
    rng = np.random.default_rng(seed)
    part = {"freq": "incident_rate", "sev": "median_deaths_per_incident"}
    rows = []
    for kind, mult in (("freq", 2.0), ("sev", 2.0), ("freq", 1.5)):
        for rate in BASELINES:
            hits = {"panel slice": [], "incidents Series": []}
            for _ in range(reps):
                data = simulate(rng, rate, **{kind: mult})
                for label, values in (("panel slice", data), ("incidents Series", data["incidents"])):
                    if label == "incidents Series" and kind == "sev":
                        continue
                    table = detect_change_points(values).location_intervals()
                    if "part" in table:
                        table = table[table["part"] == part[kind]]
                    near = table[(table["location"] - CHANGE_AT).abs() <= TOLERANCE]
                    if len(near):
                        r = near.iloc[0]
                        hits[label].append((r.earliest <= CHANGE_AT <= r.latest, r.latest - r.earliest + 1))
            for label, found in hits.items():
                if found:
                    cover, width = np.array(found).T
                    rows.append(
                        {
                            "change": f"{kind} x{mult:g}",
                            "incidents/wk": rate,
                            "input": label,
                            "found": len(found),
                            "95% set covers": cover.mean(),
                            "median weeks in set": np.median(width),
                        }
                    )
    return pd.DataFrame(rows)


# --- item 6: BOCPD ---


def bocpd_case(reps: int, seed: int = 13) -> pd.DataFrame:
    """Mean prob_recent_change(k) on stationary NB counts (n = 260) against the
    hazard alone, and on a doubling (3 -> 6 incidents/week) 8 weeks before the end."""
    rng = np.random.default_rng(seed)
    rows = []
    for mean, size in ((1.0, 1.0), (3.0, 3.5), (3.0, 10.0), (10.0, 3.5)):
        probs = np.array(
            [
                [
                    bocpd(rng.negative_binomial(size, size / (size + mean), N_WEEKS)).prob_recent_change(k)
                    for k in (4, 13, 52)
                ]
                for _ in range(reps)
            ]
        )
        row = {"series": f"stationary NB mean {mean:g} size {size:g}"}
        for j, k in enumerate((4, 13, 52)):
            row[f"k={k}"] = probs[:, j].mean()
            row[f"hazard k={k}"] = hazard_only(0.01, k)
        row["share > 0.5 (k=52)"] = float((probs[:, 2] > 0.5).mean())
        rows.append(row)
    for label, size in (("Poisson", math.inf), ("NB size 10", 10.0)):
        probs = []
        for _ in range(reps):
            mu = np.r_[np.full(N_WEEKS - 8, 3.0), np.full(8, 6.0)]
            y = rng.poisson(mu) if math.isinf(size) else rng.negative_binomial(size, size / (size + mu))
            result = bocpd(y)
            probs.append([result.prob_recent_change(k) for k in (8, 13, 26)])
        probs = np.array(probs)
        rows.append(
            {
                "series": f"doubling 3 -> 6/wk ({label}), 8 weeks on",
                "P(last 8)": probs[:, 0].mean(),
                "P(last 13)": probs[:, 1].mean(),
                "P(last 26)": probs[:, 2].mean(),
                "share P(last 8) > 0.9": float((probs[:, 0] > 0.9).mean()),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="series per grid cell")
    parser.add_argument("--bocpd-reps", type=int, default=200, help="series per BOCPD row (0: skip)")
    parser.add_argument(
        "--only", choices=("grid", "aggregated", "factor", "ceiling", "dates", "bocpd"), default=None
    )
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", "{:.3f}".format)
    detect_change_points(simulate(np.random.default_rng(0), 3.0))  # compile outside the timings
    started = time.perf_counter()
    if args.only in (None, "aggregated"):
        print("Item 2: one aggregated report (NB mean 10 -> 20, size 3.5; 3,000 deaths in one week)")
        print(aggregated_case(max(args.reps // 2, 10)).to_string(index=False), "\n")
    if args.only in (None, "factor"):
        print(
            "Item 4: long-run variance factor of incident counts (no change), today's estimate vs the truth"
        )
        print(factor_case(max(args.reps // 2, 10)).to_string(index=False), "\n")
    if args.only in (None, "grid"):
        print(f"Simulation grid ({args.reps} series per cell; detect = change within {TOLERANCE} weeks)")
        print(run_grid(args.reps).to_string(index=False), "\n")
    if args.only in (None, "ceiling"):
        print("Severity doubling: the log-severity part alone, no penalty, told there is one change")
        print(severity_ceiling(max(args.reps * 3, 30)).to_string(index=False), "\n")
    if args.only in (None, "dates"):
        print(
            "When did it start: 95% sets of found changes' dates (location_intervals) against the true week"
        )
        print(date_sets(args.reps).to_string(index=False), "\n")
    if args.only in (None, "bocpd") and args.bocpd_reps > 0:
        print("BOCPD: mean prob_recent_change(k) vs the hazard alone (1/100)")
        print(bocpd_case(args.bocpd_reps).to_string(index=False))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
