"""IncidentSchema: each check rejects what it should and lets unknowns (NA) through."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from casualtystats.schema import COUNT_COLUMNS, DATE_PRECISIONS, INCIDENT_COLUMNS, IncidentSchema


def incident(**changes) -> dict:
    row = {
        "incident_id": "x-1",
        "source": "TEST",
        "date_start": pd.Timestamp("2024-01-05"),
        "date_end": pd.Timestamp("2024-01-05"),
        "date_precision": "day",
        "country": "Iraq",
        "region": "Anbar",
        "admin2": None,
        "location": None,
        "latitude": 33.4,
        "longitude": 43.3,
        "actor": "ISIS",
        "actor_raw": "IS",
        "target": "Civilians",
        "fatalities_best": 2,
        "fatalities_low": 1,
        "fatalities_high": 3,
        "injuries_best": None,
        "injuries_low": None,
        "injuries_high": None,
        "event_type": None,
        "notes": None,
    }
    row.update(changes)
    return row


def table(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for name in COUNT_COLUMNS:
        frame[name] = frame[name].astype("Int64")
    return frame


def failed_checks(frame: pd.DataFrame) -> set[str]:
    try:
        IncidentSchema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        return set(err.failure_cases["check"].astype(str))
    return set()


def test_valid_row_passes_and_column_order_is_canonical():
    out = IncidentSchema.validate(table(incident()))
    assert list(out.columns) == INCIDENT_COLUMNS
    assert str(out["fatalities_best"].dtype) == "Int64"
    assert str(out["date_start"].dtype).startswith("datetime64")


def test_unknown_counts_and_bounds_never_fail():
    row = incident(
        fatalities_best=None, fatalities_low=None, fatalities_high=None, latitude=None, longitude=None
    )
    assert failed_checks(table(row)) == set()


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"fatalities_best": -1, "fatalities_low": None}, "greater_than_or_equal_to(0)"),
        ({"injuries_high": -2}, "greater_than_or_equal_to(0)"),
        ({"fatalities_low": 5}, "fatalities_low <= fatalities_best <= fatalities_high"),
        ({"fatalities_high": 1}, "fatalities_low <= fatalities_best <= fatalities_high"),
        ({"injuries_low": 4, "injuries_best": 2}, "injuries_low <= injuries_best <= injuries_high"),
        ({"date_end": pd.Timestamp("2024-01-01")}, "date_end >= date_start"),
        (
            {"date_start": pd.Timestamp("2099-01-01"), "date_end": pd.Timestamp("2099-01-01")},
            "date_end in the future",
        ),
        ({"latitude": 91.0}, "less_than_or_equal_to(90)"),
        ({"longitude": -181.0}, "greater_than_or_equal_to(-180)"),
        ({"date_precision": "fortnight"}, f"isin({DATE_PRECISIONS})"),
        ({"country": None}, "not_nullable"),
        ({"actor": None}, "not_nullable"),
    ],
)
def test_each_check_rejects(changes, check):
    assert check in failed_checks(table(incident(), incident(incident_id="x-2", **changes)))


def test_low_above_high_fails_even_when_best_unknown():
    row = incident(fatalities_best=None, fatalities_low=5, fatalities_high=3)
    assert "fatalities_low <= fatalities_best <= fatalities_high" in failed_checks(table(row))


def test_incident_id_unique_within_source_only():
    same_source = table(incident(), incident())
    assert "incident_id duplicated within source" in failed_checks(same_source)
    other_source = table(incident(), incident(source="OTHER"))
    assert failed_checks(other_source) == set()


def test_missing_date_is_reported_once_not_as_ordering_failure():
    checks = failed_checks(table(incident(date_start=pd.NaT)))
    assert checks == {"not_nullable"}
