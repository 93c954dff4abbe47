"""The default rule on simulated multivariate series: joint segmentation against each column alone.

Three columns observed at the same n = 200 times, on very different scales (noise sd 1, 10
and 0.1: the joint cost must put each column in its own units), Gaussian noise, independent
or AR(1) with phi 0.5 in every column; one change at t = 100 or none:

    none          no change                          (false alarms)
    none_ar       no change, AR(1) noise             (false alarms under dependence)
    mean_one      mean + 2 sd in column 0 only
    mean_all      mean + 1.2 sd in all three columns (each weak alone)
    mean_all_ar   mean + 2 sd in all three, AR(1) noise
    var_one       sd x 2.5 in column 1 only
    mixed         column 0 Poisson counts (mean 5 -> 8), columns 1-2 Gaussian (+ 1.2 sd)

For each scenario, `reps` series: the share with a change within 5 of the truth ("found";
for no change, "false" = the share with any change) and the mean number of changes, by
detect_change_points on the (n, 3) array with every default (nothing true is given) and,
beside it, by each column alone with every default, its changes pooled ("pooled": what one
would do without a multivariate rule).

    .venv/bin/python benchmarks/multivariate.py [--reps 100] [--seed 2026]
"""

from __future__ import annotations

import argparse

import numpy as np

from casualtystats.changepoints import detect_change_points

N = 200
CHANGE = 100
SCALES = np.array([1.0, 10.0, 0.1])
MARGIN = 5
SCENARIOS = ("none", "none_ar", "mean_one", "mean_all", "mean_all_ar", "var_one", "mixed")


def noise(rng: np.random.Generator, phi: float) -> np.ndarray:
    """(N, 3) standard Gaussian noise, AR(1) with coefficient `phi` (unit marginal variance)."""
    e = rng.normal(0.0, 1.0, (N, SCALES.size))
    for t in range(1, N):
        e[t] = phi * e[t - 1] + np.sqrt(1.0 - phi**2) * e[t]
    return e


def simulate(scenario: str, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """One series of `scenario` (see the module docstring) and its true change points."""
    after = np.arange(N) >= CHANGE
    phi = 0.5 if scenario.endswith("_ar") else 0.0
    e = noise(rng, phi)
    shift = np.zeros(SCALES.size)
    sd = np.ones((N, SCALES.size))
    if scenario == "mean_one":
        shift[0] = 2.0
    elif scenario in ("mean_all", "mixed"):
        shift[:] = 1.2
    elif scenario == "mean_all_ar":
        shift[:] = 2.0
    elif scenario == "var_one":
        sd[after, 1] = 2.5
    y = (e * sd + np.outer(after, shift)) * SCALES
    if scenario == "mixed":
        y[:, 0] = rng.poisson(np.where(after, 8.0, 5.0)).astype(float)
    return y, ([] if scenario.startswith("none") else [CHANGE])


def pooled(y: np.ndarray) -> list[int]:
    """Each column segmented alone with every default; the changes of all columns, those
    within MARGIN of an earlier one counted once."""
    out: list[int] = []
    for c in sorted(c for column in y.T for c in detect_change_points(column).locations):
        if not out or c - out[-1] > MARGIN:
            out.append(c)
    return out


def run(scenario: str, reps: int, seed: int) -> dict[str, tuple[float, float]]:
    """(share found or with a false alarm, mean number of changes) of "joint" and "pooled"."""
    rng = np.random.default_rng([seed, SCENARIOS.index(scenario)])
    found = {"joint": [], "pooled": []}
    count = {"joint": [], "pooled": []}
    for _ in range(reps):
        y, truth = simulate(scenario, rng)
        for name, locations in (("joint", detect_change_points(y).locations), ("pooled", pooled(y))):
            hit = any(abs(c - t) <= MARGIN for c in locations for t in truth) if truth else bool(locations)
            found[name].append(hit)
            count[name].append(len(locations))
    return {name: (float(np.mean(found[name])), float(np.mean(count[name]))) for name in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"{'scenario':<12} {'measure':<7} | {'joint':>6} {'#cp':>5} | {'pooled':>6} {'#cp':>5}")
    for scenario in SCENARIOS:
        result = run(scenario, args.reps, args.seed)
        measure = "false" if scenario.startswith("none") else "found"
        print(
            f"{scenario:<12} {measure:<7} | {result['joint'][0]:6.3f} {result['joint'][1]:5.2f} | "
            f"{result['pooled'][0]:6.3f} {result['pooled'][1]:5.2f}"
        )
    print(
        f"\n{args.reps} series per scenario, n = {N}, change at {CHANGE}; found = a change within {MARGIN}."
    )


if __name__ == "__main__":
    main()
