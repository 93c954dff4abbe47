"""ACLED export CSV (Armed Conflict Location & Event Data, public codebook).

Conventions: ``actor1`` is the actor, ``actor2`` the target (blank when the
event has none); ``admin1`` is the region (ACLED's own ``region`` column is a
world region such as 'Middle East' and is not used). ``fatalities`` is ACLED's
conservative figure, so it fills both ``fatalities_best`` and
``fatalities_low``; ACLED records no injuries (NA, not 0). ``event_date`` is
'15 March 2024' in older exports and ISO '2024-03-15' in newer ones; the date
stands for the whole event, with ``time_precision`` 1 (day), 2 (week), 3 (month).

Scope: an incident here is an act of political violence, as ACLED itself defines
it: ``disorder_type`` 'Political violence' (also 'Political violence;
Demonstrations', excessive force against protesters). Demonstrations (peaceful
protests, violent demonstrations) and 'Strategic developments' (arrests, troop
movements, agreements, looting) are not attacks or clashes: counted as incidents
they would make an arrest of an ISIS member an ISIS incident. Such rows are
excluded, each counted and listed with its reason in `LoadResult.excluded`, never
dropped silently; ``load_incidents(..., all_events=True)`` keeps them. Exports without
``disorder_type`` (before 2022) are judged by event and sub-event type under the same
definition: Battles, Explosions/Remote violence, Violence against civilians, and the
sub-events Mob violence and Excessive force against protesters.
"""

from __future__ import annotations

import pandas as pd

from .convert import Format, Problems, column

TIME_PRECISION = {"1": "day", "2": "week", "3": "month"}
#: Event types and the sub-event types of other event types that ACLED counts as political
#: violence (for exports without ``disorder_type``); lower-cased.
POLITICAL_VIOLENCE_EVENTS = {"battles", "explosions/remote violence", "violence against civilians"}
POLITICAL_VIOLENCE_SUB_EVENTS = {"mob violence", "excessive force against protesters"}


def _out_of_scope(raw: pd.DataFrame) -> pd.Series:
    """Why a row is not political violence (NA where it is, or where the row says too little)."""
    disorder = column(raw, "disorder_type").str.strip()
    event = column(raw, "event_type").str.strip()
    sub_event = column(raw, "sub_event_type").str.strip()
    violent_by_type = event.str.lower().isin(POLITICAL_VIOLENCE_EVENTS) | sub_event.str.lower().isin(
        POLITICAL_VIOLENCE_SUB_EVENTS
    )
    violent = disorder.str.contains("political violence", case=False).where(disorder.notna(), violent_by_type)
    out = ~violent.astype(bool) & (disorder.notna() | event.notna())
    kind = event.fillna("?") + ": " + sub_event.fillna("?")
    kind = kind.where(disorder.isna(), "disorder_type " + disorder + "; " + kind)
    return ("not political violence (ACLED " + kind + ")").where(out).astype("str")


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
    out_of_scope=_out_of_scope,
    derive=_derive,
    derive_reads=frozenset({"event_type"}),
)
