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
from _process import PEAK_GIB

import casualtystats as cs
from casualtystats.merge.combine import combine
from casualtystats.merge.mse import chapman, loglinear
from casualtystats.simulate import GOVERNORATES, perturbed_copy, simulate_incidents, simulate_sources

#: The timed process: read the reports, merge them, report wall/CPU seconds and peak RSS (GiB).
MERGE_PROCESS = (
    PEAK_GIB
    + """
import sys, time
from pathlib import Path
import pandas as pd
import casualtystats as cs

path = Path(sys.argv[1])
reports = pd.read_parquet(path)
before = peak_gib()
t, cpu = time.perf_counter(), time.process_time()
result = cs.merge_incidents(reports)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
peak = peak_gib()
result.links.to_parquet(path.with_name("links.parquet"), index=False)
print(seconds, cpu, peak, before, len(result.incidents))
"""
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"
UCDP = SHARED / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"
GTD = SHARED / "gtd_2010_2017_iraq" / "gtd_2010_2017_iraq.csv"


def pair_scores(links: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """Pair precision and recall of a merge's `links` against `truth` (source, incident_id, event_id)."""
    links = links.merge(truth, on=["source", "incident_id"])

    def pairs(key):
        both = links.assign(k=links[key]).merge(links.assign(k=links[key]), on="k")
        both = both[both["source_x"] < both["source_y"]]
        return set(zip(both["incident_id_x"], both["incident_id_y"], strict=True))

    found, true = pairs("merged_id"), pairs("event_id")
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


def pair_accuracy(original: pd.DataFrame, copy: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """Pair precision and recall of `merge_incidents` on a real table and its perturbed copy."""
    links = cs.merge_incidents(pd.concat([original, copy], ignore_index=True)).links
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": "UCDP",
                    "incident_id": original["incident_id"],
                    "event_id": original["incident_id"],
                }
            ),
            pd.DataFrame(
                {"source": "COPY", "incident_id": truth["copy_id"], "event_id": truth["incident_id"]}
            ),
        ]
    )
    return pair_scores(links, events)


def perturbed() -> None:
    print(
        "\n== UCDP GED Iraq against a perturbed copy of itself (dates +-2 d, 10 km, counts +-30%, 20% dropped) =="
    )
    inc = cs.load_incidents(UCDP).incidents
    copy, truth = perturbed_copy(inc, seed=1)
    precision, recall = pair_accuracy(inc, copy, truth)
    print(f"merge_incidents: pair precision {precision:.3f}, recall {recall:.3f} ({len(truth):,} true pairs)")
    ties, accuracy = perturbation_bound(inc, copy, truth)
    print(
        f"bound: {ties:,} of {len(copy):,} copies ({ties / len(copy):.1%}) are explained at least as well by another "
        f"original as by their own under the perturbation's exact rules (twins alike in every field a matcher "
        f"sees, within the date shift); the most likely one-to-one assignment under those rules, ties broken at "
        f"random, gets precision = recall {np.mean(accuracy):.3f} (range {min(accuracy):.3f}-{max(accuracy):.3f} "
        f"over {len(accuracy)} tie-breaks): no matcher can expect more on this copy"
    )
    # The "dates moved 0-2 days within precision" has two readings: every one-day date moved
    # up to 2 days (above), or a date moved only within its stated precision, so one-day dates stay.
    # The same copy at each largest move shows what the date shift alone costs.
    for days in (1, 0):
        copy, truth = perturbed_copy(inc, seed=1, max_shift_days=days)
        precision, recall = pair_accuracy(inc, copy, truth)
        print(
            f"one-day dates moved at most {days} d (all else as above): precision {precision:.3f}, recall {recall:.3f}"
        )


