"""How far below the noise variance may a Gaussian segment's variance fall? (costs.base.variance_floor)

normal_trend's per-segment variance is floored at noise variance / drop (and at
the rounding error, resolution^2 / 12). drop = 1 forbids any segment to be
quieter than the series' robust noise level; larger values let real drops in
noise count. Settled here on simulated series, with the default
detect_change_points rule (cost normal_trend, penalty "auto"):

- a 4-fold drop in noise sd halfway through n = 200 points on a gentle trend
  (found = a change within 5 points of it, penalty "mbic"), and pure noise
  (false alarm = any change);
- 300 mixed series: n in {60, 120, 300}, 0-3 changes (jump of 3-6 sd, slope
  change of 0.1-0.3 sd per step, or noise sd x 1/4 or x 4), AR(1) noise with
  phi in {0, 0.3, 0.6}; F1 (margin 5) and cover against the true changes.

    .venv/bin/python benchmarks/variance_floor.py
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.costs import NormalTrend
from casualtystats.changepoints.metrics import covering, f_measure

DROPS = (1.0, 4.0, 16.0)


def mixed_series(rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    n = int(rng.choice([60, 120, 300]))
    k = int(rng.integers(0, 4))
    while True:
        cps = np.sort(rng.choice(np.arange(10, n - 10), size=k, replace=False))
        if k == 0 or np.min(np.diff(np.r_[0, cps, n])) >= 8:
            break
    sd, mean = np.ones(n), np.zeros(n)
    level, slope = 0.0, rng.normal(0, 0.05)
    bounds = np.r_[0, cps, n]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if i > 0:
            kind = rng.choice(["jump", "kink", "noise", "jump"])
            if kind == "jump":
                level += rng.choice([-1, 1]) * rng.uniform(3, 6)
            elif kind == "kink":
                slope += rng.choice([-1, 1]) * rng.uniform(0.1, 0.3)
            else:
                sd[a:] = rng.choice([0.25, 4.0])
        mean[a:b] = level + slope * np.arange(b - a)
        level += slope * (b - a)
    phi = float(rng.choice([0.0, 0.3, 0.6]))
    e, z = np.zeros(n), rng.normal(size=n)
    for t in range(n):
        e[t] = (phi * e[t - 1] if t else 0.0) + math.sqrt(1 - phi**2) * z[t]
    return mean + sd * e, [int(c) for c in cps]


def main() -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    print(f"{'drop':>5} {'noise drop found':>17} {'false alarms':>13} | {'mixed F1':>8} {'cover':>6}")
    for drop in DROPS:
        rng = np.random.default_rng(1)
        found = alarms = 0
        for _ in range(100):
            y = np.r_[rng.normal(0, 1, 100), rng.normal(0, 0.25, 100)] + 0.02 * np.arange(200)
            locs = detect_change_points(y, cost=NormalTrend(drop), penalty="mbic").locations
            found += any(abs(c - 100) <= 5 for c in locs)
            alarms += bool(
                detect_change_points(rng.normal(0, 1, 200), cost=NormalTrend(drop), penalty="mbic").locations
            )
        rng = np.random.default_rng(2026)
        f1, cover = [], []
        for _ in range(300):
            y, truth = mixed_series(rng)
            predicted = detect_change_points(y, cost=NormalTrend(drop)).locations
            f1.append(f_measure({"a": truth}, predicted))
            cover.append(covering({"a": truth}, predicted, len(y)))
        print(f"{drop:>5.0f} {found:>13}/100 {alarms:>9}/100 | {np.mean(f1):>8.3f} {np.mean(cover):>6.3f}")
    print("default: drop 16 (costs.base.VARIANCE_DROP), also used by normal_meanvar")
    return 0


if __name__ == "__main__":
    sys.exit(main())
