"""The assessment stage on hand-made inputs: flags consolidate to one row per region,
directions follow the trend interval, strength ranks regions and judgments, missing
regions are never a place called "Unknown", and forecasts and merge tables become the
outlook and the caveats."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.assessment import (
    ALL_REGIONS,
    MAX_JUDGMENTS,
    MIN_JUDGMENTS,
    NO_REGION,
    STEADY_BAND,
    _forecast,
    assess,
    direction_of,
    region_name,
    rules_silence,
    signalled,
)
from casualtystats.resurgence.rules import RULES

MONTH = pd.Period("2014-06", freq="M")
AS_OF = pd.Timestamp("2014-06-30")
REGIONS = ("Ninawa", "Anbar", "Unknown")
COUNTS = ("incidents", "fatalities_best", "fatalities_low", "fatalities_high")


def monthly(counts: dict[str, list[int]], months: int = 14) -> pd.DataFrame:
    """A monthly panel by region ending in MONTH: incidents as given (last value = MONTH),
    two killed per incident, injuries unknown."""
    rows = []
    for region, values in counts.items():
        values = [0] * (months - len(values)) + list(values)
        for back, n in zip(range(months - 1, -1, -1), values, strict=True):
            rows.append(
                {
                    "month": (MONTH - back).start_time,
                    "region": region,
                    "incidents": n,
                    "fatalities_best": 2 * n,
                    "fatalities_low": 2 * n,
                    "fatalities_high": 3 * n,
                    "injuries_best": pd.NA,
                    "injuries_low": pd.NA,
                    "injuries_high": pd.NA,
                }
            )
    frame = pd.DataFrame(rows)
    for col in COUNTS:
        frame[col] = frame[col].astype("Int64")
    for col in ("injuries_best", "injuries_low", "injuries_high"):
        frame[col] = frame[col].astype("Int64")
    return frame


def total(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.drop(columns="region").groupby("month", as_index=False).sum(min_count=1)


def trend(estimate: float, low: float, high: float, weekly_incidents: float = 3.0, alpha: float = 0.05):
    """A stand-in for a TrendResult: what the assessment reads of one."""
    weeks = pd.date_range("2014-01-06", periods=25, freq="7D")
    return SimpleNamespace(
        growth_per_month=pd.Series({"estimate": estimate, "ci_low": low, "ci_high": high}),
        alpha=alpha,
        growth_window_weeks=13,
        fitted=pd.DataFrame({"observed": np.full(len(weeks), weekly_incidents)}, index=weeks),
    )


def flag(rule, region, measure, date, *, ratio=np.nan, ci=(np.nan, np.nan), direction="up", **extra):
    return {
        "rule": rule,
        "actor": "ISIS",
        "region": region,
        "measure": measure,
        "direction": direction,
        "date": pd.Timestamp(date),
        "as_of": AS_OF,
        "value": 1.0,
        "baseline": 1.0,
        "ratio": ratio,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "probability": np.nan,
        "evidence": f"{region}: {rule} on {measure} from {date}.",
        **extra,
    }


def flags_frame(rows) -> pd.DataFrame:
    columns = list(flag("surge", "x", "incidents", "2014-01-01"))
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs = {"thresholds": {"alpha": 0.05}, "measures": ("incidents", "fatalities_best")}
    return frame


@pytest.fixture
def scene():
    panel = monthly({"Ninawa": [4, 6, 20], "Anbar": [10, 14, 14], "Unknown": [1, 2, 3]})
    flags = flags_frame(
        [
            flag("changepoint", "Ninawa", "incidents", "2014-05-26", ratio=4.0, ci=(2.0, 8.0)),
            flag("threat", "Ninawa", "incidents", "2014-06-02"),
            flag("threat", "Ninawa", "fatalities_best", "2014-06-02"),
            flag("record", "Ninawa", "fatalities_best", "2014-06-02"),
            flag("threat", "Unknown", "fatalities_best", "2014-06-02"),
        ]
    )
    trends = {
        ALL_REGIONS: trend(0.10, 0.02, 0.20),
        "Ninawa": trend(0.30, 0.10, 0.55),
        "Anbar": trend(-0.01, -0.10, 0.09),
        "Unknown": "no trend: a trend needs at least 4 observed values, got 2",
    }
    return panel, flags, trends


def test_one_row_per_region_with_the_rules_consolidated(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    names = [r.region for r in a.regions]
    assert sorted(names) == sorted(["Ninawa", "Anbar", NO_REGION]) and len(set(names)) == len(names)
    ninawa = a.region("Ninawa")
    assert ninawa.rules_text == "changepoint ↑ (incidents); threat ↑ (incidents, killed); record ↑ (killed)"
    assert ninawa.since == pd.Timestamp("2014-05-26")
    assert len(ninawa.evidence) == 4 and all(e.startswith("Ninawa:") for e in ninawa.evidence)
    assert a.region("Anbar").rules == [] and a.region("Anbar").since is None


def test_alert_start_is_the_start_when_given(scene):
    panel, flags, trends = scene
    flags = flags.assign(alert_start=pd.Timestamp("2014-04-07"))
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert a.region("Ninawa").since == pd.Timestamp("2014-04-07")


def test_a_changepoint_alert_is_dated_by_the_change_it_cites(scene):
    """The audit's Ninawa: a changepoint alert running since June 2013 (on an earlier change) whose
    evidence now cites the change of 26 May 2014 is "alert since 26 May 2014"."""
    panel, flags, trends = scene
    only = flags[flags["rule"] == "changepoint"].assign(alert_start=pd.Timestamp("2013-06-24"))
    a = assess(panel, total(panel), only, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert a.region("Ninawa").since == pd.Timestamp("2014-05-26")
    # a run that began after the change (the change was confirmed later) keeps the run's start
    later = only.assign(alert_start=pd.Timestamp("2014-06-09"))
    b = assess(panel, total(panel), later, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert b.region("Ninawa").since == pd.Timestamp("2014-06-09")


def test_rules_on_all_regions_are_consolidated_or_said_to_be_per_region_only(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert not a.overall_rules_run and a.overall.rules == []
    overall = flags_frame([flag("threat", None, "incidents", "2014-06-02")]).drop(columns="region")
    b = assess(
        panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF, overall_flags=overall
    )
    assert b.overall_rules_run and b.overall.rules_text == "threat ↑ (incidents)"
    assert b.overall.since == pd.Timestamp("2014-06-02")
    assert any(k.region == ALL_REGIONS and "threat up on incidents" in k.sentence for k in b.key_judgments)


def test_direction_follows_the_growth_interval(scene):
    panel, flags, trends = scene
    trends = {**trends, "Anbar": trend(-0.2, -0.35, -0.05)}
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert a.region("Ninawa").direction == "rising" and a.region("Ninawa").arrow == "↑"
    assert a.region("Anbar").direction == "falling"
    assert a.region(NO_REGION).direction == "not estimated"
    assert "at least 4 observed values" in a.region(NO_REGION).direction_note
    assert a.overall.direction == "rising"
    trends = {**trends, "Anbar": trend(0.02, -0.04, 0.08)}
    assert assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF).region(
        "Anbar"
    ).direction == ("steady")


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.01, 0.5, "rising"),
        (-0.5, -0.01, "falling"),
        (-STEADY_BAND, STEADY_BAND, "steady"),
        (-0.05, 0.12, "no clear trend"),  # the audit's case: 0 inside, but a rise of 12% a month too
        (-0.27, 4.82, "no clear trend"),  # "+106% a month, 95% CI -27% to +482%" is not "held steady"
    ],
)
def test_steady_only_when_the_interval_is_narrow(scene, low, high, expected):
    panel, flags, trends = scene
    trends = {**trends, "Anbar": trend((low + high) / 2, low, high)}
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    anbar = a.region("Anbar")
    assert anbar.direction == expected
    if expected == "no clear trend":
        assert anbar.arrow == "~" and "held steady" not in " ".join(k.sentence for k in a.key_judgments)


@given(st.floats(-0.9, 3.0), st.floats(0.0, 2.0))
def test_direction_is_a_function_of_the_interval(low, width):
    high = low + width
    d = direction_of(low, high)
    assert (d == "rising") == (low > 0) and (d == "falling") == (high < 0)
    assert (d == "steady") == (low <= 0 <= high and -STEADY_BAND <= low and high <= STEADY_BAND)


def test_missing_region_is_never_called_unknown(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    row = a.region(NO_REGION)
    assert row.evidence == [f"{NO_REGION}: threat on fatalities_best from 2014-06-02."]
    assert "Unknown" not in a.to_frame()["region"].tolist()
    assert "Unknown" not in set(a.flags["region"]) and NO_REGION in set(a.flags["region"])
    assert not a.flags["evidence"].str.startswith("Unknown").any()
    assert all("Unknown" not in k.sentence for k in a.key_judgments)
    assert region_name("Unknown") == region_name(None) == region_name(np.nan) == NO_REGION
    assert region_name("Anbar") == "Anbar"


def test_strength_is_standard_errors_from_no_change_and_ranks_the_rows(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    z = 1.959963984540054
    rate_ratio = math.log(4) / ((math.log(8) - math.log(2)) / (2 * z))
    growth = math.log(1.3) / ((math.log(1.55) - math.log(1.1)) / (2 * z))
    assert a.region("Ninawa").strength == pytest.approx(max(rate_ratio, growth))
    assert a.region(NO_REGION).strength == 0  # tracker rules carry no interval
    # a region where a rule fired (no interval: strength 0) ranks above a quiet one whose trend
    # interval merely leans one way (Anbar: steady, 0.2 standard errors)
    assert a.region("Anbar").direction == "steady" and a.region("Anbar").strength > 0
    assert [r.region for r in a.regions] == ["Ninawa", NO_REGION, "Anbar"]
    strengths = [r.strength for r in a.regions if signalled(r)]
    assert strengths == sorted(strengths, reverse=True)
    # a rising or falling trend counts as a signal too
    trends = {**trends, "Anbar": trend(-0.2, -0.35, -0.05)}
    b = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert [r.region for r in b.regions][-1] == NO_REGION  # strength 0 last among the signalled


def test_regions_without_a_signal_are_ordered_by_the_months_incidents():
    # a trend that is no signal (its interval contains 0) must not rank a quiet region above an
    # active one, however far its estimate leans
    panel = monthly({"Quiet": [2, 0, 0], "Busy": [20, 20, 20], "Some": [3, 4, 5]})
    trends = {
        "Quiet": trend(-0.9, -0.99, 5.0),
        "Busy": trend(0.0, -0.05, 0.05),
        "Some": trend(0.1, -0.2, 0.5),
    }
    a = assess(panel, total(panel), flags_frame([]), trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert a.region("Quiet").strength > a.region("Busy").strength
    assert [r.region for r in a.regions] == ["Busy", "Some", "Quiet"]


def test_no_direction_from_a_short_series_or_a_window_without_incidents():
    from casualtystats.assessment import MIN_DIRECTION_WEEKS, _direction_trend

    def weekly(counts):
        weeks = pd.date_range(end=AS_OF - pd.Timedelta(days=7), periods=len(counts), freq="W-MON")
        return pd.DataFrame({"week": weeks, "incidents": counts})

    rng = np.random.default_rng(3)
    short = _direction_trend(weekly(rng.poisson(3, MIN_DIRECTION_WEEKS - 1)), AS_OF)
    assert (
        short
        == f"no trend: {MIN_DIRECTION_WEEKS - 1} complete weeks of data, fewer than {MIN_DIRECTION_WEEKS}"
    )
    quiet = _direction_trend(weekly(np.r_[rng.poisson(3, 60), np.zeros(13)]), AS_OF)
    assert quiet == "no trend: no incidents in the last 13 weeks"
    active = _direction_trend(weekly(rng.poisson(3, MIN_DIRECTION_WEEKS)), AS_OF)
    assert not isinstance(active, str) and len(active.fitted) == MIN_DIRECTION_WEEKS
    # a first week the data cover for 3 days is not a quiet week: the trend starts after it
    counts = weekly(rng.poisson(3, MIN_DIRECTION_WEEKS + 1))
    counts.attrs.update(first_week=counts["week"].iloc[0], first_week_days=3)
    fitted = _direction_trend(counts, AS_OF).fitted
    assert len(fitted) == MIN_DIRECTION_WEEKS and fitted.index[0] == counts["week"].iloc[1]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(-0.5, 0.5), st.floats(0.01, 1.0)), min_size=1, max_size=6))
def test_signalled_regions_come_before_quiet_ones(spec):
    names = [f"R{i}" for i in range(len(spec))]
    panel = monthly({n: [1, 1, 1] for n in names})
    rows = [
        flag("threat", n, "incidents", "2014-06-02")
        for n, (fired, _, _) in zip(names, spec, strict=True)
        if fired
    ]
    trends = {n: trend(lo + w / 2, lo, lo + w) for n, (_, lo, w) in zip(names, spec, strict=True)}
    a = assess(panel, total(panel), flags_frame(rows), trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    tiers = [signalled(r) for r in a.regions]
    assert tiers == sorted(tiers, reverse=True)


def test_month_comparisons_and_uncovered_months(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    ninawa = a.region("Ninawa")
    assert ninawa.month["incidents"] == 20 and ninawa.previous_month["incidents"] == 6
    assert ninawa.change["previous_month"]["incidents"] == {"absolute": 14, "relative": pytest.approx(14 / 6)}
    assert ninawa.same_month_last_year["incidents"] == 0
    assert a.overall.month["incidents"] == 37 and a.overall.month["killed"] == 74
    short = panel[panel["month"] >= (MONTH - 3).start_time]  # the data starts three months before
    b = assess(short, total(short), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert b.region("Ninawa").same_month_last_year is None
    assert b.region("Ninawa").change["same_month_last_year"] is None


def test_key_judgments_ranked_with_their_numbers(scene):
    panel, flags, trends = scene
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert MIN_JUDGMENTS <= len(a.key_judgments) <= MAX_JUDGMENTS
    lead, *rest = a.key_judgments
    # the national picture leads when it is news (here a rule fired or the month moved a lot)
    assert lead.region == ALL_REGIONS and lead.sentence.startswith("Across all regions")
    strengths = [k.strength for k in rest]
    signals = [k for k in rest if k.strength > 0]
    assert [k.strength for k in signals] == sorted((k.strength for k in signals), reverse=True)
    first = rest[0]
    assert first.region == "Ninawa" and first.strength == max(strengths)
    for piece in ("+30% a month", "95% CI +10% to +55%", "20 incidents in June 2014", "against 6 in May"):
        assert piece in first.sentence
    assert "alert since 26 May 2014" in first.sentence and "changepoint up on incidents" in first.sentence
    summary = a.summary()
    assert first.sentence in summary and "Ninawa" in summary.split("\n\n")[-1]  # judgments, then the rows
    assert list(a.to_frame()["region"]) == [r.region for r in a.regions]


def test_quiet_month_still_gets_three_judgments():
    panel = monthly({"Anbar": [2, 2, 2], "Basra": [1, 0, 1]})
    trends = {
        ALL_REGIONS: trend(0.0, -0.1, 0.1),
        "Anbar": trend(0.0, -0.1, 0.1),
        "Basra": trend(0.01, -0.3, 0.4),
    }
    a = assess(panel, total(panel), flags_frame([]), trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert len(a.key_judgments) == MIN_JUDGMENTS
    text = " ".join(k.sentence for k in a.key_judgments)
    assert "no resurgence rule fired" in text and "Across all regions" in text
    # three incidents: where they were, not a share of them
    assert "The 3 ISIS incidents of June 2014 were in Anbar (2), Basra (1)." in text and "100%" not in text
    one = monthly({"Anbar": [2, 2, 1], "Basra": [1, 0, 0]})
    b = assess(one, total(one), flags_frame([]), trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert "The only ISIS incident of June 2014 was in Anbar." in " ".join(
        k.sentence for k in b.key_judgments
    )


def test_a_trend_alone_on_a_handful_of_incidents_is_no_judgment():
    panel = monthly({"Wasit": [0, 1, 0], "Anbar": [10, 12, 14]})
    trends = {
        ALL_REGIONS: trend(0.0, -0.1, 0.1),
        "Wasit": trend(0.05, 0.03, 0.07, weekly_incidents=0.05),  # "rising" on one incident in 13 weeks
        "Anbar": trend(-0.2, -0.3, -0.1, weekly_incidents=3.0),
    }
    a = assess(panel, total(panel), flags_frame([]), trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    assert a.region("Wasit").direction == "rising"  # the table states the trend's verdict
    assert [k.region for k in a.key_judgments if k.strength > 0] == ["Anbar"]


def test_previous_alert_from_the_alert_history(scene):
    panel, flags, trends = scene
    history = pd.DataFrame(
        {
            "rule": ["threat", "surge", "threat", "threat"],
            "region": ["Ninawa", "Ninawa", "Ninawa", "Anbar"],
            "measure": ["incidents"] * 4,
            "direction": ["up"] * 4,
            "start": pd.to_datetime(["2013-01-07", "2013-09-02", "2014-05-26", "2012-03-05"]),
            "end": pd.to_datetime(["2013-02-25", "2013-10-14", "2014-06-30", "2012-04-30"]),
        }
    )
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF, history=history)
    assert a.history_available
    assert a.region("Ninawa").previous_alert == pd.Timestamp("2013-09-02")  # not the current one
    assert a.region("Anbar").previous_alert == pd.Timestamp("2012-03-05")
    assert a.region(NO_REGION).previous_alert is None
    assert not assess(
        panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF
    ).history_available


def outlook_table(region_column: bool = True) -> pd.DataFrame:
    """A monthly forecast table as the forecast stage's `monthly()` gives it."""
    rows = []
    for region in [None, "Ninawa"] if region_column else [None]:
        for month, scale in (("2014-06", 1.0), ("2014-07", 1.5), ("2014-08", 2.0)):
            for measure, base in (("incidents", 20.0), ("fatalities_best", 300.0)):
                m = base * scale * (1 if region is None else 0.5)
                row = {"measure": measure, "month": pd.Timestamp(month), "mean": m * 1.1}
                for q, f in (
                    ("q0.025", 0.4),
                    ("q0.1", 0.6),
                    ("q0.25", 0.8),
                    ("q0.5", 1.0),
                    ("q0.75", 1.2),
                    ("q0.9", 1.5),
                    ("q0.975", 2.0),
                ):
                    row[q] = m * f
                rows.append({"region": region, **row} if region_column else row)
    return pd.DataFrame(rows)