def perturbation_bound(
    original: pd.DataFrame, copy: pd.DataFrame, truth: pd.DataFrame, tie_breaks: int = 5
) -> tuple[int, list[float]]:
    """What an oracle knowing `perturbed_copy`'s rules (default settings) can do: the likelihood of each copy
    under each original (dates moved uniformly by -2..2 days, coordinates uniform in a 10 km disc, every count
    scaled by one factor uniform on 0.7-1.3 and rounded, other fields kept, ISIS respelled), the number of
    copies another original explains at least as well as their own, and the pair accuracy of the maximum
    likelihood one-to-one assignment of copies to originals (every copy has one) with random tie-breaks."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from casualtystats import normalize

    aliases = normalize.actor_aliases(None)
    fields = ["country", "region", "admin2", "location", "event_type", "date_precision"]

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        key = frame[fields].astype(object).fillna("NA").astype(str).agg("|".join, axis=1)
        for column in ("actor", "target"):
            key = key + "|" + aliases.apply(frame[column])[0].astype(object).fillna("NA").astype(str)
        return pd.DataFrame({"key": key.to_numpy(), "no": np.arange(len(frame))})

    pairs = keyed(copy).merge(keyed(original), on="key", suffixes=("_c", "_o"))
    o = original.iloc[pairs["no_o"].to_numpy()].reset_index(drop=True)
    c = copy.iloc[pairs["no_c"].to_numpy()].reset_index(drop=True)
    span_o, span_c = ((f["date_end"] - f["date_start"]).dt.days.to_numpy() for f in (o, c))
    shift = (c["date_start"] - o["date_start"]).dt.days.to_numpy()
    one_day = span_o == 0
    ok = np.where(one_day, (span_c == 0) & (np.abs(shift) <= 2), (shift == 0) & (span_c == span_o))
    loglik = np.where(one_day, np.log(1 / 5), 0.0)
    lat_o, lon_o, lat_c, lon_c = (
        np.radians(f[x].to_numpy(dtype=float, na_value=np.nan))
        for f, x in ((o, "latitude"), (o, "longitude"), (c, "latitude"), (c, "longitude"))
    )
    km = (
        2
        * 6371.0088
        * np.arcsin(
            np.sqrt(
                np.sin((lat_c - lat_o) / 2) ** 2
                + np.cos(lat_o) * np.cos(lat_c) * np.sin((lon_c - lon_o) / 2) ** 2
            )
        )
    )
    located = ~np.isnan(km)
    ok &= np.where(located, km <= 10.05, np.isnan(lat_o) & np.isnan(lat_c))  # 10 km, rounding aside
    loglik += np.where(located, -np.log(np.pi * 10.0**2), 0.0)
    low, high = np.full(len(pairs), 0.7), np.full(len(pairs), 1.3)  # the factors that give the copy's counts
    for column in (f"{m}_{b}" for m in ("fatalities", "injuries") for b in ("low", "best", "high")):
        x = o[column].astype("Float64").to_numpy(float, na_value=np.nan)
        y = c[column].astype("Float64").to_numpy(float, na_value=np.nan)
        ok &= (np.isnan(x) == np.isnan(y)) & ~((x == 0) & (y != 0))
        with np.errstate(all="ignore"):
            low = np.where(x > 0, np.maximum(low, (y - 0.5) / x), low)
            high = np.where(x > 0, np.minimum(high, (y + 0.5) / x), high)
    ok &= high > low
    loglik += np.log(np.where(high > low, high - low, 1.0) / 0.6)
    pairs = pairs.assign(loglik=loglik)[ok]
    true = set(zip(truth["incident_id"], truth["copy_id"], strict=True))
    pairs["true"] = [
        (a, b) in true
        for a, b in zip(
            original["incident_id"].to_numpy()[pairs["no_o"]],
            copy["incident_id"].to_numpy()[pairs["no_c"]],
            strict=True,
        )
    ]
    own = pairs[pairs["true"]].set_index("no_c")["loglik"]
    rivals = pairs[~pairs["true"]]
    ties = rivals.loc[
        rivals["loglik"].to_numpy() >= own.reindex(rivals["no_c"]).to_numpy() - 1e-9, "no_c"
    ].nunique()
    n_c = len(copy)
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs["no_c"].to_numpy(), n_c + pairs["no_o"].to_numpy())),
        shape=(n_c + len(original),) * 2,
    )
    pairs["component"] = connected_components(graph, directed=False)[1][pairs["no_c"].to_numpy()]
    rng = np.random.default_rng(0)
    accuracy = []
    for _ in range(tie_breaks):
        hits = 0
        for _, part in pairs.groupby("component"):
            cs_, c_no = np.unique(part["no_c"], return_inverse=True)
            os_, o_no = np.unique(part["no_o"], return_inverse=True)
            weight = np.full((len(cs_), len(os_)), -1e9)  # impossible pairs
            weight[c_no, o_no] = part["loglik"].to_numpy() + rng.uniform(0, 1e-6, len(part))
            right = np.zeros(weight.shape, bool)
            right[c_no, o_no] = part["true"].to_numpy()
            r, k = linear_sum_assignment(weight, maximize=True)
            hits += right[r, k].sum()
        accuracy.append(hits / n_c)
    return ties, accuracy


#: How the sources' death counts disagree, and the combination rule that suits it: monitors that
#: undercount (the simulator's default; the largest best), and sources that err both ways about as
#: often (15% of reports undercount, 15% overcount; the median).
DISAGREEMENTS = {"undercount, best=max": (0.0, "max"), "both ways, best=median": (0.15, "median")}


def simulated(runs: int) -> None:
    for label, (overcount, best) in DISAGREEMENTS.items():
        simulated_regime(runs, label, overcount, best)


def simulated_regime(runs: int, label: str, overcount: float, best: str) -> None:
    print(f"\n== Simulated sources (2-4 sources, own coverage, lags, places, counts): deaths {label} ==")
    rows = []
    for run in range(runs):
        k = 2 + run % 3
        ev = events(52, rate=0.3, seed=100 + run)
        cov = tuple(np.round(np.linspace(0.75, 0.45, k), 2))
        sim = simulate_sources(ev, coverage=cov, seed=200 + run, overcount_share=overcount)
        result = cs.merge_incidents(sim.reports, best=best)
        p, r = pair_scores(result.links, sim.truth)
        seen = ev[ev["incident_id"].isin(sim.truth["event_id"])]
        true = seen["fatalities_best"].sum()
        # The same combination rule over the true matching: what the sources' figures allow at best.
        reports = sim.reports.reset_index(drop=True)
        event = reports[["source", "incident_id"]].merge(sim.truth, on=["source", "incident_id"], how="left")
        perfect = combine(
            reports, pd.factorize(event["event_id"])[0], pd.factorize(reports["source"])[0], best
        )
        est = result.unrecorded(by=())
        rows.append(
            (
                k,
                len(ev),
                len(sim.reports),
                p,
                r,
                result.incidents["fatalities_best"].sum() / true,
                perfect["fatalities_best"].sum() / true,
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
            "true matching/true",
            "MSE estimate",
            "ci_low",
            "ci_high",
        ],
    )
    table["merged/true matching"] = table["deaths merged/true"] / table["true matching/true"]
    table["covers"] = (table["ci_low"] <= table["events"]) & (table["events"] <= table["ci_high"])
    print(table.round(3).to_string(index=False))
    print(
        f"mean precision {table.precision.mean():.3f} recall {table.recall.mean():.3f}; deaths merged/true "
        f"{table['deaths merged/true'].mean():.3f} (runs {table['deaths merged/true'].min():.3f}-"
        f"{table['deaths merged/true'].max():.3f}); with the true matching (the deaths no source reported are "
        f"beyond any merge) {table['true matching/true'].min():.3f}-{table['true matching/true'].max():.3f}; "
        f"merged/true matching {table['merged/true matching'].min():.3f}-{table['merged/true matching'].max():.3f}; "
        f"MSE after estimated matching covers {table.covers.mean():.0%}"
    )


def coverage(runs: int) -> None:
    """Coverage of the 95% intervals on tables with the true capture histories (sources recording 50%, 40% and
    30% of the incidents), with its Monte Carlo standard error sqrt(c (1 - c) / runs)."""
    print("\n== Capture-recapture interval coverage with the true capture histories (95% intervals) ==")
    rng = np.random.default_rng(7)
    logit = np.log(np.array([0.5, 0.4, 0.3]) / (1 - np.array([0.5, 0.4, 0.3])))
    # Dependent sources only need to show the failure, so fewer runs.
    for n, dependence, n_runs in ((500, 0.0, runs), (100, 0.0, runs // 3), (500, 1.5, runs // 3)):
        cover = {2: 0, 3: 0}
        for _ in range(n_runs):
            p = 1 / (1 + np.exp(-(logit + dependence * rng.normal(size=n)[:, None])))
            seen = rng.random((n, 3)) < p
            _, lo, hi = chapman(seen[:, 0].sum(), seen[:, 1].sum(), (seen[:, 0] & seen[:, 1]).sum())
            cover[2] += lo <= n <= hi
            h = pd.Series([tuple(r) for r in seen.astype(int)[seen.any(axis=1)]]).value_counts()
            _, lo, hi, _ = loglinear(h)
            cover[3] += lo <= n <= hi
        label = "independent" if dependence == 0 else f"dependent (shared salience, sd {dependence})"
        shares = {k: v / n_runs for k, v in cover.items()}
        se = {k: np.sqrt(c * (1 - c) / n_runs) for k, c in shares.items()}
        print(
            f"{label:<40} {n:>4} incidents  Chapman {shares[2]:.1%} (MC se {se[2]:.1%})   "
            f"log-linear (3 sources) {shares[3]:.1%} (MC se {se[3]:.1%})   ({n_runs} runs)"
        )
    matched_coverage(max(runs // 10, 6))


def matched_coverage(runs: int) -> None:
    """What a user gets: the interval of `unrecorded()` after the merge's own matching, on independent
    simulated sources (2-4, recording 75% down to 45%), against the true number of events."""
    print(
        "\n== Capture-recapture after estimated matching (simulated independent sources; what a user gets) =="
    )
    rows = []
    for run in range(runs):
        k = 2 + run % 3
        ev = events(52, rate=0.3, seed=1000 + run)
        sim = simulate_sources(ev, coverage=tuple(np.linspace(0.75, 0.45, k)), seed=2000 + run)
        est = cs.merge_incidents(sim.reports).unrecorded(by=()).iloc[0]
        rows.append((len(ev), est["estimate"], est["estimate_possible"], est["ci_low"], est["ci_high"]))
    t = pd.DataFrame(rows, columns=["events", "estimate", "possible", "low", "high"])
    cover = ((t["low"] <= t["events"]) & (t["events"] <= t["high"])).mean()
    print(
        f"{runs} runs: 95% interval (spanning the accepted and the possible-match matchings) covers the true total "
        f"in {cover:.1%} (MC se {np.sqrt(cover * (1 - cover) / runs):.1%}); estimate / truth "
        f"{(t['estimate'] / t['events']).mean():.3f} (above the truth in {(t['estimate'] > t['events']).mean():.0%}), "
        f"with possible matches {(t['possible'] / t['events']).mean():.3f} (below it in "
        f"{(t['possible'] < t['events']).mean():.0%}); mean width {((t['high'] - t['low']) / t['events']).mean():.1%} "
        f"of the total"
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
    # An incident involves ISIS if any of its reports does: none of UCDP's own ISIS events may drop out.
    own = cs.involving(cs.load_incidents(UCDP).incidents, "ISIS")
    own = own[own["date_start"].dt.year.between(2010, 2017)]
    ucdp_links = result.links[
        result.links["source"].eq("UCDP") & result.links["incident_id"].isin(own["incident_id"])
    ]
    lost = ucdp_links[~ucdp_links["merged_id"].isin(isis_ids)]
    roles = cs.involving(result.incidents, "ISIS")["role"].value_counts()
    print(
        f"UCDP alone: {len(own):,} ISIS events 2010-2017, {own['fatalities_best'].sum():,} deaths; of them "
        f"{len(lost):,} ({lost['fatalities_best'].sum():,} deaths) not in involving(merged, 'ISIS'); merged ISIS "
        f"incidents by role: " + ", ".join(f"{k} {v:,}" for k, v in roles.items())
    )
    aggregates(loaded.incidents, result)
    print(
        result.unrecorded(by=("year",)).query("year >= 2010 and year <= 2017").round(0).to_string(index=False)
    )


def aggregates(merged: pd.DataFrame, result) -> None:
    """Reports dated more coarsely than a week that share an incident with another report: where the
    merged incident is dated, and the deaths it puts on a single day."""
    inputs = cs.load_incidents([UCDP, GTD], merge=False).incidents
    links = result.links.assign(
        precision=result.links[["source", "incident_id"]]
        .merge(inputs[["source", "incident_id", "date_precision"]], how="left")["date_precision"]
        .to_numpy()
    )
    days = (links["date_end"] - links["date_start"]).dt.days + 1
    coarse = links["precision"].isin(["month", "year"]) | (links["precision"].eq("range") & (days > 7))
    shared = links.groupby("merged_id")["source"].transform("size") > 1
    ids = links.loc[coarse & shared, "merged_id"].unique()
    inc = merged.set_index("merged_id").loc[ids]
    on_a_day = inc["date_precision"].isin(["day", "range", "week"])
    print(
        f"aggregates: {len(ids)} incidents hold a report dated more coarsely than a week and another report; "
        f"{int((~on_a_day).sum())} keep the aggregate's dates ({int(inc.loc[~on_a_day, 'fatalities_best'].sum()):,} "
        f"deaths, set aside by the weekly panel), {int(on_a_day.sum())} are dated by a day report that states "
        f"at least the toll ({int(inc.loc[on_a_day, 'fatalities_best'].sum()):,} deaths on single days)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    coverage(60 if args.quick else 1000)
    simulated(3 if args.quick else 9)
    if UCDP.exists() and GTD.exists():
        perturbed()
        real_pair()
    speed(50_000 if args.quick else 1_000_000)


if __name__ == "__main__":
    main()
