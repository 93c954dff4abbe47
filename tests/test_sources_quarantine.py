"""Bad rows go to the quarantine with their origin and every reason; nothing is lost."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casualtystats import IncidentSchema, load_incidents

BAD = Path(__file__).parent / "fixtures" / "bad"

EXPECTED_REASONS = {
    3: ["fatalities_best: not a number (ten)"],
    5: ["fatalities_best: must be >= 0 (-3)"],
    6: ["fatalities_low <= fatalities_best <= fatalities_high (fatalities_best=2, fatalities_low=5)"],
    7: ["date_start: not a valid date (2021-02-30)"],
    8: ["date in the future (date=2099-01-01)"],  # one date given: no date_end to name
    9: ["superseded by a later version of the same incident id (values.csv line 10)"],
    14: ["empty row (only delimiters)"],
    11: [
        "date_precision: must be one of day, week, month, year, range (fortnight)",
        "country: missing",
        "latitude: must be <= 90 (123.0)",
        "fatalities_best: must be >= 0 (-1)",
        "date_end >= date_start (date_start=2024-01-12, date_end=2024-01-11)",
    ],
    16: ["row has 6 fields, the header has 14", "actor: missing"],
    17: ["actor: missing"],
    18: ["fatalities_best: not a whole number (2.5)"],
    19: ["exact duplicate of values.csv line 2"],
}


def test_bad_values_every_row_accounted_for_with_every_reason():
    result = load_incidents(BAD / "values.csv")
    # 16 rows: lines 2-19 less the blank line 4 and the second line of a quoted note
    assert len(result.incidents) + len(result.quarantine) == 16
    assert sorted(result.incidents["incident_id"]) == ["dup", "ok-1", "ok-2", "ok-3"]
    got = {
        line: reasons.split("; ")
        for line, reasons in zip(result.quarantine["line"], result.quarantine["reasons"], strict=True)
    }
    assert {line: sorted(r) for line, r in got.items()} == {
        line: sorted(r) for line, r in EXPECTED_REASONS.items()
    }
    assert (result.quarantine["file"] == str(BAD / "values.csv")).all()
    # the raw cells come along as given
    row = result.quarantine.set_index("line").loc[3]
    assert (row["incident_id"], row["fatalities_best"], row["notes"]) == (
        "wrong-type",
        "ten",
        "count is text",
    )


def test_summary_counts_reasons():
    summary = load_incidents(BAD / "values.csv").summary()
    assert "input rows              16" in summary and "quarantined             12" in summary
    assert "fatalities_best: must be >= 0" in summary


def test_accepted_rows_keep_their_values():
    inc = load_incidents(BAD / "values.csv").incidents.set_index("incident_id")
    assert inc.loc["ok-2", "notes"] == "a note\nover two lines"
    assert (inc.loc["ok-2", "date_end"], inc.loc["ok-2", "date_precision"]) == (
        pd.Timestamp("2024-01-15"),
        "range",
    )
    assert inc.loc["ok-3", "date_start"] == pd.Timestamp("2024-03-15")
    assert inc.loc["ok-1", "date_end"] == inc.loc["ok-1", "date_start"]  # blank date_end: a one-day event


# ------------------------------------------------------------ property test

COLUMNS = [
    "incident_id",
    "source",
    "date_start",
    "date_end",
    "date_precision",
    "country",
    "region",
    "actor",
    "target",
    "fatalities_best",
    "fatalities_low",
    "fatalities_high",
    "injuries_best",
    "latitude",
    "notes",
]
COUNTS = st.sampled_from(["", "0", "1", "3", "12", "-1", "ten", "2.5", "NA", "1e2", " 4 ", "unknown"])
DATES = st.sampled_from(
    [
        "",
        "2020-01-05",
        "2020-01-06",
        "2021-02-30",
        "2099-12-31",
        "15 March 2020",
        "5/6/2020",
        "1500-01-01",
        "2019-13-01",
    ]
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
CELLS = {
    "incident_id": st.sampled_from(["", "a", "b", "c", "d", "e"]),
    "source": st.sampled_from(["", "X", "Y"]),
    "date_start": DATES,
    "date_end": DATES,
    "date_precision": st.sampled_from(["", "day", "week", "range", "fortnight"]),
    "country": st.sampled_from(["", "Iraq", "Syria"]) | TEXT,
    "region": st.sampled_from(["", "Nīnawá province", "Ar-Raqqa", "Atlantis"]) | TEXT,
    "actor": st.sampled_from(["", "IS", "Daesh", "Unknown"]) | TEXT,
    "target": st.sampled_from(["", "Civilians", "IS"]) | TEXT,
    "fatalities_best": COUNTS,
    "fatalities_low": COUNTS,
    "fatalities_high": COUNTS,
    "injuries_best": COUNTS,
    "latitude": st.sampled_from(["", "33.5", "-91", "north", "90"]),
    "notes": TEXT,
}
ROWS = st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_any_table_accepted_plus_quarantined_is_input_and_accepted_is_valid(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        result = load_incidents(path)
    # every row counts, a row of blank cells too (quarantined as empty)
    assert len(result.incidents) + len(result.quarantine) == len(rows)
    IncidentSchema.validate(result.incidents)
    inc = result.incidents
    assert inc["incident_id"].notna().all() and not inc.duplicated(["source", "incident_id"]).any()
    assert (inc["date_end"] >= inc["date_start"]).all()
    assert result.quarantine["reasons"].str.len().gt(0).all()
    assert result.quarantine["line"].is_unique
    # a superseded row names the version kept in its place, which is not itself superseded
    reasons = result.quarantine.set_index("line")["reasons"]
    named = reasons.str.extract(
        r"superseded by a later version of the same incident id \(generated\.csv line (\d+)\)"
    )
    for line in named[0].dropna().astype(int):
        assert "superseded" not in reasons.get(line, "")


def test_future_date_names_the_date_the_source_gave(tmp_path):
    """A table with one date column has no date_end to name; a range ending in the future keeps it."""
    path = tmp_path / "dates.csv"
    path.write_text(
        "date,date_end,country,region,actor,fatalities\n"
        "2099-01-01,,Iraq,Anbar,ISIS,1\n"
        "2020-01-01,2099-01-01,Iraq,Anbar,ISIS,1\n"
        "2020-01-01,,Iraq,Anbar,ISIS,1\n"
    )
    reasons = load_incidents(path).quarantine.set_index("line")["reasons"]
    assert reasons.to_dict() == {
        2: "date in the future (date=2099-01-01)",
        3: "date_end in the future (date_end=2099-01-01)",
    }
