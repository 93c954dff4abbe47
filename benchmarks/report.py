"""Wall time and peak memory of `casualtystats report`, end to end, as a user runs it.

Each run is a separate process running `casualtystats report FILE -o OUT` (the CLI's
`main`); its peak memory is that process's own high-water mark (VmHWM, read by it at the
end), so nothing of this script's memory is counted: `os.wait4`'s ru_maxrss would carry
this script's resident set across fork and exec. The fits' forked workers share the
process's pages and are not added.

Data sets:
- the real UCDP GED Iraq file in ../shared/data/raw (skipped if absent);
- a simulated table of 1,000,000 incidents (ISIS, HTS and SDF in the 32
  governorates of Iraq and Syria, 2014-2026, the shipped sample's change
  points), written to a temporary Parquet file first (not timed).

Goal: the million-incident report in under 20 s and under 4 GiB.

The outlook's share (issue 11: forecasting every region adds < 25% to the report's
time): the CPU time of forecasting, in this process and its workers, the series the outlook
forecasts (every region and the all-regions series, incidents and fatalities, 13
weeks), against the CPU time of the whole report process on the same file. CPU time,
not wall time: on a shared machine wall time also counts waiting for a core.

    .venv/bin/python benchmarks/report.py [--incidents N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _process import PEAK_GIB

ROOT = Path(__file__).resolve().parents[1]
UCDP_IRAQ = ROOT.parent / "shared" / "data" / "raw" / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"
RESULTS = ROOT / "benchmarks" / "results"
GOAL_SECONDS = 20.0
GOAL_GIB = 4.0
OUTLOOK_GOAL = 0.25


def simulated_table(path: Path, incidents: int, seed: int = 2024) -> int:
    """Write about `incidents` simulated incidents to Parquet; returns the exact count."""
    from casualtystats.simulate import GOVERNORATES, sample_change_points, simulate_incidents

    # ~670 weeks x 32 regions, about 15% fewer after the declines of 2017/2019; aim 10% high, then thin
    weeks, regions = 670, len(GOVERNORATES)
    rate = 1.1 * incidents / (weeks * regions * 0.85)
    sim = simulate_incidents(
        regions=list(GOVERNORATES),
        actors={"ISIS": rate, "HTS": {"Idlib": rate / 2, "Aleppo": rate / 4}, "SDF": {"Hasakah": rate / 4}},
        start="2014-01-01",
        end="2026-10-31",
        change_points=sample_change_points(),
        seed=seed,
    )
    table = sim.incidents
    if len(table) > incidents:  # thinning at random keeps the process's shape
        table = table.sample(incidents, random_state=seed).sort_values("date_start", kind="stable")
    table.to_parquet(path, index=False)
    return len(table)


def outlook_cpu(data: Path, actor: str = "ISIS") -> tuple[float, int]:
    """CPU seconds of forecasting what the report's outlook forecasts on `data`, and the number of
    series (after one warm-up forecast, so compilation and imports are not counted)."""
    import casualtystats as cs

    involved = cs.involving(cs.load_incidents(data).incidents, actor)
    first = involved["date_start"].min()
    panel = cs.weekly_panel(involved, by=["actor", "region"], start=first)
    total = cs.weekly_panel(involved, by=None, start=first)
    cs.forecast(total)  # warm-up
    began = cpu_seconds()
    by_region = cs.forecast(panel, by="region")
    cs.forecast(total)
    return cpu_seconds() - began, by_region.models["region"].nunique() + 1


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes (the forecast fits a panel's
    series on every core)."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


#: The timed process: the CLI's report command, then its peak memory on stderr.
REPORT_PROCESS = (
    PEAK_GIB
    + """
import sys
from casualtystats.cli import main

code = main(sys.argv[1:])
sys.stdout.flush()
print(f"peak_gib {peak_gib()}", file=sys.stderr)
sys.exit(code)
"""
)


def run_report(data: Path, out: Path) -> dict:
    """One `casualtystats report` process: wall time, CPU time, peak RSS, exit status, output size."""
    with tempfile.TemporaryFile("w+") as printed, tempfile.TemporaryFile("w+") as errors:
        began = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", REPORT_PROCESS, "report", str(data), "-o", str(out)],
            stdout=printed,
            stderr=errors,
            text=True,
        )
        # wait4's usage is the process's and its workers' (children it waited for)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        printed.seek(0)
        errors.seek(0)
        summary = printed.read().strip().splitlines()
        peak = [line.split()[1] for line in errors.read().splitlines() if line.startswith("peak_gib ")]
    return {
        "seconds": round(seconds, 2),
        # CPU time: on a shared machine, wall time also counts waiting for a core
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_gib": round(float(peak[-1]), 3) if peak else float("nan"),
        "exit": os.waitstatus_to_exitcode(status),
        "report_mib": round(out.stat().st_size / 2**20, 2) if out.exists() else None,
        "summary": summary[-1] if summary else "",
    }


def with_outlook(row: dict, data: Path) -> dict:
    """`row` (a `run_report` result) with the outlook's CPU time and its share of the report's."""
    seconds, series = outlook_cpu(data)
    return {
        **row,
        "outlook_cpu_seconds": round(seconds, 2),
        "outlook_series": series,
        "outlook_share": round(seconds / row["cpu_seconds"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="size of the simulated table")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if UCDP_IRAQ.exists():
            rows.append(
                {
                    "data": "UCDP GED Iraq (real)",
                    "incidents": "7,473 rows",
                    **with_outlook(run_report(UCDP_IRAQ, tmp / "ucdp.html"), UCDP_IRAQ),
                }
            )
        else:
            print(f"skipping UCDP: {UCDP_IRAQ} not found", file=sys.stderr)
        began = time.perf_counter()
        parquet = tmp / "simulated.parquet"
        n = simulated_table(parquet, args.incidents)
        print(
            f"simulated {n:,} incidents in {time.perf_counter() - began:.1f} s (not timed below)", flush=True
        )
        rows.append(
            {
                "data": "simulated",
                "incidents": f"{n:,}",
                **with_outlook(run_report(parquet, tmp / "simulated.html"), parquet),
            }
        )

    print(
        f"\n{'data':<22} {'incidents':>11} {'wall s':>8} {'cpu s':>7} {'peak GiB':>9} {'report MiB':>11} {'exit':>5}"
        f" {'outlook cpu s':>14} {'share':>6}"
    )
    for r in rows:
        print(
            f"{r['data']:<22} {r['incidents']:>11} {r['seconds']:>8.1f} {r['cpu_seconds']:>7.1f} {r['peak_rss_gib']:>9.2f} "
            f"{r['report_mib'] or 0:>11.1f} {r['exit']:>5} {r['outlook_cpu_seconds']:>14.2f} {r['outlook_share']:>6.1%}"
        )
    big = rows[-1]
    met = big["exit"] == 0 and big["seconds"] < GOAL_SECONDS and big["peak_rss_gib"] < GOAL_GIB
    print(f"\ngoal (simulated: < {GOAL_SECONDS:.0f} s, < {GOAL_GIB:.0f} GiB): {'met' if met else 'NOT met'}")
    share = max(r["outlook_share"] for r in rows)
    print(
        f"goal (the outlook adds < {OUTLOOK_GOAL:.0%} to the report's CPU time, every data set): "
        f"{'met' if share < OUTLOOK_GOAL else 'NOT met'} (at most {share:.1%}; "
        + ", ".join(f"{r['outlook_series']} series in {r['data']}" for r in rows)
        + ")"
    )
    print(
        f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows wall time)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
