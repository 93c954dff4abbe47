"""ACLED export CSV (Armed Conflict Location & Event Data, public codebook).

Conventions: ``actor1`` is the actor, ``actor2`` the target (blank when the
event has none); ``admin1`` is the region (ACLED's own ``region`` column is a
world region such as 'Middle East' and is not used). ``fatalities`` is ACLED's
conservative figure, so it fills both ``fatalities_best`` and
``fatalities_low``; ACLED records no injuries (NA, not 0). ``event_date`` is
'15 March 2024' in older exports and ISO '2024-03-15' in newer ones; the date
stands for the whole event, with ``time_precision`` 1 (day), 2 (week), 3 (month).
"""

from __future__ import annotations

import pandas as pd

from .convert import Format, Problems

TIME_PRECISION = {"1": "day", "2": "week", "3": "month"}


def _derive(raw: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    derived = {"source": pd.Series("ACLED", index=raw.index, dtype="str")}
    if "time_precision" in raw:
        derived["date_precision"] = problems.code(
            raw["time_precision"], "date_precision (time_precision)", TIME_PRECISION
        )
    return derived


FORMAT = Format(
    key="acled",
    name="ACLED",
    source="ACLED",
    markers=frozenset(
        {
            "event_id_cnty",
            "event_date",
            "actor1",
            "actor2",
            "assoc_actor_1",
            "assoc_actor_2",
            "inter1",
            "inter2",
            "interaction",
            "admin1",
            "sub_event_type",
            "disorder_type",
            "time_precision",
            "geo_precision",
            "civilian_targeting",
            "source_scale",
            "fatalities",
        }
    ),
    required=(("event_id_cnty",), ("event_date",), ("actor1",), ("country",), ("fatalities",)),
    columns={
        "incident_id": ("event_id_cnty",),
        "date_start": ("event_date",),
        "country": ("country",),
        "region": ("admin1",),
        "admin2": ("admin2",),
        "location": ("location",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "actor": ("actor1",),
        "target": ("actor2",),
        "fatalities_best": ("fatalities",),
        "fatalities_low": ("fatalities",),
        "event_type": ("event_type",),
        "notes": ("notes",),
    },
    version="timestamp",
    derive=_derive,
)