def test_outlook_is_next_months_median_and_80_percent_range(scene):
    panel, flags, trends = scene
    a = assess(
        panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF, outlook=outlook_table()
    )
    whole = {o["measure"]: o for o in a.overall.outlook}
    assert whole["incidents"]["month"] == pd.Period("2014-07", freq="M")  # the month after the assessed one
    assert (whole["incidents"]["median"], whole["incidents"]["low80"], whole["incidents"]["high80"]) == (
        30.0,
        18.0,
        45.0,
    )
    assert whole["killed"]["median"] == 450.0
    assert [o["median"] for o in a.region("Ninawa").outlook] == [15.0, 225.0]
    assert a.region("Anbar").outlook == []
    assert any(c.startswith("Outlook: ") for c in a.caveats)
    # a table of the all-regions series alone has no region column
    b = assess(
        panel,
        total(panel),
        flags,
        trends,
        actor="ISIS",
        month=MONTH,
        as_of=AS_OF,
        outlook=outlook_table(False),
    )
    assert b.overall.outlook[0]["median"] == 30.0 and b.region("Ninawa").outlook == []


def test_merge_tables_become_caveats(scene):
    panel, flags, trends = scene
    overlap = pd.DataFrame(
        {
            "year": [2013, 2013, 2013, 2014, 2014, 2014],
            "sources": ["UCDP", "GTD", "GTD+UCDP"] * 2,
            "incidents": [300, 200, 150, 400, 250, 200],
        }
    )
    unrecorded = pd.DataFrame(
        {
            "year": [2013, 2014],
            "observed": [650, 850],
            "estimate": [700.0, 960.0],
            "unrecorded": [50.0, 110.0],
            "ci_low": [680.0, 920.0],
            "ci_high": [730.0, 1010.0],
            "method": ["Chapman", "Chapman"],
        }
    )
    unrecorded.attrs["assumptions"] = "the two sources record incidents independently"
    month_sources = pd.Series({"UCDP": 20, "GTD+UCDP": 12, "GTD": 5})
    a = assess(
        panel,
        total(panel),
        flags,
        trends,
        actor="ISIS",
        month=MONTH,
        as_of=AS_OF,
        overlap=overlap,
        unrecorded=unrecorded,
        month_sources=month_sources,
    )
    text = "\n".join(a.caveats)
    assert "350 of 1,500 incidents of all actors up to 30 Jun 2014 were reported by more than one" in text
    assert "The June 2014 totals of ISIS come from: UCDP 20, GTD+UCDP 12, GTD 5" in text
    # the year of the month is not over on its last day: the caveat says so, and whose incidents
    assert (
        "Incidents of all actors (not only ISIS) that no source recorded in 2014 (to 30 Jun, the year "
        "being incomplete): about 110 beside 850 recorded" in text
    )
    assert "95% CI 920–1,010; Chapman" in text and "independently" in text


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["changepoint", "surge", "threat", "record"]),
            st.sampled_from(["Ninawa", "Anbar", "Unknown", "Kirkuk"]),
            st.sampled_from(["incidents", "fatalities_best"]),
            st.sampled_from(["up", "down"]),
            st.integers(0, 60),
        ),
        max_size=16,
    )
)
def test_every_flag_is_in_exactly_one_region_row(picked):
    panel = monthly({"Ninawa": [3, 4, 5], "Anbar": [1, 0, 2], "Unknown": [0, 0, 1], "Kirkuk": [0, 0, 0]})
    rows = [
        flag(rule, region, measure, AS_OF - pd.Timedelta(weeks=weeks), direction=direction)
        for rule, region, measure, direction, weeks in picked
    ]
    a = assess(panel, total(panel), flags_frame(rows), {}, actor="ISIS", month=MONTH, as_of=AS_OF)
    names = [r.region for r in a.regions]
    assert len(names) == len(set(names))
    words = {"incidents": "incidents", "fatalities_best": "killed"}
    stated = {
        (r.region, rule["rule"], rule["direction"], m)
        for r in a.regions
        for rule in r.rules
        for m in rule["measures"]
    }
    expected = {(region_name(g), rule, d, words[m]) for rule, g, m, d, _ in picked}
    assert stated == expected
    for r in a.regions:
        starts = [AS_OF - pd.Timedelta(weeks=w) for _, g, _, _, w in picked if region_name(g) == r.region]
        assert r.since == (min(starts) if starts else None)
    assert MIN_JUDGMENTS <= len(a.key_judgments) <= MAX_JUDGMENTS


