"""Panels: conservation, completeness, subset consistency, bound ordering, the missing-value rule."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casualtystats.aggregate import (
    GROUP_COLUMNS,
    WEEKDAYS,
    PanelError,
    PanelSchema,
    complete_weeks,
    imprecisely_dated,
    monthly_panel,
    weekly_panel,
    yearly_panel,
)
from casualtystats.errors import CasualtyStatsError
from casualtystats.schema import COUNT_COLUMNS

PANELS = {"week": weekly_panel, "month": monthly_panel, "year": yearly_panel}
DAY0 = pd.Timestamp("2023-11-20")
BOUNDS = ("low", "best", "high")
PRECISIONS = ["day", "day", "week", "month", "year", "range", "range"]
MEASURES = ["incidents", *COUNT_COLUMNS]


# --- a hypothesis strategy for small incident tables --------------------------


@st.composite
def count_triples(draw):
    """low <= best <= high, each possibly unknown (as the incident schema allows)."""
    low, best, high = sorted(draw(st.lists(st.integers(0, 40), min_size=3, max_size=3)))
    known = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    return [v if k else None for v, k in zip((low, best, high), known, strict=True)]


@st.composite
def incident_tables(draw, max_rows=25):
    n = draw(st.integers(0, max_rows))
    rows = []
    for _ in range(n):
        start = DAY0 + pd.Timedelta(days=draw(st.integers(0, 120)))
        rows.append(
            {
                "date_start": start,
                "date_end": start + pd.Timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 4, 6, 7, 12, 40]))),
                "date_precision": draw(st.sampled_from(PRECISIONS)),
                "actor": draw(st.sampled_from(["ISIS", "HTS", "SDF"])),
                "target": draw(st.sampled_from(["Civilians", "SDF", None])),
                "region": draw(st.sampled_from(["Raqqa", "Homs", "Anbar"])),
                "country": draw(st.sampled_from(["Syria", "Iraq"])),
                "event_type": draw(st.sampled_from(["Battles", "Explosions/Remote violence"])),
                **{f"fatalities_{b}": v for b, v in zip(BOUNDS, draw(count_triples()), strict=True)},
                **{f"injuries_{b}": v for b, v in zip(BOUNDS, draw(count_triples()), strict=True)},
            }
        )
    table = pd.DataFrame(
        rows, columns=["date_start", "date_end", "date_precision", *GROUP_COLUMNS, *COUNT_COLUMNS]
    )
    table["date_precision"] = table["date_precision"].astype("str")
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype("Int64")
    for c in GROUP_COLUMNS:
        table[c] = table[c].astype("str")
    for c in ("date_start", "date_end"):
        table[c] = pd.to_datetime(table[c])
    return table


group_subsets = st.lists(st.sampled_from(GROUP_COLUMNS), unique=True, max_size=3)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- an independent reference: what each cell should hold -----------------------


def period_start(dates: pd.Series, period: str, week_start: str = "MON") -> pd.Series:
    if period == "week":
        shift = (dates.dt.day_of_week - WEEKDAYS.index(week_start)) % 7
        return dates.dt.normalize() - pd.to_timedelta(shift, unit="D")
    return dates.dt.to_period("M" if period == "month" else "Y").dt.start_time


def n_periods(first: pd.Timestamp, last: pd.Timestamp, period: str) -> int:
    if period == "week":
        return (last - first).days // 7 + 1
    if period == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return last.year - first.year + 1


def imprecise_for(incidents: pd.DataFrame, period: str) -> pd.Series:
    """The documented rule, written out: dated less exactly than the period."""
    coarse, longest = {"week": (["month", "year"], 7), "month": (["year"], 31), "year": ([], 366)}[period]
    span = (incidents["date_end"] - incidents["date_start"]).dt.days + 1
    ranged = incidents["date_precision"].eq("range")
    return incidents["date_precision"].isin(coarse) | (ranged & (span > longest))


def reference_cells(incidents: pd.DataFrame, period: str, by: list[str], week_start: str) -> pd.DataFrame:
    """Per-cell totals by the documented rule, with plain pandas (non-empty cells only)."""
    keys = [
        period_start(incidents["date_start"], period, week_start).rename(period),
        *(incidents[c] for c in by),
    ]
    effective = incidents.assign(
        fatalities_best=incidents["fatalities_best"].fillna(incidents["fatalities_low"]),
        injuries_best=incidents["injuries_best"].fillna(incidents["injuries_low"]),
    )
    grouped = effective.groupby(keys, dropna=False)
    cells = grouped.size().rename("incidents").to_frame()
    for m in COUNT_COLUMNS:
        total = grouped[m].sum(min_count=1)
        if m.endswith("_high"):  # a bound only where every incident has one
            total = total.where(grouped[m].count() == cells["incidents"])
        cells[m] = total
    return cells.reset_index()


def panel_totals(panel: pd.DataFrame) -> pd.Series:
    """Each measure summed over the panel, what was set aside as imprecise included."""
    twins = [f"{m}_imprecise" for m in MEASURES]
    main = panel[MEASURES].astype("Float64").sum()
    if twins[0] not in panel:
        return main
    return main.add(panel[twins].astype("Float64").sum().set_axis(MEASURES))


# --- properties ------------------------------------------------------------------


@PROPERTY
@given(incident_tables(), group_subsets, st.sampled_from(list(PANELS)), st.sampled_from(WEEKDAYS))
def test_cells_follow_the_documented_rule_and_totals_are_conserved(incidents, by, period, week_start):
    kwargs = {"week_start": week_start} if period == "week" else {}
    panel = PANELS[period](incidents, by=by, **kwargs)
    aside = imprecise_for(incidents, period)
    assert (imprecisely_dated(incidents, period) == aside.to_numpy()).all()  # what the merge reads
    twins = {f"{m}_imprecise": m for m in MEASURES}
    parts = {  # the weekly measures hold the precisely dated part, the _imprecise twins the rest
        "": (incidents[~aside], panel),
        "imprecise": (incidents[aside], panel.drop(columns=MEASURES).rename(columns=twins)),
    }
    for part, (rows, cells) in parts.items():
        expected = reference_cells(rows, period, by, week_start)
        got = cells[cells["incidents"] > 0].reset_index(drop=True)
        merged = expected.merge(got, on=[period, *by], how="outer", suffixes=("_ref", ""), indicator=True)
        assert (merged["_merge"] == "both").all(), f"non-empty cells differ {part}"
        for m in MEASURES:
            ref, out = merged[f"{m}_ref"].astype("Float64"), merged[m].astype("Float64")
            assert ref.isna().equals(out.isna()), (m, part)
            assert (ref.fillna(-1) == out.fillna(-1)).all(), (m, part)
    # Conservation: incidents, low and best (known values, best falling back to low)
    # over the whole panel equal their sums over the incidents; high wherever known.
    totals = panel_totals(panel)
    assert totals["incidents"] == len(incidents)
    for measure in ("fatalities", "injuries"):
        low, best = incidents[f"{measure}_low"], incidents[f"{measure}_best"]
        assert totals[f"{measure}_low"] == low.sum()
        assert totals[f"{measure}_best"] == best.fillna(low).sum()
        if incidents[f"{measure}_high"].notna().all():
            assert totals[f"{measure}_high"] == incidents[f"{measure}_high"].sum()
    # Empty cells are zeros, never missing.
    empty = panel[panel["incidents"] == 0]
    assert (empty[COUNT_COLUMNS].astype("Float64") == 0).all().all()
    empty = panel[panel["incidents_imprecise"] == 0]
    assert (empty[list(twins)].astype("Float64") == 0).all().all()


@PROPERTY
@given(incident_tables(), group_subsets, st.sampled_from(list(PANELS)), st.sampled_from(WEEKDAYS))
def test_panel_is_complete(incidents, by, period, week_start):
    kwargs = {"week_start": week_start} if period == "week" else {}
    panel = PANELS[period](incidents, by=by, **kwargs)
    if incidents.empty:
        assert panel.empty
        return
    starts = period_start(incidents["date_start"], period, week_start)
    periods = n_periods(starts.min(), starts.max(), period)
    groups = len(incidents[by].drop_duplicates()) if by else 1
    assert len(panel) == periods * groups
    assert panel[period].nunique() == periods
    assert panel.groupby(by, dropna=False).size().eq(periods).all() if by else True
    if period == "week":
        assert (panel["week"].dt.day_of_week == WEEKDAYS.index(week_start)).all()


@PROPERTY
@given(incident_tables(), group_subsets, st.sampled_from(list(PANELS)), st.booleans(), st.data())
def test_panel_of_a_subset_is_the_subset_of_the_panel(incidents, by, period, spread, data):
    by = by or ["actor"]
    column = data.draw(st.sampled_from(by))
    value = data.draw(st.sampled_from(["ISIS", "HTS", "SDF", "Civilians", "Raqqa", "Syria", "Battles", None]))
    chosen = incidents[column].isna() if value is None else incidents[column].eq(value).fillna(False)
    bounds = {"start": "2023-11-01", "end": "2024-04-30", "spread": spread}
    whole = PANELS[period](incidents, by=by, **bounds)
    part = PANELS[period](incidents[chosen.to_numpy(bool)], by=by, **bounds)
    in_whole = whole[column].isna() if value is None else whole[column].eq(value).fillna(False)
    expected = whole[in_whole.to_numpy(bool)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected, check_dtype=False)


@PROPERTY
@given(incident_tables(), group_subsets, st.sampled_from(list(PANELS)), st.booleans())
def test_low_best_high_ordered_in_every_known_cell(incidents, by, period, spread):
    panel = PANELS[period](incidents, by=by, spread=spread)
    for measure in ("fatalities", "injuries"):
        low, best, high = (panel[f"{measure}_{b}"].astype("Float64") for b in ("low", "best", "high"))
        known = (low.notna() & best.notna() & high.notna()).to_numpy(bool)
        tol = 1e-9 if spread else 0
        assert (low[known] <= best[known] + tol).all() and (best[known] <= high[known] + tol).all()


@PROPERTY
@given(incident_tables(), st.sampled_from(list(PANELS)))
def test_spreading_conserves_totals(incidents, period):
    panel = PANELS[period](incidents, by=["actor"], spread=True)
    totals = panel_totals(panel)
    assert totals["incidents"] == pytest.approx(len(incidents))
    for measure in ("fatalities", "injuries"):
        low, best = incidents[f"{measure}_low"], incidents[f"{measure}_best"]
        assert totals[f"{measure}_low"] == pytest.approx(float(low.sum()))
        assert totals[f"{measure}_best"] == pytest.approx(float(best.fillna(low).sum()))


# --- examples -----------------------------------------------------------------------


def table(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    for c in frame.columns:
        if c in ("date_start", "date_end"):
            frame[c] = pd.to_datetime(frame[c])
        elif c in COUNT_COLUMNS:
            frame[c] = frame[c].astype("Int64")
    return frame


def test_missing_value_rule():
    incidents = table(
        date_start=["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-10", "2024-01-16"],
        actor=["ISIS"] * 5,
        fatalities_best=[10, 2, None, 4, None],
        fatalities_low=[10, 1, 3, 4, None],
        fatalities_high=[None, 5, 8, 6, None],
        injuries_best=[None, None, 1, None, None],
    )
    panel = weekly_panel(incidents, by="actor", end="2024-01-28")
    assert panel["week"].tolist() == list(pd.date_range("2024-01-01", periods=4, freq="7D"))
    assert panel["incidents"].tolist() == [2, 2, 1, 0]
    assert panel["fatalities_best"].tolist() == [12, 7, pd.NA, 0]  # "at least 3" counts 3
    assert panel["fatalities_low"].tolist() == [11, 7, pd.NA, 0]
    assert panel["fatalities_high"].tolist() == [pd.NA, 14, pd.NA, 0]  # one unbounded report: unknown
    assert panel["injuries_best"].tolist() == [pd.NA, 1, pd.NA, 0]  # all unknown: NA, not 0
    assert "injuries_low" not in panel  # measures absent from the input are absent from the panel


def test_start_date_rule_and_spread():
    incidents = table(
        date_start=["2024-01-06"],
        date_end=["2024-01-09"],
        actor=["ISIS"],
        fatalities_best=[8],
        injuries_best=[4],
    )
    by_start = weekly_panel(incidents, by=None, start="2024-01-01", end="2024-01-14")
    assert by_start["incidents"].tolist() == [1, 0]
    spread = weekly_panel(incidents, by=None, start="2024-01-01", end="2024-01-14", spread=True)
    assert spread["incidents"].tolist() == [0.5, 0.5]
    assert spread["fatalities_best"].tolist() == [4.0, 4.0]
    sunday_weeks = weekly_panel(incidents, by=None, week_start="SUN", spread=True)
    assert sunday_weeks["week"].tolist() == [pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-07")]
    assert sunday_weeks["incidents"].tolist() == [0.25, 0.75]


def test_incidents_dated_less_exactly_than_the_period_are_set_aside_not_lost():
    incidents = table(
        date_start=["2016-01-01", "2016-01-05", "2016-01-06", "2016-01-12", "2016-01-13"],
        date_end=["2016-12-31", "2016-01-31", "2016-01-06", "2016-04-30", "2016-01-18"],
        date_precision=["year", "month", "day", "day", "range"],  # a kidnapping resolved in April: day
        fatalities_best=[1700, 40, 3, 2, 5],
    )
    weekly = weekly_panel(incidents, by=None)
    assert weekly["incidents"].tolist()[:3] == [0, 1, 2]  # weeks of 2015-12-28, 2016-01-04, 2016-01-11
    assert weekly["fatalities_best"].tolist()[:3] == [0, 3, 7]
    assert weekly["incidents_imprecise"].tolist()[:3] == [1, 1, 0]  # the year and the month report
    assert weekly["fatalities_best_imprecise"].tolist()[:3] == [1700, 40, 0]
    monthly = monthly_panel(incidents, by=None)  # a month-precise report is precise for a month
    assert monthly["fatalities_best"].tolist() == [50]
    assert monthly["fatalities_best_imprecise"].tolist() == [1700]
    assert yearly_panel(incidents, by=None)["fatalities_best"].tolist() == [1750]
    at_start = weekly_panel(incidents, by=None, imprecise="start")
    assert "incidents_imprecise" not in at_start
    assert at_start["fatalities_best"].tolist()[:3] == [1700, 43, 7]
    with pytest.raises(PanelError, match="imprecise must be one of"):
        weekly_panel(incidents, by=None, imprecise="drop")


def test_range_covers_whole_periods_and_keeps_groups_seen_outside_it():
    incidents = table(
        date_start=["2023-05-03", "2024-02-14", "2024-03-30"],
        actor=["HTS", "ISIS", "ISIS"],
        fatalities_best=[1, 2, 3],
    )
    panel = monthly_panel(incidents, by="actor", start="2024-02-20", end="2024-03-02")
    assert panel["month"].unique().tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    assert panel.set_index(["actor", "month"])["fatalities_best"].tolist() == [0, 0, 2, 3]
    years = yearly_panel(incidents, by=())
    assert years["year"].dt.year.tolist() == [2023, 2024] and years["incidents"].tolist() == [1, 2]


def test_works_on_the_minimal_columns_and_string_dates():
    incidents = pd.DataFrame({"date_start": ["2024-01-01", "2024-01-20"], "region": ["Raqqa", "Homs"]})
    panel = weekly_panel(incidents, by=["region"])
    assert list(panel.columns) == ["week", "region", "incidents"]
    assert len(panel) == 2 * 3 and panel["incidents"].sum() == 2


def test_empty_input_gives_an_empty_valid_panel():
    incidents = table(date_start=pd.Series([], dtype="datetime64[ns]"), actor=pd.Series([], dtype="str"))
    assert weekly_panel(incidents, by="actor").empty
    zeros = weekly_panel(incidents, by=None, start="2024-01-01", end="2024-01-21")
    assert zeros["incidents"].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": ["perpetrator"]}, "cannot group by"),
        ({"by": ["actor", "actor"]}, "twice"),
        ({"week_start": "MONDAY"}, "week_start"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "before"),
        ({"by": ["target"]}, "no column"),
        ({"spread": True}, "no column"),
    ],
)
def test_user_errors_are_clear(kwargs, message):
    incidents = table(date_start=["2024-01-01"], actor=["ISIS"], region=["Raqqa"])
    with pytest.raises(PanelError, match=message) as raised:
        weekly_panel(incidents, **kwargs)
    assert isinstance(raised.value, CasualtyStatsError)


def test_missing_dates_are_an_error_not_a_silent_loss():
    incidents = pd.DataFrame({"date_start": pd.to_datetime(["2024-01-01", None]), "actor": ["ISIS", "ISIS"]})
    with pytest.raises(PanelError, match="1 incidents have no date_start"):
        weekly_panel(incidents, by="actor")


def test_schema_rejects_incomplete_unordered_or_gapped_panels():
    incidents = table(
        date_start=["2024-01-01", "2024-01-15"],
        actor=["ISIS", "HTS"],
        fatalities_low=[1, 1],
        fatalities_best=[2, 2],
        fatalities_high=[3, 3],
    )
    panel = weekly_panel(incidents, by="actor")
    PanelSchema.validate(panel)
    broken = {
        "a row missing": panel.drop(index=1),
        "a week missing in every group": panel[panel["week"] != pd.Timestamp("2024-01-08")],
        "best above high": panel.assign(fatalities_best=panel["fatalities_high"] + 1),
        "negative count": panel.assign(incidents=-panel["incidents"]),
        "a month not given by its first day": monthly_panel(incidents, by="actor").assign(
            month=lambda p: p["month"] + pd.Timedelta(days=1)
        ),
        "two period columns": panel.assign(month=panel["week"]),
    }
    for what, frame in broken.items():
        with pytest.raises(pandera.errors.SchemaError):
            PanelSchema.validate(frame)
            pytest.fail(what)


# --- real data -------------------------------------------------------------------------


@pytest.mark.shared
def test_ucdp_iraq_weekly_isis_fatalities(ucdp_iraq_path):
    from casualtystats import involving, load_incidents

    incidents = load_incidents(ucdp_iraq_path).incidents
    panel = weekly_panel(involving(incidents, "ISIS"), by=["actor"], start="2004-03-15", end="2018-12-31")
    isis = panel[panel["actor"] == "ISIS"]
    weeks = pd.date_range("2004-03-15", "2018-12-31", freq="7D")
    assert isis["week"].tolist() == list(weeks)  # every week, no gap
    # 63 events (5,666 killed) are dated over more than a week: kept, beside the weekly series
    assert int(isis["fatalities_best"].sum()) == 75_072 - 5_666
    assert int(isis["fatalities_best_imprecise"].sum()) == 5_666
    assert int(isis["incidents_imprecise"].sum()) == 63
    assert isis["fatalities_best"].notna().all()
    months = monthly_panel(involving(incidents, "ISIS"), by=["actor"], start="2004-03-15", end="2018-12-31")
    isis_months = months[months["actor"] == "ISIS"]
    assert (isis_months["fatalities_best"] + isis_months["fatalities_best_imprecise"]).sum() == 75_072


def test_an_unvalidated_table_gets_one_sentence_naming_rows_and_rule():
    incidents = table(
        date_start=["2024-01-01", "2024-01-02", "2024-01-03"],
        fatalities_low=[5, 1, 9],
        fatalities_best=[3, 1, 2],
        injuries_best=[0, -1, 0],
    )
    with pytest.raises(PanelError) as err:
        weekly_panel(incidents, by=None)
    message = str(err.value)
    assert "injuries_best >= 0" in message and "(rows 1)" in message and "IncidentSchema" in message
    with pytest.raises(
        PanelError, match=r"2 incident\(s\) break the rule fatalities_low <= fatalities_best \(rows 0, 2\)"
    ):
        weekly_panel(incidents.drop(columns="injuries_best"), by=None)
    assert "Check" not in message and "validator" not in message


# --- the days the data cover of the boundary periods ----------------------------------


@PROPERTY
@given(incident_tables(), st.sampled_from(list(PANELS)), st.sampled_from(WEEKDAYS))
def test_boundary_periods_record_the_days_the_data_cover(incidents, period, week_start):
    kwargs = {"week_start": week_start} if period == "week" else {}
    panel = PANELS[period](incidents, by=None, **kwargs)
    if incidents.empty:
        return
    dates = incidents["date_start"].dt.normalize()
    days = pd.date_range(dates.min(), dates.max(), freq="D")
    starts = period_start(pd.Series(days), period, week_start)
    assert panel.attrs["data_start"] == days[0] and panel.attrs["data_end"] == days[-1]
    for side, week in (("first", panel[period].min()), ("last", panel[period].max())):
        assert panel.attrs[f"{side}_{period}"] == week
        # the days of the covered span that fall in that period, counted one by one
        assert panel.attrs[f"{side}_{period}_days"] == int((starts == week).sum())
    assert panel_totals(panel)["incidents"] == len(incidents)  # recorded, nothing scaled


def test_a_partial_last_week_is_recorded_and_start_end_state_the_span():
    # GTD 2021 H1: Friday 1 January to Wednesday 30 June, ISO weeks
    incidents = pd.DataFrame({"date_start": pd.to_datetime(["2021-01-01", "2021-03-10", "2021-06-30"])})
    panel = weekly_panel(incidents, by=None)
    assert panel.attrs["first_week"] == pd.Timestamp("2020-12-28") and panel.attrs["first_week_days"] == 3
    assert panel.attrs["last_week"] == pd.Timestamp("2021-06-28") and panel.attrs["last_week_days"] == 3
    assert int(panel["incidents"].sum()) == 3
    # the caller states the data's span (an actor's incidents inside a longer table)
    wider = weekly_panel(incidents, by=None, start="2020-12-28", end="2021-07-04")
    assert (wider.attrs["first_week_days"], wider.attrs["last_week_days"]) == (7, 7)
    # pandas keeps the record through a filter: the dates say which weeks it is about
    cut = panel[panel["week"] < panel.attrs["last_week"]]
    assert cut.attrs["last_week_days"] == 3 and cut["week"].max() < cut.attrs["last_week"]
    month = monthly_panel(incidents, by=None)
    assert (month.attrs["first_month_days"], month.attrs["last_month_days"]) == (31, 30)


def test_complete_weeks_leaves_out_partly_covered_and_unfinished_weeks():
    incidents = pd.DataFrame({"date_start": pd.to_datetime(["2021-01-01", "2021-03-10", "2021-06-30"])})
    panel = weekly_panel(incidents, by=None)
    full = complete_weeks(panel)
    assert full["week"].min() == pd.Timestamp("2021-01-04") and full["week"].max() == pd.Timestamp(
        "2021-06-21"
    )
    assert len(full) == len(panel) - 2
    series = panel.set_index("week")["incidents"]  # a Series cut from the panel keeps the record
    assert complete_weeks(series).index.equals(pd.DatetimeIndex(full["week"]))
    # as of a Sunday, the week it ends is complete; as of the Saturday before, it is not
    assert complete_weeks(panel, as_of="2021-03-14")["week"].max() == pd.Timestamp("2021-03-08")
    assert complete_weeks(panel, as_of="2021-03-13")["week"].max() == pd.Timestamp("2021-03-01")
    wider = weekly_panel(incidents, by=None, start="2020-12-28", end="2021-07-04")
    assert complete_weeks(wider) is wider
