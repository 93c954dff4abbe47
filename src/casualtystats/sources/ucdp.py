"""UCDP Georeferenced Event Dataset (GED): global releases, country extracts,
and the HDX variant (HXL tag row under the header, handled by the reader).

Conventions (UCDP GED codebook): deaths are ``low``/``best``/``high``; the
dyad is ``side_a`` (actor; in one-sided violence the perpetrator) against
``side_b`` (target; 'Civilians' in one-sided violence). UCDP records deaths
only, so injuries are NA. Older releases spell the estimates ``best_est`` etc.

``best`` is UCDP's own estimate; in some events of real releases a bound
contradicts it (low > best or high < best, e.g. best 22, high 21). The bound is
clamped to best (low = min(low, best), high = max(high, best)): the smallest
change that makes the triple ordered, keeping the event's range instead of
erasing it (NA) or losing the event to the quarantine. Each repair is a warning
(`LoadResult.warnings`, counted in the summary under "repaired, kept").
"""

from __future__ import annotations

import pandas as pd

from .convert import Format, Problems, column

#: ``date_prec``: 1 exact day, 2 a 2-6 day range, 3 the week, 4 the month
#: (8-30 days), 5 longer than a month or only the year.
DATE_PRECISION = {"1": "day", "2": "range", "3": "week", "4": "month", "5": "year"}
TYPE_OF_VIOLENCE = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}


def _derive(raw: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    derived = {"source": pd.Series("UCDP", index=raw.index, dtype="str")}
    if "date_prec" in raw:
        derived["date_precision"] = problems.code(
            raw["date_prec"], "date_precision (date_prec)", DATE_PRECISION
        )
    best = problems.integer(column(raw, "best", "best_est"), "fatalities_best (best)")
    low = problems.integer(column(raw, "low", "low_est"), "fatalities_low (low)")
    high = problems.integer(column(raw, "high", "high_est"), "fatalities_high (high)")
    low_above, high_below = low.gt(best).fillna(False), high.lt(best).fillna(False)
    problems.warnings.add(
        low_above,
        "fatalities_low (low)",
        "above best; set to best",
        low.astype("str") + " > " + best.astype("str"),
    )
    problems.warnings.add(
        high_below,
        "fatalities_high (high)",
        "below best; set to best",
        high.astype("str") + " < " + best.astype("str"),
    )
    derived["fatalities_best"] = best
    derived["fatalities_low"] = low.mask(low_above, best)
    derived["fatalities_high"] = high.mask(high_below, best)
    violence = column(raw, "type_of_violence").str.strip()
    derived["event_type"] = violence.map(TYPE_OF_VIOLENCE).fillna(violence).astype("str")
    return derived


FORMAT = Format(
    key="ucdp",
    name="UCDP GED",
    source="UCDP",
    markers=frozenset(
        {
            "side_a",
            "side_b",
            "dyad_name",
            "conflict_name",
            "type_of_violence",
            "where_prec",
            "date_prec",
            "deaths_civilians",
            "deaths_a",
            "deaths_b",
            "adm_1",
            "side_a_new_id",
            "priogrid_gid",
            "best",
            "best_est",
        }
    ),
    required=(("id",), ("side_a",), ("side_b",), ("date_start",), ("country",), ("best", "best_est")),
    columns={
        "incident_id": ("id",),
        "date_start": ("date_start",),
        "date_end": ("date_end",),
        "country": ("country",),
        "region": ("adm_1",),
        "admin2": ("adm_2",),
        "location": ("where_coordinates", "where_description"),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "actor": ("side_a",),
        "target": ("side_b",),
        "notes": ("source_headline",),
    },
    derive=_derive,
    derive_reads=frozenset({"low", "high", "low_est", "high_est"}),
)
