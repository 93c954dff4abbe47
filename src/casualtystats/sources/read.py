"""From bytes on disk to a raw table of text cells, each row tagged with its line.

Every cell is kept as text (``str`` dtype, missing = NA) so the loader can
coerce column by column and report exactly which cell failed and why. The
line of a row is what a user sees in an editor or spreadsheet: CSV lines are
physical lines (header, HXL tag row, blank lines and multi-line quoted cells
all counted), XLSX lines are sheet row numbers, Parquet and DataFrame lines are
1-based row positions (they have no header line).

A blank line is not a row. A row of delimiters only (',,,,', what Excel writes for
an empty formatted row) and a copy of the header inside the file (files pasted
together) are rows that hold no incident: they are kept, marked with that one
reason (`NOT_DATA`), so the loader quarantines them and every row is counted.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LoadError

# Bytes that are not valid UTF-8 are almost always Windows-1252 (Excel's "CSV"
# on Windows) or Latin-1; decode each such byte that way instead of failing.
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def _cp1252_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    bad = err.object[err.start : err.end]
    text = "".join(chr(b) if b in _CP1252_UNDEFINED else bytes([b]).decode("cp1252") for b in bad)
    return text, err.end


codecs.register_error("casualtystats-cp1252", _cp1252_fallback)

_DELIMITERS = [",", "\t", ";", "|"]

EMPTY_ROW = "empty row (only delimiters)"
REPEATED_HEADER = "repeated header row"
#: Structural problems of rows that hold no incident: the only reason given for them.
NOT_DATA = frozenset({EMPTY_ROW, REPEATED_HEADER})

# (magic prefix, what it is) for files that are certainly not a table we read as text.
_NOT_TABLES = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive (decompress it first)"),
    (b"\xd0\xcf\x11\xe0", "an old binary Excel (.xls) or Office file (save it as .xlsx or .csv)"),
    (b"SQLite format 3", "an SQLite database"),
]


@dataclass
class RawTable:
    """A table exactly as read: text cells, original header, a line per row."""

    path: Path
    kind: str  # "csv", "xlsx", "parquet" or "dataframe"
    frame: pd.DataFrame  # str cells, NA for empty; RangeIndex
    lines: np.ndarray  # int64, one per row of `frame`
    row_problems: dict[int, str] = field(default_factory=dict)  # row position -> structural problem
    notes: list[str] = field(default_factory=list)
    decimal_comma: bool = False  # numbers are written 36,335 (a ';'-delimited CSV)
    sheet: str | None = None  # the workbook sheet read (XLSX)
    # Columns whose names are the same but for case (`frame` has them as 'fatalities', 'fatalities.1').
    duplicates: list[list[str]] = field(default_factory=list)


def read_table(path: str | Path, problem: Callable[[set[str]], str | None] | None = None) -> RawTable:
    """Read a CSV/TSV, XLSX or Parquet file; raise LoadError if it is not a readable table.

    `problem` (optional) says what is wrong with a table of these (lower-cased) column names,
    None if nothing: a workbook's first sheet that passes is read (a README sheet in front of
    the data is skipped, with a note); if none passes, the error names every sheet.
    """
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "no such file")
    if path.is_dir():
        raise LoadError(path, "is a directory, not a file")
    data = path.read_bytes()
    if not data.strip():
        raise LoadError(path, "empty file (no header, no rows)")
    if data.startswith(b"PAR1"):
        return _read_parquet(path)
    if data.startswith(b"PK\x03\x04"):
        _check_workbook(path, data)
        return _read_xlsx(path, data, problem)
    for magic, what in _NOT_TABLES:
        if data.startswith(magic):
            raise LoadError(path, f"is {what}, not a table (expected CSV, XLSX or Parquet)")
    notes: list[str] = []
    return _read_csv(path, _decode(path, data, notes), notes)


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:65536]:
        raise LoadError(path, "binary file, not a table (expected CSV, XLSX or Parquet)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append("not all UTF-8: the other bytes were read as Windows-1252")
        return data.decode("utf-8-sig", errors="casualtystats-cp1252")


def _read_csv(path: Path, text: str, notes: list[str]) -> RawTable:
    first = text.lstrip()[:1]
    if first in "{[":
        raise LoadError(path, "looks like JSON, not a table (export it as CSV, XLSX or Parquet)")
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=header_line.count)
    records, lines = _parse_records(path, text, delimiter)
    while records and not _has_values(records[0]):
        records, lines = records[1:], lines[1:]
    if not records:
        raise LoadError(path, "empty file (no header, no rows)")
    header, records, lines = records[0], records[1:], lines[1:]
    if records and _is_hxl_tag_row(records[0]):
        notes.append(f"line {lines[0]}: HXL hashtag row skipped")
        records, lines = records[1:], lines[1:]
    table = _from_records(path, "csv", header, records, lines, notes)
    # Excel writes ';'-delimited CSV exactly where the comma is the decimal mark (de, fr, es, ...).
    table.decimal_comma = delimiter == ";"
    if table.decimal_comma:
        notes.append("';'-delimited: a comma between digits is a decimal comma (36,335 = 36.335)")
    return table


def _parse_records(path: Path, text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Records with the physical line each starts on; blank lines dropped."""
    # strict=True makes an unbalanced quote at the end of the file an error,
    # which is how a truncated file shows itself; a stray quote inside a
    # field is tolerated by re-reading leniently.
    try:
        return _records(text, delimiter, strict=True)
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise LoadError(
                path, "ends inside a quoted field: the file is truncated or a quote is unbalanced"
            ) from None
    try:
        return _records(text, delimiter, strict=False)
    except csv.Error as err:
        raise LoadError(path, f"not a readable CSV file ({err})") from None


