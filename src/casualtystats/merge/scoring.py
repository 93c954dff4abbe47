"""How alike two reports are: a match score in (0, 1] with its reasons.

The score is ``exp(-penalty)``; the penalty adds one term per kind of evidence,
each in units a user can read (the defaults of `MatchWeights`):

- days apart (gap between the two date intervals after widening by precision):
  0.4 per day, so 3 days apart alone give 0.30; plus, for the days one interval allows
  and the other does not beyond that gap (a day inside a 4-day range leaves 3; two
  identical ranges none), log(1 + 0.4 x days / 2), at most 1.2 (the cost of 3 days
  apart): about -log of the mean of exp(-0.4 |d|) over the unresolved days, so an
  imprecise date matches any day of its span but less firmly than an exact one;
- place: km apart / 15 when both have coordinates (10 km: 0.51); without
  coordinates on one side, the same admin-1 region costs 1.5 (0.75 in the same admin-2), as much
  as 22 km apart: a region is weaker evidence than a point. These costs hold where the
  coordinate-less report has rivals; when it meets a single report of the other source (its
  only candidate), it costs log 2 less (0.81 for a region, 0.06 for an admin-2): with no rival
  to choose from, a wrong link needs the incident to be missing from the other source *and* an
  unrelated report to be the only one there (Fellegi-Sunter's chance agreement). Where there
  are rivals, the one-to-one assignment weighs them, so crowding is not charged twice;
- actor, after the alias tables: same canonical actor 0; one actor the other's
  predecessor or successor (alias table lineage: Al-Qaida in Iraq and ISIS, which UCDP
  codes as one actor) 0.3; the perpetrator of one is the other party of the other's
  dyad (UCDP's "Government of Iraq - IS" and GTD's "ISIS") 0.3; one or both unknown 0.7;
  two different actors both in the alias table (two entities it knows apart) 2.5; two
  different names of which the table lacks one ('unlisted': possibly one actor under two
  spellings, such as UCDP's "Taleban" and GTD's "Taliban" before the table knew them) 0.7,
  as uncertain as an unknown actor: the table's silence is no evidence of a difference;
- casualties: 1.0 per unit of log(1 + deaths) between the two sources' [low, high]
  ranges (10 against 20 deaths: 0.65; ranges that overlap: 0; unknown: 0), plus 0.5 per
  unit of log(1 + deaths) between the figures both state, bound by bound (low with low,
  best with best, high with high; the mean over the bounds both give, a lone figure
  standing for all three: 10 against 12: 0.08); and agreeing
  on a large figure is rarer by chance than agreeing on none, so 0.3 per log(1 + the smaller
  best figure), faded out as the ranges disagree, is taken off (66 and 48 deaths: 1.2; 1 and
  1: 0.2; the penalty never drops below 0);
- event type, target (the victim side) and place name: 0.3, 0.3 and 0.5 when the two
  values differ and both occur in at least two sources (a shared vocabulary); values
  of different taxonomies or spellings (GTD's target types against UCDP's side B) are
  not compared.

A pair is accepted when its score is at least `threshold` (0.1: a total penalty
of at most 2.3). Pairs down to `threshold * near_factor` are kept as "rejected
near the threshold" for audit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

ACTOR_RELATIONS = ("same", "lineage", "party", "unknown", "unlisted", "different")


@dataclass(frozen=True)
class MatchWeights:
    """Penalty per unit of disagreement (see the module docstring for the defaults)."""

    per_day: float = 0.4
    date_spread_cap: float = 1.2  # = 3 days apart
    km_scale: float = 15.0
    same_region: float = 1.5
    same_admin2: float = 0.75
    lineage: float = 0.3
    party: float = 0.3
    unknown_actor: float = 0.7
    unlisted_actor: float = 0.7
    different_actor: float = 2.5
    per_log_casualty: float = 1.0
    per_log_best: float = 0.5
    per_log_size: float = 0.3
    event_type: float = 0.3
    target: float = 0.3
    location: float = 0.5
    lone_candidate: float = math.log(2)


def score_sql(w: MatchWeights) -> str:
    """SQL select items computing the evidence and the score of a candidate c of reports ra, rb."""
    relation = """CASE
        WHEN ra.actor_unknown OR rb.actor_unknown THEN 'unknown'
        WHEN ra.actor = rb.actor THEN 'same'
        WHEN ra.family = rb.family THEN 'lineage'
        WHEN ra.family = rb.target_family OR rb.family = ra.target_family THEN 'party'
        WHEN ra.actor_listed AND rb.actor_listed THEN 'different'
        ELSE 'unlisted' END"""
    casualty_gap = """greatest(0.0,
        ln(1 + coalesce(ra.fat_low, 0)) - ln(1 + coalesce(rb.fat_high, 1e12)),
        ln(1 + coalesce(rb.fat_low, 0)) - ln(1 + coalesce(ra.fat_high, 1e12)))"""

    def clash(column: str) -> str:
        return f"coalesce(ra.{column}_shared AND rb.{column}_shared AND ra.{column} <> rb.{column}, false)"

    actor_penalty = f"""CASE relation
        WHEN 'same' THEN 0 WHEN 'lineage' THEN {w.lineage} WHEN 'party' THEN {w.party}
        WHEN 'unknown' THEN {w.unknown_actor} WHEN 'unlisted' THEN {w.unlisted_actor}
        ELSE {w.different_actor} END"""
    # Without coordinates, a lone candidate is half as likely a chance partner as the weights
    # assume (they hold with rivals).
    place_penalty = f"""CASE WHEN km IS NOT NULL THEN km / {w.km_scale}
        ELSE greatest(0, CASE WHEN same_admin2 THEN {w.same_admin2} ELSE {w.same_region} END
                         - CASE WHEN lone_candidate THEN {w.lone_candidate!r} ELSE 0 END) END"""
    size_bonus = f"""{w.per_log_size} * coalesce(ln(1 + least(ra.fat_best, rb.fat_best)), 0)
        * greatest(0, 1 - casualty_gap)"""
    # The days one date interval allows and the other does not (beyond the gap): a day inside a
    # 4-day range leaves 3 unresolved. Cost: about -log of the mean of exp(-per_day * |d|) over them.
    spread = "greatest(0, abs(ra.lo - rb.lo) + abs(ra.hi - rb.hi) - 2 * gap_days)"
    date_penalty = f"{w.per_day} * gap_days + least({w.date_spread_cap}, ln(1 + {w.per_day} * {spread} / 2))"
    penalty = f"""greatest(0, {date_penalty} + {place_penalty} + {actor_penalty}
        + {w.per_log_casualty} * casualty_gap + {w.per_log_best} * figures_gap + {w.event_type} * event_type_differs::INT
        + {w.target} * target_differs::INT + {w.location} * location_differs::INT - {size_bonus})"""
    # DuckDB allows later select items to use earlier aliases.
    bound_gaps = [f"abs(ln(1 + ra.fat_{b}) - ln(1 + rb.fat_{b}))" for b in ("low", "best", "high")]
    stated = " + ".join(
        f"(ra.fat_{b} IS NOT NULL AND rb.fat_{b} IS NOT NULL)::INT" for b in ("low", "best", "high")
    )
    figures_gap = (
        f"coalesce(({' + '.join(f'coalesce({g}, 0)' for g in bound_gaps)}) / nullif({stated}, 0), 0)"
    )
    return f"""{relation} AS relation, {casualty_gap} AS casualty_gap, {figures_gap} AS figures_gap,
        {clash("etype")} AS event_type_differs, {clash("target")} AS target_differs,
        {clash("place")} AS location_differs, {penalty} AS penalty"""


def keep_sql(threshold: float, near_factor: float) -> str:
    """SQL condition: the pair is accepted or rejected near the threshold."""
    return f"penalty <= {-math.log(threshold * near_factor)!r}"


def reasons(pairs: pd.DataFrame) -> pd.Series:
    """One line per pair: '1 day apart; 4.2 km apart; actor same; casualties agree; ...'."""
    days = pairs["days_apart"].astype("int64").astype(str) + pd.Series(
        np.where(pairs["days_apart"].eq(1), " day apart", " days apart"), index=pairs.index
    )
    place = pd.Series(
        np.where(
            pairs["km_apart"].notna(),
            pairs["km_apart"].round(1).astype(str) + " km apart",
            np.where(pairs["same_admin2"], "same admin-2 (no coordinates)", "same admin-1 (no coordinates)"),
        ),
        index=pairs.index,
    )
    casualties = pd.Series(
        np.where(
            pairs["casualty_gap"].gt(0),
            "deaths differ by " + pairs["casualty_gap"].round(2).astype(str) + " log units",
            "deaths agree",
        ),
        index=pairs.index,
    )
    out = days + "; " + place + "; actor " + pairs["actor_match"].astype(str) + "; " + casualties
    for column, text in (
        ("event_type_differs", "; event types differ"),
        ("target_differs", "; targets differ"),
        ("location_differs", "; place names differ"),
    ):
        out = out + pd.Series(np.where(pairs[column], text, ""), index=pairs.index)
    return out


def casualty_ranges(frame: pd.DataFrame, measure: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Each report's (low, best, high) as floats for comparison, NaN unknown; a lone best figure is a point."""
    low = frame[f"{measure}_low"].astype("Float64").astype(float)
    best = frame[f"{measure}_best"].astype("Float64").astype(float)
    high = frame[f"{measure}_high"].astype("Float64").astype(float)
    point = low.isna() & high.isna() & best.notna()
    low = low.where(~point, best).fillna(best)
    high = high.where(~point, best)
    best = best.fillna(low)
    return low, best, high
