"""Reading files: line numbers as an editor shows them, encodings, and one clear
message for every file that is not a readable table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from casualtystats import LoadError, load_incidents
from casualtystats.errors import CasualtyStatsError
from casualtystats.sources.read import read_table

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"


def test_lines_count_header_blank_lines_and_multiline_cells():
    raw = read_table(BAD / "values.csv")
    ids = raw.frame["incident_id"].tolist()
    lines = dict(reversed(list(zip(ids, raw.lines.tolist(), strict=True))))  # first occurrence wins
    assert lines["ok-1"] == 2  # line 1 is the header
    assert lines["negative"] == 5  # line 4 is blank
    assert lines["ok-2"] == 12  # its note spans lines 12-13
    assert lines["ok-3"] == 15
    assert raw.lines[-1] == 19
    assert len(raw.frame) == 16  # line 14 is all commas: a row, quarantined as empty
    assert raw.row_problems[10] == "empty row (only delimiters)" and raw.lines[10] == 14


def test_hdx_tag_row_is_skipped_and_counted_as_a_line():
    raw = read_table(FIXTURES / "ucdp_ged_hdx_minimal.csv")
    assert raw.lines.tolist() == [3, 4, 6]  # header 1, HXL tags 2, blank 5
    assert raw.notes == ["line 2: HXL hashtag row skipped"]
    assert not raw.frame["id"].str.startswith("#").any()


def test_mixed_utf8_and_cp1252_bytes_decode_without_loss():
    result = load_incidents(BAD / "mixed_encoding.csv")
    inc = result.incidents.set_index("incident_id")
    assert inc.loc["enc-1", "location"] == "Tall \u2018Afar"  # real UTF-8
    assert inc.loc["enc-2", "location"] == "Tall \u2018Afar"  # cp1252 0x91
    assert inc.loc["enc-2", "notes"] == "caf\u00e9 in cp1252"
    assert inc.loc["enc-3", "actor_raw"] == "Da\u2019esh" and inc.loc["enc-3", "actor"] == "ISIS"
    assert any("Windows-1252" in note for note in result.notes)


def test_utf16_with_semicolons():
    inc = load_incidents(BAD / "utf16_semicolon.csv").incidents
    assert inc[["region", "fatalities_best"]].iloc[0].tolist() == ["Deir ez-Zor", 5]


def test_truncated_last_row_is_quarantined_not_lost():
    result = load_incidents(BAD / "truncated_row.csv")
    assert len(result.incidents) == 1 and len(result.quarantine) == 1
    row = result.quarantine.iloc[0]
    assert row["line"] == 3 and "truncated row?" in row["reasons"] and row["region"] == "Kir"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("empty.csv", "empty file"),
        ("blank_lines_only.csv", "empty file"),
        ("image.png", "is a PNG image, not a table"),
        ("records.json", "looks like JSON, not a table"),
        ("binary.csv", "binary file, not a table"),
        ("truncated_quote.csv", "ends inside a quoted field: the file is truncated"),
        ("unknown_columns.csv", "unknown format"),
        ("acled_missing_fatalities.csv", "ACLED file lacks required column(s): fatalities"),
        ("no_such_file.csv", "no such file"),
    ],
)
def test_unreadable_files_raise_one_clear_message(name, problem):
    with pytest.raises(LoadError) as info:
        load_incidents(BAD / name)
    message = str(info.value)
    assert message.startswith(str(BAD / name)) and problem in message
    assert "\n" not in message


def test_forced_source_names_missing_columns(tmp_path):
    path = tmp_path / "acled.csv"
    shutil.copy(FIXTURES / "acled_export_2024.csv", path)
    with pytest.raises(LoadError, match="GTD file lacks required column"):
        load_incidents(path, source="gtd")
    with pytest.raises(LoadError, match="unknown source 'sohr'"):
        load_incidents(path, source="sohr")


def test_header_only_file_is_an_empty_table():
    result = load_incidents(BAD / "header_only.csv")
    assert len(result.incidents) == 0 and len(result.quarantine) == 0


def test_truncated_and_fake_xlsx(tmp_path):
    source = pd.read_csv(FIXTURES / "native_incidents.csv")
    good = tmp_path / "good.xlsx"
    source.to_excel(good, index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:700])
    with pytest.raises(LoadError, match="damaged or truncated"):
        load_incidents(cut)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(LoadError, match=str(fake)):
        load_incidents(fake)


def test_truncated_parquet(tmp_path):
    good = tmp_path / "good.parquet"
    pd.read_csv(FIXTURES / "native_incidents.csv").to_parquet(good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(LoadError, match="damaged or truncated Parquet"):
        load_incidents(cut)


def test_zip_ods_and_xlsb_are_named_not_tracebacks(tmp_path, capsys):
    import zipfile

    from casualtystats.cli import main

    zipped = tmp_path / "acled.zip"  # two tables: which one is meant is not known (one is read)
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(FIXTURES / "acled_export_2024.csv", "acled_export_2024.csv")
        archive.write(FIXTURES / "acled_export_2019.csv", "acled_export_2019.csv")
    ods = tmp_path / "incidents.ods"
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    xlsb = tmp_path / "incidents.xlsb"
    with zipfile.ZipFile(xlsb, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x00")
    for path, problem in (
        (
            zipped,
            "is a zip archive, not a workbook: unzip it and load the table inside (contains: acled_export",
        ),
        (ods, "is an OpenDocument spreadsheet (.ods): save it as .xlsx or .csv"),
        (xlsb, "is a binary Excel workbook (.xlsb)"),
    ):
        assert main(["validate", str(path), "-o", str(tmp_path / "q.csv")]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and problem in lines[0], lines
        assert "Traceback" not in captured.err


def test_workbook_is_read_whatever_its_file_name(tmp_path):
    """openpyxl checks the extension; the reader goes by the content."""
    named = tmp_path / "export.dat"
    pd.read_csv(FIXTURES / "native_incidents.csv").to_excel(named, index=False)
    assert len(load_incidents(named).incidents) == len(pd.read_csv(FIXTURES / "native_incidents.csv"))


def test_excel_csv_of_a_comma_decimal_locale(tmp_path):
    """Excel in a comma-decimal locale writes ';' between cells, decimal commas and a BOM."""
    path = tmp_path / "export.csv"
    text = (
        "incident_id;date_start;country;region;actor;fatalities_best;latitude;longitude\r\n"
        "a;2024-03-01;Iraq;Anbar;ISIS;5;33,3289;43,7890\r\n"
        "b;2024-03-02;Iraq;Ninawa;ISIS;1;36,335;-0,5\r\n"
        "c;2024-03-03;Iraq;Ninawa;ISIS;2,5;36;43\r\n"
    )
    path.write_bytes("\ufeff".encode() + text.encode("cp1252"))
    result = load_incidents(path)
    inc = result.incidents.set_index("incident_id")
    assert inc["latitude"].to_dict() == {"a": 33.3289, "b": 36.335}
    assert inc["longitude"].to_dict() == {"a": 43.789, "b": -0.5}
    assert result.quarantine["reasons"].tolist() == ["fatalities_best: not a whole number (2,5)"]
    assert any("decimal comma" in note for note in result.notes)


def test_rows_without_an_incident_are_counted_with_one_reason(tmp_path):
    """A delimiter-only row and a header pasted mid-file are rows: quarantined with one reason each."""
    path = tmp_path / "pasted.csv"
    header = "incident_id,date_start,country,region,actor,fatalities_best"
    path.write_text(
        f"{header}\na,2024-01-05,Iraq,Anbar,ISIS,1\n,,,,,\n\n{header.upper()}\nb,2024-01-06,Iraq,Anbar,ISIS,2\n"
    )
    result = load_incidents(path)
    assert result.n_input == 4 and len(result.incidents) == 2
    assert result.quarantine.set_index("line")["reasons"].to_dict() == {
        3: "empty row (only delimiters)",
        5: "repeated header row",
    }
    assert "input rows               4" in result.summary()


def test_a_dataframe_is_loaded_as_a_file_would_be(tmp_path):
    frame = pd.read_csv(FIXTURES / "native_incidents.csv")
    from_file = load_incidents(FIXTURES / "native_incidents.csv").incidents
    from_frame = load_incidents(frame)
    pd.testing.assert_frame_equal(from_frame.incidents, from_file)
    typed = frame.assign(date_start=pd.to_datetime(frame["date_start"]))
    typed.loc[0, "fatalities_best"] = None
    both = load_incidents([typed, FIXTURES / "native_minimal.csv"], merge=False)
    assert both.files["file"].tolist() == ["DataFrame", str(FIXTURES / "native_minimal.csv")]
    assert pd.isna(both.incidents["fatalities_best"].iloc[0])  # NaN in a DataFrame is unknown
    assert load_incidents([typed, frame]).files["file"].tolist() == ["DataFrame 1", "DataFrame 2"]
    with pytest.raises(LoadError, match="DataFrame: unknown format"):
        load_incidents(pd.DataFrame({"x": [1]}))
    with pytest.raises(CasualtyStatsError, match="takes file paths or DataFrames .* not int"):
        load_incidents([FIXTURES / "native_minimal.csv", 3])


def test_workbook_data_sheet_behind_a_readme_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"notes": ["Incidents of 2024, see sheet Data"]}).to_excel(
            writer, sheet_name="README", index=False
        )
        pd.read_csv(FIXTURES / "native_incidents.csv").to_excel(writer, sheet_name="Data", index=False)
    result = load_incidents(path)
    assert len(result.incidents) == len(pd.read_csv(FIXTURES / "native_incidents.csv"))
    assert any("sheet 'Data' read; skipped sheet 'README': unknown format" in n for n in result.notes)
    only_readme = tmp_path / "readme.xlsx"
    pd.DataFrame({"notes": ["nothing here"]}).to_excel(only_readme, sheet_name="README", index=False)
    with pytest.raises(
        LoadError, match="no sheet is an incident table: sheet 'README': unknown format.*notes"
    ):
        load_incidents(only_readme)
