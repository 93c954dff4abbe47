"""The abruptness test (changepoints.abrupt) on simulated series.

1. One window of 40 points on a trend (slope 0.05 sd per step) with a jump of
   1.5, 2 or 2.5 noise sd at its middle: the share of windows where the break
   is kept (bic_margin > 0, no dependence, noise variance 1).
2. 300 mixed series from benchmarks/variance_floor.py (0-3 jumps, kinks or
   noise changes, AR(1) noise phi 0-0.6): F1 (margin 5) and cover of the
   default detect_change_points against the true changes.
3. 150 smooth curves without change (logistic, sine or parabola of amplitude
   5-20 noise sd, n = 60/120/300, AR(1) noise phi 0-0.6): the share with any
   change found.

    .venv/bin/python benchmarks/abrupt.py [--seed 2026]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from variance_floor import mixed_series

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.abrupt import bic_margin
from casualtystats.changepoints.metrics import covering, f_measure


def ar_noise(rng, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) noise with unit variance."""
    e, z = np.zeros(n), rng.normal(size=n)
    for t in range(n):
        e[t] = (phi * e[t - 1] if t else 0.0) + math.sqrt(1 - phi**2) * z[t]
    return e


def smooth_curve(rng) -> np.ndarray:
    n = int(rng.choice([60, 120, 300]))
    t = np.arange(n) / n
    amp = rng.uniform(5, 20)
    kind = int(rng.integers(3))
    if kind == 0:
        mean = amp / (1 + np.exp(-(t - 0.5) * rng.uniform(5, 12)))
    elif kind == 1:
        mean = amp * np.sin(2 * np.pi * t * rng.uniform(0.5, 1.5))
    else:
        mean = 4 * amp * (t - 0.5) ** 2
    return mean + ar_noise(rng, n, float(rng.choice([0.0, 0.3, 0.6])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    t = np.arange(40.0)
    for jump in (1.5, 2.0, 2.5):
        kept = [
            bic_margin(t, 0.05 * t + np.where(t >= 20, jump, 0.0) + rng.normal(0, 1, 40), 20, 1.0, 1.0) > 0
            for rng in (np.random.default_rng(seed) for seed in range(200))
        ]
        print(f"jump of {jump} sd on a trend, 40-point window: kept in {np.mean(kept):.3f} of 200")
    rng = np.random.default_rng(args.seed)
    f1, cover = [], []
    for _ in range(300):
        y, truth = mixed_series(rng)
        found = detect_change_points(y).locations
        f1.append(f_measure({"a": truth}, found))
        cover.append(covering({"a": truth}, found, len(y)))
    print(f"300 mixed series: F1 {np.mean(f1):.3f}, cover {np.mean(cover):.3f}")
    breaks = [len(detect_change_points(smooth_curve(rng)).locations) for _ in range(150)]
    print(f"150 smooth curves without change: share with a change found {np.mean(np.array(breaks) > 0):.3f}")


if __name__ == "__main__":
    main()
