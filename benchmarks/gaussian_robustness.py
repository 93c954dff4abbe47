"""The default rule on Gaussian-cost series with variance breaks, clustered volatility and spikes.

detect_change_points(y) with every default (cost "auto" -> normal_trend for these
float series, penalty "auto"); nothing true is given to it.

1. Variance breaks: n = 1000, N(0, 1) then sd x s from the middle (s = 1, 1.5, 2, 3),
   40 series each: share with a change within 20 points of it, mean number of changes.
2. Clustered volatility without change: n = 1000, a latent AR(1) log-sd (phi 0.97,
   innovation sd 0.12, as in daily returns), 40 series: mean number of changes.
3. Spikes: n = 2000, 6 level shifts of 2-5 sd (at least 100 apart), AR-free Gaussian
   noise plus 1.5% one-sided spikes of 2-16 sd (a well log); 20 series: mean number of
   changes, F1 (margin 5) and cover against the true shifts, values set aside; and the
   same series without spikes.

    .venv/bin/python benchmarks/gaussian_robustness.py [--seed 2026]
"""

from __future__ import annotations

import argparse

import numpy as np

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.metrics import covering, f_measure


def shifts(rng: np.random.Generator, n: int = 2000, k: int = 6) -> tuple[np.ndarray, list[int]]:
    while True:
        cuts = np.sort(rng.choice(np.arange(100, n - 100), k, replace=False))
        if np.diff(cuts).min() >= 100:
            break
    level = np.zeros(n)
    for c in cuts:
        level[c:] += rng.choice([-1, 1]) * rng.uniform(2, 5)
    return level + rng.normal(0, 1, n), [int(c) for c in cuts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    rng = np.random.default_rng(parser.parse_args().seed)
    for s in (1.0, 1.5, 2.0, 3.0):
        found, count = [], []
        for _ in range(40):
            y = rng.normal(0, 1, 1000) * np.where(np.arange(1000) >= 500, s, 1.0)
            locations = detect_change_points(y).locations
            found.append(any(abs(c - 500) <= 20 for c in locations))
            count.append(len(locations))
        print(f"sd x{s:<4} at n/2: found {np.mean(found):.3f}, mean changes {np.mean(count):.2f} (40 series)")
    count = []
    for _ in range(40):
        log_sd = np.zeros(1000)
        for i in range(1, 1000):
            log_sd[i] = 0.97 * log_sd[i - 1] + rng.normal(0, 0.12)
        count.append(len(detect_change_points(rng.normal(0, 1, 1000) * np.exp(log_sd)).locations))
    print(f"clustered volatility, no change: mean changes {np.mean(count):.2f} (40 series)")
    rows = {"with spikes": [], "without": []}
    for _ in range(20):
        y, truth = shifts(rng)
        spikes = rng.random(y.size) < 0.015
        spiky = y + np.where(spikes, rng.uniform(2, 16, y.size), 0.0)
        for label, series in (("with spikes", spiky), ("without", y)):
            cp = detect_change_points(series)
            rows[label].append(
                (
                    len(cp.locations),
                    f_measure({"a": truth}, cp.locations),
                    covering({"a": truth}, cp.locations, y.size),
                    len(cp.outliers),
                )
            )
    for label, values in rows.items():
        n_cp, f1, cover, aside = np.mean(values, axis=0)
        print(
            f"6 shifts, n = 2000, {label:<11}: mean changes {n_cp:.1f}, F1 {f1:.3f}, cover {cover:.3f}, "
            f"set aside {aside:.1f} (20 series)"
        )


if __name__ == "__main__":
    main()
