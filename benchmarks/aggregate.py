"""weekly_panel against a hand-written DuckDB GROUP BY and a plain pandas groupby.

All three run on the same simulated incident table (10 million rows by default)
and compute the same weekly totals by actor and region. Only `weekly_panel` also
zero-fills the complete week x group grid, applies the missing-value rule and
validates its output with `PanelSchema`; the baselines return just the non-empty
cells. Goal: weekly_panel <= 1.5x the DuckDB query, peak memory < 3x the table.

Memory: tracemalloc sees only Python's allocator, not DuckDB's or Arrow's, so we
measure the process's resident set instead. Each contender runs in its own
subprocess that loads the table, records its resident size, resets the kernel's
peak-RSS mark (``/proc/self/clear_refs``) and reads the new peak (``VmHWM``) after
the calls: "extra" is that peak minus the resident size before the calls, i.e.
what the call needed on top of the already-loaded table. Separate processes keep
one contender's freed-but-cached memory from hiding another's.

    .venv/bin/python benchmarks/aggregate.py              # 10M rows (about 3 minutes)
    .venv/bin/python benchmarks/aggregate.py --rows 1e6   # quicker
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from casualtystats.schema import COUNT_COLUMNS

CONTENDERS = ("weekly_panel", "duckdb_sql", "pandas_groupby")
USED_COLUMNS = ["date_start", "actor", "region", *COUNT_COLUMNS]


def make_table(rows: int, seed: int = 2026) -> pd.DataFrame:
    from casualtystats.simulate import GOVERNORATES, simulate_incidents

    start, end = "2014-01-01", "2026-10-31"
    actors = ("ISIS", "HTS", "SDF")
    weeks = (pd.Timestamp(end) - pd.Timestamp(start)).days / 7
    rate = rows / (len(actors) * len(GOVERNORATES) * weeks)
    return simulate_incidents(
        regions=list(GOVERNORATES), actors=dict.fromkeys(actors, rate), start=start, end=end, seed=seed
    ).incidents


# --- the contenders -------------------------------------------------------------


def run_weekly_panel(df: pd.DataFrame) -> int:
    from casualtystats.aggregate import weekly_panel

    return len(weekly_panel(df, by=["actor", "region"]))


def run_duckdb_sql(df: pd.DataFrame) -> int:
    import duckdb

    sums = ", ".join(f"sum({c}) AS {c}" for c in COUNT_COLUMNS)
    con = duckdb.connect()
    con.register("incidents", df)
    result = con.sql(
        f"SELECT date_trunc('week', date_start) AS week, actor, region, count(*) AS incidents, {sums}"
        " FROM incidents GROUP BY ALL"
    ).df()
    con.close()
    return len(result)


def run_pandas_groupby(df: pd.DataFrame) -> int:
    week = df["date_start"].dt.normalize() - pd.to_timedelta(df["date_start"].dt.day_of_week, unit="D")
    grouped = df[USED_COLUMNS[1:]].groupby([week.rename("week"), df["actor"], df["region"]], observed=True)
    result = grouped[COUNT_COLUMNS].sum(min_count=1).join(grouped.size().rename("incidents"))
    return len(result)


# --- measuring ------------------------------------------------------------------


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(name: str, table: Path, repeat: int) -> dict:
    import duckdb  # noqa: F401  (imports are not part of any contender's cost)

    import casualtystats.aggregate  # noqa: F401

    df = pd.read_feather(table)
    gc.collect()
    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark to the current RSS
    contender = globals()[f"run_{name}"]
    times, rows = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = contender(df)
        times.append(time.perf_counter() - t0)
    return {
        "name": name,
        "times": times,
        "output_rows": rows,
        "extra_peak": _status("VmHWM") - before,
        "table_bytes": int(df.memory_usage(deep=True).sum()),
        "used_bytes": int(df[USED_COLUMNS].memory_usage(deep=True).sum()),
        "input_rows": len(df),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=float, default=10e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.table, args.repeat)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "incidents.feather"
        t0 = time.perf_counter()
        df = make_table(int(args.rows))
        df.to_feather(table)
        print(f"simulated {len(df):,} incidents in {time.perf_counter() - t0:.0f} s", flush=True)
        del df
        gc.collect()
        results = {}
        for name in CONTENDERS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    name,
                    "--table",
                    str(table),
                    "--repeat",
                    str(args.repeat),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  {name}: done", flush=True)

    first = results["weekly_panel"]
    gib = 2**30
    print(
        f"\n{first['input_rows']:,} incidents; table in memory {first['table_bytes'] / gib:.2f} GiB "
        f"(columns used: {first['used_bytes'] / gib:.2f} GiB); best of {args.repeat} runs each"
    )
    base = min(results["duckdb_sql"]["times"])
    header = f"{'contender':<16}{'best s':>8}{'median s':>10}{'x DuckDB':>10}{'rows out':>10}{'extra peak':>12}{'x table':>9}{'x used':>8}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        best, median = min(r["times"]), sorted(r["times"])[len(r["times"]) // 2]
        print(
            f"{name:<16}{best:>8.2f}{median:>10.2f}{best / base:>10.2f}{r['output_rows']:>10,}"
            f"{r['extra_peak'] / gib:>10.2f} G{r['extra_peak'] / r['table_bytes']:>9.2f}"
            f"{r['extra_peak'] / r['used_bytes']:>8.2f}"
        )
    ratio = min(first["times"]) / base
    memory = first["extra_peak"] / first["table_bytes"]
    print(
        f"\nweekly_panel: {ratio:.2f}x the DuckDB query (goal <= 1.5x), "
        f"extra peak memory {memory:.2f}x the table (goal < 3x). "
        "weekly_panel's output is the complete grid (zeros included), validated; the baselines' is not."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
