"""Numeric input of the models: values as floats, missing as NaN, anything else an error.

A Series holding a text cell ("ten") or an infinite value is a mistake upstream (a bad
join, a division by zero); read as missing, it would drop that week silently and change
the answer. So only real numbers and missing values (NaN, None, pd.NA) pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: how many offending labels an error message names
SHOWN = 3


def float_values(values, error: type[Exception], what: str = "values") -> tuple[np.ndarray, pd.Index]:
    """`values` (a Series, array or list) as a 1-D float array with NaN for missing, and the
    labels to report (the Series index, or 0..n-1). Raises `error` for text that is not a
    number, infinite values, or more than one dimension."""
    if isinstance(values, pd.Series):
        labels = values.index
        numeric = pd.to_numeric(values, errors="coerce")
        text = (numeric.isna() & values.notna()).to_numpy()
        if text.any():
            raise error(
                f"{what} must be numbers or missing: not a number at {_where(labels, text)} "
                f"({values[text].iloc[0]!r})"
            )
        y = numeric.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        try:
            y = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise error(f"{what} must be numbers or missing: {exc}") from None
        labels = pd.RangeIndex(y.shape[0] if y.ndim else 0)
    if y.ndim != 1:
        raise error(f"{what} must be one-dimensional, got shape {y.shape}")
    infinite = np.isinf(y)
    if infinite.any():
        raise error(f"{what} must be finite or missing (NaN): infinite at {_where(labels, infinite)}")
    return y, labels


def _where(labels: pd.Index, rows: np.ndarray) -> str:
    found = [str(label.date()) if isinstance(label, pd.Timestamp) else str(label) for label in labels[rows]]
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return ", ".join(found[:SHOWN]) + more