def test_a_year_without_an_estimate_falls_back_to_the_last_one_and_says_why(scene):
    panel, flags, trends = scene
    unrecorded = pd.DataFrame(
        {
            "year": [2013, 2014],
            "observed": [650, 254],
            "estimate": [700.0, np.nan],
            "unrecorded": [50.0, np.nan],
            "ci_low": [680.0, np.nan],
            "ci_high": [730.0, np.nan],
            "method": ["Chapman", "one source: no estimate"],
        }
    )
    a = assess(
        panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF, unrecorded=unrecorded
    )
    text = "\n".join(a.caveats)
    assert "nan" not in text
    assert "no estimate for 2014 (one source: no estimate); in 2013: about 50 beside 650 recorded" in text


def test_a_bound_near_zero_keeps_its_sign_visible():
    from casualtystats.assessment import signed_percent

    assert signed_percent(0.58) == "+58%" and signed_percent(-0.43) == "-43%" and signed_percent(0.0) == "+0%"
    assert signed_percent(0.004) == "+0.4%" and signed_percent(-0.0004) == "-0.04%"


def test_a_growth_that_is_not_estimable_gives_no_direction():
    from casualtystats import fit_trend

    rng = np.random.default_rng(4)
    weeks = pd.date_range(end=AS_OF - pd.Timedelta(days=6), periods=180, freq="W-MON")
    quiet = fit_trend(pd.Series(np.r_[rng.poisson(3, 154), np.zeros(26)], index=weeks))
    assert not quiet.growth_estimable
    panel = monthly({"Anbar": [9, 0, 0]})
    a = assess(panel, total(panel), flags_frame([]), {"Anbar": quiet}, actor="ISIS", month=MONTH, as_of=AS_OF)
    row = a.region("Anbar")
    assert row.direction == "not estimated" and "growth not estimable" in row.direction_note