def _records(text: str, delimiter: str, strict: bool) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records, lines = [], []
    previous_end = 0
    for record in reader:
        if len(record) > 1 or _has_values(record):
            records.append(record)
            lines.append(previous_end + 1)
        previous_end = reader.line_num
    return records, lines


def _cells_lowered(cells: list) -> list[str]:
    """Cells as compared with the header: stripped, lower-cased, trailing blanks dropped."""
    text = ["" if c is None else str(c).strip().lstrip("\ufeff").lower() for c in cells]
    while text and not text[-1]:
        text.pop()
    return text


def _has_values(cells: list) -> bool:
    return any(c is not None and str(c).strip() for c in cells)


def _is_hxl_tag_row(cells: list) -> bool:
    """HDX files carry a row of HXL hashtags (#date+year, #adm1+name, ...) under the header."""
    filled = [str(c).strip() for c in cells if c is not None and str(c).strip()]
    return bool(filled) and all(c.startswith("#") for c in filled)


def _from_records(
    path: Path, kind: str, header: list, records: list[list], lines: list[int], notes: list[str]
) -> RawTable:
    names = _unique_names(header)
    width = len(names)
    row_problems: dict[int, str] = {}
    extra: dict[int, str] = {}
    header_cells = _cells_lowered(header)
    for i, record in enumerate(records):
        if not _has_values(record):
            row_problems[i] = EMPTY_ROW
        elif _cells_lowered(record) == header_cells:
            row_problems[i] = REPEATED_HEADER
        if len(record) == width:
            continue
        if len(record) < width:
            hint = " (truncated row?)" if i == len(records) - 1 else ""
            row_problems.setdefault(i, f"row has {len(record)} fields, the header has {width}{hint}")
            records[i] = list(record) + [None] * (width - len(record))
        else:
            row_problems.setdefault(i, f"row has {len(record)} fields, the header has {width}")
            extra[i] = "|".join("" if c is None else str(c) for c in record[width:])
            records[i] = record[:width]
    frame = pd.DataFrame(records, columns=names, dtype=object)
    if extra:
        # Keep cells beyond the header so nothing is lost from the quarantine.
        frame["extra_fields"] = pd.Series(extra, dtype=object)
    frame = _as_text(frame)
    table = RawTable(path, kind, frame, np.asarray(lines, dtype=np.int64), row_problems, notes)
    table.duplicates = _same_names(header, names)
    return table


