"""Writing outputs: atomically, so a crash never leaves a half-written file that looks
complete, and safely, so a table meant for a spreadsheet cannot run formulas."""

from __future__ import annotations

import glob
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

#: A cell starting with one of these is read as a formula by Excel, LibreOffice and
#: Google Sheets (CSV injection, OWASP): '=', '+', '-', '@', tab, carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What a neutralised cell is prefixed with: a spreadsheet shows the text as typed.
FORMULA_GUARD = "'"
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: A temporary of a writer whose process is gone, or (without a process id) older than
#: this, was left by a killed build and is removed at the next write of the same output.
STALE_AFTER_SECONDS = 3600


def write_atomic(path: str | os.PathLike, chunks: Iterable[str]) -> Path:
    """Write `chunks` to a temporary file beside `path`, then rename it over `path`.

    A failure at any point (while the chunks are still being produced, or while
    writing) removes the temporary file and leaves whatever was at `path` untouched.
    A process killed outright (SIGKILL) cannot clean up: its temporary carries its
    process id, and the next write of the same output removes it.
    """
    with atomic_target(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return Path(path)


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed over `path` when the block
    succeeds, removed when it fails. Stale temporaries of `path` are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(name)
        os.chmod(name, 0o666 & ~_umask())  # mkstemp makes it private; an output is an ordinary file
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries of `path` that no running writer owns; returns what was removed."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        middle = tmp.name[len(path.name) + 2 : -len(".tmp")]
        pid = middle.split(".", 1)[0]
        if pid.isdigit() and "." in middle:
            stale = not _alive(int(pid))
        else:  # named before temporaries carried a process id
            stale = time.time() - tmp.stat().st_mtime > STALE_AFTER_SECONDS
        if stale:
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot run as spreadsheet formulas.

    Text cells starting with '=', '+', '-', '@', tab or carriage return get a leading
    apostrophe (the OWASP advice), except plain numbers such as '-3', which no
    spreadsheet executes. Numeric, date and boolean columns are left alone. The raw
    values are not lost: `write_table` writes them to Parquet beside the CSV.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        text = column.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False) & ~text.str.match(_PLAIN_NUMBER).fillna(
            False
        )
        if risky.any():
            out[name] = column.astype(object).where(~risky, FORMULA_GUARD + text.astype(object))
    return out


def write_table(path: str | os.PathLike, frame: pd.DataFrame) -> tuple[Path, Path]:
    """Write `frame` as a spreadsheet-safe CSV at `path` (see `neutralise_formulas`) and,
    with its raw values exactly, as Parquet beside it (same name, .parquet). Both atomic."""
    path = Path(path)
    write_atomic(path, [neutralise_formulas(frame).to_csv(index=False)])
    raw = path.with_suffix(".parquet")
    text = {c: "string" for c in frame.columns if pd.api.types.is_object_dtype(frame[c])}
    with atomic_target(raw) as tmp:
        frame.astype(text).to_parquet(tmp, index=False)
    return path, raw
