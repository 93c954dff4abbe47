"""Model input: a text cell or an infinite value is an error naming where it is, never a silent gap."""

import numpy as np
import pandas as pd
import pytest

import casualtystats as cs
from casualtystats.changepoints import bocpd
from casualtystats.errors import CasualtyStatsError

WEEKS = pd.date_range("2020-01-06", periods=60, freq="W-MON")
MODELS = [cs.detect_change_points, cs.fit_trend, bocpd]


@pytest.mark.parametrize("model", MODELS, ids=lambda f: f.__name__)
def test_infinite_value_is_an_error_naming_its_week(model):
    y = pd.Series(np.full(60, 3.0), index=WEEKS)
    y.iloc[20] = np.inf
    with pytest.raises(CasualtyStatsError, match="infinite at 2020-05-25"):
        model(y)


@pytest.mark.parametrize("model", MODELS, ids=lambda f: f.__name__)
def test_text_cell_is_an_error_not_a_missing_week(model):
    y = pd.Series([3, 4, "ten", 2] * 15, dtype=object)
    with pytest.raises(CasualtyStatsError, match=r"not a number at 2, 6, 10 and 12 more \('ten'\)"):
        model(y)


@pytest.mark.parametrize("model", MODELS, ids=lambda f: f.__name__)
def test_missing_values_stay_missing(model):
    y = pd.Series(pd.array([3, None, 4, 2] * 15, dtype="Int64"), index=WEEKS)
    model(y)  # NaN, None and pd.NA are gaps, as before
