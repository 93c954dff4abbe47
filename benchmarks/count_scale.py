"""detect_change_points with cost="auto" on count series across their scale, and on smooth levels.

Counts of events keep the same noise structure at any scale (negative binomial: var = mu + mu^2 / r),
so the power to find a change of a given ratio should not jump at some mean. Per cell: 260 weeks,
one step of x`ratio` at week 156 (ratio 1: no change), `--reps` series; found = a change within 8
weeks of week 156. Two count models, nothing about them given to the detection:
- "nb3": independent NB(size 3) counts;
- "latent": Poisson counts of a latent AR(1) log-rate (phi 0.8, sd 0.3), the dependent case.
Then integer series that are levels, not counts (no change; which cost "auto" picks and how many
changes it reports): exponential growth with 2% noise, a random-walk level (1% a step, drift),
a logistic population curve (0.2% noise), monthly passengers (growth, +-12% season, 2% noise).

    nice .venv/bin/python benchmarks/count_scale.py [--reps 40]
"""

from __future__ import annotations

import argparse

import numpy as np

from casualtystats import detect_change_points
from casualtystats.changepoints.detect import choose_cost

MEANS = (100, 300, 800, 1300, 3000, 10000, 30000)
RATIOS = (1.0, 1.5, 0.67)
N, AT, WITHIN = 260, 156, 8
NB_SIZE = 3.0
LATENT_PHI, LATENT_SD = 0.8, 0.3


def step_rate(mean: float, ratio: float) -> np.ndarray:
    rate = np.full(N, float(mean))
    rate[AT:] *= ratio
    return rate


def nb_counts(rng, mean: float, ratio: float) -> np.ndarray:
    rate = step_rate(mean, ratio)
    return rng.negative_binomial(NB_SIZE, NB_SIZE / (NB_SIZE + rate)).astype(float)


def latent_counts(rng, mean: float, ratio: float) -> np.ndarray:
    z = np.empty(N)
    z[0] = rng.normal(0, LATENT_SD)
    innovation = LATENT_SD * np.sqrt(1 - LATENT_PHI**2)
    for t in range(1, N):
        z[t] = LATENT_PHI * z[t - 1] + rng.normal(0, innovation)
    return rng.poisson(step_rate(mean, ratio) * np.exp(z - LATENT_SD**2 / 2)).astype(float)


def growth(rng) -> np.ndarray:
    t = np.arange(N)
    return np.round(1e5 * np.exp(0.005 * t + rng.normal(0, 0.02, N)))


def random_walk_level(rng) -> np.ndarray:
    return np.round(1e6 * np.exp(np.cumsum(rng.normal(0.002, 0.01, N))))


def logistic_population(rng) -> np.ndarray:
    t = np.arange(N)
    return np.round((2e5 + 5e6 / (1 + np.exp(-(t - 150) / 25))) * np.exp(rng.normal(0, 0.002, N)))


def passengers(rng) -> np.ndarray:
    t = np.arange(N)
    season = 1 + 0.12 * np.sin(2 * np.pi * t / 12)
    return np.round(4e5 * np.exp(0.006 * t) * season * np.exp(rng.normal(0, 0.02, N)))


COUNTS = {"nb3": nb_counts, "latent": latent_counts}
LEVELS = {
    "growth 2%": growth,
    "random-walk level": random_walk_level,
    "logistic population": logistic_population,
    "passengers": passengers,
}


def count_cell(model: str, mean: float, ratio: float, reps: int) -> dict[str, float]:
    """Share of series given negbin, with any change, mean number of changes, share found."""
    rng = np.random.default_rng([list(COUNTS).index(model), int(mean), int(round(100 * ratio))])
    negbin, k, found = [], [], []
    for _ in range(reps):
        y = COUNTS[model](rng, mean, ratio)
        negbin.append(choose_cost(y) == "negbin")
        locations = detect_change_points(y).locations
        k.append(len(locations))
        found.append(any(abs(c - AT) <= WITHIN for c in locations))
    k = np.array(k)
    return {"negbin": np.mean(negbin), "any": np.mean(k > 0), "mean_k": k.mean(), "found": np.mean(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    args = parser.parse_args()
    print(f"counts ({args.reps} series a cell): share given negbin | share with a change | mean # | found")
    print(f"{'model':7s} {'mean':>6s} | " + " | ".join(f"{f'x{r}':^26s}" for r in RATIOS))
    for model in COUNTS:
        for mean in MEANS:
            cells = [count_cell(model, mean, r, args.reps) for r in RATIOS]
            row = " | ".join(
                f"nb {c['negbin']:.2f} any {c['any']:.2f} {c['mean_k']:4.1f} {c['found']:.2f}" for c in cells
            )
            print(f"{model:7s} {mean:6d} | {row}", flush=True)
    print(f"\nlevels, no change ({args.reps} series each): share given normal_trend, mean # changes")
    for name, make in LEVELS.items():
        rng = np.random.default_rng(list(LEVELS).index(name))
        series = [make(rng) for _ in range(args.reps)]
        trend = np.mean([choose_cost(y) == "normal_trend" for y in series])
        k = np.mean([len(detect_change_points(y).locations) for y in series])
        print(f"{name:20s} normal_trend {trend:.2f}  mean # {k:.2f}", flush=True)


if __name__ == "__main__":
    main()
