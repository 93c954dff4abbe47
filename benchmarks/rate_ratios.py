"""Rate-ratio intervals after detection: the naive and the "scan" interval side by side (issue 11).

Every simulated series goes through the default `detect_change_points` (cost
and penalty "auto"), and each detected change gets both intervals from
`ChangePoints.rate_ratios(method=...)`. Nothing true is handed to the
detection or the intervals: no change date, dispersion or dependence.

Series: weekly counts with one level change 52 weeks before the end (ratio
1.5, 2, 3 from 1 or 5 a week, over 3 or 10 years), negative binomial with size
1 or 0.5; the same with a latent AR(1) log-rate (phi 0.5 / 0.8, stationary sd
0.6, Poisson given the rate); and no-change series, independent NB and latent
AR(1). Scored:
- coverage: share of detected changes whose 95% interval holds the ratio of
  the true mean levels of the two segments as drawn (the projection target:
  the true ratio for a change found in place, 1 for a spurious change in a flat
  stretch);
- matched coverage: among detected changes within 8 weeks of the true change,
  share whose interval holds the true ratio;
- power: share of series with such a matched change whose interval excludes 1;
- null: share of no-change series with any interval excluding 1.

Panel slices (`--part-reps`, a separate table): weekly incidents and deaths simulated as in
benchmarks/changepoint_sim.py (Poisson incidents at 3 a week (`--part-rate`), round(lognormal(1.3, 1.2)) deaths
per incident, n = 260, a change at week 156 multiplying the incident rate or every incident's
deaths by 1.5 or 2; no change, independent or with a latent AR(1) incident rate, phi 0.8), the
default detection (cost "freqsev_log"), then `rate_ratios()`, one row per change and part that
found it, judged on that part's quantity. Scored: among the rows within 8 weeks of the true
change and of the part that measures it (frequency: incident_rate, true ratio = the factor;
severity: deaths_per_incident and median_deaths_per_incident, both true ratios = the factor),
the share whose interval holds the true ratio; power, the share of series with such a row
excluding 1; on no-change slices, the share with any row excluding 1.

Usage: .venv/bin/python benchmarks/rate_ratios.py [--reps 200] [--boot-reps 40] [--part-reps 200]
[--part-rate 3] [--seed 11] [--only AR] (`--only x1.5 --reps 600`: the weak changes alone, pooled with more
detections; `--reps 0 --boot-reps 0`: the panel-slice table alone)
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from changepoint_sim import CHANGE_AT, simulate

from casualtystats.changepoints import detect_change_points

#: a detected change this close to the true one is "matched" (weeks)
MATCH_WEEKS = 8
#: the change sits this many weeks before the end (the resurgence rule's window)
WEEKS_AFTER = 52
#: methods scored on the whole grid; "bootstrap" (about 1 s per change) on a few cells
METHODS = ("naive", "scan")
BOOT_REPLICATES = 99


@dataclass(frozen=True)
class Scenario:
    """One cell of the grid: regime means, count noise and latent dependence."""

    name: str
    n: int
    base: float
    ratio: float = 1.0  # 1 = no change
    size: float | None = 1.0  # NB size given the latent rate; None = Poisson
    phi: float = 0.0  # latent AR(1) coefficient of the log-rate
    sd: float = 0.0  # stationary sd of the latent log-rate

    def means(self) -> np.ndarray:
        mean = np.full(self.n, float(self.base))
        if self.ratio != 1.0:
            mean[self.n - WEEKS_AFTER :] *= self.ratio
        return mean

    def simulate(self, rng: np.random.Generator) -> np.ndarray:
        """Counts: NB(size) or Poisson around mean_t * exp(x_t - sd^2 / 2), x a latent AR(1)."""
        lam = self.means()
        if self.sd > 0:
            eps = rng.standard_normal(self.n) * self.sd * np.sqrt(1 - self.phi**2)
            x = np.empty(self.n)
            x[0] = rng.standard_normal() * self.sd
            for t in range(1, self.n):
                x[t] = self.phi * x[t - 1] + eps[t]
            lam = lam * np.exp(x - self.sd**2 / 2)
        if self.size is None:
            return rng.poisson(lam)
        return rng.negative_binomial(self.size, self.size / (self.size + lam))


def change_grid() -> list[Scenario]:
    cells = []
    for size in (1.0, 0.5):
        for base in (1.0, 5.0):
            for n in (156, 520):
                for ratio in (1.5, 2.0, 3.0):
                    cells.append(Scenario(f"NB{size:g} x{ratio:g}", n, base, ratio, size))
    for phi in (0.5, 0.8):
        for ratio in (2.0, 3.0):
            cells.append(Scenario(f"AR{phi:g} x{ratio:g}", 520, 5.0, ratio, None, phi, 0.6))
    return cells


def null_grid() -> list[Scenario]:
    cells = []
    for size in (1.0, 0.5):
        for base in (1.0, 5.0, 20.0):
            for n in (156, 520):
                cells.append(Scenario(f"NB{size:g} null", n, base, 1.0, size))
    for phi in (0.5, 0.8):
        for base in (1.0, 5.0, 20.0):
            cells.append(Scenario(f"AR{phi:g} null", 520, base, 1.0, None, phi, 0.6))
    return cells


def score_series(cell: Scenario, y: np.ndarray, methods=METHODS) -> dict:
    """Detect, then score each method's intervals on one series."""
    cps = detect_change_points(y)
    mean = cell.means()
    true_loc = cell.n - WEEKS_AFTER if cell.ratio != 1.0 else None
    out = {"changes": cps.n_changes, "matched": 0}
    for method in methods:
        rr = cps.rate_ratios(method=method, n_boot=BOOT_REPLICATES)
        covered = hit = excludes = 0
        matched = None
        for k, row in enumerate(rr.itertuples(index=False)):
            (a, b), (c, d) = cps.observed_bounds[k], cps.observed_bounds[k + 1]
            target = mean[c:d].mean() / mean[a:b].mean()
            covered += bool(row.ci_low <= target <= row.ci_high)
            excludes += bool(row.ci_low > 1 or row.ci_high < 1)
            if true_loc is not None and abs(row.location - true_loc) <= MATCH_WEEKS and matched is None:
                matched = row
        if matched is not None:
            out["matched"] = 1
            hit = bool(matched.ci_low <= cell.ratio <= matched.ci_high)
            out[f"{method}_matched_cov"] = hit
            out[f"{method}_power"] = bool(matched.ci_low > 1)
        out[f"{method}_covered"] = covered
        out[f"{method}_any_excludes"] = bool(excludes)
    return out


