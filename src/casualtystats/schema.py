"""The canonical incident table: one row per reported attack or clash.

`IncidentSchema` is the single source of truth for column names, types and
checks. Every loader in `casualtystats.sources` produces this table; rows that
fail it go to the quarantine (see `casualtystats.sources.load`), never silently away.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

#: Measures carried by every incident and summed by the panels.
COUNT_COLUMNS = [
    "fatalities_best",
    "fatalities_low",
    "fatalities_high",
    "injuries_best",
    "injuries_low",
    "injuries_high",
]

#: Allowed values of ``date_precision``: how exactly ``date_start`` is known.
DATE_PRECISIONS = ["day", "week", "month", "year", "range"]


def _today() -> pd.Timestamp:
    # Evaluated at validation time, not import time: a long-running session
    # must not reject tomorrow's events.
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=1)


def _ordered(low: pd.Series, high: pd.Series) -> pd.Series:
    """low <= high wherever both are known (NA never fails the check).

    Comparisons with NaT are False rather than NA, so unknowns are let
    through explicitly; a missing date is reported by its own column check.
    """
    ok = low.le(high).fillna(True).astype(bool)
    return ok | low.isna().to_numpy() | high.isna().to_numpy()


class IncidentSchema(pa.DataFrameModel):
    """One reported incident (attack, clash, bombing), in any source's terms.

    Counts follow the reporting convention of conflict monitors: ``best`` is
    the most likely figure, ``low``/``high`` the bounds. "At least 10 killed"
    is low=10, best=10, high=NA. Unknown is NA, never 0.
    """

    incident_id: Series[str] = pa.Field(description="Identifier, unique within `source`.")
    source: Series[str] = pa.Field(description="Publisher of the record: ACLED, UCDP, GTD, SOHR, ...")
    date_start: Series[pa.DateTime] = pa.Field(description="First day of the event.")
    date_end: Series[pa.DateTime] = pa.Field(
        description="Last day of the event (= date_start for one-day events)."
    )
    date_precision: Series[str] = pa.Field(isin=DATE_PRECISIONS, description="How exactly the date is known.")
    country: Series[str] = pa.Field(description="Country name.")
    region: Series[str] = pa.Field(
        description="Admin-1 unit (governorate/province), normalized; 'Unknown' where the source gives none."
    )
    admin2: Series[str] = pa.Field(nullable=True, description="Admin-2 unit (district), as given.")
    location: Series[str] = pa.Field(nullable=True, description="Place name, as given.")
    latitude: Series[float] = pa.Field(ge=-90, le=90, nullable=True, description="WGS84 latitude.")
    longitude: Series[float] = pa.Field(ge=-180, le=180, nullable=True, description="WGS84 longitude.")
    actor: Series[str] = pa.Field(description="Perpetrator (or side A of a dyad), normalized.")
    actor_raw: Series[str] = pa.Field(nullable=True, description="Perpetrator as the source spelled it.")
    target: Series[str] = pa.Field(
        nullable=True, description="Victim side or side B: civilians, government forces, SDF, ..."
    )
    fatalities_best: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Best estimate of people killed."
    )
    fatalities_low: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Lower bound of people killed."
    )
    fatalities_high: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Upper bound of people killed."
    )
    injuries_best: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Best estimate of people injured."
    )
    injuries_low: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Lower bound of people injured."
    )
    injuries_high: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="Upper bound of people injured."
    )
    event_type: Series[str] = pa.Field(nullable=True, description="Source's event category.")
    notes: Series[str] = pa.Field(nullable=True, description="Free text; never trusted as HTML.")

    class Config:
        coerce = True
        strict = "filter"
        ordered = False

    @pa.dataframe_check(error="fatalities_low <= fatalities_best <= fatalities_high")
    def fatalities_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return _counts_ordered(df, "fatalities")

    @pa.dataframe_check(error="injuries_low <= injuries_best <= injuries_high")
    def injuries_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return _counts_ordered(df, "injuries")

    @pa.dataframe_check(error="date_end >= date_start")
    def dates_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df["date_start"], df["date_end"])

    @pa.dataframe_check(error="date_end in the future")
    def not_in_future(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df["date_end"], pd.Series(_today(), index=df.index))

    @pa.dataframe_check(error="incident_id duplicated within source")
    def unique_id_per_source(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["source", "incident_id"], keep=False)


def _counts_ordered(df: pd.DataFrame, measure: str) -> pd.Series:
    low, best, high = (df[f"{measure}_{b}"] for b in ("low", "best", "high"))
    return _ordered(low, best) & _ordered(best, high) & _ordered(low, high)


#: Column order of the canonical table.
INCIDENT_COLUMNS = list(IncidentSchema.to_schema().columns)
