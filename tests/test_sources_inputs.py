"""Files as analysts really have them: re-saved by Excel, odd bytes, odd structure. Every input
row is loaded or quarantined, and a file that is not a table is one clear error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from casualtystats import LoadError, load_incidents

HEADER = "date,country,region,actor,fatalities\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("dates", "expected", "conventions"),
    [
        # Excel re-saves an ISO date in the locale's short form: UK/EU day first, US month first
        (["15/03/2024", "02/03/2024"], ["2024-03-15", "2024-03-02"], 2),
        (["3/15/2024", "3/2/2024 0:00"], ["2024-03-15", "2024-03-02"], 2),
        (["02.03.2024", "01.04.2024"], ["2024-03-02", "2024-04-01"], 2),  # dots: always day first
        (["15-Mar-24", "2024/03/02"], ["2024-03-15", "2024-03-02"], 0),  # unambiguous
        (["45366", "45353"], ["2024-03-15", "2024-03-02"], 2),  # Excel day numbers
    ],
)
def test_dates_as_spreadsheets_write_them_are_read(tmp_path, dates, expected, conventions):
    rows = "".join(f'"{d}",Iraq,Anbar,ISIS,1\n' for d in dates)
    result = load_incidents(_write(tmp_path, "log.csv", HEADER + rows))
    assert result.quarantine.empty
    assert result.incidents["date_start"].dt.strftime("%Y-%m-%d").tolist() == expected
    # the convention a row was read by is counted, per row
    assert len(result.warnings) == conventions
    assert ("read by a convention" in result.summary()) == bool(conventions)


def test_day_month_order_that_the_column_cannot_tell_is_quarantined_not_guessed(tmp_path):
    rows = "3/4/2024,Iraq,Anbar,ISIS,1\n5/5/2024,Iraq,Anbar,ISIS,2\n13/01/2024,Iraq,Anbar,ISIS,3\n"
    mixed = load_incidents(_write(tmp_path, "mixed.csv", HEADER + rows + "01/13/2024,Iraq,Anbar,ISIS,4\n"))
    assert mixed.incidents["fatalities_best"].tolist() == [2]  # 5/5 is the same either way
    assert len(mixed.quarantine) == 3
    assert mixed.quarantine["reasons"].str.contains("day and month order unknown").all()
    unknown = load_incidents(_write(tmp_path, "unknown.csv", HEADER + rows.split("13/01")[0]))
    assert unknown.quarantine["reasons"].str.contains("no day above 12").tolist() == [True]
    assert len(unknown.incidents) + len(unknown.quarantine) == 2


def test_small_numbers_are_not_excel_dates(tmp_path):
    result = load_incidents(
        _write(tmp_path, "log.csv", HEADER + "2024,Iraq,Anbar,ISIS,1\n5,Iraq,Anbar,ISIS,1\n")
    )
    assert result.incidents.empty
    assert result.quarantine["reasons"].str.contains("not a valid date").all()


def test_acled_excel_resave_loads_every_row(tmp_path):
    fixture = pd.read_csv(Path(__file__).parent / "fixtures" / "acled_export_2019.csv", dtype=str)
    original = load_incidents(Path(__file__).parent / "fixtures" / "acled_export_2019.csv")
    resaved = fixture.assign(event_date=pd.to_datetime(fixture["event_date"]).dt.strftime("%d/%m/%Y"))
    resaved.to_csv(tmp_path / "acled.csv", index=False)
    again = load_incidents(tmp_path / "acled.csv")
    assert len(again.incidents) == len(original.incidents)
    assert len(again.quarantine) == len(original.quarantine)
    pd.testing.assert_series_equal(again.incidents["date_start"], original.incidents["date_start"])


@pytest.mark.parametrize("second", ["fatalities", "FATALITIES "])
def test_two_columns_of_one_name_are_an_error_not_a_silent_choice(tmp_path, second):
    path = _write(
        tmp_path,
        "log.csv",
        f"date,country,region,actor,fatalities,{second}\n2024-01-01,Iraq,Anbar,ISIS,1,9\n",
    )
    with pytest.raises(
        LoadError, match=r"2 columns named 'fatalities' \(columns 5, 6\) with different cells"
    ):
        load_incidents(path)
    frame = pd.DataFrame(
        [["2024-01-01", "Iraq", "Anbar", "ISIS", 1, 9]], columns=[*HEADER.strip().split(","), "Fatalities"]
    )
    with pytest.raises(LoadError, match="with different cells"):
        load_incidents(frame)


def test_two_columns_of_one_name_that_agree_or_are_not_read_load(tmp_path):
    text = "date,country,region,actor,fatalities,Fatalities,note,Note\n2024-01-01,Iraq,Anbar,ISIS,1,1,a,b\n"
    result = load_incidents(_write(tmp_path, "log.csv", text))
    assert result.incidents["fatalities_best"].tolist() == [1]