# --- rules a short history cannot judge (audit item 9) -------------------------------------------


def test_rules_too_short_of_history_are_not_said_to_have_fired():
    panel = monthly({"Anbar": [2, 2, 2], "Basra": [1, 0, 1]})
    trends = {ALL_REGIONS: trend(0.0, -0.1, 0.1), "Anbar": trend(0.0, -0.1, 0.1)}
    flags = flags_frame([])
    needed = {"changepoint": 53, "surge": 53, "threat": 56, "record": 56}
    flags.attrs |= {"history_weeks": 26, "weeks_needed": needed, "rules": RULES}
    flags.attrs["not_evaluated"] = {
        rule: f"26 weeks of history, the rule needs {w}" for rule, w in needed.items()
    }
    a = assess(panel, total(panel), flags, trends, actor="ISIS", month=MONTH, as_of=AS_OF)
    text = " ".join(k.sentence for k in a.key_judgments)
    assert "no resurgence rule fired" not in text
    assert "the resurgence rules were not evaluated: 26 weeks of history, the rules need 53-56" in text
    assert any("not evaluated" in c and "silence is no evidence" in c for c in a.caveats)
    assert a.rules_not_evaluated == needed and a.history_weeks == 26
    # some rules judged, some not: both said
    assert rules_silence({"threat": 56, "record": 56}, 40) == (
        "no resurgence rule fired (threat and record not evaluated: 40 weeks of history, they need 56)"
    )
    assert rules_silence({}, 600) == "no resurgence rule fired"


