"""Tried and not kept (reverted): integrate fit_trend's band over the AR sd s instead of plugging
in its estimate. Profile in log s on a grid of 10 points from 0.02 to 1.2 (plus the estimate; NB
dispersion re-optimised at each, sigma_f and phi at the estimate), weights = Laplace marginal
likelihood x prior (PC prior, P(s > 1) = 0.01, or uniform on log s) x the grid's spacing, the full
mixture (law of total variance) of each node's band (each node's own smoothness integration).
Scored on the study's ar0.5 and flat series against the default fit:

    .venv/bin/python benchmarks/trend_ar_sd_mixture.py pc 30
    .venv/bin/python benchmarks/trend_ar_sd_mixture.py loguniform 30
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import optimize

import casualtystats.trend as tm
from casualtystats import fit_trend

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import trend as bench  # noqa: E402

_integrate_smoothing = tm._integrate_smoothing
GRID = np.log(np.geomspace(0.02, 1.2, 10))


def mixed(lm, theta, logml, contrast, prior):
    base = _integrate_smoothing(lm, theta, logml, contrast)
    if lm.poisson:
        return base
    nodes = []
    for log_s in GRID:

        def minus_logml(log_alpha, log_s=log_s):
            point = theta.copy()
            point[1], point[3] = log_s, log_alpha
            return -lm.mode(point)[2]

        found = optimize.minimize_scalar(
            minus_logml, bounds=(theta[3] - 3, theta[3] + 3), method="bounded", options={"xatol": 0.02}
        )
        point = theta.copy()
        point[1], point[3] = log_s, found.x
        nodes.append((-found.fun, point))
    nodes.append((logml, theta))
    nodes.sort(key=lambda node: node[1][1])
    log_s = np.array([node[1][1] for node in nodes])
    s = np.exp(log_s)
    log_prior = np.log(-np.log(0.01) * s) + np.log(0.01) * s if prior == "pc" else np.zeros_like(s)
    log_w = np.array([node[0] for node in nodes]) + log_prior + np.log(np.abs(np.gradient(log_s)) + 1e-12)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    bands = [
        base if point is theta else _integrate_smoothing(lm, point, value, contrast) for value, point in nodes
    ]
    lm.mode(theta)

    def mixture(k):
        mean = sum(wi * band[k] for wi, band in zip(w, bands, strict=True))
        var = sum(wi * (band[k + 1] + band[k] ** 2) for wi, band in zip(w, bands, strict=True)) - mean**2
        return mean, var

    eta, eta_var = mixture(0)
    change, change_var = mixture(2)
    b, b_var = mixture(4)
    return eta, eta_var, float(change), float(change_var), b, b_var, base[6]


def run(scenario, rate, reps, prior):
    trend_mean, growth, phi = bench.truth(scenario, rate)
    rng = np.random.default_rng(2026 + 1000 * bench.SCENARIOS.index(scenario) + rate)
    idx = pd.date_range("2015-01-05", periods=bench.N_WEEKS, freq="7D")
    for i in range(reps):
        counts, mean = bench.simulate(rng, trend_mean, phi)
        row = {"scenario": scenario, "rate": rate, "series": i}
        for name, integrate in (("default", _integrate_smoothing), ("mixture", None)):
            tm._integrate_smoothing = integrate or (lambda *a: mixed(*a, prior=prior))
            t0 = time.perf_counter()
            res = fit_trend(pd.Series(counts, index=idx))
            row[f"{name}_seconds"] = time.perf_counter() - t0
            tm._integrate_smoothing = _integrate_smoothing
            f, g = res.fitted, res.growth_per_month
            row[f"{name}_coverage"] = float(np.mean((f["ci_low"] <= mean) & (mean <= f["ci_high"])))
            row[f"{name}_growth_cov"] = bool(g["ci_low"] <= growth <= g["ci_high"])
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    for scenario in ("ar0.5", "flat"):
        for rate in bench.RATES:
            run(scenario, rate, int(sys.argv[2]), sys.argv[1])
