"""Which format a table is in, from its column names (or as the caller says)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from . import acled, gtd, native, ucdp
from .convert import Format

FORMATS: dict[str, Format] = {f.key: f for f in (acled.FORMAT, ucdp.FORMAT, gtd.FORMAT, native.FORMAT)}

# A table is taken to be in a format when it has at least this many of the
# format's distinctive columns; fewer is too weak a signal to guess from.
_MIN_MARKERS = 2


def detect_format(path: Path, columns: set[str], source: str | None = None) -> Format:
    """The format of a table with these (lower-cased) columns; LoadError if none fits."""
    if source is not None:
        fmt = FORMATS.get(source.strip().lower())
        if fmt is None:
            raise LoadError(path, f"unknown source {source!r}; choose one of {', '.join(FORMATS)}")
    else:
        scores = {key: len(fmt.markers & columns) for key, fmt in FORMATS.items()}
        key = max(scores, key=scores.get)
        if scores[key] < _MIN_MARKERS:
            shown = ", ".join(sorted(columns)[:12]) + (", ..." if len(columns) > 12 else "")
            # A header of numbers and dates is a first data row: the file was saved without its header.
            numeric = sum(bool(re.fullmatch(r"[\d.,/:+-]+(?: [\d:.]+)?", name)) for name in columns)
            headless = (
                " The first row looks like data: is the header row missing?"
                if 4 * numeric >= len(columns)
                else ""
            )
            raise LoadError(
                path,
                "unknown format: the columns match none of ACLED, UCDP GED, GTD or the casualtystats table "
                f"(found: {shown}).{headless}",
            )
        fmt = FORMATS[key]
    missing = fmt.missing(columns)
    if missing:
        raise LoadError(path, f"{fmt.name} file lacks required column(s): {', '.join(missing)}")
    return fmt
