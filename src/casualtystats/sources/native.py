"""This package's own table (CSV, Parquet or XLSX): the canonical columns.

Only a date, country, region, actor and at least one count are required;
every other column is optional. Spreadsheet shorthands are accepted: ``date``
for ``date_start``, ``fatalities``/``injuries`` for the ``_best`` figures.
"""

from __future__ import annotations

from ..schema import COUNT_COLUMNS, INCIDENT_COLUMNS
from .convert import Format

SHORTHANDS = {"date_start": "date", "fatalities_best": "fatalities", "injuries_best": "injuries"}

FORMAT = Format(
    key="native",
    name="casualtystats table",
    source=None,
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
)
