"""How early would each resurgence rule have warned, and at what cost in false alarms?

Every figure is given twice: with today's fixed thresholds ("fixed") and with
the thresholds set under the default false-alarm budget of 1 alarm per
series-year ("budget"), each replayed week setting its thresholds from the data
known then (exactly what `find_resurgence` would have said that week).

Part 1, simulated: `simulate_incidents` draws ISIS incidents in 8 governorates,
2019-2023, at 3 incidents (about 6 fatalities) a week; in 6 of them the rate
steps up by a factor r at a known week (staggered through 2021-2022), 2 never
change. For each r in 1.25, 1.5, 2, 3, 4 every rule is replayed on weekly
fatalities (best) and incidents from 2020 on, with only the data known each
week, and scored by `casualtystats.backtest` (detection = a flag within 26
weeks of the onset). The tables are the detection-power curves: detection rate
and delay against r, beside the false alarms per series-year (alarms starting
outside every onset window).

Part 1b, seasonal (`--seasonal` runs it alone): the same replay in a world with
a fighting season, which `detect_change_points` models (season="auto"): 12
governorates, 2019-2022, NB (size 10) weekly incidents at 4 a week times an
annual cycle exp(0.7 cos(2 pi (t - phase) / 52.18)) (peak / trough 4; each
governorate its own phase), deaths per incident round(lognormal(1.3, 1.2)); in 8
the rate steps up by r (2 or 3) at onsets 10 weeks apart through 2021-2022, so
at every phase of the cycle, 4 never change. The rules are not told the cycle.

Part 2, real: the UCDP GED Iraq file in ../shared. Weekly ISIS-involved
fatalities and incidents for Iraq as a whole and per governorate, replayed
2010-2018, against three documented turning points: the rise of 2013
(2013-04-01), the June 2014 offensive (fall of Mosul, 2014-06-10) and the
collapse after Mosul was retaken (2017-07-10, a downward onset). Every onset
applies to every governorate (the truth is national). The changepoint rule
refits 15 years of history at each replay date (about 30 ms), so in the
simulation it is replayed every 4 weeks (`--step`), for Iraq as a whole every
week (`--national-step`) and for the 19 governorates x 2 measures every 8 weeks
(`--regional-step`); the tracker rules every week.

Part 3 (`--speed`, alone): seconds for the report's flag step on UCDP Iraq
(`find_resurgence`, all rules, 19 governorates x 2 measures), fixed vs budget.

Run: .venv/bin/python benchmarks/backtest.py [--step N] [--national-step N] [--regional-step N]
     [--plot reports/backtest_power.html] [--speed] [--seasonal] [--rules changepoint ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import casualtystats as cs
from casualtystats.resurgence import DEFAULT_FALSE_ALARM_BUDGET, RULES

ROOT = Path(__file__).resolve().parents[1]
UCDP_IRAQ = ROOT.parent / "shared" / "data" / "raw" / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"

SIZES = (1.25, 1.5, 2.0, 3.0, 4.0)
REGIONS = ["Anbar", "Ninawa", "Salah al-Din", "Diyala", "Kirkuk", "Baghdad", "Basra", "Najaf"]
ONSETS = ["2021-03-01", "2021-06-07", "2021-09-06", "2021-12-06", "2022-03-07", "2022-06-06"]
IRAQ_TRUTH = pd.DataFrame(
    {
        "date": pd.to_datetime(["2013-04-01", "2014-06-10", "2017-07-10"]),
        "direction": ["up", "up", "down"],
        "event": ["rise of 2013", "June 2014 offensive", "collapse of 2017"],
    }
)
MODES = {"fixed": None, "budget": DEFAULT_FALSE_ALARM_BUDGET}
SEASONAL_SIZES = (2.0, 3.0)
SEASONAL_REGIONS = [f"G{i:02d}" for i in range(12)]
SEASONAL_ONSETS = pd.date_range("2021-01-04", periods=8, freq="70D")  # 10 weeks apart
WEEKS_PER_YEAR = 365.25 / 7


def replay(panel: pd.DataFrame, truth: pd.DataFrame, size: float, step: int, rules) -> pd.DataFrame:
    """Every rule replayed on both measures of one simulated world, fixed vs budget thresholds."""
    rows = []
    for measure in ("fatalities_best", "incidents"):
        for mode, budget in MODES.items():
            result = cs.backtest(
                panel,
                truth,
                rules=rules,
                measure=measure,
                start="2020-01-06",
                step=step,
                false_alarm_budget=budget,
            )
            table = result.summary_frame()
            table.insert(0, "thresholds", mode)
            table.insert(0, "rate_ratio", size)
            table.insert(0, "measure", measure)
            rows.append(table)
    return pd.concat(rows, ignore_index=True)


def simulated(step: int, rules=RULES) -> pd.DataFrame:
    rows = []
    for seed, size in enumerate(SIZES, start=1):
        sim = cs.simulate_incidents(
            regions=REGIONS,
            actors={"ISIS": 3.0},
            start="2019-01-07",
            end="2022-12-25",
            change_points=[
                {"actor": "ISIS", "region": r, "date": d, "ratio": size}
                for r, d in zip(REGIONS, ONSETS, strict=False)
            ],
            seed=1000 + seed,
        )
        panel = cs.weekly_panel(sim.incidents, by=["actor", "region"], start="2019-01-07", end="2022-12-25")
        rows.append(replay(panel, sim.truth, size, step, rules))
    return pd.concat(rows, ignore_index=True)


def seasonal_panel(size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The seasonal world's weekly panel (incidents, fatalities_best) and its onsets."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2019-01-07", "2022-12-26", freq="7D")
    t = np.arange(len(weeks))
    frames = []
    for i, region in enumerate(SEASONAL_REGIONS):
        cycle = np.exp(0.7 * np.cos(2 * np.pi * (t - rng.uniform(0, WEEKS_PER_YEAR)) / WEEKS_PER_YEAR))
        rate = 4.0 * cycle / cycle.mean()
        if i < len(SEASONAL_ONSETS):
            rate = np.where(weeks >= SEASONAL_ONSETS[i], size * rate, rate)
        incidents = rng.negative_binomial(10, 10 / (10 + rate))
        deaths = [np.round(rng.lognormal(1.3, 1.2, k)).sum() for k in incidents]
        frames.append(
            pd.DataFrame(
                {
                    "week": weeks,
                    "actor": "ISIS",
                    "region": region,
                    "incidents": incidents,
                    "fatalities_best": deaths,
                }
            )
        )
    truth = pd.DataFrame({"date": SEASONAL_ONSETS, "region": SEASONAL_REGIONS[: len(SEASONAL_ONSETS)]})
    return pd.concat(frames, ignore_index=True), truth


def seasonal(step: int, rules=RULES) -> pd.DataFrame:
    """Part 1b: the rules replayed on the seasonal world, fixed vs budget."""
    rows = []
    for seed, size in enumerate(SEASONAL_SIZES, start=1):
        panel, truth = seasonal_panel(size, 2000 + seed)
        rows.append(replay(panel, truth, size, step, rules))
    return pd.concat(rows, ignore_index=True)


def print_power(power: pd.DataFrame, onsets: int) -> None:
    for measure, table in power[power["direction"] == "up"].groupby("measure", sort=False):
        print(
            f"\nWeekly {measure}: share of the {onsets} onsets flagged within 26 weeks (power), median delay "
            "(weeks), false alarms per series-year; fixed thresholds vs a budget of "
            f"{DEFAULT_FALSE_ALARM_BUDGET:g} alarm a year:"
        )
        print(power_curve(table).to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"))


def power_curve(table: pd.DataFrame) -> pd.DataFrame:
    """One row per rule and increase: power / median delay / false alarms a year, fixed vs budget."""
    names = {"detection_rate": "power", "median_delay_weeks": "delay", "false_alarms_per_year": "FA/yr"}
    wide = table.pivot_table(index=["rule", "rate_ratio"], columns="thresholds", values=list(names))
    wide.columns = [f"{mode} {names[what]}" for what, mode in wide.columns]
    wide = wide.reindex(columns=[f"{mode} {what}" for mode in MODES for what in names.values()])
    order = {rule: i for i, rule in enumerate(RULES)}
    return wide.sort_index(level=0, key=lambda idx: idx.map(order) if idx.name == "rule" else idx)


def real(step: int, regional_step: int, rules=RULES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Delays to the three onsets and false alarms a year, per rule, fixed vs budget."""
    incidents = cs.involving(cs.load_incidents(UCDP_IRAQ).incidents, "ISIS")
    span = {"start": "2004-03-15", "end": "2018-12-31"}
    national = cs.weekly_panel(incidents, by=["actor"], **span)
    regional = cs.weekly_panel(incidents, by=["actor", "region"], **span)
    onsets, costs = [], []
    for measure in ("fatalities_best", "incidents"):
        for scope, panel, by, every in (
            ("Iraq", national, None, step),
            ("governorates", regional, "region", regional_step),
        ):
            for mode, budget in MODES.items():
                res = cs.backtest(
                    panel,
                    IRAQ_TRUTH,
                    rules=rules,
                    by=by,
                    measure=measure,
                    start="2010-01-04",
                    end="2018-12-31",
                    step=every,
                    false_alarm_budget=budget,
                )
                for (event, rule), group in res.detections.groupby(["event", "rule"], sort=False):
                    hit = group[group["detected"]]
                    onsets.append(
                        {
                            "measure": measure,
                            "scope": scope,
                            "event": event,
                            "rule": rule,
                            "thresholds": mode,
                            "flagged": f"{len(hit)}/{len(group)}" if by else ("yes" if len(hit) else "no"),
                            "first_delay_weeks": hit["delay_weeks"].min() if len(hit) else float("nan"),
                        }
                    )
                table = res.summary_frame()
                table.insert(0, "thresholds", mode)
                table.insert(0, "scope", scope)
                table.insert(0, "measure", measure)
                costs.append(
                    table[["measure", "scope", "rule", "direction", "thresholds", "false_alarms_per_year"]]
                )
    onsets = pd.DataFrame(onsets).pivot_table(
        index=["measure", "scope", "event", "rule"],
        columns="thresholds",
        values=["flagged", "first_delay_weeks"],
        aggfunc="first",
        sort=False,
    )
    onsets.columns = [f"{mode} {what}" for what, mode in onsets.columns]
    costs = pd.concat(costs, ignore_index=True).pivot_table(
        index=["measure", "scope", "rule", "direction"],
        columns="thresholds",
        values="false_alarms_per_year",
        sort=False,
    )
    return onsets.reset_index(), costs.reindex(columns=list(MODES)).reset_index()


