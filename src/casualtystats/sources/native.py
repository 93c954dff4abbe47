"""This package's own table (CSV, Parquet or XLSX): the canonical columns.

Only a date, country, region, actor and at least one count are required;
every other column is optional. Spreadsheet shorthands are accepted: ``date``
for ``date_start``, ``fatalities``/``injuries`` for the ``_best`` figures.

The ``source`` column names the publisher of each row (SOHR, an in-house log, ...). A file
without one (or a blank cell) is source ``native``: several such files (a monitor's monthly
logs) are one source, stacked and never merged with each other; give a ``source`` column to
have tables of different publishers matched by the merge stage.
"""

from __future__ import annotations

from ..schema import COUNT_COLUMNS, INCIDENT_COLUMNS
from .convert import Format

#: Canonical columns the loader reads with the numeric and date coercers.
_COERCED = [*COUNT_COLUMNS, "latitude", "longitude", "date_start", "date_end"]

#: `source` of a native row whose file gives none.
NATIVE_SOURCE = "native"
SHORTHANDS = {"date_start": "date", "fatalities_best": "fatalities", "injuries_best": "injuries"}

FORMAT = Format(
    key="native",
    name="casualtystats table",
    source=NATIVE_SOURCE,
    markers=frozenset(
        {
            "incident_id",
            "actor",
            "actor_raw",
            "date_precision",
            "date",
            "fatalities",
            "injuries",
            *COUNT_COLUMNS,
        }
    ),
    required=(
        ("date_start", "date"),
        ("country",),
        ("region",),
        ("actor",),
        (*COUNT_COLUMNS, "fatalities", "injuries"),
    ),
    columns={name: (name, SHORTHANDS[name]) if name in SHORTHANDS else (name,) for name in INCIDENT_COLUMNS},
    typed_reads=frozenset(name for name in _COERCED for name in (name, SHORTHANDS.get(name, name))),
)
