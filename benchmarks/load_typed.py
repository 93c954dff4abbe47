"""CPU time of loading a typed table (Parquet) against its text route, in one run.

The loader keeps a typed file's numbers and dates typed (`casualtystats.sources.read`);
the reference is the route every Parquet file took before: each cell written out as
the text a CSV would hold (`text_cells`) and parsed back. Both load the same simulated
table (`benchmarks/report.py`'s `simulated_table`, written to Parquet first, not timed)
from the same DataFrame, so reading the file is not counted; both results are checked
to be identical (incidents and quarantine). CPU time of this process, best of `--repeat`.

    .venv/bin/python benchmarks/load_typed.py [--incidents N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from report import simulated_table  # this folder: the script's own directory is on the path

from casualtystats import load_incidents
from casualtystats.sources.read import text_cells


def cpu_seconds(frame: pd.DataFrame, repeat: int):
    """Best CPU time of `load_incidents(frame)` over `repeat` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.process_time()
        result = load_incidents(frame)
        best = min(best, time.process_time() - began)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="size of the simulated table")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each route (best counts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "simulated.parquet"
        n = simulated_table(path, args.incidents)
        typed = pd.read_parquet(path)
    as_text = text_cells(typed)
    load_incidents(typed.head(1000))  # imports and first-call costs are not counted
    typed_seconds, typed_result = cpu_seconds(typed, args.repeat)
    text_seconds, text_result = cpu_seconds(as_text, args.repeat)
    for name in ("incidents", "quarantine"):
        pd.testing.assert_frame_equal(getattr(typed_result, name), getattr(text_result, name))
    print(f"{'route':<34} {'incidents':>11} {'cpu s':>7}")
    print(f"{'typed (numbers and dates as read)':<34} {n:>11,} {typed_seconds:>7.2f}")
    print(f"{'text (each cell as text, parsed)':<34} {n:>11,} {text_seconds:>7.2f}")
    print(
        f"\ntyped route: {text_seconds / typed_seconds:.2f}x faster than the text route; same table and quarantine"
    )
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
