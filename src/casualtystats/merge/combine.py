"""One row per merged incident: the sources' figures combined, never summed.

Figures (fatalities and injuries alike), over the reports of one incident. Several
reports of one source in an incident (many-to-one: the parts an aggregating source
reported as one) are distinct events, so their figures are first summed within that
source; then, across sources:

- ``low`` = the largest low any source states: the strongest figure some source
  vouches for as a minimum (NA if no source states a low, as for GTD's single figure);
  with ``best="median"`` the smallest low, since sources that err both ways vouch for no
  minimum (else a low of one source would overrule the median);
- ``best`` = the largest best: monitors count the deaths they could confirm, so a
  smaller figure is usually an incomplete count of the same dead, not a contradiction
  (``best="median"`` takes the median of the sources' bests, rounded half up, for sources
  that err both ways); never below ``low``;
- ``high`` = the largest high any source states, never below ``best``; NA if no source
  states one (the panels then treat the upper bound as unknown, as for a single report);
- unknown (NA) only if no report knows it.

With the default the merged figure of an incident lies between the largest figure of
one source and the sum over sources, so merged totals lie between the largest
source's total and the sum of all sources' totals, never above it.

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
        parts = pd.DataFrame(
            {
                "_incident": frame["_incident"],
                "source": frame["source"],
                **{
                    b: frame[f"{measure}_{b}"].astype("Float64").astype(float)
                    for b in ("low", "best", "high")
                },
            }
        )
        parts["best"] = parts["best"].fillna(parts["low"])
        # Several reports of one source in an incident (many-to-one) are distinct parts: summed
        # within the source first; a part with no upper bound leaves the source's high unknown.
        by_source = parts.groupby(["_incident", "source"], sort=False)
        summed = by_source[["low", "best", "high"]].sum(min_count=1)
        unbounded = (
            (parts["high"].isna() & parts["best"].notna())
            .groupby([parts["_incident"], parts["source"]], sort=False)
            .any()
        )
        summed["high"] = summed["high"].where(~unbounded.reindex(summed.index).to_numpy())
        parts = summed.reset_index()
        g = parts.groupby("_incident", sort=True)
        if best == "median":
            # Sources that err both ways vouch for no minimum: the range spans what they say.
            c_low = g["low"].min()
            c_best = np.floor(g["best"].median() + 0.5)
        else:
            c_low = g["low"].max()
            c_best = g["best"].max()
        c_best = np.fmax(c_best, c_low)
        c_high = np.fmax(g["high"].max(), c_best).where(g["high"].max().notna())
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


def _source_sets(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    """'GTD+UCDP': the sorted set of sources of each incident (via a bit mask per source)."""
    names, code = np.unique(frame["source"].to_numpy(dtype=str), return_inverse=True)
    pairs = pd.DataFrame({"_incident": frame["_incident"].to_numpy(), "bit": np.left_shift(1, code)})
    mask = pairs.drop_duplicates().groupby("_incident")["bit"].sum()
    labels = {m: "+".join(names[[k for k in range(len(names)) if m >> k & 1]]) for m in mask.unique()}
    return mask.map(labels).reindex(index).astype("str")


def _joined_ids(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    """A report's own id when it is alone; else 'UCDP:123|GTD:row-..', the source-qualified ids of the
    incident's reports, primary first."""
    qualified = (frame["source"].astype(str) + ":" + frame["incident_id"].astype(str)).to_numpy(dtype=object)
    position = frame.groupby("_incident", sort=False).cumcount().to_numpy()
    incident = frame["_incident"].to_numpy()
    alone = frame["_incident"].map(frame["_incident"].value_counts()).eq(1).to_numpy()
    first = position == 0
    out = pd.Series(
        np.where(alone[first], frame["incident_id"].to_numpy(dtype=object)[first], qualified[first]),
        index=incident[first],
        dtype=object,
    )
    for k in range(1, position.max() + 1 if len(position) else 0):
        at = position == k
        extra = pd.Series(qualified[at], index=incident[at], dtype=object)
        out.loc[extra.index] = out.loc[extra.index] + "|" + extra
    return out.reindex(index).astype("str")