def run_cells(cells: list[Scenario], reps: int, seed: int, methods=METHODS, only: str = "") -> pd.DataFrame:
    """One row per cell with the scores of every method (cells whose name holds `only`; each keeps its seed)."""
    rows = []
    for i, cell in enumerate(cells):
        if only not in cell.name:
            continue
        rng = np.random.default_rng([seed, i])
        scores = pd.DataFrame([score_series(cell, cell.simulate(rng), methods) for _ in range(reps)])
        row = {
            "scenario": cell.name,
            "n": cell.n,
            "base": cell.base,
            "changes/series": scores["changes"].mean(),
            "found": scores["matched"].mean(),
        }
        n_changes = scores["changes"].sum()
        row["changes"] = n_changes  # the denominator of the coverage shares
        for method in methods:
            row[f"cov_{method}"] = scores[f"{method}_covered"].sum() / n_changes if n_changes else np.nan
            if cell.ratio != 1.0:
                matched = scores[scores["matched"] == 1]
                row[f"mcov_{method}"] = matched[f"{method}_matched_cov"].mean() if len(matched) else np.nan
                row[f"power_{method}"] = (
                    scores.get(f"{method}_power", pd.Series(dtype=float)).fillna(0).sum() / reps
                )
            else:
                row[f"excl1_{method}"] = scores[f"{method}_any_excludes"].mean()
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["scenario", "n", "changes"])


@dataclass(frozen=True)
class SliceScenario:
    """A panel slice of `changepoint_sim.simulate`: a change of the incident rate (`freq`) or of
    every incident's deaths (`sev`) at week CHANGE_AT, or none, with latent AR(1) `phi`."""

    name: str
    freq: float = 1.0
    sev: float = 1.0
    phi: float = 0.0
    rate: float = 3.0

    def true_ratios(self) -> dict[str, float]:
        """The parts that measure the change and the true ratio of each one's quantity."""
        if self.freq != 1.0:
            return {"incident_rate": self.freq}
        if self.sev != 1.0:  # every incident's deaths x sev: its mean and its median x sev
            return {"deaths_per_incident": self.sev, "median_deaths_per_incident": self.sev}
        return {}


def slice_grid(rate: float) -> list[SliceScenario]:
    return [
        SliceScenario("frequency x2", freq=2.0, rate=rate),
        SliceScenario("frequency x1.5", freq=1.5, rate=rate),
        SliceScenario("severity x2", sev=2.0, rate=rate),
        SliceScenario("severity x1.5", sev=1.5, rate=rate),
        SliceScenario("none, independent", rate=rate),
        SliceScenario("none, latent AR(1) 0.8", phi=0.8, rate=rate),
    ]


