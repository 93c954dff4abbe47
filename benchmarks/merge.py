"""Cross-source merge: speed at scale, matching with known truth, the real UCDP-GTD pair, MSE coverage.

Run: .venv/bin/python benchmarks/merge.py [--quick]
Prints tables; the reference for speed is a naive pandas cross-join of a sample, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import casualtystats as cs
from casualtystats.merge.mse import chapman, loglinear
from casualtystats.simulate import GOVERNORATES, perturbed_copy, simulate_incidents, simulate_sources

#: The timed process: read the reports, merge them, report wall/CPU seconds and peak RSS (GiB).
MERGE_PROCESS = """
import resource, sys, time
from pathlib import Path
import pandas as pd
import casualtystats as cs
path = Path(sys.argv[1])
reports = pd.read_parquet(path)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
t, cpu = time.perf_counter(), time.process_time()
result = cs.merge_incidents(reports)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
result.links.to_parquet(path.with_name("links.parquet"), index=False)
print(seconds, cpu, peak, before, len(result.incidents))
"""

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"
UCDP = SHARED / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"
GTD = SHARED / "gtd_2010_2017_iraq" / "gtd_2010_2017_iraq.csv"


def pair_scores(links: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    links = links.merge(truth, on=["source", "incident_id"])

    def pairs(key):
        g = links.sort_values(["source", "incident_id"]).groupby(key)
        firsts = links.assign(k=links[key]).merge(links.assign(k=links[key]), on="k")
        firsts = firsts[firsts["source_x"] < firsts["source_y"]]
        return set(zip(firsts["incident_id_x"], firsts["incident_id_y"], strict=True)), g

    found, _ = pairs("merged_id")
    true, _ = pairs("event_id")
    hit = len(found & true)
    return hit / max(len(found), 1), hit / max(len(true), 1)


def events(n_weeks: int, rate: float, seed: int) -> pd.DataFrame:
    end = pd.Timestamp("2010-01-04") + pd.Timedelta(weeks=n_weeks)
    regions = list(GOVERNORATES)
    sim = simulate_incidents(regions=regions, actors={"ISIS": rate}, start="2010-01-04", end=end, seed=seed)
    return sim.incidents.assign(source="TRUTH")


def world(n_regions: int = 2000) -> dict[str, tuple[str, float, float]]:
    """Synthetic admin-1 centroids on a 1.5-degree grid over Africa, the Middle East and South Asia
    (where ACLED-scale data lives), 20 regions a country."""
    lat, lon = np.meshgrid(np.arange(-30, 45, 1.5), np.arange(-15, 120, 1.5))
    lat, lon = lat.ravel()[:n_regions], lon.ravel()[:n_regions]
    return {
        f"R{i}": (f"C{i // 20}", float(a), float(b)) for i, (a, b) in enumerate(zip(lat, lon, strict=True))
    }


def speed(n_target: int) -> None:
    print(f"\n== Speed: two sources of ~{n_target:,} reports each ==")
    weeks, regions = 520, world()
    end = pd.Timestamp("2010-01-04") + pd.Timedelta(weeks=weeks)
    rate = n_target / 0.8 / weeks / len(regions)
    ev = simulate_incidents(regions=regions, actors={"ISIS": rate}, start="2010-01-04", end=end, seed=1)
    ev = ev.incidents.assign(source="TRUTH")
    sim = simulate_sources(ev, coverage=(0.8, 0.8), seed=2)
    reports = sim.reports
    # The merge runs in a process of its own that reads the two sources from Parquet, as a user's
    # script would: its peak memory is the input table plus the merge, not the simulation's.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.parquet"
        reports.to_parquet(path, index=False)
        out = subprocess.run(
            [sys.executable, "-c", MERGE_PROCESS, str(path)], check=True, capture_output=True, text=True
        ).stdout.split()
        seconds, cpu, peak, before = map(float, out[:4])
        links = pd.read_parquet(Path(folder) / "links.parquet")
    p, r = pair_scores(links, sim.truth)
    print(
        f"reports {len(reports):,} -> incidents {int(out[4]):,} in {seconds:.1f} s "
        f"({cpu:.1f} CPU s, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); "
        f"peak RSS of the merging process {peak:.2f} GiB (after reading the input {before:.2f} GiB); "
        f"precision {p:.3f} recall {r:.3f}"
    )
    # Naive reference: pandas cross join of a sample, then the same date/distance filter.
    k = 4000
    a = reports[reports["source"] == "S1"].sample(k, random_state=0)
    b = reports[reports["source"] == "S2"].sample(k, random_state=1)
    t = time.perf_counter()
    x = a[["date_start", "latitude", "longitude"]].merge(
        b[["date_start", "latitude", "longitude"]], how="cross"
    )
    days = (x["date_start_x"] - x["date_start_y"]).dt.days.abs()
    km = 111.32 * np.hypot(x["latitude_x"] - x["latitude_y"], (x["longitude_x"] - x["longitude_y"]) * 0.83)
    _ = x[(days <= 3) & (km <= 50)]
    naive = time.perf_counter() - t
    full = naive * (len(reports) / 2 / k) ** 2
    n_half = len(reports) // 2
    print(
        f"naive pandas cross join of {k:,} x {k:,} ({k * k:,} pairs) then the same date/distance filter: "
        f"{naive:.2f} s; scaled to {n_half:,} x {n_half:,} ({n_half**2 * 24 / 2**40:,.0f} TiB of pairs, "
        f"beyond memory): ~{full / 3600:,.0f} h = {full / seconds:,.0f}x ours"
    )


def perturbed() -> None:
    print(
        "\n== UCDP GED Iraq against a perturbed copy of itself (dates +-2 d, 10 km, counts +-30%, 20% dropped) =="
    )
    inc = cs.load_incidents(UCDP).incidents
    copy, truth = perturbed_copy(inc, seed=1)
    result = cs.merge_incidents(pd.concat([inc, copy], ignore_index=True))
    L = result.links
    found = L[L["source"] == "UCDP"][["merged_id", "incident_id"]].merge(
        L[L["source"] == "COPY"][["merged_id", "incident_id"]].rename(columns={"incident_id": "copy_id"})
    )
    hit = len(found.merge(truth, on=["incident_id", "copy_id"]))
    key = ["location", "latitude", "longitude", "actor", "target", "fatalities_best", "event_type"]
    twins = inc.assign(day=inc["date_start"]).sort_values("day")
    twins["k"] = twins[key].astype(str).agg("|".join, axis=1)
    gap = twins.groupby("k")["day"].diff().dt.days
    print(
        f"pair precision {hit / len(found):.3f}, recall {hit / len(truth):.3f} ({len(truth):,} true pairs); "
        f"events with an identical earlier twin (place, actor, target, deaths, type) <= 4 days before: "
        f"{(gap <= 4).mean():.1%}"
    )


def simulated(runs: int) -> None:
    print("\n== Simulated sources (2-4 sources, own coverage, lags, places, counts) ==")
    rows = []
    for run in range(runs):
        k = 2 + run % 3
        ev = events(52, rate=0.3, seed=100 + run)
        cov = tuple(np.round(np.linspace(0.75, 0.45, k), 2))
        sim = simulate_sources(ev, coverage=cov, seed=200 + run)
        result = cs.merge_incidents(sim.reports)
        p, r = pair_scores(result.links, sim.truth)
        seen = ev[ev["incident_id"].isin(sim.truth["event_id"])]
        ratio = result.incidents["fatalities_best"].sum() / seen["fatalities_best"].sum()
        est = result.unrecorded(by=())
        rows.append(
            (
                k,
                len(ev),
                len(sim.reports),
                p,
                r,
                ratio,
                est["estimate"].iat[0],
                est["ci_low"].iat[0],
                est["ci_high"].iat[0],
            )
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "sources",
            "events",
            "reports",
            "precision",
            "recall",
            "deaths merged/true",
            "MSE estimate",
            "ci_low",
            "ci_high",
        ],
    )
    table["covers"] = (table["ci_low"] <= table["events"]) & (table["events"] <= table["ci_high"])
    print(table.round(3).to_string(index=False))
    print(
        f"mean precision {table.precision.mean():.3f} recall {table.recall.mean():.3f}; deaths merged/true "
        f"{table['deaths merged/true'].mean():.3f}; MSE after estimated matching covers {table.covers.mean():.0%}"
    )


def coverage(runs: int) -> None:
    print("\n== Capture-recapture interval coverage with the true capture histories (95% intervals) ==")
    rng = np.random.default_rng(7)
    for dependence in (0.0, 1.5):
        cover = {2: 0, 3: 0}
        for _ in range(runs):
            n = 500
            z = rng.normal(size=n)
            p = 1 / (
                1
                + np.exp(
                    -(
                        np.log(np.array([0.5, 0.4, 0.3]) / (1 - np.array([0.5, 0.4, 0.3])))
                        + dependence * z[:, None]
                    )
                )
            )
            seen = rng.random((n, 3)) < p
            _, lo, hi = chapman(seen[:, 0].sum(), seen[:, 1].sum(), (seen[:, 0] & seen[:, 1]).sum())
            cover[2] += lo <= n <= hi
            h = pd.Series([tuple(r) for r in seen.astype(int)[seen.any(axis=1)]]).value_counts()
            _, lo, hi, _ = loglinear(h)
            cover[3] += lo <= n <= hi
        label = "independent" if dependence == 0 else f"dependent (shared salience, sd {dependence})"
        print(
            f"{label:<40} Chapman {cover[2] / runs:.0%}   log-linear (3 sources) {cover[3] / runs:.0%}   ({runs} runs)"
        )


def real_pair() -> None:
    print("\n== Real pair: UCDP GED Iraq and GTD 2010-2017 Iraq extract, ISIS incidents 2010-2017 ==")
    loaded = cs.load_incidents([UCDP, GTD])
    result = loaded.merge
    links = result.links.assign(year=result.links["date_start"].dt.year)
    inc = result.incidents.set_index("merged_id")
    isis_ids = cs.involving(result.incidents, "ISIS")["merged_id"]
    links = links[links["merged_id"].isin(isis_ids) & links["year"].between(2010, 2017)]
    both = inc.loc[inc["sources"].eq("GTD+UCDP")].index
    rows = []
    for year, g in links.groupby("year"):
        m = g[g["merged_id"].isin(both)]
        rows.append(
            (
                year,
                (g["source"] == "UCDP").sum(),
                (g["source"] == "GTD").sum(),
                m["merged_id"].nunique(),
                m.loc[m["source"] == "UCDP", "fatalities_best"].sum(),
                m.loc[m["source"] == "GTD", "fatalities_best"].sum(),
                inc.loc[g["merged_id"].unique(), "fatalities_best"].sum(),
            )
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "year",
            "UCDP incidents",
            "GTD incidents",
            "matched",
            "UCDP deaths (matched)",
            "GTD deaths (matched)",
            "merged deaths",
        ],
    )
    print(table.to_string(index=False))
    ucdp, gtd = (links[links["source"] == s]["fatalities_best"].sum() for s in ("UCDP", "GTD"))
    merged = inc.loc[links["merged_id"].unique(), "fatalities_best"].sum()
    print(
        f"deaths: UCDP {ucdp:,}, GTD {gtd:,}, merged {merged:,} (between max {max(ucdp, gtd):,} and sum {ucdp + gtd:,}: "
        f"{max(ucdp, gtd) <= merged <= ucdp + gtd})"
    )
    print(
        result.unrecorded(by=("year",)).query("year >= 2010 and year <= 2017").round(0).to_string(index=False)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    coverage(50 if args.quick else 300)
    simulated(3 if args.quick else 9)
    if UCDP.exists() and GTD.exists():
        perturbed()
        real_pair()
    speed(50_000 if args.quick else 1_000_000)


if __name__ == "__main__":
    main()
