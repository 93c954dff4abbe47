"""Files as analysts really have them: re-saved by Excel, odd bytes, odd structure. Every input
row is loaded or quarantined, and a file that is not a table is one clear error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats import LoadError, load_incidents
from casualtystats.sources.convert import Problems

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


def test_compressed_downloads_are_read_as_the_table_inside(tmp_path):
    import gzip
    import zipfile

    fixture = Path(__file__).parent / "fixtures" / "acled_export_2024.csv"
    plain = load_incidents(fixture)
    gz = tmp_path / "acled.csv.gz"
    gz.write_bytes(gzip.compress(fixture.read_bytes()))
    zipped = tmp_path / "ged.zip"  # as UCDP ships GED: one table, here beside macOS metadata
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(fixture, "acled_export_2024.csv")
        archive.writestr("__MACOSX/._acled_export_2024.csv", b"\x00\x05")
    for path, note in ((gz, "decompressed (gzip)"), (zipped, "read acled_export_2024.csv from the zip")):
        result = load_incidents(path)
        assert result.n_input == plain.n_input
        pd.testing.assert_frame_equal(result.incidents, plain.incidents)
        assert any(note in n for n in result.notes)
    broken = tmp_path / "cut.csv.gz"
    broken.write_bytes(gz.read_bytes()[:40])
    with pytest.raises(LoadError, match="damaged or truncated gzip"):
        load_incidents(broken)


def test_stray_nul_bytes_are_removed_and_utf16_without_bom_is_text(tmp_path):
    text = HEADER + "2024-01-01,Iraq,Ninawá,ISIS,1\n2024-01-02,Iraq,Anbar,ISIS,2\n"
    nul = tmp_path / "nul.csv"
    nul.write_bytes(text.encode().replace(b"ISIS,2", b"IS\x00IS,2"))
    result = load_incidents(nul)
    assert result.incidents["actor"].tolist() == ["ISIS", "ISIS"]
    assert any("1 NUL byte(s) removed" in n for n in result.notes)
    for encoding in ("utf-16-le", "utf-16-be"):
        bare = load_incidents(_write(tmp_path, f"{encoding}.csv", text, encoding))
        assert bare.incidents["region"].tolist() == ["Ninawa", "Anbar"]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(HEADER.encode() + bytes(range(256)) * 40)
    with pytest.raises(LoadError, match="binary file"):
        load_incidents(binary)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<!DOCTYPE html>\n<html><body>403 Forbidden, please log in</body></html>\n", "is an HTML web page"),
        (
            '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "Excel 2003 XML",
        ),
        ("<?xml version='1.0'?><events><event/></events>", "XML or markup file"),
    ],
)
def test_a_web_page_or_xml_saved_as_csv_is_named(tmp_path, text, problem):
    with pytest.raises(LoadError, match=problem):
        load_incidents(_write(tmp_path, "download.csv", text))


def test_excel_sep_line_and_title_rows_above_the_header(tmp_path):
    sep = load_incidents(
        _write(
            tmp_path, "sep.csv", "sep=;\r\n" + HEADER.replace(",", ";") + "2024-01-01;Iraq;Anbar;ISIS;1,0\n"
        )
    )
    assert sep.incidents["fatalities_best"].tolist() == [1] and sep.problems.empty
    assert sep.files["rows"].tolist() == [1]
    title = (
        "Incident log 2024;;\n\n"
        + HEADER.replace(",", ";")
        + "2024-01-01;Iraq;Anbar;ISIS;1\n2024-01-02;Iraq;Anbar;ISIS;x\n"
    )
    titled = load_incidents(_write(tmp_path, "titled.csv", title))
    assert titled.n_input == 2 and len(titled.incidents) == 1
    assert titled.quarantine["line"].tolist() == [5]  # lines as the editor shows them
    assert any("1 row(s) above the header skipped" in n for n in titled.notes)
    frame = pd.DataFrame([["Incident log", *[None] * 4], *[r.split(";") for r in title.splitlines()[2:]]])
    frame.to_excel(tmp_path / "titled.xlsx", index=False, header=False)
    sheet = load_incidents(tmp_path / "titled.xlsx")
    assert sheet.n_input == 2 and sheet.quarantine["line"].tolist() == [4]


def test_a_file_that_cannot_be_read_is_one_clear_error(tmp_path, monkeypatch):
    path = _write(tmp_path, "log.csv", HEADER)

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(LoadError, match=r"log.csv: cannot be read \(Permission denied\)"):
        load_incidents(path)


def test_ids_excel_rounded_to_scientific_notation_do_not_supersede_each_other(tmp_path):
    gtd = pd.read_csv(Path(__file__).parent / "fixtures" / "gtd_extract.csv", dtype=str)
    original = load_incidents(Path(__file__).parent / "fixtures" / "gtd_extract.csv")
    gtd["eventid"] = gtd["eventid"].map(lambda v: f"{float(v):.5E}".replace(".00000", ""))
    assert gtd["eventid"].nunique() < len(gtd)  # what Excel does to 12-digit GTD ids
    gtd.to_csv(tmp_path / "gtd.csv", index=False)
    resaved = load_incidents(tmp_path / "gtd.csv")
    assert len(resaved.incidents) == len(original.incidents)
    assert resaved.incidents["incident_id"].str.startswith("row-").all()
    assert resaved.warnings["problem"].str.contains("scientific notation").sum() == len(gtd)


def test_date_precision_typed_in_capitals_is_the_precision(tmp_path):
    text = "date,country,region,actor,fatalities,date_precision\n2024-01-01,Iraq,Anbar,ISIS,1,Day \n2024-01-02,Iraq,Anbar,ISIS,1,MONTH\n"
    result = load_incidents(_write(tmp_path, "log.csv", text))
    assert result.incidents["date_precision"].tolist() == ["day", "month"]


def test_every_sheet_that_is_an_incident_table_is_read(tmp_path):
    columns = HEADER.strip().split(",")
    with pd.ExcelWriter(tmp_path / "log.xlsx") as workbook:
        pd.DataFrame([["About this log"]]).to_excel(workbook, sheet_name="README", index=False, header=False)
        pd.DataFrame(
            [["2023-01-01", "Iraq", "Anbar", "ISIS", 1], ["2023-02-01", "Iraq", "Anbar", "ISIS", "x"]],
            columns=columns,
        ).to_excel(workbook, sheet_name="2023", index=False)
        pd.DataFrame([["2024-01-01", "Iraq", "Anbar", "ISIS", 5]], columns=columns).to_excel(
            workbook, sheet_name="2024", index=False
        )
    result = load_incidents(tmp_path / "log.xlsx")
    assert result.n_input == 3 and result.incidents["fatalities_best"].tolist() == [1, 5]
    assert result.files["file"].tolist() == [
        f"{tmp_path / 'log.xlsx'} [sheet {year}]" for year in (2023, 2024)
    ]
    assert result.quarantine[["file", "line"]].values.tolist() == [
        [f"{tmp_path / 'log.xlsx'} [sheet 2023]", 3]
    ]


def test_a_table_built_in_chunks_is_the_table_built_at_once(monkeypatch):
    from casualtystats.sources import read

    values = Path(__file__).parent / "fixtures" / "bad" / "values.csv"  # short, long and empty rows
    whole, problems = load_incidents(values), read.read_table(values).row_problems
    monkeypatch.setattr(read, "_CHUNK_ROWS", 3)
    chunked = load_incidents(values)
    pd.testing.assert_frame_equal(chunked.incidents, whole.incidents)
    pd.testing.assert_frame_equal(chunked.quarantine, whole.quarantine)
    assert read.read_table(values).row_problems == problems


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(
        st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)), min_size=1, max_size=15
    ),
    written=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y"]),
)
def test_a_date_in_a_locale_order_is_read_right_or_quarantined_never_wrong(days, written):
    problems = Problems()
    text = pd.Series([d.strftime(written) for d in days], dtype="str")
    read = problems.date(text, "date_start")
    flagged = set(problems.table()["row"])
    for row, (day, got) in enumerate(zip(days, read, strict=True)):
        if pd.isna(got):
            assert row in flagged
        else:
            assert got == pd.Timestamp(day), (text[row], got)
    if any(d.day > 12 and d.day != d.month for d in days):  # the column tells the order
        assert read.notna().all()


def test_a_file_saved_without_its_header_row_is_named_as_such(tmp_path):
    with pytest.raises(LoadError, match="The first row looks like data: is the header row missing"):
        load_incidents(
            _write(tmp_path, "log.csv", "2024-01-01,Iraq,Anbar,ISIS,1\n2024-01-02,Iraq,Anbar,ISIS,2\n")
        )
    with pytest.raises(LoadError) as info:
        load_incidents(_write(tmp_path, "other.csv", "name,colour\nx,red\n"))
    assert "header row missing" not in str(info.value)


def _with_saved_results(path: Path, results: dict[str, tuple[str, str]]) -> None:
    """Rewrite the workbook as a spreadsheet program saves it: each formula cell in `results`
    (reference -> (extra attributes, saved <v> element)) keeps its formula and gains its result."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for reference, (attributes, saved) in results.items():
        sheet, found = re.subn(
            rf'<c r="{reference}"([^>]*)>(<f>[^<]*</f>)<v\s*/>',
            rf'<c r="{reference}"\1{attributes}>\2{saved}',
            sheet,
        )
        assert found == 1
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formulas_never_calculated_quarantine_their_rows_not_blank_them(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([*HEADER.strip().split(","), "notes", "comment"])
    sheet.append(["2023-01-01", "Iraq", "Anbar", "ISIS", 3, "a", "x"])
    sheet.append(["2023-01-02", "Iraq", "Anbar", "ISIS", "=E2+1", "b", "x"])  # never calculated
    sheet.append(["2023-01-03", "Iraq", "Anbar", "ISIS", "=E2*2", "c", "x"])  # calculated: 6
    sheet.append(["2023-01-04", "Iraq", "Anbar", "ISIS", 2, '=IF(E5>5,"big","")', "x"])  # calculated: ""
    sheet.append(["2023-01-05", "Iraq", "Anbar", "ISIS", 1, '=CONCAT("d","e")', "x"])  # never calculated
    sheet.append(["2023-01-06", "Iraq", "Anbar", "ISIS", 4, "f", "=A7"])  # never calculated, not read
    workbook.save(tmp_path / "log.xlsx")
    _with_saved_results(tmp_path / "log.xlsx", {"E4": ("", "<v>6</v>"), "F5": (' t="str"', "<v></v>")})

    result = load_incidents(tmp_path / "log.xlsx")
    assert result.n_input == 6 and len(result.incidents) + len(result.quarantine) == 6
    assert result.incidents["fatalities_best"].tolist() == [3, 6, 2, 4]
    assert result.quarantine["line"].tolist() == [3, 6]
    reasons = result.quarantine["reasons"].tolist()
    assert reasons[0].startswith("fatalities: formula with no saved result") and "(=E2+1)" in reasons[0]
    assert reasons[1].startswith("notes: formula with no saved result") and '=CONCAT("d","e")' in reasons[1]
    assert any("3 cell(s) hold a formula with no saved result" in n for n in result.notes)


def test_latitude_and_longitude_the_wrong_way_round_are_swapped_back_with_a_warning(tmp_path):
    header = "date,country,region,actor,fatalities,latitude,longitude\n"
    rows = [
        "2023-01-01,Iraq,Baghdad,ISIS,1,33.31,44.36",  # right
        "2023-01-02,Iraq,Baghdad,ISIS,2,44.36,33.31",  # swapped: 780 km north of Iraq as given
        "2023-01-03,Syria,Deir ez-Zor,ISIS,3,40.14,35.33",  # swapped (Deir ez-Zor)
        "2023-01-04,Syria,Aleppo,ISIS,4,37.60,36.90",  # just over the Turkish border: kept as given
        "2023-01-05,Nigeria,Borno,ISWAP,5,13.2,11.8",  # no shipped boundaries: nothing can tell
    ]
    result = load_incidents(_write(tmp_path, "events.csv", header + "\n".join(rows) + "\n"))
    points = result.incidents[["latitude", "longitude"]].values.tolist()
    assert points == [[33.31, 44.36], [33.31, 44.36], [35.33, 40.14], [37.6, 36.9], [13.2, 11.8]]
    assert result.quarantine.empty
    swapped = result.warnings.loc[result.warnings["problem"].str.startswith("swapped")]
    assert swapped["line"].tolist() == [3, 4]
    assert "outside Iraq, swapped it lies inside" in swapped["problem"].iloc[0]
