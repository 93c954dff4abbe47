"""PELT speed and agreement: casualtystats vs ruptures on the same series.

Same series, same penalty, same min_size, both implementations in turn in
one run, at n = 700 (thirteen years of weeks) and n = 5,000. Our numba code
is compiled (or loaded from the on-disk cache) by a warm-up call before
timing, so compile time is excluded; ruptures runs once per size at n=5,000
(about half a minute) and is timed as the best of 3 at n=700.

    .venv/bin/python benchmarks/changepoints.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
import ruptures as rpt

from casualtystats.changepoints import detect_change_points


def weekly_like_series(n: int, seed: int = 0) -> np.ndarray:
    """Piecewise-constant level with a change every ~100 steps, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    n_seg = max(1, n // 100)
    levels = np.repeat(rng.normal(0, 3, n_seg), -(-n // n_seg))[:n]
    return levels + rng.normal(0, 1, n)


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    pen, min_size = 10.0, 2
    detect_change_points(weekly_like_series(50), cost="l2", penalty=pen)  # warm-up: compile / load cache
    print(
        f"PELT, cost l2, penalty {pen}, min_size {min_size}, jump 1 (numba warmed up; compile time excluded)"
    )
    print(f"{'n':>6} {'ruptures s':>11} {'ours s':>10} {'ratio':>8} {'#cp':>5}  identical")
    ok = True
    for n, rpt_repeats in ((700, 3), (5000, 1)):
        y = weekly_like_series(n, seed=n)
        t_rpt, theirs = best_time(
            lambda y=y: rpt.Pelt(model="l2", min_size=min_size, jump=1).fit(y).predict(pen=pen)[:-1],
            rpt_repeats,
        )
        t_ours, cp = best_time(
            lambda y=y: detect_change_points(y, cost="l2", penalty=pen, min_size=min_size), 20
        )
        same = cp.locations == theirs
        ok &= same
        print(f"{n:>6} {t_rpt:>11.4f} {t_ours:>10.6f} {t_rpt / t_ours:>7.0f}x {len(theirs):>5}  {same}")
    print(
        "ours = detect_change_points(y, cost='l2', penalty=10.0): the full call (input checks, cost fit, search)."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
