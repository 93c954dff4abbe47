"""BOCPD on simulated weekly counts: calibration without change, power after a doubling.

Calibration: stationary negative binomial series (n = 260 weeks, mean 1-10,
size 1-10); the mean of prob_recent_change(k) for k = 4, 13, 52 against what
the hazard alone implies, 1 - (1 - h)^k (h = 1/100, the default).

Power: 3 incidents a week for 260 - w weeks, then 6 a week for w = 8 or 16
weeks (Poisson, or NB size 10); the mean of prob_recent_change(k) at the end
and the share of series where it exceeds 0.9. bocpd is told nothing (not the
rates, the size or the date). Beside it, the same figures for the Bayes
posterior that knows both rates and the size and has only the date to find
(at most one change, the same hazard prior on its date): no detector that
must learn the rates can be more sure, on average, and stay honest, so this
column is how much evidence 8 weeks of data hold at all.

Trade-off: the same with the prior's concentration fixed at a = 1 or 4 (no
"same rate" values, every change visible), beside the default.

Dependence: series with no change but serially dependent weeks (a latent AR(1)
log-rate, a fighting season, Gaussian AR(1) noise for the "normal" model):
mean prob_recent_change(52) with the likelihood tempered by the long-run
variance factor (the default, dependence="auto") beside the plain recursion
(dependence=1), on the same series.

Run: .venv/bin/python benchmarks/bocpd.py [--reps 100]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from scipy import stats as st

from casualtystats.changepoints import bocpd
from casualtystats.changepoints.bocpd import count_size, hazard_only, negbin_prior

HAZARD = 0.01
N_WEEKS = 260
STATIONARY = ((1.0, 1.0), (3.0, 3.5), (3.0, 10.0), (10.0, 3.5))
CALIBRATION_K = (4, 13, 52)
POWER_K = (8, 13, 26)
BEFORE, AFTER = 3.0, 6.0


def counts(rng, mean: np.ndarray, size: float) -> np.ndarray:
    """Poisson (size inf) or NB(size) counts with the given means."""
    if math.isinf(size):
        return rng.poisson(mean)
    return rng.negative_binomial(size, size / (size + mean))


def log_pmf(y: np.ndarray, mean: float, size: float) -> np.ndarray:
    if math.isinf(size):
        return st.poisson.logpmf(y, mean)
    return st.nbinom.logpmf(y, size, size / (size + mean))


def known_rates_posterior(y: np.ndarray, size: float, ks: tuple[int, ...]) -> list[float]:
    """P(the change is in the last k weeks | y) when the rates before and after
    and the size are known and only the date is not: at most one change, at
    t = 1..n-1 with prior h (1 - h)^(t-1), none with prior (1 - h)^(n-1)."""
    n = y.size
    gain = log_pmf(y, AFTER, size) - log_pmf(y, BEFORE, size)
    after = np.cumsum(gain[::-1])[::-1]  # log LR of "changed from t on"
    t = np.arange(1, n)
    log_post = np.r_[
        math.log(HAZARD) + (t - 1) * math.log1p(-HAZARD) + after[1:], (n - 1) * math.log1p(-HAZARD)
    ]
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    return [float(post[n - k - 1 : n - 1].sum()) for k in ks]  # post[t - 1]: the change at t


def calibration(reps: int, rng) -> pd.DataFrame:
    rows = []
    for mean, size in STATIONARY:
        probs = np.array(
            [
                [
                    bocpd(counts(rng, np.full(N_WEEKS, mean), size)).prob_recent_change(k)
                    for k in CALIBRATION_K
                ]
                for _ in range(reps)
            ]
        )
        row = {"stationary NB": f"mean {mean:g} size {size:g}"}
        for j, k in enumerate(CALIBRATION_K):
            row[f"k={k}"] = probs[:, j].mean()
            row[f"hazard k={k}"] = hazard_only(HAZARD, k)
        row["share > 0.5 (k=52)"] = float((probs[:, 2] > 0.5).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def power(reps: int, rng) -> pd.DataFrame:
    rows = []
    for label, size in (("Poisson", math.inf), ("NB size 10", 10.0)):
        for weeks in (8, 16):
            mean = np.r_[np.full(N_WEEKS - weeks, BEFORE), np.full(weeks, AFTER)]
            found, reference = [], []
            for _ in range(reps):
                y = counts(rng, mean, size)
                result = bocpd(y)
                found.append([result.prob_recent_change(k) for k in POWER_K])
                reference.append(known_rates_posterior(y, size, POWER_K))
            for name, probs in (("bocpd", np.array(found)), ("rates known", np.array(reference))):
                row = {"doubling 3 -> 6/wk": f"{label}, {weeks} wk on", "posterior": name}
                for j, k in enumerate(POWER_K):
                    row[f"P(last {k})"] = probs[:, j].mean()
                for j, k in enumerate(POWER_K):
                    row[f"share > 0.9 (k={k})"] = float((probs[:, j] > 0.9).mean())
                rows.append(row)
    return pd.DataFrame(rows)


def concentration_tradeoff(reps: int, rng) -> pd.DataFrame:
    """The default (concentrations averaged, "same rate" included) against the prior's
    concentration a fixed (every change visible): calibration on stationary NB (mean 3, size
    3.5) and power 8 weeks after 3 -> 6 a week (Poisson), on the same series."""
    stationary = [counts(rng, np.full(N_WEEKS, 3.0), 3.5) for _ in range(reps)]
    doubled = [
        counts(rng, np.r_[np.full(N_WEEKS - 8, BEFORE), np.full(8, AFTER)], math.inf) for _ in range(reps)
    ]
    rows = []
    for a in (None, 1.0, 4.0):

        def fit(y, a=a):
            return bocpd(y) if a is None else bocpd(y, prior=negbin_prior(float(y.mean()), count_size(y), a))

        calm = np.array([[fit(y).prob_recent_change(k) for k in CALIBRATION_K] for y in stationary])
        after = np.array([fit(y).prob_recent_change(26) for y in doubled])
        row = {"prior": "default (a averaged)" if a is None else f"a = {a:g} fixed"}
        for j, k in enumerate(CALIBRATION_K):
            row[f"stationary k={k} (hazard {hazard_only(HAZARD, k):.3f})"] = calm[:, j].mean()
        row["doubling: P(last 26) at 8 wk"] = after.mean()
        row["share > 0.9"] = float((after > 0.9).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def latent_ar(rng, mean: float, phi: float, sd: float) -> np.ndarray:
    """Poisson counts whose log-rate is a stationary AR(1) (marginal sd `sd`, mean count `mean`)."""
    z = np.empty(N_WEEKS)
    z[0] = rng.normal(0, sd)
    for t in range(1, N_WEEKS):
        z[t] = phi * z[t - 1] + rng.normal(0, sd * math.sqrt(1 - phi**2))
    return rng.poisson(mean * np.exp(z - sd**2 / 2))


def dependent_cases(rng) -> dict:
    t = np.arange(N_WEEKS)

    def gaussian_ar(phi: float) -> np.ndarray:
        e = np.empty(N_WEEKS)
        e[0] = rng.normal()
        for i in range(1, N_WEEKS):
            e[i] = phi * e[i - 1] + rng.normal() * math.sqrt(1 - phi**2)
        return 10 + e

    return {
        "latent AR(1) phi 0.8 sd 0.6, mean 3": lambda: latent_ar(rng, 3.0, 0.8, 0.6),
        "latent AR(1) phi 0.8 sd 0.6, mean 10": lambda: latent_ar(rng, 10.0, 0.8, 0.6),
        "latent AR(1) phi 0.5 sd 0.6, mean 3": lambda: latent_ar(rng, 3.0, 0.5, 0.6),
        "fighting season (amplitude 0.5), mean 3": lambda: rng.poisson(
            3 * np.exp(0.5 * np.sin(2 * np.pi * t / 52.18))
        ),
        "Gaussian AR(1) phi 0.7 (model normal)": lambda: gaussian_ar(0.7),
    }


def dependence(reps: int, rng) -> pd.DataFrame:
    rows = []
    for label, draw in dependent_cases(rng).items():
        series = [draw() for _ in range(reps)]
        row = {"no change, dependent weeks": label}
        for name, setting in (("tempered (default)", "auto"), ("plain (dependence=1)", 1.0)):
            probs = np.array([bocpd(y, dependence=setting).prob_recent_change(52) for y in series])
            row[f"{name}: P(last 52)"] = probs.mean()
            row[f"{name}: share > 0.9"] = float((probs > 0.9).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="series per row")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    pd.set_option("display.width", 180)
    pd.set_option("display.float_format", "{:.3f}".format)
    rng = np.random.default_rng(args.seed)
    bocpd(np.arange(10))  # compile outside the timing
    started = time.perf_counter()
    print(
        f"BOCPD calibration: mean prob_recent_change(k) on stationary counts vs the hazard alone (h = {HAZARD:g})"
    )
    print(calibration(args.reps, rng).to_string(index=False), "\n")
    print("BOCPD power: a doubling from 3 to 6 a week, read at the end of the series")
    print(power(args.reps, rng).to_string(index=False), "\n")
    print("The trade-off: the concentration of a new segment's rate fixed, so every change is visible")
    print(concentration_tradeoff(args.reps, rng).to_string(index=False), "\n")
    print(f"Serial dependence, no change (hazard alone: P(last 52) = {hazard_only(HAZARD, 52):.3f})")
    print(dependence(args.reps, rng).to_string(index=False))
    print(f"\n({time.perf_counter() - started:.0f} s, {args.reps} series per row)")


if __name__ == "__main__":
    main()
