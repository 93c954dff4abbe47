"""One compiled entry point for every segment cost, selected by an integer id.

Numba can pass jitted functions as run-time arguments, but such callers cannot
be cached on disk safely (the cached code would hold the callee's address from
another process), so the search methods call `segment_costs(kind, ...)` and
each Cost class carries its `kind` ids. (`_fill` is inlined at compile time
with a fixed cost, so no function is passed at run time.) A new cost adds its
function here.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .freqsev import freqsev_segment_cost
from .freqsev_log import freqsev_log_segment_cost
from .l2 import l2_reference_cost, l2_segment_cost
from .negbin import negbin_segment_cost
from .normal_mean import normal_mean_segment_cost
from .normal_meanvar import normal_meanvar_segment_cost
from .normal_trend import normal_trend_segment_cost
from .poisson import poisson_segment_cost

L2, L2_REFERENCE, NORMAL_MEAN, NORMAL_MEANVAR, NORMAL_TREND, POISSON, NEGBIN, FREQSEV, FREQSEV_LOG, JOINT = (
    range(10)
)
#: the costs of one column that a joint cost can sum (costs.joint)
COLUMN_KINDS = (L2, NORMAL_MEAN, NORMAL_MEANVAR, NORMAL_TREND, POISSON, NEGBIN)
#: layout of a joint cost's `params`: the number of columns, then per column its kind, its rows in
#: `stats` (first, end), its slice of `params` (first, end) and its weight; then the columns' params
JOINT_FIELDS = 6


@nb.njit(cache=True)
def column_cost(kind, stats, params, start, end):
    """Cost of y[start:end] of one column's cost `kind` (one of COLUMN_KINDS)."""
    if kind == L2:
        return l2_segment_cost(stats, params, start, end)
    if kind == NORMAL_MEAN:
        return normal_mean_segment_cost(stats, params, start, end)
    if kind == NORMAL_MEANVAR:
        return normal_meanvar_segment_cost(stats, params, start, end)
    if kind == NORMAL_TREND:
        return normal_trend_segment_cost(stats, params, start, end)
    if kind == POISSON:
        return poisson_segment_cost(stats, params, start, end)
    if kind == NEGBIN:
        return negbin_segment_cost(stats, params, start, end)
    return np.nan


@nb.njit(cache=True)
def joint_segment_cost(stats, params, start, end):
    """Sum over the columns of each column's weighted cost of y[start:end] (see costs.joint)."""
    total = 0.0
    for j in range(int(params[0])):
        at = 1 + JOINT_FIELDS * j
        rows = stats[int(params[at + 1]) : int(params[at + 2])]
        own = params[int(params[at + 3]) : int(params[at + 4])]
        total += params[at + 5] * column_cost(int(params[at]), rows, own, start, end)
    return total


@nb.njit(cache=True, inline="always")
def _fill(cost, stats, params, starts, count, end, out):
    for i in range(count):
        out[i] = cost(stats, params, starts[i], end)


@nb.njit(cache=True)
def segment_costs(kind, stats, params, starts, count, end, out):
    """out[i] = cost of y[starts[i]:end] for i < count. The cost is chosen once
    per call, not once per segment, so the loop over candidates compiles to
    straight-line code for each cost (PELT's hot loop)."""
    if kind == L2:
        _fill(l2_segment_cost, stats, params, starts, count, end, out)
    elif kind == L2_REFERENCE:
        _fill(l2_reference_cost, stats, params, starts, count, end, out)
    elif kind == NORMAL_MEAN:
        _fill(normal_mean_segment_cost, stats, params, starts, count, end, out)
    elif kind == NORMAL_MEANVAR:
        _fill(normal_meanvar_segment_cost, stats, params, starts, count, end, out)
    elif kind == NORMAL_TREND:
        _fill(normal_trend_segment_cost, stats, params, starts, count, end, out)
    elif kind == POISSON:
        _fill(poisson_segment_cost, stats, params, starts, count, end, out)
    elif kind == NEGBIN:
        _fill(negbin_segment_cost, stats, params, starts, count, end, out)
    elif kind == FREQSEV:
        _fill(freqsev_segment_cost, stats, params, starts, count, end, out)
    elif kind == FREQSEV_LOG:
        _fill(freqsev_log_segment_cost, stats, params, starts, count, end, out)
    elif kind == JOINT:
        _fill(joint_segment_cost, stats, params, starts, count, end, out)
    else:
        out[:count] = np.nan