def score_slice(cell: SliceScenario, rng: np.random.Generator) -> dict:
    """Detect on one simulated slice and score its per-part rows."""
    frame = simulate(rng, cell.rate, freq=cell.freq, sev=cell.sev, phi=cell.phi)
    table = detect_change_points(frame).rate_ratios()
    excludes = (table["ci_low"] > 1) | (table["ci_high"] < 1)
    out = {"rows": len(table), "any_excludes": bool(excludes.any())}
    near = (table["location"] - CHANGE_AT).abs() <= MATCH_WEEKS
    for part, ratio in cell.true_ratios().items():
        rows = table[near & (table["part"] == part)].head(1)  # a part has at most one change this close
        out[f"{part}_found"] = len(rows)
        out[f"{part}_covered"] = int(((rows["ci_low"] <= ratio) & (ratio <= rows["ci_high"])).sum())
        out[f"{part}_significant"] = int((rows["ci_low"] > 1).sum() + (rows["ci_high"] < 1).sum())
    return out


def run_slices(reps: int, seed: int, rate: float = 3.0) -> pd.DataFrame:
    """One row per cell and part measuring its change (no-change cells: one row)."""
    rows = []
    for i, cell in enumerate(slice_grid(rate)):
        rng = np.random.default_rng([seed, 100 + i])
        scores = pd.DataFrame([score_slice(cell, rng) for _ in range(reps)])
        base = {"scenario": cell.name, "rows/series": scores["rows"].mean()}
        if not cell.true_ratios():
            rows.append(base | {"part": "any", "excl1": scores["any_excludes"].mean()})
        for part, ratio in cell.true_ratios().items():
            found = int(scores[f"{part}_found"].sum())
            share = scores[f"{part}_covered"].sum() / found if found else np.nan
            rows.append(
                base
                | {
                    "part": part,
                    "true": ratio,
                    "found": found / reps,
                    "coverage": share,
                    "mc_se": np.sqrt(share * (1 - share) / found) if found else np.nan,
                    "power": scores[f"{part}_significant"].sum() / reps,
                }
            )
    return pd.DataFrame(rows)


def time_slice_calls(seed: int, rate: float, calls: int = 50) -> pd.DataFrame:
    """CPU milliseconds per call on panel slices (a severity doubling): rate_ratios() per part against
    detect_change_points on the same slices (the reference)."""
    rng = np.random.default_rng(seed)
    frames = [simulate(rng, rate, sev=2.0) for _ in range(calls)]
    detect_change_points(frames[0]).rate_ratios()  # warm numba and the caches
    start = time.process_time()
    fits = [detect_change_points(frame) for frame in frames]
    detect_ms = (time.process_time() - start) / calls * 1e3
    start = time.process_time()
    for cps in fits:
        cps.rate_ratios()
    ms = (time.process_time() - start) / calls * 1e3
    return pd.DataFrame(
        [
            {"call": "detect_change_points(panel slice) (reference)", "ms/call": detect_ms, "ratio": 1.0},
            {"call": "rate_ratios() per part", "ms/call": ms, "ratio": ms / detect_ms},
        ]
    )


def time_calls(seed: int, calls: int = 100) -> pd.DataFrame:
    """CPU milliseconds per call of rate_ratios(method) against detect_change_points (the reference)."""
    rng = np.random.default_rng(seed)
    series = [Scenario("t", 520, 5.0, 2.0, 1.0).simulate(rng) for _ in range(calls)]
    fits = [detect_change_points(y) for y in series[:5]]  # warm numba and the caches
    for method in (*METHODS, "bootstrap"):
        fits[0].rate_ratios(method=method, n_boot=BOOT_REPLICATES)
    start = time.process_time()
    fits = [detect_change_points(y) for y in series]
    detect_ms = (time.process_time() - start) / calls * 1e3
    rows = [{"call": "detect_change_points (reference)", "ms/call": detect_ms, "ratio": 1.0}]
    for method in (*METHODS, "bootstrap"):
        used = fits if method != "bootstrap" else fits[:5]  # the bootstrap takes about a second a change
        start = time.process_time()
        for cps in used:
            cps.rate_ratios(method=method, n_boot=BOOT_REPLICATES)
        ms = (time.process_time() - start) / len(used) * 1e3
        rows.append({"call": f"rate_ratios(method={method!r})", "ms/call": ms, "ratio": ms / detect_ms})
    return pd.DataFrame(rows)