def _same_names(header: list, names: list[str]) -> list[list[str]]:
    """Groups of `names` (the unique names given to `header`) whose header cells are one name but for
    case and surrounding spaces."""
    groups: dict[str, list[str]] = {}
    for cell, name in zip(header, names, strict=False):
        if cell is not None and str(cell).strip():
            groups.setdefault(str(cell).strip().lstrip("\ufeff").lower(), []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def _unique_names(header: list) -> list[str]:
    names, seen = [], {}
    for i, cell in enumerate(header):
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        name = name or f"unnamed_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; empty or whitespace-only cells become NA."""
    out = {}
    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column):
            # 2.0 -> "2": counts read from typed files must not look fractional.
            whole = column.notna() & (column % 1 == 0) & column.abs().lt(2**53)
            text = column.astype("str").where(~whole, column.where(whole).astype("Int64").astype("str"))
        else:
            text = column.astype("str")
        text = text.where(text.str.strip().ne(""))
        out[name] = text
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _check_workbook(path: Path, data: bytes) -> None:
    """A zip file is read only if it is an Excel workbook (.xlsx); anything else (an
    OpenDocument spreadsheet, a zipped export) stops with one message saying what it is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, EOFError):
        raise LoadError(path, "is a damaged or truncated zip/XLSX file") from None
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise LoadError(path, "is a binary Excel workbook (.xlsb): save it as .xlsx or .csv")
    if "opendocument.spreadsheet" in mimetype:
        raise LoadError(path, "is an OpenDocument spreadsheet (.ods): save it as .xlsx or .csv")
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        raise LoadError(path, "is an OpenDocument file, not a table (expected CSV, XLSX or Parquet)")
    files = [n for n in names if not n.endswith("/")]
    shown = ", ".join(files[:5]) + (", ..." if len(files) > 5 else "")
    raise LoadError(
        path,
        f"is a zip archive, not a workbook: unzip it and load the table inside (contains: {shown or 'nothing'})",
    )


def _read_xlsx(path: Path, data: bytes, problem: Callable[[set[str]], str | None] | None) -> RawTable:
    import openpyxl

    try:
        # A file object, not the path: openpyxl refuses a workbook whose name does not end in .xlsx.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise LoadError(path, "is a damaged or truncated zip/XLSX file") from None
    except (KeyError, ValueError, OSError) as err:
        raise LoadError(path, f"is a zip archive but not a readable Excel workbook ({err})") from None
    skipped: list[str] = []
    chosen = None
    try:
        for sheet in workbook.worksheets:
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            header = next((list(row) for _, row in rows if _has_values(row)), None)
            if header is None:
                continue
            # Trailing empty header cells are formatting, not columns.
            while header and header[-1] is None:
                header.pop()
            wrong = problem({name.lower() for name in _unique_names(header)}) if problem else None
            if wrong is not None:
                skipped.append(f"sheet {sheet.title!r}: {wrong}")
                continue
            records, lines = [], []
            for number, row in rows:
                if _has_values(row):
                    records.append([_cell_text(c) for c in row])
                    lines.append(number)
            chosen = sheet.title
            break
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise LoadError(path, f"is a damaged or truncated XLSX file ({err})") from None
    finally:
        workbook.close()
    if chosen is None and skipped:
        raise LoadError(path, "no sheet is an incident table: " + "; ".join(skipped))
    if chosen is None:
        raise LoadError(path, "empty workbook (no header, no rows)")
    notes = [f"sheet {chosen!r} read; skipped {'; '.join(skipped)}"] if skipped else []
    if records and _is_hxl_tag_row(records[0]):
        notes.append(f"line {lines[0]}: HXL hashtag row skipped")
        records, lines = records[1:], lines[1:]
    records = [r[: len(header)] if not any(r[len(header) :]) else r for r in records]
    table = _from_records(path, "xlsx", header, records, lines, notes)
    table.sheet = chosen
    return table


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise LoadError(path, f"is a damaged or truncated Parquet file ({err})") from None
    return _typed_table(path, "parquet", frame)


def table_from_frame(frame: pd.DataFrame, label: str) -> RawTable:
    """A DataFrame given in memory, read as a file would be; `label` stands for its file name."""
    return _typed_table(Path(label), "dataframe", frame)


def _typed_table(path: Path, kind: str, frame: pd.DataFrame) -> RawTable:
    """A table of typed columns (Parquet, DataFrame) as text cells; a line is a 1-based row position."""
    frame = frame.reset_index(drop=True)
    header = list(frame.columns)
    frame.columns = _unique_names(header)
    for name, column in frame.items():
        if pd.api.types.is_datetime64_any_dtype(column):
            frame[name] = column.dt.strftime("%Y-%m-%d %H:%M:%S")
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    table = RawTable(path, kind, _as_text(frame), lines)
    table.duplicates = _same_names(header, list(frame.columns))
    return table
