"""`AliasTable.apply` looks each distinct (name, country, region) up once; row by row gives the same."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.normalize import actor_aliases, region_aliases

ACTOR_TABLE, REGION_TABLE = actor_aliases(), region_aliases()
NAMES = ["IS", "ISIS", "Daesh", "HTS", "Unknown gang", None, "Nineveh Governorate", "al-Raqqah", "Boko Haram"]
COUNTRIES = ["Iraq", "Syria", "Nigeria", "Afghanistan", None]
REGIONS = ["Ninawa", "Borno", "Raqqa", None]


def _row_by_row(table, names, countries=None, regions=None):
    rows = zip(
        names,
        [None] * len(names) if countries is None else countries,
        [None] * len(names) if regions is None else regions,
        strict=True,
    )
    found = [
        None if pd.isna(n) else table.lookup(n, *((c, r) if countries is not None and table.scoped else ()))
        for n, c, r in rows
    ]
    shown = [
        f if f is not None else (n if pd.isna(n) else table.unmatched(n))
        for f, n in zip(found, names, strict=True)
    ]
    return pd.Series(shown, index=names.index, dtype=object).astype("str"), [f is not None for f in found]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.sampled_from(COUNTRIES), st.sampled_from(REGIONS)), max_size=20
    )
)
def test_apply_is_the_row_by_row_lookup(rows):
    names = pd.Series([r[0] for r in rows], index=range(100, 100 + len(rows)), dtype="str")
    countries = pd.Series([r[1] for r in rows], dtype="str")  # aligned by position, not index
    regions = pd.Series([r[2] for r in rows], dtype="str")
    for table in (ACTOR_TABLE, REGION_TABLE):
        for args in ((), (countries,), (countries, regions)):
            shown, matched = table.apply(names, *args)
            expected, known = _row_by_row(table, names, *args)
            pd.testing.assert_series_equal(shown, expected)
            assert matched.tolist() == known and matched.index.equals(names.index)