# --- one series that cannot be forecast (audit item 11) -------------------------------------------


def test_a_region_that_cannot_be_forecast_is_skipped_and_named_the_others_keep_their_outlook():
    from casualtystats import involving, simulate_incidents, weekly_panel

    sim = simulate_incidents(
        regions=["Anbar", "Basra"], actors={"ISIS": 2.0}, start="2013-01-07", end="2014-06-29", seed=3
    )
    incidents = involving(sim.incidents, "ISIS").copy()  # one actor, as build_assessment forecasts
    incidents["region"] = incidents["region"].replace({"Basra": "Al Jawf"})
    jawf = incidents["region"] == "Al Jawf"
    for col in ("fatalities_best", "fatalities_low", "fatalities_high"):
        incidents[col] = (
            incidents[col].astype("Float64").mask(jawf)
        )  # deaths unknown in every Al Jawf incident
    panels = {
        "weekly": weekly_panel(incidents, by=["actor", "region"]),
        "weekly_total": weekly_panel(incidents, by=None),
    }
    outlook, weekly, failed = _forecast(panels, ["Anbar", "Al Jawf"], AS_OF)
    assert list(failed) == ["Al Jawf"] and "unknown in every week" in failed["Al Jawf"]
    assert outlook is not None and set(outlook["region"].dropna()) == {"Anbar"}
    assert outlook["region"].isna().any() and set(weekly["region"].dropna()) == {"Anbar"}
    panel = monthly({"Anbar": [2, 2, 2], "Al Jawf": [1, 1, 1]})
    a = assess(
        panel,
        total(panel),
        flags_frame([]),
        {},
        actor="ISIS",
        month=MONTH,
        as_of=AS_OF,
        outlook=outlook,
        outlook_problem=failed,
    )
    caveat = [c for c in a.caveats if c.startswith("No outlook")]
    assert caveat == [
        f"No outlook for 1 series (Al Jawf): the forecast could not be made ({failed['Al Jawf']}); "
        "the other series keep theirs."
    ]
    assert a.region("Anbar").outlook and a.overall.outlook


