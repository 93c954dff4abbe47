"""Gaussian series with outliers or heavy tails: does the default find changes that are not there?

detect_change_points' Gaussian costs set single outliers aside (`detect.isolated_outliers`,
`set_aside_excursions`). This measures the default (cost, penalty and min_size "auto"/2) on:

1. series without any change (n = 1,000): Gaussian; 1% or 3% of values shifted by N(0, 10^2)
   (gross errors, either way); Student t noise with 3 or 2 degrees of freedom (heavy tails
   everywhere). Columns: the share of series with any change, the mean number of changes, the
   mean number of values set aside.
2. well-log-like series (n = 2,000; as the TCPD well_log series: levels that shift, and
   spikes in one direction): 8 level shifts at random places (levels N(0, 3^2), unit noise)
   and 2% of values pulled down by 5-20 sd. Columns: mean number of changes (true 8), F1
   (margin 5) and cover against the true changes.

    .venv/bin/python benchmarks/outliers.py [--reps 50] [--seed 2026]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.metrics import covering, f_measure

N_FLAT = 1000
N_LOG = 2000
SHIFTS = 8


def no_change(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "t, 3 df":
        return rng.standard_t(3, N_FLAT)
    if kind == "t, 2 df":
        return rng.standard_t(2, N_FLAT)
    y = rng.normal(size=N_FLAT)
    share = {"Gaussian": 0.0, "1% gross errors": 0.01, "3% gross errors": 0.03}[kind]
    hit = rng.random(N_FLAT) < share
    y[hit] += rng.normal(0, 10, hit.sum())
    return y


def well_log(rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    changes = sorted(int(c) for c in rng.choice(np.arange(50, N_LOG - 50), SHIFTS, replace=False))
    level = np.repeat(rng.normal(0, 3, SHIFTS + 1), np.diff([0, *changes, N_LOG]))
    y = level + rng.normal(size=N_LOG)
    spike = rng.random(N_LOG) < 0.02
    y[spike] -= rng.uniform(5, 20, spike.sum())
    return y, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50, help="series per row")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # short-series and convergence notes are not the point here

    print(f"1. no change, n = {N_FLAT}, {args.reps} series a row")
    print(f"{'noise':18s} {'any change':>10s} {'changes':>8s} {'set aside':>9s}")
    for i, kind in enumerate(["Gaussian", "1% gross errors", "3% gross errors", "t, 3 df", "t, 2 df"]):
        rng = np.random.default_rng([args.seed, i])
        fits = [detect_change_points(no_change(kind, rng)) for _ in range(args.reps)]
        changes = np.array([f.n_changes for f in fits])
        aside = np.mean([len(f.outliers) for f in fits])
        print(f"{kind:18s} {np.mean(changes > 0):10.2f} {changes.mean():8.2f} {aside:9.1f}")

    rng = np.random.default_rng([args.seed, 99])
    rows = []
    for _ in range(args.reps):
        y, changes = well_log(rng)
        found = detect_change_points(y).locations
        truth = {"truth": changes}
        rows.append((len(found), f_measure(truth, found), covering(truth, found, N_LOG)))
    n, f1, cover = np.mean(rows, axis=0)
    print(f"\n2. well-log-like, n = {N_LOG}, {SHIFTS} level shifts, 2% downward spikes, {args.reps} series")
    print(f"changes {n:.1f} (true {SHIFTS}), F1 {f1:.3f}, cover {cover:.3f}")


if __name__ == "__main__":
    main()
