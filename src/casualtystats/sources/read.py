"""From bytes on disk to a raw table of text cells, each row tagged with its line.

Every cell is kept as text (``str`` dtype, missing = NA) so the loader can
coerce column by column and report exactly which cell failed and why; only the
number and date columns of a typed table (Parquet, DataFrame) stay typed, so a
million numbers need not be written out and parsed back (`text_cells` gives the
text a CSV of them would hold, for whatever needs text). The
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
import gzip
import html
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
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
    (b"\xd0\xcf\x11\xe0", "an old binary Excel (.xls) or Office file (save it as .xlsx or .csv)"),
    (b"SQLite format 3", "an SQLite database"),
]


# Members of a zip archive that can be the table it carries.
_TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".xlsx", ".parquet")
# A header may sit under a few title or blank rows ("Incident log 2024"); it is looked for this far.
_HEADER_SEARCH = 10
# Rows turned into text columns at a time (memory: Python lists of cells are ~10x the text).
_CHUNK_ROWS = 50_000


@dataclass
class RawTable:
    """A table exactly as read: text cells, original header, a line per row."""

    path: Path
    kind: str  # "csv", "xlsx", "parquet" or "dataframe"
    frame: pd.DataFrame  # str cells, NA for empty (typed tables: `is_typed` columns as they are); RangeIndex
    lines: np.ndarray  # int64, one per row of `frame`
    row_problems: dict[int, str] = field(default_factory=dict)  # row position -> structural problem
    notes: list[str] = field(default_factory=list)
    decimal_comma: bool = False  # numbers are written 36,335 (a ';'-delimited CSV)
    sheet: str | None = None  # the workbook sheet read (XLSX)
    # Columns whose names are the same but for case (`frame` has them as 'fatalities', 'fatalities.1').
    duplicates: list[list[str]] = field(default_factory=list)
    # XLSX cells holding a formula with no saved result (read as blank): (row position, column, formula).
    formulas: list[tuple[int, str, str]] = field(default_factory=list)


def read_table(path: str | Path, problem: Callable[[set[str]], str | None] | None = None) -> RawTable:
    """The first table of `read_tables`."""
    return read_tables(path, problem)[0]


def read_tables(path: str | Path, problem: Callable[[set[str]], str | None] | None = None) -> list[RawTable]:
    """Read a CSV/TSV, XLSX or Parquet file (also gzip-compressed, or the one table in a zip);
    raise LoadError if it is not a readable table.

    `problem` (optional) says what is wrong with a table of these (lower-cased) column names,
    None if nothing: it finds the header under title rows, and picks a workbook's sheets: every
    sheet that passes is a table (a README sheet is skipped, with a note); if none passes, the
    error names every sheet. A CSV or Parquet file is one table.
    """
    path = Path(path)
    if not path.exists():
        raise LoadError(
            path,
            "no such file" + (" (a pattern is not expanded: give the files)" if "*" in str(path) else ""),
        )
    if path.is_dir():
        raise LoadError(path, "is a directory, not a file (give the files in it)")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LoadError(path, f"cannot be read ({err.strerror or err})") from None
    notes: list[str] = []
    data = _unpacked(path, data, notes)
    if not data or data.isspace():
        raise LoadError(path, "empty file (no header, no rows)")
    if data.startswith(b"PAR1"):
        tables = [_read_parquet(path, data)]
    elif data.startswith(b"PK\x03\x04"):
        _check_workbook(path, data)
        tables = _read_xlsx(path, data, problem)
    else:
        for magic, what in _NOT_TABLES:
            if data.startswith(magic):
                raise LoadError(path, f"is {what}, not a table (expected CSV, XLSX or Parquet)")
        text = _decode(path, data, notes)
        del data  # the bytes are not needed once decoded (a large file is held once, as text)
        return [_read_csv(path, text, notes, problem)]
    for table in tables:
        table.notes[:0] = notes
    return tables


def _unpacked(path: Path, data: bytes, notes: list[str]) -> bytes:
    """The bytes of the table inside a gzip file (.csv.gz) or a zip archive of one table (as UCDP
    and others distribute them); other bytes as they are."""
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise LoadError(path, "is a damaged or truncated gzip file") from None
        notes.append("decompressed (gzip)")
        return data
    if not data.startswith(b"PK\x03\x04"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names or "mimetype" in names or "xl/workbook.bin" in names:
                return data  # a workbook (or an OpenDocument file, named by _check_workbook)
            tables = [
                n
                for n in names
                if n.lower().endswith(_TABLE_SUFFIXES)
                and not n.startswith("__MACOSX/")
                and not Path(n).name.startswith(".")
            ]
            if len(tables) != 1:
                return data  # _check_workbook lists what the archive holds
            member = archive.read(tables[0])
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return data  # _check_workbook names it as damaged
    notes.append(f"read {tables[0]} from the zip archive (lines are its lines)")
    return _unpacked(path, member, notes) if member.startswith(b"\x1f\x8b") else member


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(path, data, "utf-16")
    sample = data[:65536]
    if b"\x00" in sample:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is NUL.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.4 * len(sample) / 2 > 10 * even:
            notes.append("read as UTF-16 (little-endian, no byte-order mark)")
            return _utf16(path, data, "utf-16-le")
        if even > 0.4 * len(sample) / 2 > 10 * odd:
            notes.append("read as UTF-16 (big-endian, no byte-order mark)")
            return _utf16(path, data, "utf-16-be")
        # A text file with a few stray NUL bytes (a damaged export) is still text; many are binary.
        if sample.count(0) > max(16, len(sample) / 1000):
            raise LoadError(path, "binary file, not a table (expected CSV, XLSX or Parquet)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append("not all UTF-8: the other bytes were read as Windows-1252")
        text = data.decode("utf-8-sig", errors="casualtystats-cp1252")
    if "\x00" in text:
        notes.append(f"{text.count(chr(0)):,} NUL byte(s) removed (they are no text)")
        text = text.replace("\x00", "")
    return text


def _utf16(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise LoadError(
            path, "is damaged UTF-16 text (an odd number of bytes or a broken character)"
        ) from None


def _read_csv(
    path: Path, text: str, notes: list[str], problem: Callable[[set[str]], str | None] | None = None
) -> RawTable:
    _not_text_table(path, text)
    # (from the start of the text only: splitting all of a large file would copy it)
    first_lines = [line for line in text[:1_000_000].split("\n")[:_HEADER_SEARCH] if line.strip()]
    header_line = first_lines[0] if first_lines else ""
    # The first line with a delimiter (a title line above the header has none).
    delimiting = next((line for line in first_lines if any(d in line for d in _DELIMITERS)), header_line)
    delimiter = max(_DELIMITERS, key=delimiting.count)
    # Excel's "sep=;" first line names the delimiter; it is blanked so that line numbers hold.
    hint = re.fullmatch(r"\s*sep=(.)\s*", header_line)
    if hint:
        delimiter = hint.group(1)
        text = text[text.index("\n") :] if "\n" in text else ""
        notes.append(f"line 1: Excel's delimiter line (sep={delimiter}) skipped")
    # strict=True makes an unbalanced quote at the end of the file an error, which is how a
    # truncated file shows itself; a stray quote inside a field is tolerated by re-reading leniently.
    try:
        table = _csv_table(path, text, delimiter, list(notes), problem, strict=True)
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise LoadError(
                path, "ends inside a quoted field: the file is truncated or a quote is unbalanced"
            ) from None
        try:
            table = _csv_table(path, text, delimiter, list(notes), problem, strict=False)
        except csv.Error as err:
            raise LoadError(path, f"not a readable CSV file ({err})") from None
    # Excel writes ';'-delimited CSV exactly where the comma is the decimal mark (de, fr, es, ...).
    table.decimal_comma = delimiter == ";"
    if table.decimal_comma:
        table.notes.append("';'-delimited: a comma between digits is a decimal comma (36,335 = 36.335)")
    return table


def _csv_table(
    path: Path,
    text: str,
    delimiter: str,
    notes: list[str],
    problem: Callable[[set[str]], str | None] | None,
    strict: bool,
) -> RawTable:
    """The table of a CSV text: header (under any title rows), HXL tag row skipped, rows streamed."""
    rows = _records(text, delimiter, strict)
    first: list[tuple[list[str], int]] = []  # the first rows with values, where the header is looked for
    for record, line in rows:
        if first or _has_values(record):
            first.append((record, line))
            if len(first) == _HEADER_SEARCH:
                break
    if not first:
        raise LoadError(path, "empty file (no header, no rows)")
    at = _header_position([record for record, _ in first], problem)
    if at:
        notes.append(f"{at} row(s) above the header skipped (title or notes, from line {first[0][1]})")
    header = first[at][0]
    body = itertools.chain(first[at + 1 :], rows)
    following = next(body, None)
    if following is not None and _is_hxl_tag_row(following[0]):
        notes.append(f"line {following[1]}: HXL hashtag row skipped")
    elif following is not None:
        body = itertools.chain([following], body)
    return _from_records(path, "csv", header, body, notes)


def _not_text_table(path: Path, text: str) -> None:
    """Stop with what a text file is when it is certainly no table (JSON, an HTML page, XML)."""
    head = text[:10_000].lstrip()[:2000].lower()
    if head[:1] in ("{", "["):
        raise LoadError(path, "looks like JSON, not a table (export it as CSV, XLSX or Parquet)")
    if head.startswith(("<!doctype html", "<html", "<head", "<body")):
        raise LoadError(
            path,
            "is an HTML web page, not a table (an error or login page saved in place of the download?)",
        )
    if "urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise LoadError(path, "is an Excel 2003 XML spreadsheet: save it as .xlsx or .csv")
    if head.startswith("<?xml") or head.startswith("<"):
        raise LoadError(path, "is an XML or markup file, not a table (expected CSV, XLSX or Parquet)")


def _header_position(rows: list[list], problem: Callable[[set[str]], str | None] | None) -> int:
    """Which of the first rows is the header: the first whose names make a loadable table, else the
    first row (whose problem is then reported)."""
    if problem is None:
        return 0
    for at, row in enumerate(rows[:_HEADER_SEARCH]):
        cells = list(row)
        while cells and (cells[-1] is None or not str(cells[-1]).strip()):
            cells.pop()
        if problem({name.lower() for name in _unique_names(cells)}) is None:
            return at
    return 0


def _records(text: str, delimiter: str, strict: bool) -> Iterator[tuple[list[str], int]]:
    """Records with the physical line each starts on; blank lines dropped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    previous_end = 0
    for record in reader:
        if len(record) > 1 or _has_values(record):
            yield record, previous_end + 1
        previous_end = reader.line_num


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
    path: Path, kind: str, header: list, rows: Iterable[tuple[list, int]], notes: list[str]
) -> RawTable:
    """The table of `rows` (record, line) under `header`, built in chunks: a million-row file is
    never held as Python lists all at once."""
    names = _unique_names(header)
    width = len(names)
    row_problems: dict[int, str] = {}
    extra: dict[int, str] = {}
    header_cells = _cells_lowered(header)
    lines: list[int] = []
    frames: list[pd.DataFrame] = []
    chunk: list[list] = []
    i, short = -1, False
    for i, (record, line) in enumerate(rows):
        lines.append(line)
        if not _has_values(record):
            row_problems[i] = EMPTY_ROW
        elif _cells_lowered(record) == header_cells:
            row_problems[i] = REPEATED_HEADER
        short = len(record) < width
        if short:
            row_problems.setdefault(i, f"row has {len(record)} fields, the header has {width}")
            record = list(record) + [None] * (width - len(record))
        elif len(record) > width:
            row_problems.setdefault(i, f"row has {len(record)} fields, the header has {width}")
            extra[i] = "|".join("" if c is None else str(c) for c in record[width:])
            record = record[:width]
        chunk.append(record)
        if len(chunk) == _CHUNK_ROWS:
            frames.append(_as_text(pd.DataFrame(chunk, columns=names, dtype=object)))
            chunk = []
    if short and row_problems[i].startswith("row has"):
        row_problems[i] += " (truncated row?)"
    frames.append(_as_text(pd.DataFrame(chunk, columns=names, dtype=object)))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if extra:
        # Keep cells beyond the header so nothing is lost from the quarantine.
        frame["extra_fields"] = pd.Series(extra, index=frame.index, dtype="str")
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
    return pd.DataFrame(
        {name: column_text(column) for name, column in frame.items()}, index=pd.RangeIndex(len(frame))
    )