def summary_line(label: str, changes: pd.DataFrame, nulls: pd.DataFrame, method: str, reps: int) -> str:
    """Worst cells, each with its Monte Carlo standard error (binomial, from the cell's denominator)."""

    def worst(frame, col, pick, denominator):
        if col not in frame or frame[col].isna().all():
            return "nan"
        row = frame.loc[pick(frame[col])]
        share, count = row[col], denominator(row)
        return f"{share:.3f} (+-{np.sqrt(share * (1 - share) / count):.3f}, {row['scenario']} n={row['n']})"

    cov, excl = f"cov_{method}", f"excl1_{method}"
    return (
        f"  {label:<16} {method:>6}: coverage median {changes[cov].median():.3f}, "
        f"min {worst(changes, cov, pd.Series.idxmin, lambda r: r['changes'])}; "
        f"min over x2/x3 {worst(changes[changes['scenario'].str.contains('x[23]')], cov, pd.Series.idxmin, lambda r: r['changes'])}; "
        f"null max {worst(nulls, excl, pd.Series.idxmax, lambda r: reps)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="series per cell")
    parser.add_argument(
        "--boot-reps", type=int, default=40, help="series per cell for the bootstrap table (0: skip it)"
    )
    parser.add_argument(
        "--part-reps", type=int, default=200, help="panel slices per cell for the per-part table (0: skip it)"
    )
    parser.add_argument("--part-rate", type=float, default=3.0, help="incidents a week of the panel slices")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--only", default="", help="run only the scenarios whose name holds this (e.g. AR, x1.5)"
    )
    args = parser.parse_args()
    pd.set_option("display.width", 220)
    fmt = {"float_format": "{:.3f}".format, "index": False}
    if args.part_reps > 0:
        print(
            f"Panel slices ({args.part_rate:g} incidents a week, n = 260, change at {CHANGE_AT}), one row per "
            "change and part; "
            f"{args.part_reps} slices per cell; nominal 95% (goals: coverage >= 0.90, excl1 <= 0.05)"
        )
        print(run_slices(args.part_reps, args.seed + 3, args.part_rate).to_string(**fmt))
        print(
            f"\nCPU cost per call on panel slices ({args.part_rate:g} incidents a week, n = 260, one process)"
        )
        print(time_slice_calls(args.seed, args.part_rate).to_string(**fmt))
    if args.reps <= 0:
        return
    changes = run_cells(change_grid(), args.reps, args.seed, only=args.only)
    print(f"\nOne change {WEEKS_AFTER} weeks before the end; {args.reps} series per cell; nominal 95%")
    print(changes.to_string(**fmt))
    nulls = run_cells(null_grid(), args.reps, args.seed + 1, only=args.only)
    print("\nNo change: share of series with any interval excluding 1 (goal <= 0.05)")
    print(nulls.to_string(**fmt))
    if len(changes):  # `--only` may pick no change cell
        print("\nSummary")
        for method in METHODS:
            for label, prefix in (("independent NB", "NB"), ("latent AR(1)", "AR")):
                pick = changes["scenario"].str.startswith(prefix), nulls["scenario"].str.startswith(prefix)
                print(summary_line(label, changes[pick[0]], nulls[pick[1]], method, args.reps))
            weak = changes[changes["scenario"].str.contains("x1.5", regex=False)]
            if len(weak) and weak["changes"].sum():  # per cell too few detections to measure: pooled
                total = weak["changes"].sum()
                share = (weak[f"cov_{method}"].fillna(0) * weak["changes"]).sum() / total
                print(
                    f"  {'x1.5 cells pooled':<16} {method:>6}: coverage {share:.3f} "
                    f"(+-{np.sqrt(share * (1 - share) / total):.3f}) over {total} detected changes"
                )
    boot_cells = [
        Scenario("NB0.5 x2", 156, 5.0, 2.0, 0.5),
        Scenario("NB1 x2", 520, 1.0, 2.0, 1.0),
        Scenario("NB0.5 null", 156, 20.0, 1.0, 0.5),
        Scenario("AR0.5 null", 520, 5.0, 1.0, None, 0.5, 0.6),
    ]
    if args.boot_reps > 0:  # 0 skips the (slow) bootstrap table
        boot = run_cells(boot_cells, args.boot_reps, args.seed + 2, (*METHODS, "bootstrap"))
        print(
            f"\nBootstrap calibration ({BOOT_REPLICATES} replicates) on a few cells, {args.boot_reps} series each"
        )
        print(boot.to_string(**fmt))
    print("\nCPU cost per call (n = 520 weeks, one process)")
    print(time_calls(args.seed).to_string(**fmt))


if __name__ == "__main__":
    main()
