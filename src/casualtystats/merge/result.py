"""`MergeResult`: the merged incidents, how each report joined, the audit trail, and estimates."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import mse
from .scoring import reasons

#: Smallest number of incidents recorded by two sources in a stratum for an estimate; with
#: fewer, the estimate rests on a handful of overlaps and its interval is uninformative.
MIN_OVERLAP = 5
#: Sources that record only incidents with at least one death (UCDP GED's inclusion rule). With
#: one of them present, capture-recapture must count only lethal incidents: a non-lethal attack
#: another source records is not one such a source missed (it could never record it).
LETHAL_ONLY_SOURCES = frozenset({"UCDP"})


@dataclass
class MergeResult:
    """Merged incidents across sources (see `merge_incidents`).

    Attributes
    ----------
    incidents : one row per real incident: the canonical columns (figures combined, never
        summed; other fields from the most precise report that has them; `source` = `sources`,
        e.g. "GTD+UCDP"; `incident_id` is the report's own id, or the source-qualified ids
        "UCDP:1|GTD:2" of a multi-source incident) plus `merged_id` and `actors` (every party any
        report names, "|"-separated: `casualtystats.involving` reads it); see `combine`.
    links : one row per input report: merged_id, possible_id (its incident had every pair
        rejected near the threshold been accepted: Fellegi-Sunter's possible matches, used for
        the interval of `unrecorded`), source, incident_id, link ("own": it started the
        incident, "matched", "many-to-one"), score (its best accepted pair inside the incident),
        its dates, region, actor and own figures.
    pairs : every scored candidate pair down to threshold * near_factor, best first: sources
        and ids, days_apart, km_apart, same_region, same_admin2, actor_match, casualty_gap,
        figures_gap, event_type_differs, target_differs, location_differs, score, decision, and
        `reasons` (one line of text, written when `pairs` is first read).
    source_order : sources, largest first (the assignment order).
    settings : the arguments used.
    """

    incidents: pd.DataFrame
    links: pd.DataFrame
    scored_pairs: pd.DataFrame  # `pairs` without the reasons text
    source_order: list[str]
    settings: dict = field(default_factory=dict)

    @functools.cached_property
    def pairs(self) -> pd.DataFrame:
        """The scored candidate pairs with a `reasons` line each (see the class docstring)."""
        return self.scored_pairs.assign(reasons=reasons(self.scored_pairs))

    def to_frame(self) -> pd.DataFrame:
        """The merged incident table."""
        return self.incidents

    def within(self, start=None, end=None) -> MergeResult:
        """The result restricted to the incidents that started in [start, end] (days; either may be
        None), with their reports and the candidate pairs between those reports: its overlap and
        unrecorded-incident tables then read nothing outside the dates analysed (a briefing for a
        past month says what could have been said then). The matching itself is the one made on
        everything merged; an incident is kept or dropped whole."""
        dates = self.incidents["date_start"]
        keep = pd.Series(True, index=dates.index)
        if start is not None:
            keep &= dates >= pd.Timestamp(start)
        if end is not None:
            keep &= dates < pd.Timestamp(end) + pd.Timedelta(days=1)
        if keep.all():
            return self
        incidents = self.incidents[keep]  # labels kept: they are the merged ids the links refer to
        links = self.links[self.links["merged_id"].isin(incidents["merged_id"])]
        kept = pd.MultiIndex.from_frame(links[["source", "incident_id"]].astype(str))
        pairs = self.scored_pairs
        in_a = pd.MultiIndex.from_arrays([pairs["source_a"].astype(str), pairs["incident_id_a"].astype(str)])
        in_b = pd.MultiIndex.from_arrays([pairs["source_b"].astype(str), pairs["incident_id_b"].astype(str)])
        pairs = pairs[in_a.isin(kept) & in_b.isin(kept)].reset_index(drop=True)
        return replace(self, incidents=incidents, links=links, scored_pairs=pairs)

    def overlap(self, by: Sequence[str] = ("year",)) -> pd.DataFrame:
        """Incidents per combination of sources: [by..., sources, incidents] ("year" is the start year)."""
        by = list(by)
        frame = self._with_year()
        return frame.groupby([*by, "sources"], observed=True).size().reset_index(name="incidents")

    def unrecorded(
        self,
        by: Sequence[str] = ("year",),
        *,
        alpha: float = 0.05,
        min_overlap: int = MIN_OVERLAP,
        lethal_only: bool | None = None,
    ):
        """Capture-recapture estimate of the incidents no source recorded, per stratum.

        Columns [by..., observed, estimate, unrecorded, ci_low, ci_high, estimate_possible,
        method, not_estimable]; estimate and interval are of the total number of incidents
        (recorded or not). Per stratum, the sources with at least one incident there are used:
        two -> Chapman, three or more -> log-linear (see `casualtystats.merge.mse`). A stratum
        whose sources share fewer than `min_overlap` incidents (default 5), with one source, or
        whose estimate divides by a cell of fewer than `min_overlap` incidents or has an interval
        spanning more than `mse.MAX_INTERVAL_RATIO` times (`mse.not_estimable`) gets no estimate:
        its figures are missing, `not_estimable` says why (None when estimated) and `method`
        starts with that reason. The assumptions are in ``.attrs["assumptions"]``.

        Scope: each year, only the countries that every source of that year covers (recorded an
        incident in, in any year of the table) are counted (a source that records one country
        has not missed the incidents of the others); the
        country-years left out are ``.attrs["left_out"]`` [year, country, sources, incidents],
        and ``.attrs["population"]`` names them. Stratify by ("year", "country") for an
        estimate per country.

        Population: every source must be able to record every incident counted. `lethal_only`
        (default: when a source that records only lethal incidents, `LETHAL_ONLY_SOURCES`, took
        part) counts only incidents of which some report gives at least one death; a report
        without a known toll does not make its incident lethal. ``.attrs["population"]`` says
        which population the table counts.

        Matching uncertainty: a missed match looks like two incidents each seen by one source
        and inflates the estimate (on the simulator, 3.5% of matches missed put it 2.7% high and
        the interval covered the true total in about half the runs). So the estimate is also
        made with every pair rejected near the threshold accepted (`estimate_possible`, the
        matching `links.possible_id`: Fellegi-Sunter's possible matches, which a clerk would
        review), and the interval spans both matchings' intervals: the truth is between a
        matching that misses some true pairs and one that accepts some false ones
        (benchmarks/merge.py). Its low end can fall below `observed`: the possible matches
        would leave fewer incidents recorded.
        """
        by = list(by)
        if lethal_only is None:
            lethal_only = bool(LETHAL_ONLY_SOURCES & set(self.source_order))
        frame = self._with_year()
        possible = self._possible_incidents(frame)
        if lethal_only:
            frame = frame[self._lethal("merged_id").reindex(frame["merged_id"]).to_numpy()]
            possible = possible[possible.pop("lethal").to_numpy()]
        else:
            possible = possible.drop(columns="lethal")
        in_scope, left_out = _covered_by_every_source(frame)
        frame = frame[in_scope(frame)]
        possible = possible[in_scope(possible)]
        rows = []
        groups = frame.groupby(by, observed=True) if by else [((), frame)]
        for key, stratum in groups:
            key = key if isinstance(key, tuple) else (key,)
            estimate, low, high, method, cell = self._estimate(stratum, alpha, min_overlap)
            mask = np.ones(len(possible), bool)
            for column, value in zip(by, key, strict=True):
                mask &= (possible[column] == value).to_numpy()
            other, other_low, other_high, _, _ = self._estimate(possible[mask], alpha, min_overlap)
            if np.isfinite(estimate) and np.isfinite(other):
                low, high = min(low, other_low), max(high, other_high)
            reason = (
                method
                if not np.isfinite(estimate)
                else mse.not_estimable(low, high, *cell, min_cell=min_overlap)
            )
            if np.isfinite(estimate) and reason is not None:
                estimate = low = high = other = np.nan
                method = f"{reason}; {method}"
            rows.append((*key, len(stratum), estimate, low, high, other, method, reason))
        out = pd.DataFrame(
            rows,
            columns=[
                *by,
                "observed",
                "estimate",
                "ci_low",
                "ci_high",
                "estimate_possible",
                "method",
                "not_estimable",
            ],
        )
        out.insert(len(by) + 2, "unrecorded", out["estimate"] - out["observed"])
        out["not_estimable"] = out["not_estimable"].astype(object).where(out["not_estimable"].notna(), None)
        out.attrs["left_out"] = left_out
        out.attrs["assumptions"] = mse.ASSUMPTIONS
        out.attrs["population"] = (
            "lethal incidents (some report gives at least one death), since "
            + " and ".join(sorted(LETHAL_ONLY_SOURCES & set(self.source_order)) or ["a source"])
            + " records no others"
            if lethal_only
            else "all incidents"
            if left_out.empty
            else "incidents"
        ) + _left_out_words(left_out)
        return out

    def _lethal(self, key: str) -> pd.Series:
        """Per incident (`key`: merged_id or possible_id): does some report give a death?"""
        return self.links.groupby(key)["fatalities_best"].max().fillna(0).ge(1).astype(bool)

    def _estimate(self, stratum: pd.DataFrame, alpha: float, min_overlap: int):
        """(estimate, low, high, method, (key cell count, its description)) of one stratum."""
        members = stratum["sources"].str.split("+")
        recorded = {s: members.map(lambda m, s=s: s in m).to_numpy(bool) for s in self.source_order}
        present = [s for s in self.source_order if recorded[s].any()]
        none = (None, "")
        if len(present) < 2:
            return np.nan, np.nan, np.nan, "one source: no estimate", none
        history = np.column_stack([recorded[s] for s in present])
        pairwise = max(
            int((history[:, i] & history[:, j]).sum()) for i in range(len(present)) for j in range(i)
        )
        if pairwise < min_overlap:
            return np.nan, np.nan, np.nan, f"too few incidents in two sources (< {min_overlap})", none
        if len(present) == 2:
            n1, n2 = int(history[:, 0].sum()), int(history[:, 1].sum())
            m = int((history[:, 0] & history[:, 1]).sum())
            cell = (m, f"the incidents both {present[0]} and {present[1]} recorded")
            return (*mse.chapman(n1, n2, m, alpha), f"Chapman ({present[0]}, {present[1]})", cell)
        counts = pd.Series([tuple(h) for h in history.astype(int)]).value_counts()
        fit = mse.loglinear_fit(counts, alpha)
        cell = none if fit.key_cell is None else (fit.key_count, _history_words(fit.key_cell, present))
        return fit.estimate, fit.ci_low, fit.ci_high, f"{fit.method} ({', '.join(present)})", cell

    def _possible_incidents(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The incidents under the possible-match matching: each with its `sources` and the
        stratum columns of its earliest merged incident (so it falls in one stratum), and
        `lethal` (see `_lethal`)."""
        groups = self.links.groupby("possible_id")
        sources = groups["source"].agg(lambda s: "+".join(sorted(set(s))))
        first = groups["merged_id"].min()
        lethal = self._lethal("possible_id").reindex(first.index)
        return frame.loc[first.to_numpy()].assign(sources=sources.to_numpy(), lethal=lethal.to_numpy())

    def _with_year(self) -> pd.DataFrame:
        return self.incidents.assign(year=self.incidents["date_start"].dt.year)

    def summary(self) -> str:
        """A plain-text account: reports in, incidents out, matches by source combination, the rule."""
        links, inc = self.links, self.incidents
        s = self.settings
        lines = ["Cross-source merge", "=" * 60]
        per_source = links.groupby("source").agg(
            reports=("incident_id", "size"), deaths=("fatalities_best", "sum")
        )
        matched = inc.loc[inc["sources"].str.contains("+", regex=False), "merged_id"]
        per_source["matched"] = links[links["merged_id"].isin(matched)].groupby("source").size()
        per_source = per_source.reindex(self.source_order).fillna(0)
        for name, row in per_source.iterrows():
            lines.append(
                f"{name:<12} reports {int(row.reports):>9,}  in a multi-source incident {int(row.matched):>9,}  "
                f"deaths (best) {int(row.deaths):>10,}"
            )
        kinds = links["link"].value_counts()
        lines += [
            "-" * 60,
            f"input reports   {len(links):>10,}",
            f"incidents       {len(inc):>10,}  (deaths, best: {int(inc['fatalities_best'].sum()):,})",
            f"many-to-one     {int(kinds.get('many-to-one', 0)):>10,}  (reports folded into a multi-day report)",
            "incidents by sources: "
            + ", ".join(f"{k} {v:,}" for k, v in inc["sources"].value_counts().items()),
        ]
        decisions = self.scored_pairs["decision"].value_counts()
        lines.append("candidate pairs: " + ", ".join(f"{k} {v:,}" for k, v in decisions.items()))
        lines.append(
            f"rule: pairs within {s.get('max_days')} days and {s.get('max_km')} km (or the same admin-1 without "
            f"coordinates), score >= {s.get('threshold')}; one-to-one by maximum total log(score / threshold), sources largest "
            f"first; figures: low = largest low, best = {s.get('best')} of the sources' best, high = largest high "
            "(never summed); other fields from the most precise report that has them"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<MergeResult: {len(self.links):,} reports -> {len(self.incidents):,} incidents>"


def _history_words(cell: tuple, sources: list[str]) -> str:
    """A capture history in words: 'the incidents ACLED and GTD recorded but not UCDP'."""
    seen = [s for s, c in zip(sources, cell, strict=True) if c]
    missed = [s for s, c in zip(sources, cell, strict=True) if not c]
    return f"the incidents {' and '.join(seen)} recorded" + (
        f" but not {' or '.join(missed)}" if missed else ""
    )


def _covered_by_every_source(frame: pd.DataFrame):
    """(a function telling which rows of a table with `year`, `country`, `sources` are in scope,
    the country-years left out [year, country, sources, incidents]). A source covers a country
    when it recorded an incident there in any year of the table (one year's miss of a few
    incidents is what capture-recapture counts, not a gap in coverage); a country-year is in
    scope when every source with an incident in that year covers the country."""
    country = frame["country"].astype(object).where(frame["country"].notna(), "no country recorded")
    parts = frame.assign(country=country, source=frame["sources"].str.split("+")).explode("source")
    per_year = parts.groupby("year")["source"].agg(frozenset)
    per_country = parts.groupby("country")["source"].agg(frozenset)
    cells = parts[["year", "country"]].drop_duplicates().itertuples(index=False)
    keys = {(y, c) for y, c in cells if per_year[y] <= per_country[c]}
    counts = frame.assign(country=country).groupby(["year", "country"]).size()
    left_out = pd.DataFrame(
        [
            (y, c, "+".join(sorted(per_country[c] & per_year[y])), int(n))
            for (y, c), n in counts.items()
            if (y, c) not in keys
        ],
        columns=["year", "country", "sources", "incidents"],
    )

    def in_scope(table: pd.DataFrame) -> np.ndarray:
        names = table["country"].astype(object).where(table["country"].notna(), "no country recorded")
        return np.array([(y, c) in keys for y, c in zip(table["year"], names, strict=True)], dtype=bool)

    return in_scope, left_out


#: Countries named in the population sentence when country-years are left out (the rest counted).
NAMED_LEFT_OUT = 3


def _left_out_words(left_out: pd.DataFrame) -> str:
    """'' when nothing was left out, else the clause the population sentence ends with."""
    if left_out.empty:
        return ""
    by_country = left_out.groupby("country")["incidents"].sum().sort_values(ascending=False)
    named = ", ".join(f"{c} ({n:,})" for c, n in by_country.head(NAMED_LEFT_OUT).items())
    rest = len(by_country) - NAMED_LEFT_OUT
    return (
        f", in the countries every source of the year records: {int(left_out['incidents'].sum()):,} "
        f"incident{'s' * (int(left_out['incidents'].sum()) != 1)} in {len(left_out):,} "
        f"country-year{'s' * (len(left_out) != 1)} some source does not cover are left out (most in "
        f"{named}" + (f" and {rest:,} other countries" if rest > 0 else "") + ")"
    )
