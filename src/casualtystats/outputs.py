"""Writing outputs so that a crash never leaves a half-written file that looks complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: str | os.PathLike, chunks: Iterable[str]) -> Path:
    """Write `chunks` to a temporary file beside `path`, then rename it over `path`.

    A failure at any point (while the chunks are still being produced, or while
    writing) removes the temporary file and leaves whatever was at `path` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
        os.chmod(handle.name, 0o666 & ~_umask())  # mkstemp makes it private; a report is an ordinary file
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
