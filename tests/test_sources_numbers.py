"""Number cells: a column of plain numbers is read at once, any other column cell by cell; the
two ways must agree on every cell."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casualtystats.sources.convert import MISSING_TOKENS, Problems

PLAIN = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(-1e9, 1e9, allow_nan=False).map(repr),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda v: f" {v:.3f} "),
)
OTHER = st.sampled_from(["1,234", "12,5", "abc", "1_000", "١٢", "0x10", "inf", "1e400", *MISSING_TOKENS])


def read(cells: list[str | None], decimal_comma: bool) -> tuple[pd.Series, pd.DataFrame]:
    problems = Problems(decimal_comma=decimal_comma)
    text = pd.Series(cells, dtype="str")
    return problems.number(text.where(text.str.strip().ne("")), "x"), problems.table()


@settings(max_examples=60, deadline=None)
@given(st.lists(PLAIN, min_size=1, max_size=20), st.lists(OTHER, min_size=1, max_size=5), st.booleans())
def test_plain_numbers_read_alike_alone_and_among_other_cells(plain, other, decimal_comma):
    alone, none = read(plain, decimal_comma)
    assert none.empty
    assert alone.tolist() == [float(c) for c in plain]
    mixed, problems = read(plain + other, decimal_comma)
    assert mixed[: len(plain)].tolist() == alone.tolist()
    # every other cell is a number (separators read), missing (a token) or a problem naming it
    for row, cell in enumerate(other, start=len(plain)):
        flagged = problems["row"].eq(row).any() if "row" in problems else False
        value = mixed[row]
        if cell.strip().lower() in MISSING_TOKENS:
            assert math.isnan(value) and not flagged
        else:
            assert math.isnan(value) == flagged


@given(OTHER, st.booleans())
def test_an_odd_cell_reads_the_same_alone_and_beside_text(cell, decimal_comma):
    alone, alone_problems = read([cell], decimal_comma)
    beside, problems = read([cell, "abc"], decimal_comma)
    assert alone[0] == beside[0] or (math.isnan(alone[0]) and math.isnan(beside[0]))
    assert len(alone_problems) == len(problems) - 1  # 'abc' is the one more problem