def column_text(column: pd.Series) -> pd.Series:
    """A column's cells as text, as a file would hold them: empty or whitespace-only cells are NA,
    whole floats are written without a fraction (a count of 2.0 must not look fractional: "2"),
    date-times as "YYYY-MM-DD HH:MM:SS". Cell by cell, so converting part of a column gives
    the text of those cells in the whole one."""
    if pd.api.types.is_datetime64_any_dtype(column):
        column = column.dt.strftime("%Y-%m-%d %H:%M:%S")
    if pd.api.types.is_float_dtype(column):
        whole = column.notna() & (column % 1 == 0) & column.abs().lt(2**53)
        text = column.astype("str").where(~whole, column.where(whole).astype("Int64").astype("str"))
    else:
        text = column.astype("str")
    return text.where(text.str.strip().ne(""))


def is_typed(column: pd.Series) -> bool:
    """Whether a column of a typed table is kept as it is: numbers (not booleans) and date-times."""
    dtype = column.dtype
    return (
        pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_float_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def text_cells(frame: pd.DataFrame, keep: Collection[str] = ()) -> pd.DataFrame:
    """`frame` with its typed columns (see `is_typed`) as text cells (`column_text`), but for those
    named in `keep`; text columns are left as they are."""
    typed = [name for name, column in frame.items() if is_typed(column) and name not in keep]
    if not typed:
        return frame
    return frame.assign(**{name: column_text(frame[name]) for name in typed})


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


def _read_xlsx(path: Path, data: bytes, problem: Callable[[set[str]], str | None] | None) -> list[RawTable]:
    """Every sheet of the workbook that is an incident table (yearly or per-country sheets are all
    read); when there are several, each is labelled 'FILE [sheet NAME]'."""
    import openpyxl

    try:
        # A file object, not the path: openpyxl refuses a workbook whose name does not end in .xlsx.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise LoadError(path, "is a damaged or truncated zip/XLSX file") from None
    except (KeyError, ValueError, OSError) as err:
        raise LoadError(path, f"is a zip archive but not a readable Excel workbook ({err})") from None
    skipped: list[str] = []
    sheets: list[tuple[str, list, list[list], list[int], list[str], dict]] = []
    try:
        for sheet in workbook.worksheets:
            # openpyxl's read-only workbook holds the archive open: its sheet XML is read from there
            formulas = _uncomputed_formulas(workbook._archive, sheet._worksheet_path)
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            first = []  # the first non-empty rows, where the header is looked for
            for number, row in rows:
                if _has_values(row):
                    first.append((number, list(row)))
                    if len(first) == _HEADER_SEARCH:
                        break
            if not first:
                continue
            at = _header_position([row for _, row in first], problem)
            header = first[at][1]
            # Trailing empty header cells are formatting, not columns.
            while header and header[-1] is None:
                header.pop()
            wrong = problem({name.lower() for name in _unique_names(header)}) if problem else None
            if wrong is not None:
                skipped.append(f"sheet {sheet.title!r}: {wrong}")
                continue
            notes = (
                [f"{at} row(s) above the header skipped (title or notes, from row {first[0][0]})"]
                if at
                else []
            )
            records = [[_cell_text(c) for c in row] for _, row in first[at + 1 :]]
            lines = [number for number, _ in first[at + 1 :]]
            for number, row in rows:
                if _has_values(row):
                    records.append([_cell_text(c) for c in row])
                    lines.append(number)
            sheets.append((sheet.title, header, records, lines, notes, formulas))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise LoadError(path, f"is a damaged or truncated XLSX file ({err})") from None
    finally:
        workbook.close()
    if not sheets and skipped:
        raise LoadError(path, "no sheet is an incident table: " + "; ".join(skipped))
    if not sheets:
        raise LoadError(path, "empty workbook (no header, no rows)")
    tables = []
    for title, header, records, lines, notes, formulas in sheets:
        if skipped:
            notes.insert(0, f"sheet {title!r} read; skipped {'; '.join(skipped)}")
        if records and _is_hxl_tag_row(records[0]):
            notes.append(f"line {lines[0]}: HXL hashtag row skipped")
            records, lines = records[1:], lines[1:]
        records = [r[: len(header)] if not any(r[len(header) :]) else r for r in records]
        label = path if len(sheets) == 1 else Path(f"{path} [sheet {title}]")
        table = _from_records(label, "xlsx", header, zip(records, lines, strict=True), notes)
        table.sheet = title
        if formulas:
            _mark_formulas(table, formulas)
        tables.append(table)
    return tables


# A cell holding a formula: its attributes, the formula (<f .../> for a shared formula's other
# cells) and the saved result, if any.
_FORMULA_CELL = re.compile(
    rb"<c\b([^>]*)>\s*(?:<f\b[^>]*/>|<f\b[^>]*>([^<]*)</f>)\s*(<v\s*/>|<v>\s*</v>|<v>[^<]*</v>)?\s*</c>"
)
_CELL_REFERENCE = re.compile(rb'\br="([A-Z]+)([0-9]+)"')


def _uncomputed_formulas(archive: zipfile.ZipFile, sheet_path: str) -> dict[tuple[int, int], str]:
    """Cells of the sheet whose formula has no saved result, as {(row, 0-based column): formula}.

    A workbook written by a script (openpyxl, or a tool filling a template) holds formulas that no
    spreadsheet program has calculated; they read as blank, which would pass for "unknown". An empty
    result that was calculated (`t="str"` with an empty value) is a real blank and is not listed."""
    try:
        xml = archive.read(sheet_path.lstrip("/"))
    except KeyError:
        return {}
    if b"<f" not in xml:
        return {}
    found = {}
    for cell in _FORMULA_CELL.finditer(xml):
        attributes, formula, value = cell.groups()
        computed = value is not None and (
            not re.fullmatch(rb"<v\s*/>|<v>\s*</v>", value) or b't="str"' in attributes
        )
        reference = _CELL_REFERENCE.search(attributes)
        if computed or reference is None:
            continue
        letters, row = reference.groups()
        column = 0
        for letter in letters:
            column = column * 26 + letter - ord("A") + 1
        text = html.unescape(formula.decode("utf-8", "replace")) if formula else "shared formula"
        found[(int(row), column - 1)] = f"={text}" if formula else text
    return found


def _mark_formulas(table: RawTable, formulas: dict[tuple[int, int], str]) -> None:
    """Record the table's cells that hold a formula with no saved result, with a note."""
    positions = {int(line): i for i, line in enumerate(table.lines)}
    names = list(table.frame.columns)
    table.formulas = [
        (positions[row], names[column], formula)
        for (row, column), formula in sorted(formulas.items())
        if row in positions and column < len(names) and names[column] != "extra_fields"
    ]
    if table.formulas:
        table.notes.append(
            f"{len(table.formulas):,} cell(s) hold a formula with no saved result (first: line "
            f"{table.lines[table.formulas[0][0]]}, {table.formulas[0][1]!r} {table.formulas[0][2]}): the "
            "workbook was written by a program that does not calculate; rows needing one are "
            "quarantined. Open and save it in a spreadsheet program to calculate them"
        )


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _read_parquet(path: Path, data: bytes) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(pa.BufferReader(data)).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise LoadError(path, f"is a damaged or truncated Parquet file ({err})") from None
    return _typed_table(path, "parquet", frame)


def table_from_frame(frame: pd.DataFrame, label: str) -> RawTable:
    """A DataFrame given in memory, read as a file would be; `label` stands for its file name."""
    return _typed_table(Path(label), "dataframe", frame)


def _typed_table(path: Path, kind: str, frame: pd.DataFrame) -> RawTable:
    """A table of typed columns (Parquet, DataFrame): text cells but for its numbers and date-times,
    which stay typed (`is_typed`); a line is a 1-based row position."""
    frame = frame.reset_index(drop=True)
    header = list(frame.columns)
    names = _unique_names(header)
    cells = {
        name: column if is_typed(column) else column_text(column)
        for name, (_, column) in zip(names, frame.items(), strict=True)
    }
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    table = RawTable(path, kind, pd.DataFrame(cells, index=pd.RangeIndex(len(frame))), lines)
    table.duplicates = _same_names(header, names)
    return table
