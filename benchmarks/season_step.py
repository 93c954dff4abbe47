"""A season must not take the place of a step: detect_change_points' season="auto" on dated weekly
counts without any season, against season=None (the answer a seasonless series should get).

Per cell, `--reps` series of 165 weeks (about three years, as a replay 25 weeks after an onset)
with one step of x`ratio` at week 140, NB(`size`) counts at `mean` a week before it; nothing about
them is given to the detection. A late rise is what an annual cycle can mimic: a cycle that peaks
in the last weeks also has to rise a year and two years earlier, but in a short noisy series the
data may not show that it does not. Columns: the share of series where "auto" reports a season,
and the share where the step is found (a change within 8 weeks of week 140) with "auto" and with
None. A 1% test finds a season in about 1% of series without one; what matters is that the step
stays found.

    nice .venv/bin/python benchmarks/season_step.py [--reps 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from casualtystats import detect_change_points

N, AT, WITHIN = 165, 140, 8
#: (ratio, mean a week before the step, NB size): rises of fatalities- and incident-like series
CELLS = ((3.0, 3.0, 1.0), (3.0, 5.0, 0.5), (2.0, 5.0, 2.0), (4.0, 2.0, 1.0))
WEEKS = pd.date_range("2019-01-07", periods=N, freq="7D")


def step_counts(rng, ratio: float, mean: float, size: float) -> pd.Series:
    rate = np.where(np.arange(N) < AT, mean, mean * ratio)
    return pd.Series(rng.negative_binomial(size, size / (size + rate)).astype(float), index=WEEKS)


def found(locations) -> bool:
    return any(abs(c - AT) <= WITHIN for c in locations)


def run(reps: int) -> pd.DataFrame:
    rows = []
    for ratio, mean, size in CELLS:
        seasons = auto_found = plain_found = 0
        for seed in range(reps):
            y = step_counts(np.random.default_rng(seed), ratio, mean, size)
            auto = detect_change_points(y)
            plain = auto if auto.season is None else detect_change_points(y, season=None)
            seasons += auto.season is not None
            auto_found += found(auto.locations)
            plain_found += found(plain.locations)
        rows.append(
            {
                "step": f"x{ratio:g}",
                "mean/wk": mean,
                "NB size": size,
                "season found": seasons / reps,
                "step found, auto": auto_found / reps,
                "step found, None": plain_found / reps,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300, help="series per cell (seeds 0..reps-1)")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    started = time.perf_counter()
    print(f"Step at week {AT} of {N}, no season ({args.reps} series a cell; found = within {WITHIN} weeks)")
    print(run(args.reps).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
