"""When did a detected change start? Confidence sets for change dates.

A change's date is estimated by the split that fits best in its window (from
the previous change of the same part to the next). Splits nearby fit almost as
well, so the date is uncertain by a few weeks, more where the change is small
against the noise. The (1 - alpha) confidence set is every split whose
likelihood-ratio deficit against the best, in the cost's units (-2 log L,
divided by the long-run variance factor where the series is dependent), is at
most

    c = -2 log(1 - sqrt(1 - alpha))      (7.35 at 95%),

the (1 - alpha) quantile of the limit of that deficit at the true date: the
maximum of a two-sided Brownian motion with drift, max_t (2 W(t) - |t|), whose
sides are independent with P(max > x) = exp(-x / 2) each (Hinkley 1970;
Siegmund 1988, "Confidence sets in change-point problems"). The set is
reported by its first and last split. It takes the other changes as given,
and the limit assumes the change is large enough to be found in place;
weak changes found by chance have wider true uncertainty
(benchmarks/changepoint_sim.py measures the coverage).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .detect import segment_bounds
from .errors import ChangePointError

if TYPE_CHECKING:
    from .results import ChangePoints

COLUMNS = ["location", "label", "earliest", "latest", "earliest_label", "latest_label"]


def deficit_quantile(alpha: float) -> float:
    """(1 - alpha) quantile of max_t (2 W(t) - |t|) over a two-sided Brownian motion."""
    return -2.0 * math.log1p(-math.sqrt(1.0 - alpha))


def _window_set(
    error, window: tuple[tuple[int, int], tuple[int, int]], scale: float, c: float
) -> tuple[int, int]:
    """First and last split in (lo, hi) whose gain is within c (in units / scale) of the best;
    the detected cut is always in the set (it is at worst within c of the best)."""
    (lo, cut), (_, hi) = window
    whole = error(lo, hi)
    splits = np.arange(lo + 1, hi)
    gain = np.array([whole - error(lo, t) - error(t, hi) for t in splits]) / scale
    inside = splits[gain >= max(gain.max(), gain[cut - lo - 1]) - c]
    return int(min(inside.min(), cut)), int(max(inside.max(), cut))


def location_table(cps: ChangePoints, alpha: float = 0.05) -> pd.DataFrame:
    """The table behind `ChangePoints.location_intervals` (see the module docstring)."""
    if not 0.0 < alpha < 1.0:
        raise ChangePointError(f"alpha must be between 0 and 1, not {alpha!r}")
    model, positions = cps.cost_model, cps.observed_positions
    c = deficit_quantile(alpha)
    # count costs with penalty "auto" carry the dependence in their weights; the others in the penalty
    scale = cps.penalty_used.factor
    parts = (
        [
            (name, locs, partial(model.part_error, j))
            for j, (name, locs) in enumerate(cps.part_locations.items())
        ]
        if cps.part_locations
        else [(None, cps.locations, model.error)]
    )
    rows = []
    for name, locations, error in parts:
        bounds = segment_bounds([int(i) for i in np.searchsorted(positions, locations)], positions.size)
        for k, loc in enumerate(locations):
            first, last = _window_set(error, bounds[k : k + 2], scale, c)
            earliest, latest = int(positions[first]), int(positions[last])
            row = {"location": int(loc), "label": cps.labels[loc], "earliest": earliest, "latest": latest}
            row |= {"earliest_label": cps.labels[earliest], "latest_label": cps.labels[latest]}
            rows.append(row | ({"part": name} if name else {}))
    columns = [*COLUMNS[:2], "part", *COLUMNS[2:]] if cps.part_locations else COLUMNS
    return pd.DataFrame(rows, columns=columns).sort_values("location", kind="stable").reset_index(drop=True)
