"""One row per merged incident: the sources' figures combined, never summed; every other
field taken from the most precise report that has it.

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

Descriptive fields. The reports of an incident are ranked by precision: date precision,
then coordinates, then a known region, then a known actor, then the source order given
(largest source first). Each field is taken from the best-ranked report that *has* it
(not missing, not "Unknown"), not blanket from one report, so a precise report that
lacks a place name or a target does not erase another report's:

- coordinates (latitude and longitude together); region (with its country); admin2 and
  location from the best report that has them in that region; event type and notes;
- dates (start, end and precision together) from the best-ranked report, except for an
  aggregate: when the incident's merged death toll (``fatalities_best``) is larger than
  any source states in its reports dated within a week (the weekly panel's rule: not month
  or year precision, and no range of more than 7 days), the toll is vouched for only by
  a report dated more coarsely (a UCDP month- or year-precision report, or a range of
  weeks). The incident then keeps that report's dates and precision, so the panels set it
  aside as imprecisely dated (`casualtystats.aggregate`), as they would the aggregate
  alone, instead of putting months of deaths on the day of one attack it contains. When a
  day-dated report states at least the toll, the day stands;
- parties: ``actor`` and ``target`` stay single-valued and are read as each report coded
  them. A report is *role-reversed* when its target is another report's actor (actor
  families after the alias tables with the lineage folded: UCDP's "Government of Iraq -
  IS" dyad against GTD's ISIS attack). ``actor`` (with ``actor_raw``) is the best-ranked
  known actor of a report that is not role-reversed (failing that, of any report): so a
  dyad's government side A never becomes the perpetrator of an attack another source
  attributes to its side B. ``target`` is that report's own target if known, else the
  best-ranked known target of another report that is not the actor's family, else the
  actor of a role-reversed report (the other party). When the best-ranked report names no
  actor (GTD's "Unknown" perpetrator), the parties are those of a report that names them, as
  that source coded them (UCDP's side A and side B), never side A of one report with the
  target of another;
- ``actors``: every party any report names (actors and targets, "Unknown" left out),
  sorted and joined by ``normalize.ACTORS_SEPARATOR`` ("Government of Iraq|ISIS"), so an
  incident involves an actor if any of its reports does (`casualtystats.involving` reads it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import normalize
from ..aggregate import imprecisely_dated
from ..normalize import ACTORS_SEPARATOR, AliasSource
from ..schema import INCIDENT_COLUMNS

_PRECISION_RANK = {"day": 0, "range": 1, "week": 2, "month": 3, "year": 4}
BEST_RULES = ("max", "median")


def combine(
    incidents: pd.DataFrame,
    incident_no: np.ndarray,
    src_rank: np.ndarray,
    best: str,
    actor_aliases: AliasSource = None,
) -> pd.DataFrame:
    """The merged table: canonical columns plus actors, merged_id and sources, one row per incident number.

    `src_rank` orders the sources (0 first) where reports are otherwise alike; `actor_aliases`
    extends the alias tables used to compare actor families (see the module docstring).
    """
    frame = incidents.assign(_incident=incident_no)
    frame["_order"] = _primary_order(frame, src_rank)
    frame = frame.sort_values(["_incident", "_order"], kind="stable").reset_index(drop=True)
    merged = frame.loc[~frame["_incident"].duplicated(), INCIDENT_COLUMNS + ["_incident"]]
    merged = merged.set_index("_incident")

    for measure in ("fatalities", "injuries"):
        for bound, values in _combined_figures(frame, measure, best).items():
            merged[f"{measure}_{bound}"] = values.reindex(merged.index).round().astype("Int64")

    # Fields to choose between only where an incident has several reports (a report alone is its
    # row), and only where its best-ranked report lacks them (else that report is the first that has it).
    shared = frame[frame["_incident"].duplicated(keep=False).to_numpy()]
    at = merged.index.get_indexer(shared["_incident"])  # each report's row in `merged`
    located = (shared["latitude"].notna() & shared["longitude"].notna()).to_numpy()
    _take(merged, shared, located & _lacking(merged, "latitude", at), ["latitude", "longitude"])
    _take(
        merged,
        shared,
        _known(shared["region"]).to_numpy() & _lacking(merged, "region", at),
        ["country", "region"],
    )
    for column in ("admin2", "location"):
        eligible = _known(shared[column]).to_numpy() & _lacking(merged, column, at)
        # Places below the region only from reports in it (or that name no region).
        rows = shared.loc[eligible, "region"]
        eligible[eligible] = (rows.to_numpy() == merged["region"].to_numpy()[at[eligible]]) | ~_known(rows)
        _take(merged, shared, eligible, [column])
    for column in ("event_type", "notes"):
        _take(merged, shared, _known(shared[column]).to_numpy() & _lacking(merged, column, at), [column])
    _take(merged, shared, _dated_by_aggregate(shared, merged), ["date_start", "date_end", "date_precision"])
    _take_parties(merged, shared, at, actor_aliases)

    merged["actors"] = _actors(frame, merged.index)
    merged["sources"] = _source_sets(frame, merged.index)
    merged["source"] = merged["sources"]
    merged["incident_id"] = _joined_ids(frame, merged.index)
    merged["merged_id"] = merged.index.to_numpy()
    return merged.reset_index(drop=True)


def _known(values: pd.Series) -> pd.Series:
    """Stated: neither missing nor 'Unknown'."""
    return values.notna() & values.ne("Unknown").fillna(False)


def _lacking(merged: pd.DataFrame, column: str, at: np.ndarray) -> np.ndarray:
    """Per report: its incident's row does not state `column` yet (`at`: the reports' rows in `merged`)."""
    return ~_known(merged[column]).to_numpy()[at]


def _take(
    merged: pd.DataFrame,
    frame: pd.DataFrame,
    eligible: np.ndarray,
    columns: list[str],
    into: list[str] | None = None,
) -> None:
    """Set `columns` (or the merged columns `into`) of each incident from the same columns of its
    best-ranked eligible report (in place); an incident without one keeps its values. `frame` is
    sorted by incident and rank."""
    rows = frame.loc[eligible, ["_incident"]].drop_duplicates("_incident")
    for column, target in zip(columns, into or columns, strict=True):
        merged.loc[rows["_incident"].to_numpy(), target] = frame.loc[rows.index, column].to_numpy()


def _combined_figures(frame: pd.DataFrame, measure: str, best: str) -> dict[str, pd.Series]:
    """low, best, high of `measure` per incident (module docstring)."""
    parts = pd.DataFrame(
        {
            "_incident": frame["_incident"],
            "source": frame["source"],
            **{b: frame[f"{measure}_{b}"].astype("Float64").astype(float) for b in ("low", "best", "high")},
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
    g = summed.reset_index().groupby("_incident", sort=True)
    if best == "median":
        # Sources that err both ways vouch for no minimum: the range spans what they say.
        c_low = g["low"].min()
        c_best = np.floor(g["best"].median() + 0.5)
    else:
        c_low = g["low"].max()
        c_best = g["best"].max()
    c_best = np.fmax(c_best, c_low)
    c_high = np.fmax(g["high"].max(), c_best).where(g["high"].max().notna())
    return {"low": c_low, "best": c_best, "high": c_high}


def _dated_by_aggregate(frame: pd.DataFrame, merged: pd.DataFrame) -> np.ndarray:
    """Per report: it dates its incident (module docstring: the incident's toll exceeds what any
    source states in reports dated within a week, and this is the coarse report stating the most)."""
    coarse = imprecisely_dated(frame)
    deaths = frame["fatalities_best"].astype("Float64").astype(float)
    deaths = deaths.fillna(frame["fatalities_low"].astype("Float64").astype(float)).fillna(0).to_numpy()
    precise = pd.Series(np.where(coarse, 0.0, deaths), index=frame.index)
    precise = precise.groupby([frame["_incident"], frame["source"]]).sum().groupby(level=0).max()
    toll = merged["fatalities_best"].astype("Float64").astype(float).fillna(0)
    over = (toll > precise.reindex(merged.index).fillna(0)).reindex(frame["_incident"]).to_numpy()
    # Among the coarse reports of such an incident, the one stating the most (ties: the best-ranked).
    candidates = pd.DataFrame({"_incident": frame["_incident"], "deaths": -deaths})[coarse & over]
    chosen = candidates.sort_values(["_incident", "deaths"], kind="stable").drop_duplicates("_incident").index
    return frame.index.isin(chosen)


def _take_parties(
    merged: pd.DataFrame, frame: pd.DataFrame, at: np.ndarray, actor_aliases: AliasSource
) -> None:
    """actor, actor_raw and target of each incident (module docstring), in place; `at` as in `_lacking`."""
    n = len(frame)
    actor_known, target_known = _known(frame["actor"]).to_numpy(), _known(frame["target"]).to_numpy()
    # Actor families (lineage folded) as integer codes, each distinct name looked up once; -1 unknown.
    code, names = pd.factorize(pd.concat([frame["actor"], frame["target"]]))
    folded, _ = normalize.actor_aliases(actor_aliases, fold_lineage=True).apply(pd.Series(names, dtype="str"))
    family_code = np.where(code >= 0, pd.factorize(folded)[0][code.clip(0)] if len(names) else -1, -1)
    family = np.where(actor_known, family_code[:n], -1)
    target_family = np.where(target_known, family_code[n:], -1)
    # Role-reversed: the report's target family is the actor family of another report of the incident.
    width = max(family_code.max(initial=0), 0) + 1
    actor_keys = np.sort(at[family >= 0] * width + family[family >= 0])
    target_keys = at * width + target_family
    named = np.searchsorted(actor_keys, target_keys, "right") - np.searchsorted(
        actor_keys, target_keys, "left"
    )
    reversed_ = (target_family >= 0) & (named - ((family >= 0) & (family == target_family)) > 0)

    # The best-ranked report by (known actor not reversed, known actor, none), then by precision.
    rank = np.where(actor_known & ~reversed_, 0, np.where(actor_known, 1, 2))
    order = np.lexsort((np.arange(n), rank, at))
    chosen = np.zeros(n, bool)
    chosen[order[np.r_[True, at[order][1:] != at[order][:-1]]] if n else order] = True
    primary = np.r_[True, at[1:] != at[:-1]] if n else chosen
    _take(merged, frame, chosen & ~primary, ["actor", "actor_raw", "target"])
    # A target the chosen report does not state: another report's target of another family, else
    # the actor of a role-reversed report (the other party of its dyad).
    chosen_family = np.full(len(merged), -1)
    chosen_family[at[chosen]] = family[chosen]
    other_family = target_family != chosen_family[at]
    for eligible, column in ((target_known & other_family, "target"), (reversed_ & actor_known, "actor")):
        _take(merged, frame, eligible & _lacking(merged, "target", at), [column], into=["target"])


def _actors(frame: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Every party a report of the incident names (actor or target), once, sorted, joined; NA if none."""
    names = pd.concat([frame[column].where(_known(frame[column])) for column in ("actor", "target")])
    code, uniques = pd.factorize(names, sort=True)
    incident = np.tile(frame["_incident"].to_numpy(np.int64), 2)[code >= 0]
    # One key per (incident, name), sorted by incident and then by name.
    key = np.sort(incident * len(uniques) + code[code >= 0])
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    values = np.asarray(uniques, dtype=object)[key % max(len(uniques), 1)]
    return _joined_per_incident(key // max(len(uniques), 1), values, index, ACTORS_SEPARATOR)


def _joined_per_incident(incident: np.ndarray, values: np.ndarray, index: pd.Index, sep: str) -> pd.Series:
    """The values of each incident joined by `sep` in the given order; NA where it has none.
    `incident` must be grouped (equal numbers adjacent)."""
    first = np.r_[True, incident[1:] != incident[:-1]] if len(incident) else np.zeros(0, bool)
    group = np.cumsum(first) - 1
    position = np.arange(len(incident)) - np.flatnonzero(first)[group]
    out = values[first].astype(object)
    for k in range(1, position.max() + 1 if len(position) else 0):
        at = position == k
        out[group[at]] = out[group[at]] + sep + values[at]
    return pd.Series(out, index=incident[first], dtype=object).reindex(index).astype("str")


def _primary_order(frame: pd.DataFrame, src_rank: np.ndarray) -> np.ndarray:
    """Sort key of reports within an incident: smaller = better ranked."""
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
    incident = frame["_incident"].to_numpy()
    joined = _joined_per_incident(incident, qualified, index, "|")
    alone = frame.drop_duplicates("_incident", keep=False).set_index("_incident")["incident_id"]
    return joined.where(~joined.index.isin(alone.index), alone.reindex(joined.index)).astype("str")
