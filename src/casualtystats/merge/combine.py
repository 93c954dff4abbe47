"""One row per merged incident: the sources' figures combined, never summed.

Figures (fatalities and injuries alike), over the reports of one incident:

- each report's range: [low, high] as given; a report with only a best figure
  (GTD's nkill) is the point [best, best]; "at least N" (low known, high unknown)
  has no upper bound; a report with no figure says nothing;
- ``low`` = the largest low: the strongest figure some source vouches for as a minimum;
- ``best`` = the largest best, clipped to ``high``: monitors count the deaths they
  could confirm, so a smaller figure is usually an incomplete count of the same
  dead, not a contradiction (``best="median"`` takes the median of the sources' bests
  instead, rounded down, for sources that err both ways);
- ``high`` = the largest high, unknown if any report has no upper bound;
- unknown (NA) only if no report knows it.

The merged total therefore lies between the largest single source's total and
the sum of all sources' totals, never above it.

Everything else (dates, place, actor, target, event type, notes) comes from one
report, the *primary*: the one with the most precise date, then coordinates, then a
known region, then a known actor, then the source order given (largest source first).
An unknown actor is replaced by a known one from another report of the incident.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import INCIDENT_COLUMNS

_PRECISION_RANK = {"day": 0, "range": 1, "week": 2, "month": 3, "year": 4}
BEST_RULES = ("max", "median")


def combine(
    incidents: pd.DataFrame, incident_no: np.ndarray, src_rank: np.ndarray, best: str
) -> pd.DataFrame:
    """The merged table: canonical columns plus merged_id and sources, one row per incident number."""
    frame = incidents.assign(_incident=incident_no)
    frame["_order"] = _primary_order(frame, src_rank)
    frame = frame.sort_values(["_incident", "_order"], kind="stable")
    first = ~frame["_incident"].duplicated()
    merged = frame.loc[first, INCIDENT_COLUMNS + ["_incident"]].set_index("_incident")

    known_actor = frame.loc[frame["actor"].ne("Unknown"), ["_incident", "actor"]].drop_duplicates("_incident")
    known_actor = known_actor.set_index("_incident")["actor"]
    unknown = merged["actor"].eq("Unknown") & merged.index.isin(known_actor.index)
    merged.loc[unknown, "actor"] = known_actor.reindex(merged.index[unknown]).to_numpy()

    for measure in ("fatalities", "injuries"):
        low, best_fig, high = casualty_ranges(frame, measure)
        parts = pd.DataFrame({"_incident": frame["_incident"], "low": low, "best": best_fig, "high": high})
        g = parts.groupby("_incident", sort=True)
        c_low = g["low"].max()
        if best == "median":
            c_best = np.floor(g["best"].median())
        else:
            c_best = g["best"].max()
        unbounded = (parts["high"].isna() & parts["best"].notna()).groupby(parts["_incident"]).any()
        c_high = g["high"].max().where(~unbounded)
        c_best = np.maximum(c_best, c_low)
        c_best = c_best.where(c_high.isna() | (c_best <= c_high), c_high)
        for bound, values in (("low", c_low), ("best", c_best), ("high", c_high)):
            merged[f"{measure}_{bound}"] = values.reindex(merged.index).round().astype("Int64")

    merged["sources"] = _source_sets(frame, merged.index)
    merged["source"] = merged["sources"]
    merged["incident_id"] = _joined_ids(frame, merged.index)
    merged["merged_id"] = merged.index.to_numpy()
    return merged.reset_index(drop=True)


def _primary_order(frame: pd.DataFrame, src_rank: np.ndarray) -> np.ndarray:
    """Sort key of reports within an incident: smaller = better primary."""
    precision = frame["date_precision"].map(_PRECISION_RANK).fillna(5).to_numpy()
    no_xy = frame["latitude"].isna().to_numpy()
    no_region = frame["region"].eq("Unknown").to_numpy()
    no_actor = frame["actor"].eq("Unknown").to_numpy()
    key = ((precision * 2 + no_xy) * 2 + no_region) * 2 + no_actor
    return key * (src_rank.max() + 1) + src_rank


def casualty_ranges(frame: pd.DataFrame, measure: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Each report's (low, best, high) as floats, NaN unknown; a lone best figure is a point."""
    low = frame[f"{measure}_low"].astype("Float64").astype(float)
    best = frame[f"{measure}_best"].astype("Float64").astype(float)
    high = frame[f"{measure}_high"].astype("Float64").astype(float)
    point = low.isna() & high.isna() & best.notna()
    low = low.where(~point, best).fillna(best)
    high = high.where(~point, best)
    best = best.fillna(low)
    return low, best, high


def _source_sets(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    """'GTD+UCDP': the sorted set of sources of each incident (via a bit mask per source)."""
    names, code = np.unique(frame["source"].to_numpy(dtype=str), return_inverse=True)
    pairs = pd.DataFrame({"_incident": frame["_incident"].to_numpy(), "bit": np.left_shift(1, code)})
    mask = pairs.drop_duplicates().groupby("_incident")["bit"].sum()
    labels = {m: "+".join(names[[k for k in range(len(names)) if m >> k & 1]]) for m in mask.unique()}
    return mask.map(labels).reindex(index).astype("str")


def _joined_ids(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    """'UCDP:123|GTD:row-..': the source-qualified ids of each incident's reports, primary first."""
    qualified = (frame["source"].astype(str) + ":" + frame["incident_id"].astype(str)).to_numpy(dtype=object)
    position = frame.groupby("_incident", sort=False).cumcount().to_numpy()
    incident = frame["_incident"].to_numpy()
    out = pd.Series(qualified[position == 0], index=incident[position == 0], dtype=object)
    for k in range(1, position.max() + 1 if len(position) else 0):
        at = position == k
        extra = pd.Series(qualified[at], index=incident[at], dtype=object)
        out.loc[extra.index] = out.loc[extra.index] + "|" + extra
    return out.reindex(index).astype("str")
