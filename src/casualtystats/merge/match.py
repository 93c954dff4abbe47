"""`merge_incidents`: reports of several sources in, one row per real incident out.

Steps: prepare each report (date interval widened by its precision, codes for
place, actor and event type, its casualty range) -> candidate pairs across sources (DuckDB, `candidates`) scored
(`scoring`) -> one-to-one assignment (`assign`) -> figures combined (`combine`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import normalize
from ..errors import CasualtyStatsError
from ..normalize import AliasSource
from ..schema import INCIDENT_COLUMNS
from .assign import assign
from .candidates import candidate_pairs
from .combine import BEST_RULES, combine
from .result import MergeResult
from .scoring import MatchWeights, casualty_ranges, keep_sql, score_sql

#: Days added on each side of a one-day date whose precision is coarser than a day
#: (ACLED's time_precision 2/3 gives one date for a week or a month).
PRECISION_WIDEN_DAYS = {"day": 0, "range": 0, "week": 6, "month": 30, "year": 365}
#: Aggregating precisions: a report spanning several days at these precisions may stand for several events.
AGGREGATE_PRECISIONS = ("range", "week")


class MergeError(CasualtyStatsError, ValueError):
    """merge_incidents was called with a table or settings it cannot use."""


def merge_incidents(
    incidents,
    *,
    max_days: int = 3,
    max_km: float = 50.0,
    threshold: float = 0.1,
    near_factor: float = 0.25,
    weights: MatchWeights | None = None,
    best: str = "max",
    actor_aliases: AliasSource = None,
) -> MergeResult:
    """Merge reports of the same real-world incident across sources.

    Parameters
    ----------
    incidents : canonical incident table (or a LoadResult) holding one or more sources.
    max_days : largest gap in days between two reports' date intervals (after widening
        imprecise dates: a date known to the week or month matches any day of it) for them
        to be compared at all (default 3).
    max_km : largest distance between two located reports to be compared (default 50 km);
        a report without coordinates is compared with the reports of its admin-1 region.
    threshold : smallest score (in (0, 1], see `scoring`) of an accepted pair (default 0.1).
    near_factor : pairs scoring down to ``threshold * near_factor`` are kept in `.pairs` as
        rejected near the threshold (default 0.25).
    weights : the penalty per unit of disagreement (`MatchWeights`; defaults documented there).
    best : how the merged best figure is chosen: "max" (default, the largest best of the
        sources) or "median"; low = the largest low, high = the largest high (see `combine`).
    actor_aliases : extra actor aliases (as for `load_incidents`) used to compare actors.

    Assignment: sources are taken largest first; each next source is matched one-to-one to the
    incidents built so far by maximum total log(score / threshold) (Hungarian algorithm within
    connected components); see `assign`. Reports of one source are never merged with each other (exact
    duplicates, identical in every column including the id, were already dropped by `load_incidents`).

    Returns a `MergeResult`: `.incidents` (canonical columns + merged_id, sources, actors), `.links`
    (one row per input report), `.pairs` (scored candidate pairs with reasons), `.summary()`,
    `.overlap()`, `.unrecorded()`.
    """
    incidents = getattr(incidents, "incidents", incidents)
    weights = weights or MatchWeights()
    _check(incidents, max_days, max_km, threshold, near_factor, best)
    incidents = incidents[INCIDENT_COLUMNS].reset_index(drop=True)
    sizes = incidents["source"].value_counts(sort=False)
    # Largest source first; ties by name, so the result does not depend on row order.
    order = sorted(sizes.index, key=lambda s: (-sizes[s], s))
    src = incidents["source"].map({s: k for k, s in enumerate(order)}).to_numpy(np.int64)

    rows = _prepared(incidents, src, actor_aliases)
    pairs = candidate_pairs(
        rows,
        max_days=max_days,
        max_km=max_km,
        score_sql=score_sql(weights),
        keep_sql=keep_sql(threshold, near_factor),
    )
    pairs["score"] = np.exp(-pairs["penalty"].to_numpy(float))
    accepted = pairs[pairs["score"] >= threshold]
    incident_no, link = assign(rows, accepted, list(range(len(order))), threshold)
    # Fellegi-Sunter's "possible matches": the same assignment with every kept pair acceptable.
    # Capture-recapture is read under both matchings (MergeResult.unrecorded), since a missed
    # match looks like two incidents each seen by one source and inflates the estimate.
    possible_no, _ = assign(rows, pairs, list(range(len(order))), threshold * near_factor)

    merged = combine(incidents, incident_no, src, best, actor_aliases)
    links = _links(incidents, incident_no, link, accepted)
    links.insert(1, "possible_id", possible_no)
    audit = _audit(pairs, incidents, incident_no, threshold)
    settings = dict(
        max_days=max_days,
        max_km=max_km,
        threshold=threshold,
        near_factor=near_factor,
        best=best,
        weights=weights,
    )
    return MergeResult(merged, links, audit, order, settings)


def _check(incidents, max_days, max_km, threshold, near_factor, best) -> None:
    if not isinstance(incidents, pd.DataFrame):
        raise MergeError(f"merge_incidents needs an incident table, got {type(incidents).__name__}")
    missing = [c for c in INCIDENT_COLUMNS if c not in incidents]
    if missing:
        raise MergeError(
            f"incident table lacks column(s): {', '.join(missing)} (load it with load_incidents)"
        )
    if not 0 < threshold <= 1 or not 0 < near_factor <= 1:
        raise MergeError(f"threshold and near_factor must be in (0, 1]; got {threshold}, {near_factor}")
    if max_days < 0 or max_km <= 0:
        raise MergeError(f"max_days must be >= 0 and max_km > 0; got {max_days}, {max_km}")
    if best not in BEST_RULES:
        raise MergeError(f"best must be one of {', '.join(BEST_RULES)}; got {best!r}")


def _codes(*columns: pd.Series) -> np.ndarray:
    """Integer code of each row's combination of values; -1 where any value is missing."""
    out = np.zeros(len(columns[0]), np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        out = np.where((out < 0) | (codes < 0), -1, out * (len(uniques) + 1) + codes)
        known = out >= 0  # compacted after each column, so the products never overflow
        out[known] = pd.factorize(out[known])[0]
    return out


def _vocabulary(name: str, codes: np.ndarray, src: np.ndarray) -> dict[str, np.ndarray]:
    """Codes of a text column and whether each value occurs in at least two sources (comparable)."""
    known = codes >= 0
    pairs = np.unique(codes[known] * (src.max() + 1) + src[known])
    n_sources = np.bincount(pairs // (src.max() + 1), minlength=codes.max() + 1 if known.any() else 0)
    shared = np.zeros(len(codes), bool)
    shared[known] = n_sources[codes[known]] >= 2
    return {name: codes, f"{name}_shared": shared}


def _prepared(incidents: pd.DataFrame, src: np.ndarray, actor_aliases: AliasSource) -> pd.DataFrame:
    """One row per report with what the candidate join and the score read (see `candidates`):
    plain numpy columns, -1 for a missing code and NaN for a missing number."""
    start = incidents["date_start"].to_numpy("datetime64[D]").astype(np.int64)
    end = incidents["date_end"].to_numpy("datetime64[D]").astype(np.int64)
    widen = incidents["date_precision"].map(PRECISION_WIDEN_DAYS).fillna(0).to_numpy(np.int64)
    widen = np.where(end == start, widen, 0)
    folded = normalize.actor_aliases(actor_aliases, fold_lineage=True)
    family, _ = folded.apply(incidents["actor"], incidents["country"])
    target_family, _ = folded.apply(incidents["target"], incidents["country"])
    family_codes = _codes(pd.concat([family, target_family], ignore_index=True))
    unknown = incidents["actor"].isna() | incidents["actor"].eq("Unknown")
    region = incidents["region"].where(incidents["region"].ne("Unknown"))
    region_code = _codes(incidents["country"], region)
    low, best, high = casualty_ranges(incidents, "fatalities")
    # Place names compared without case or surrounding spaces (each distinct name folded once).
    place_codes, place_names = pd.factorize(incidents["location"])
    folded_names = pd.factorize(pd.Series(place_names, dtype="str").str.casefold().str.strip())[0]
    place_codes[place_codes >= 0] = folded_names[place_codes[place_codes >= 0]]
    span = end > start
    lat = incidents["latitude"].to_numpy(dtype=float, na_value=np.nan)
    lon = incidents["longitude"].to_numpy(dtype=float, na_value=np.nan)
    half = np.isnan(lat) != np.isnan(lon)  # a latitude without its longitude (or the reverse) is no point
    lat, lon = np.where(half, np.nan, lat), np.where(half, np.nan, lon)
    return pd.DataFrame(
        {
            "row": np.arange(len(incidents)),
            "src": src,
            "lo": start - widen,
            "hi": end + widen,
            "lat": lat,
            "lon": lon,
            "region_code": region_code,
            "admin2_code": _codes(incidents["country"], region, incidents["admin2"]),
            "actor": _codes(
                normalize.actor_aliases(actor_aliases).apply(incidents["actor"], incidents["country"])[0]
            ),
            "actor_unknown": unknown.to_numpy(),
            "actor_listed": folded.knows(incidents["actor"]).to_numpy(),
            "family": family_codes[: len(incidents)],
            "target_family": family_codes[len(incidents) :],
            "fat_low": low.to_numpy(dtype=float, na_value=np.nan),
            "fat_high": high.to_numpy(dtype=float, na_value=np.nan),
            "fat_best": best.to_numpy(dtype=float, na_value=np.nan),
            **_vocabulary("etype", _codes(incidents["event_type"]), src),
            **_vocabulary("target", family_codes[len(incidents) :], src),
            **_vocabulary("place", place_codes, src),
            "multi_day": (span & incidents["date_precision"].isin(AGGREGATE_PRECISIONS)).to_numpy(),
        }
    )


def _links(incidents, incident_no, link, accepted) -> pd.DataFrame:
    """One row per input report: its merged incident, how it joined, its own figures."""
    # Score of each kept report's best accepted pair inside its own incident.
    both = np.concatenate([accepted["a"], accepted["b"]]), np.concatenate([accepted["b"], accepted["a"]])
    edges = pd.DataFrame(
        {"row": both[0], "other": both[1], "score": np.tile(accepted["score"].to_numpy(), 2)}
    )
    edges = edges[incident_no[edges["row"].to_numpy()] == incident_no[edges["other"].to_numpy()]]
    best = edges.groupby("row")["score"].max()
    score = np.full(len(incidents), np.nan)
    score[best.index.to_numpy()] = best.to_numpy()
    columns = ["source", "incident_id", "date_start", "date_end", "region", "actor"]
    columns += [c for c in incidents if c.startswith(("fatalities_", "injuries_"))]
    links = incidents[columns].copy()
    links.insert(0, "merged_id", incident_no)
    links.insert(3, "link", pd.array(link, dtype="str"))
    links.insert(4, "score", score)
    return links


def _audit(pairs, incidents, incident_no, threshold) -> pd.DataFrame:
    """The scored pairs with their reasons and what became of them."""
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    together = incident_no[a] == incident_no[b]
    decision = np.where(
        pairs["score"].to_numpy() >= threshold,
        np.where(together, "matched", "accepted, not assigned (a better pair won)"),
        "rejected (score below threshold)",
    )
    ia, ib = a, b
    out = pd.DataFrame(
        {
            "source_a": incidents["source"].to_numpy()[ia],
            "incident_id_a": incidents["incident_id"].to_numpy()[ia],
            "source_b": incidents["source"].to_numpy()[ib],
            "incident_id_b": incidents["incident_id"].to_numpy()[ib],
            "days_apart": pairs["gap_days"].to_numpy(np.int64),
            "km_apart": pairs["km"].astype(float).to_numpy(),
            "same_region": pairs["same_region"].astype(bool).to_numpy(),
            "same_admin2": pairs["same_admin2"].astype(bool).to_numpy(),
            "actor_match": pairs["relation"].to_numpy(),
            "casualty_gap": pairs["casualty_gap"].to_numpy(float),
            "figures_gap": pairs["figures_gap"].to_numpy(float),
            "event_type_differs": pairs["event_type_differs"].astype(bool).to_numpy(),
            "target_differs": pairs["target_differs"].astype(bool).to_numpy(),
            "location_differs": pairs["location_differs"].astype(bool).to_numpy(),
            "score": pairs["score"].to_numpy(),
            "decision": decision,
        }
    )
    return out.sort_values("score", ascending=False, ignore_index=True)
