"""A typed table (Parquet, DataFrame) loads as the text a CSV of it would hold.

The loader keeps a typed file's numbers and dates typed instead of writing them out
as text and parsing them back; the text route (`text_cells` first) is the reference:
the same incidents, the same quarantine with the same reasons and raw cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casualtystats import load_incidents
from casualtystats.sources.read import column_text, text_cells

# Counts as a file may type them: the plain case, the bad cases the quarantine must catch
# (negative, fractional, NaN, inf, beyond 2**53), -0.0, and values only text shows (2.0 -> "2").
COUNT_VALUES = [0, 1, 2, 7, 250, -3, 2.5, 0.1, -0.0, 1e-300, 2.0**53, 2.0**60, np.inf, -np.inf, np.nan]
COUNT_KINDS = ["int64", "Int64", "float64", "float32", "Float64", "uint8"]
DATES = [
    "2014-01-01",
    "2020-02-29 13:45:10",
    "2031-05-01",  # in the future: quarantined
    "1677-12-31",  # before the range kept
    "1890-06-30",
    None,
]


def _count_column(values: list, kind: str) -> pd.Series:
    if kind == "uint8":
        return pd.Series([int(abs(v)) % 256 if np.isfinite(v) else 0 for v in values], dtype=kind)
    if kind == "int64":
        return pd.Series([int(v) if np.isfinite(v) else 0 for v in values], dtype=kind)
    if kind == "Int64":
        return pd.Series([pd.NA if not np.isfinite(v) else int(v) for v in values], dtype="Int64")
    return pd.Series(values, dtype=kind)


def _date_column(values: list, unit: str) -> pd.Series:
    dates = pd.Series([pd.Timestamp(v) if v else pd.NaT for v in values], dtype="datetime64[s]")
    if unit == "ns":  # a nanosecond column cannot hold 1677 or earlier
        dates = dates.where(dates.isna() | (dates > pd.Timestamp("1678-01-01"))).astype("datetime64[ns]")
    return dates


@st.composite
def typed_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    count = st.sampled_from(COUNT_VALUES)
    frame = pd.DataFrame(
        {
            "incident_id": [f"T{i}" for i in range(n)],
            "country": "Iraq",
            "region": draw(st.lists(st.sampled_from(["Ninawa", "Anbar", "Kirkuk"]), min_size=n, max_size=n)),
            "actor": "ISIS",
        }
    )
    unit = draw(st.sampled_from(["s", "ns"]))
    frame["date_start"] = _date_column(draw(st.lists(st.sampled_from(DATES), min_size=n, max_size=n)), unit)
    if draw(st.booleans()):
        frame["date_end"] = _date_column(draw(st.lists(st.sampled_from(DATES), min_size=n, max_size=n)), unit)
    for name in ["fatalities_best", "fatalities_low", "injuries_best"]:
        if draw(st.booleans()):
            kind = draw(st.sampled_from(COUNT_KINDS))
            frame[name] = _count_column(draw(st.lists(count, min_size=n, max_size=n)), kind)
    if "fatalities_best" not in frame:
        frame["fatalities"] = _count_column(draw(st.lists(count, min_size=n, max_size=n)), "float64")
    coordinate = st.sampled_from([33.3, -0.0, 95.0, 12.123456789012345, np.nan, np.inf, 44])
    frame["latitude"] = pd.Series(draw(st.lists(coordinate, min_size=n, max_size=n)), dtype="float64")
    frame["longitude"] = pd.Series(draw(st.lists(coordinate, min_size=n, max_size=n)), dtype="float64")
    return frame


def _same_load(frame: pd.DataFrame) -> None:
    as_text = text_cells(frame)
    assert all(pd.api.types.is_string_dtype(column) for _, column in as_text.items())
    typed, reference = load_incidents(frame), load_incidents(as_text)
    for name in ["incidents", "quarantine", "excluded", "problems", "warnings"]:
        pd.testing.assert_frame_equal(getattr(typed, name), getattr(reference, name), check_exact=True)
    assert typed.notes == reference.notes


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_tables())
def test_typed_columns_load_as_their_text(frame):
    _same_load(frame)


def test_typed_table_catches_what_its_text_catches():
    """Negative, fractional, missing and infinite counts, out-of-range coordinates and dates
    are quarantined from a typed table with the reasons and raw text of a CSV."""
    frame = pd.DataFrame(
        {
            "incident_id": ["a", "b", "c", "d", "e", "f"],
            "date_start": pd.to_datetime(
                ["2020-01-01", "2020-01-02", None, "2020-01-04", "2099-01-01", "2020-01-06"]
            ),
            "country": "Syria",
            "region": "Raqqa",
            "actor": "ISIS",
            "fatalities_best": [1.0, -2.0, 2.5, np.nan, 3.0, np.inf],
            "latitude": [35.9, 95.0, 35.9, 35.9, 35.9, 35.9],
        }
    )
    _same_load(frame)
    quarantine = load_incidents(frame).quarantine.set_index("incident_id")
    assert list(load_incidents(frame).incidents["incident_id"]) == ["a", "d"]
    assert "fatalities_best: must be >= 0" in quarantine.loc["b", "reasons"]
    assert "latitude: must be <= 90" in quarantine.loc["b", "reasons"]
    assert "not a whole number (2.5)" in quarantine.loc["c", "reasons"]
    assert quarantine.loc["c", "fatalities_best"] == "2.5" and quarantine.loc["b", "fatalities_best"] == "-2"
    assert "date_start: missing" in quarantine.loc["c", "reasons"]
    assert "date in the future" in quarantine.loc["e", "reasons"]
    assert "not a number (inf)" in quarantine.loc["f", "reasons"]


def test_column_text_is_cell_by_cell():
    """Converting part of a typed column gives those cells' text in the whole column (the loader
    converts only the quarantined rows)."""
    column = pd.Series([1.0, 2.5, np.nan, -0.0, 2.0**53, 1e-300])
    whole = column_text(column)
    for start in range(len(column)):
        pd.testing.assert_series_equal(column_text(column.iloc[start:]), whole.iloc[start:])
    assert whole.tolist()[:4] == ["1", "2.5", whole.tolist()[2], "0"] and pd.isna(whole.iloc[2])
