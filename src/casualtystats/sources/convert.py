"""What every format module shares: the `Format` description and per-column
coercion that records each failing cell instead of raising.

A cell that cannot be coerced ('ten' in a count column, 2021-02-30) becomes NA
and its row gets a problem; the row is quarantined later with that reason.
Coercing column by column here, before pandera runs, keeps one bad cell from
breaking a check on the whole table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .read import column_text, is_typed

#: Cells that mean "not known" in a numeric column.
MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "unknown", "-", "--", "?", "."}

# Row-level dates must fit pandas' nanosecond timestamps.
_EARLIEST, _LATEST = pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01")
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[ T].*)?$"
# Day-first and month-name spellings (ACLED's '15 March 2024', GTD's 'March 3, 2021', Excel's
# '15-Mar-24'); a two-digit year is 1969-2068.
_OTHER_DATE_FORMATS = [
    "%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y", "%B %d, %Y", "%b %d, %Y", "%d-%b-%y", "%d-%B-%y",
]  # fmt: skip
# Numeric dates as spreadsheets write them, an optional time of day after them: year first
# (2024/03/15, 2024.03.15) is unambiguous; day and month before the year (15/03/2024, 3/15/2024,
# 15.03.2024, 15-03-2024) are in the order of the locale that wrote the file.
_YEAR_FIRST = r"^(?P<year>\d{4})([/.-])(?P<month>\d{1,2})\2(?P<day>\d{1,2})(?:[ T].*)?$"
_YEAR_LAST = r"^(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})(?:[ T].*)?$"
# Excel's day numbers (1900 date system: day 1 = 1900-01-01, with its phantom 1900-02-29, so
# the epoch of the days since is 1899-12-30), as a cell formatted as a number shows a date.
# Only 1950-01-01 (18264) to 2099-12-31 (73050): a small number in a date column is no date.
_EXCEL_SERIAL = r"^(?P<serial>\d{5})(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_SERIALS = (18264, 73050)


class Problems:
    """Problems found in rows, kept tidy: row, column, problem, value.

    A problem sends its row to the quarantine. A warning does not: it records
    a repair made under a source's documented convention (see `ucdp`).
    `decimal_comma`: numbers are written with a decimal comma (36,335 = 36.335), as
    in a ';'-delimited CSV; otherwise '1,234' is a thousands separator.
    """

    def __init__(self, *, is_warnings: bool = False, decimal_comma: bool = False) -> None:
        self._parts: list[pd.DataFrame] = []
        self.decimal_comma = decimal_comma
        self.warnings: Problems | None = None if is_warnings else Problems(is_warnings=True)

    def add(
        self, rows: pd.Series, column: str, problem: str | pd.Series, value: pd.Series | None = None
    ) -> None:
        """Record `problem` for every row where the boolean Series `rows` is True."""
        part = _tidy(rows, column, problem, value)
        if part is not None:
            self._parts.append(part)

    def extend(self, table: pd.DataFrame) -> None:
        """Add rows already in the tidy shape (row, column, problem, value)."""
        if len(table):
            self._parts.append(table[["row", "column", "problem", "value"]].reset_index(drop=True))

    def table(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("row", "column", "problem", "value")})
        return pd.concat(self._parts, ignore_index=True)

    # -- coercers: text Series in, typed Series out, failures recorded ------

    def integer(self, text: pd.Series, column: str, unknown: tuple[int, ...] = ()) -> pd.Series:
        """Whole numbers as Int64; blank and tokens like 'unknown' are NA.

        `unknown` lists numeric codes a source uses for "not known" (GTD: -99).
        """
        if pd.api.types.is_integer_dtype(text.dtype) and _plain_numbers(text) is not None:
            # a typed column of integers: whole numbers already, each exact in Int64 as in float64
            counts = text.astype("Int64")
            return counts.mask(counts.isin(unknown)) if unknown else counts
        number = self.number(text, column)
        whole = number.isna() | (number % 1 == 0)
        if not whole.all():
            self.add(~whole, column, "not a whole number", column_text(text[~whole]).reindex(text.index))
        number = number.where(whole)
        if unknown:
            number = number.where(~number.isin(unknown))
        return number.astype("Int64")

    def number(self, text: pd.Series, column: str) -> pd.Series:
        """Decimal numbers as float64 (NaN = missing). `text` may be a typed column (see
        `casualtystats.sources.read.is_typed`): read as its text would be."""
        if is_typed(text):
            plain = _plain_numbers(text)
            if plain is not None:
                return plain
            text = column_text(text)
        clean = text.str.strip()
        try:  # a column of plain numbers is read at once (float() would also take '1_000' and '١٢')
            if clean.str.contains(r"[^\x00-\x7f]|_", regex=True).any():
                raise ValueError
            number = clean.astype("float64")
        except (ValueError, TypeError):
            number = pd.to_numeric(clean, errors="coerce").astype("float64")
        blank = clean.isna()
        # only the cells that are not plain numbers (a few of a million) are looked at for
        # missing-value tokens and separators
        rest = clean[~blank & number.isna()]
        if len(rest):
            token = rest.str.lower().isin(MISSING_TOKENS)
            blank[token.index[token]] = True
            rest = rest[~token]
            if self.decimal_comma:
                comma = rest.str.fullmatch(r"[+-]?\d*,\d+").fillna(False)
                rest = rest.where(~comma, rest.str.replace(",", ".", regex=False))
            else:
                # '1,234' is a thousands separator, not a decimal comma.
                thousands = rest.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+").fillna(False)
                rest = rest.where(~thousands, rest.str.replace(",", "", regex=False))
            number[rest.index] = pd.to_numeric(rest, errors="coerce").astype("float64")
        bad = ~blank & (number.isna() | ~np.isfinite(number.fillna(0)) | number.abs().gt(2**53))
        self.add(bad, column, "not a number", text)
        return number.where(~bad)

    def date(self, text: pd.Series, column: str) -> pd.Series:
        """Calendar dates (time of day dropped); unparseable or impossible dates are problems.
        `text` may be a typed column (see `casualtystats.sources.read.is_typed`): read as its
        text would be."""
        if is_typed(text):
            plain = _plain_dates(text)
            if plain is not None:
                return plain
            text = column_text(text)
        clean = text.str.strip()
        blank = clean.isna()
        iso = clean.str.match(_ISO_DATE).fillna(False)
        parsed = pd.to_datetime(clean.where(iso), format="ISO8601", errors="coerce", utc=True)
        parsed = parsed.dt.tz_localize(None).astype("datetime64[us]")
        for fmt in _OTHER_DATE_FORMATS:
            todo = ~blank & ~iso & parsed.isna()
            if not todo.any():
                break
            parsed = parsed.fillna(pd.to_datetime(clean.where(todo), format=fmt, errors="coerce"))
        unread = ~blank & ~iso & parsed.isna()
        ambiguous = pd.Series(False, index=clean.index)
        if unread.any():
            numeric, ambiguous = self._numeric_dates(clean.where(unread), column)
            parsed = parsed.fillna(numeric)
        parsed = parsed.dt.normalize()
        self.add(~blank & parsed.isna() & ~ambiguous, column, "not a valid date", text)
        out_of_range = parsed.notna() & ((parsed < _EARLIEST) | (parsed >= _LATEST))
        self.add(out_of_range, column, "date outside 1678..2261", text)
        return parsed.where(~out_of_range)

    def _numeric_dates(self, text: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
        """Dates written as numbers (see `_YEAR_FIRST`, `_YEAR_LAST`, `_EXCEL_SERIAL`), and which
        rows are left unread because their day and month cannot be told apart.

        The order of day and month is one per column, as one locale wrote the file: a first
        number above 12 makes the column day first, a second above 12 month first. A column
        with no such value is day first when written with dots (no locale writes month.day.year)
        and otherwise unknown: its rows are quarantined as ambiguous unless day = month. Rows of
        a column that shows both orders are all quarantined. Each date read this way is a
        warning naming the convention, so the summary counts them."""
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        ambiguous = pd.Series(False, index=text.index)
        ymd = text.str.extract(_YEAR_FIRST)
        parsed = parsed.fillna(_from_parts(ymd["year"], ymd["month"], ymd["day"]))
        dmy = text.str.extract(_YEAR_LAST)
        written = dmy["year"].notna()
        if written.any():
            first, second = dmy["first"].astype("float"), dmy["second"].astype("float")
            day_first, month_first = bool(first.gt(12).any()), bool(second.gt(12).any())
            if not day_first and not month_first and dmy.loc[written, "sep"].eq(".").all():
                day_first = True
            if day_first != month_first:
                day, month = ("first", "second") if day_first else ("second", "first")
                read = _from_parts(dmy["year"], dmy[month], dmy[day])
                parsed = parsed.fillna(read)
                order = "day/month/year" if day_first else "month/day/year"
                self.warnings_add(read.notna(), column, f"read as {order}, the order of the column", text)
            else:
                same = written & first.eq(second)
                parsed = parsed.fillna(_from_parts(dmy["year"], dmy["first"], dmy["first"]).where(same))
                ambiguous = written & ~same
                why = "both day/month and month/day orders" if day_first else "no day above 12"
                self.add(
                    ambiguous,
                    column,
                    f"day and month order unknown ({why} in the column): write YYYY-MM-DD",
                    text,
                )
        serial = pd.to_numeric(text.str.extract(_EXCEL_SERIAL)["serial"], errors="coerce")
        serial = serial.where(serial.between(*_EXCEL_SERIALS))
        excel = _EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")
        self.warnings_add(
            parsed.isna() & excel.notna(), column, "Excel day number read as a date", text.astype("str")
        )
        return parsed.fillna(excel.astype("datetime64[us]")), ambiguous

    def warnings_add(self, rows: pd.Series, column: str, problem: str, value: pd.Series) -> None:
        """Record a warning (a repair or a convention applied; the row is kept)."""
        if self.warnings is not None:
            self.warnings.add(rows, column, problem, value)

    def code(self, text: pd.Series, column: str, codes: dict[str, str]) -> pd.Series:
        """Map a coded column ('1' -> 'day'); a code not in `codes` is a problem."""
        clean = text.str.strip().str.replace(r"\.0$", "", regex=True)
        mapped = clean.map(codes)
        self.add(clean.notna() & mapped.isna(), column, f"not one of {', '.join(codes)}", text)
        return mapped.astype("str")


def _plain_numbers(column: pd.Series) -> pd.Series | None:
    """A typed column of numbers as `Problems.number` reads its text, where that is certain
    without the text: integers or float64, each finite and below 2**53 in size (exact as text
    and back; the text of a whole float has no fraction, but 2.5 is written "2.5", which reads
    back as 2.5). None for anything else (float32, nullable floats, inf, huge values), which
    goes through its text."""
    if not (pd.api.types.is_integer_dtype(column.dtype) or column.dtype == np.float64):
        return None
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    known = values[~np.isnan(values)]
    if not np.all(np.abs(known) < 2**53):  # also False for inf
        return None
    # + 0.0 turns -0.0 into 0.0, as its text "0" reads
    return pd.Series(values + 0.0, index=column.index, name=column.name)


def _plain_dates(column: pd.Series) -> pd.Series | None:
    """A typed column of date-times as `Problems.date` reads its text ("YYYY-MM-DD HH:MM:SS"),
    where that is certain without the text: time zone naive, every date in 1678..2261 (four-digit
    years, all within the range kept). None for anything else, which goes through its text."""
    if not (pd.api.types.is_datetime64_dtype(column.dtype) and getattr(column.dtype, "tz", None) is None):
        return None
    known = column.dropna()
    if len(known) and (known.min() < _EARLIEST or known.max() >= _LATEST):
        return None
    return column.astype("datetime64[us]").dt.normalize()


def _from_parts(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Dates from text parts; NaT where a part is missing or the date does not exist (02-30)."""
    parts = pd.DataFrame({"year": year, "month": month, "day": day}).astype("float")
    return pd.to_datetime(parts, errors="coerce").astype("datetime64[us]")