def test_a_national_jump_leads_and_a_part_month_is_not_compared():
    # every region's trend is stronger news than the whole's, but the whole tripled on May
    panel = monthly({"Anbar": [4, 4, 12], "Ninawa": [4, 4, 12], "Kirkuk": [2, 2, 6]})
    trends = {ALL_REGIONS: trend(0.05, -0.1, 0.2)} | {
        r: trend(0.3, 0.1, 0.5) for r in ("Anbar", "Ninawa", "Kirkuk")
    }

    def judgments(data_end=None):
        a = assess(
            panel,
            total(panel),
            flags_frame([]),
            trends,
            actor="ISIS",
            month=MONTH,
            as_of=AS_OF,
            data_end=data_end,
        )
        return a.key_judgments

    def lead(data_end=None) -> str:
        return judgments(data_end)[0].sentence

    assert lead().startswith("Across all regions")
    assert "30 incidents in June 2014 against 10 in May" in lead()
    # data ending on 19 June: a part month, named and not compared; three quiet days are not
    cut = lead("2014-06-19")
    assert "in June 2014 (to 19 Jun; part month, not compared)" in cut
    assert "against" not in cut
    # ... and a change it does not compare does not put the whole first: the regions' trends lead
    assert judgments("2014-06-19")[0].region != ALL_REGIONS
    assert "in June 2014 (to 27 Jun) against 10 in May" in lead("2014-06-27")


def test_the_actors_incidents_given_or_selected_give_the_same_assessment():
    # the report and the briefing select the actor's incidents first and hand them over
    from casualtystats import build_assessment, involving, load_incidents, simulate_incidents

    sim = simulate_incidents(
        regions=["Anbar", "Basra"],
        actors={"ISIS": 1.0, "JAI": 0.5},
        start="2013-01-07",
        end="2014-03-30",
        seed=8,
    )
    loaded = load_incidents(sim.incidents)
    last = loaded.incidents["date_start"].max()
    kwargs = dict(actor="ISIS", month=pd.Period(last, freq="M"), as_of=last)
    selected = build_assessment(loaded, loaded.incidents, **kwargs)
    handed = build_assessment(
        loaded, loaded.incidents, involved=involving(loaded.incidents, "ISIS"), **kwargs
    )
    pd.testing.assert_frame_equal(handed.to_frame(), selected.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(handed.flags, selected.flags, check_exact=True)
    assert handed.summary() == selected.summary() and handed.caveats == selected.caveats