def flag_step_speed() -> pd.DataFrame:
    """Seconds for the report's flag step (all rules, 19 governorates x 2 measures), fixed vs budget."""
    incidents = cs.involving(cs.load_incidents(UCDP_IRAQ).incidents, "ISIS")
    regional = cs.weekly_panel(incidents, by=["actor", "region"], start="2004-03-15", end="2018-12-31")
    measures = ("incidents", "fatalities_best")
    cs.find_resurgence(regional, measure=measures, as_of="2010-01-03")  # compile and warm up once
    rows = []
    for as_of in ("2014-06-30", "2018-12-31"):
        row = {"as_of": as_of}
        for mode, budget in MODES.items():
            began = time.perf_counter()
            cs.find_resurgence(regional, measure=measures, as_of=as_of, false_alarm_budget=budget)
            row[f"{mode} s"] = time.perf_counter() - began
        row["budget / fixed"] = row["budget s"] / row["fixed s"]
        rows.append(row)
    return pd.DataFrame(rows)


def plot(power: pd.DataFrame, path: Path) -> None:
    import plotly.express as px

    fig = px.line(
        power[power["direction"] == "up"],
        x="rate_ratio",
        y="detection_rate",
        color="rule",
        line_dash="thresholds",
        facet_col="measure",
        markers=True,
        hover_data=["median_delay_weeks", "false_alarms_per_year", "chance_in_window"],
        title="Detection power of the resurgence rules against the size of the increase (simulated), "
        "fixed thresholds vs a false-alarm budget of 1 a year",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True)
    print(f"\nwrote {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--step", type=int, default=4, help="replay the changepoint rule every N weeks (simulated)"
    )
    parser.add_argument("--national-step", type=int, default=1, help="the same for Iraq as a whole")
    parser.add_argument("--regional-step", type=int, default=8, help="the same for the Iraqi governorates")
    parser.add_argument("--plot", type=Path, help="also write the power curve as an HTML chart")
    parser.add_argument("--speed", action="store_true", help="only time the report's flag step on UCDP Iraq")
    parser.add_argument("--seasonal", action="store_true", help="only part 1b, the seasonal world")
    parser.add_argument(
        "--rules", nargs="+", default=list(RULES), choices=RULES, help="replay only these rules"
    )
    args = parser.parse_args(argv)
    pd.set_option("display.width", 200)
    fmt = {"float_format": lambda v: f"{v:.2f}", "na_rep": "-", "index": False}

    if args.speed:
        print("find_resurgence on UCDP GED Iraq, 19 governorates x 2 measures, all rules (seconds):")
        print(flag_step_speed().to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        return 0
    t0 = time.perf_counter()
    if not args.seasonal:
        power = simulated(args.step, args.rules)
        print(
            "Simulated: 8 governorates x 4 years, 3 incidents (about 6 fatalities) a week, 6 onsets per rate "
            f"ratio (2 governorates never change); replay 2020-2022 every week (changepoint every {args.step})"
        )
        print_power(power, 6)
        print(f"(simulated part: {time.perf_counter() - t0:.1f} s)")
        if args.plot:
            plot(power, args.plot)
    t0 = time.perf_counter()
    print(
        "\nSeasonal: 12 governorates x 4 years, 4 incidents a week times an annual cycle (peak / trough 4), "
        f"8 onsets per rate ratio at every phase (4 governorates never change); replay 2020-2022 every week "
        f"(changepoint every {args.step})"
    )
    print_power(seasonal(args.step, args.rules), len(SEASONAL_ONSETS))
    print(f"(seasonal part: {time.perf_counter() - t0:.1f} s)")
    if args.seasonal:
        return 0

    if not UCDP_IRAQ.exists():
        print(
            f"\nReal data skipped: {UCDP_IRAQ} is absent (needs the ../shared checkout beside the project)."
        )
        return 0
    t1 = time.perf_counter()
    onsets, costs = real(args.national_step, args.regional_step, args.rules)
    print(
        "\nUCDP GED Iraq, ISIS-involved events, replay 2010-01-04 .. 2018-12-31, weeks from each onset to the "
        f"first flag (changepoint refitted every {args.national_step} week(s) for Iraq, every "
        f"{args.regional_step} for governorates), fixed thresholds vs the budget:"
    )
    print(onsets.to_string(**fmt))
    print("\nFalse alarms per series-year (alarms starting outside [onset - 8, onset + 26] weeks):")
    print(costs.to_string(**fmt))
    print(f"(real part: {time.perf_counter() - t1:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