def _tidy(rows: pd.Series, column: str, problem, value) -> pd.DataFrame | None:
    rows = rows.fillna(False).astype(bool)
    if not rows.any():
        return None
    index = rows.index[rows.to_numpy()]
    part = pd.DataFrame({"row": index, "column": column}, index=index)
    part["problem"] = problem[rows] if isinstance(problem, pd.Series) else problem
    part["value"] = value[rows].astype("str") if value is not None else None
    return part.reset_index(drop=True)


@dataclass(frozen=True)
class Format:
    """How one kind of file maps to the canonical incident table.

    `columns` maps a canonical column to the source columns that can fill it
    (first present wins); they are coerced by the canonical type. `derive`
    computes the columns that need the source's conventions (dates from
    parts, coded precision, ...) and returns them already typed.
    """

    key: str  # what `load_incidents(source=...)` accepts
    name: str  # for messages and summaries
    source: str  # value of the `source` column where the file gives none
    markers: frozenset[str]  # distinctive columns, for detection
    required: tuple[tuple[str, ...], ...]  # each tuple: one of these must be present
    columns: dict[str, tuple[str, ...]]
    version: str | None = None  # column stamping each row's version (newest wins among one id's rows)
    # Rows that are not incidents in the package's sense: a reason per row (NA = in scope).
    out_of_scope: Callable[[pd.DataFrame], pd.Series] | None = None
    derive: Callable[[pd.DataFrame, Problems], dict[str, pd.Series]] = field(default=lambda raw, problems: {})
    derive_reads: frozenset[str] = frozenset()  # columns `derive` or `out_of_scope` read beyond the above
    # Columns read only by the count, coordinate and date coercers (`Problems.integer`, `number`,
    # `date`), which take a typed file's numbers and dates as they are; every other column of a
    # typed file reaches the format as text.
    typed_reads: frozenset[str] = frozenset()

    def reads(self) -> set[str]:
        """Every column of the source this format reads."""
        named = {name for names in self.columns.values() for name in names}
        named |= {name for options in self.required for name in options}
        return named | self.markers | self.derive_reads | ({self.version} if self.version else set())

    def missing(self, present: set[str]) -> list[str]:
        """Required columns absent from `present`, as 'a' or 'a or b'."""
        return [" or ".join(options) for options in self.required if not present.intersection(options)]


def column(raw: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` present in `raw`, else an all-NA text column."""
    for name in names:
        if name in raw:
            return raw[name]
    return pd.Series(pd.NA, index=raw.index, dtype="str")
