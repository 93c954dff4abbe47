"""Validating large CSV files from the shell, beside plain pandas reading the same file.

A simulated table of 1,000,000 incidents (the one `benchmarks/report.py` builds) is written twice:
as an ACLED export (all 31 columns ACLED ships, its names and codes) and as this package's minimal
own table (date, country, region, actor, fatalities). Each file is then read in a fresh process by

- `casualtystats validate FILE -o QUARANTINE` (reading, parsing, pandera validation, quarantine), and
- `pandas.read_csv(FILE, dtype=str)`, the reference: reading the cells as text and nothing more,

and the wall time, CPU time and peak resident memory of each process are shown with their ratios.

    .venv/bin/python benchmarks/load_files.py [--incidents 1000000]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _process import PEAK_GIB
from report import simulated_table

# Run in the child: the command, then its own CPU seconds and peak RSS as the last line.
CHILD = (
    PEAK_GIB.replace("{", "{{").replace("}", "}}")
    + """
import json, time
{body}
print(json.dumps({{"cpu": time.process_time(), "rss_gib": peak_gib()}}))
"""
)
VALIDATE = "from casualtystats.cli import main\nmain(['validate', {path!r}, '-o', {out!r}])"
PANDAS = "import pandas as pd\npd.read_csv({path!r}, dtype=str, keep_default_na=False)"

ACLED_COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
    "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,"
    "country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,"
    "notes,fatalities,tags,timestamp"
).split(",")
ISO = {"Iraq": 368, "Syria": 760}


def as_acled(table: pd.DataFrame) -> pd.DataFrame:
    """The incidents as an ACLED export would hold them (one actor1 per event, its codes)."""
    n = len(table)
    out = pd.DataFrame(index=table.index, columns=ACLED_COLUMNS, dtype=object)
    out["event_id_cnty"] = [
        f"{c[:3].upper()}{i}" for c, i in zip(table["country"], range(1, n + 1), strict=True)
    ]
    out["event_date"] = table["date_start"].dt.strftime("%Y-%m-%d")
    out["year"] = table["date_start"].dt.year
    out["time_precision"] = (
        table["date_precision"].map({"day": 1, "week": 2, "month": 3}).fillna(1).astype(int)
    )
    out["disorder_type"] = "Political violence"
    out["event_type"] = table["event_type"]
    out["sub_event_type"] = table["event_type"].map({"Battles": "Armed clash"}).fillna("Attack")
    out["actor1"] = table["actor_raw"]
    out["inter1"] = "Rebel group"
    out["actor2"] = table["target"]
    out["inter2"] = "State forces"
    out["interaction"] = "Rebel group-State forces"
    out["iso"] = table["country"].map(ISO)
    out["region"] = "Middle East"
    out["country"] = table["country"]
    out["admin1"] = table["region"]
    out["admin2"] = table["admin2"]
    out["location"] = table["location"].fillna(table["region"])
    out["latitude"] = table["latitude"].round(4)
    out["longitude"] = table["longitude"].round(4)
    out["geo_precision"] = 2
    out["source"] = "Simulated monitor"
    out["source_scale"] = "National"
    out["fatalities"] = table["fatalities_best"].fillna(0)
    out["timestamp"] = 1_700_000_000
    return out


def run_child(body: str) -> dict:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(body=body)], capture_output=True, text=True, check=True
    )
    quarantined = re.search(r"^quarantined\s+([\d,]+)", done.stdout, re.MULTILINE)
    return {
        "wall": time.perf_counter() - began,
        "quarantined": int(quarantined.group(1).replace(",", "")) if quarantined else None,
        **json.loads(done.stdout.strip().splitlines()[-1]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        simulated_table(tmp / "simulated.parquet", args.incidents)
        table = pd.read_parquet(tmp / "simulated.parquet")
        files = {"ACLED export (31 columns)": tmp / "acled.csv", "own minimal table": tmp / "minimal.csv"}
        as_acled(table).to_csv(files["ACLED export (31 columns)"], index=False)
        minimal = table[["date_start", "country", "region", "actor_raw", "fatalities_best"]]
        minimal.set_axis(["date", "country", "region", "actor", "fatalities"], axis=1).to_csv(
            files["own minimal table"], index=False, date_format="%Y-%m-%d"
        )
        del table, minimal
        for label, path in files.items():
            ours = run_child(VALIDATE.format(path=str(path), out=str(tmp / "quarantine.csv")))
            plain = run_child(PANDAS.format(path=str(path)))
            rows.append(
                {
                    "file": label,
                    "rows": args.incidents,
                    "MB": path.stat().st_size / 1e6,
                    "quarantined": ours["quarantined"],
                    "validate wall s": ours["wall"],
                    "pandas wall s": plain["wall"],
                    "wall ratio": ours["wall"] / plain["wall"],
                    "validate CPU s": ours["cpu"],
                    "CPU ratio": ours["cpu"] / plain["cpu"],
                    "validate GiB": ours["rss_gib"],
                    "pandas GiB": plain["rss_gib"],
                    "memory ratio": ours["rss_gib"] / plain["rss_gib"],
                }
            )
    print(pd.DataFrame(rows).round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
