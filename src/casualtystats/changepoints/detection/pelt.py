"""PELT: exact optimal partitioning with pruning (Killick, Fearnhead & Eckley 2012).

F(s) = min over admissible t of F(t) + C(y[t:s]) + beta, F(0) = 0. After
each step, a start t is dropped for good once F(t) + C(y[t:s]) + K > F(s)
(with K = 0 for costs where splitting a segment never raises its cost), since
it can then never be optimal again. Every segment cost is O(1) from the
cost's cumulative sums, so a step costs O(#admissible) and the whole search
is between O(n) and O(n^2).

Conventions follow ruptures.Pelt(jump=1) so that the l2 results are
identical: a segment is at least `min_size` long, candidates are tried in
increasing order and the first minimum wins, F is accumulated segment by
segment in the same order, and the pruning test is the same inequality.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..costs.kernel import segment_costs


@nb.njit(cache=True)
def pelt_search(
    kind, reference_kind, stats, params, n, penalty, min_size, length_weight, slack, tie_tol, tie_scale
):
    """Optimal penalised partition of y[:n].

    Each segment costs cost(...) + penalty + length_weight * log(length).
    Returns (F, last): F[s] is the optimal penalised cost of y[:s] and last[s]
    the start of the final segment in that optimum (-1 where y[:s] cannot be
    split into segments of at least min_size).

    `kind` selects the O(1) cost in costs.kernel. Where two candidates come
    within `tie_tol` x (|F| + penalty + 1 + tie_scale) of each other, or of
    the pruning bound, the decision is taken on cost `reference_kind` instead, and F is always accumulated from
    reference costs: for l2 that is ruptures' own floating-point arithmetic,
    so exact ties on integer data break the same way. For other costs the
    two functions are the same.
    """
    best_cost = np.full(n + 1, np.inf)
    best_cost[0] = 0.0
    last = np.full(n + 1, -1, dtype=np.int64)
    admissible = np.empty(n + 1, dtype=np.int64)
    totals = np.empty(n + 1)
    is_reference = np.zeros(n + 1, dtype=np.bool_)
    picks = np.empty(n + 1, dtype=np.int64)  # positions in `admissible` to cost again
    starts = np.empty(n + 1, dtype=np.int64)
    costs = np.empty(n + 1)
    model = (reference_kind, stats, params, penalty, length_weight)
    work = (admissible, totals, is_reference, picks, starts, costs)
    n_adm = 0
    for s in range(min_size, n + 1):
        t_new = s - min_size
        # y[:t_new] must itself split into segments of at least min_size
        if t_new == 0 or t_new >= min_size:
            admissible[n_adm] = t_new
            n_adm += 1
        segment_costs(kind, stats, params, admissible, n_adm, s, costs)
        fast_best = np.inf
        for i in range(n_adm):
            totals[i] = _total(best_cost, admissible[i], s, costs[i], penalty, length_weight)
            is_reference[i] = False
            fast_best = min(fast_best, totals[i])
        tol = tie_tol * (abs(fast_best) + penalty + 1.0 + tie_scale)

        # near-best candidates, on the reference cost; the first minimum wins, as in ruptures
        k = _recost_near(model, work, best_cost, n_adm, s, fast_best, tol)
        best = np.inf
        arg = -1
        for j in range(k):
            i = picks[j]
            if totals[i] < best:
                best = totals[i]
                arg = admissible[i]
        best_cost[s] = best
        last[s] = arg

        # prune: candidates near the bound are judged on the reference cost too
        bound = best + penalty + slack
        _recost_near(model, work, best_cost, n_adm, s, bound, tol)
        kept = 0
        for i in range(n_adm):
            if totals[i] <= bound:
                admissible[kept] = admissible[i]
                kept += 1
        n_adm = kept
    return best_cost, last


@nb.njit(cache=True, inline="always")
def _total(best_cost, t, s, cost, penalty, length_weight):
    """F(t) + the penalised cost of the segment y[t:s]."""
    segment = cost + penalty
    if length_weight != 0.0:
        segment += length_weight * math.log(s - t)
    return best_cost[t] + segment


@nb.njit(cache=True)
def _recost_near(model, work, best_cost, n_adm, s, centre, tol):
    """Cost again, on the reference cost and in one batched call, every candidate
    not yet so costed whose total lies within `tol` of `centre`. Returns how
    many; their positions in `admissible` are picks[:k], in increasing order."""
    kind, stats, params, penalty, length_weight = model
    admissible, totals, is_reference, picks, starts, costs = work
    k = 0
    for i in range(n_adm):
        if not is_reference[i] and abs(totals[i] - centre) <= tol:
            picks[k] = i
            starts[k] = admissible[i]
            k += 1
    segment_costs(kind, stats, params, starts, k, s, costs)
    for j in range(k):
        i = picks[j]
        totals[i] = _total(best_cost, starts[j], s, costs[j], penalty, length_weight)
        is_reference[i] = True
    return k


def backtrack(last: np.ndarray, n: int) -> list[int]:
    """Change points (first index of each new segment) from PELT's `last` array."""
    out = []
    s = n
    while s > 0:
        t = int(last[s])
        if t <= 0:
            break
        out.append(t)
        s = t
    return out[::-1]


def pelt(cost, penalty: float, min_size: int = 2, length_weight: float = 0.0) -> tuple[list[int], np.ndarray]:
    """Run PELT with a fitted `cost`. Returns (change points, optimal cost of every prefix).

    `length_weight` adds length_weight * log(segment length) to every segment
    (the MBIC term); pruning then keeps a slack of length_weight * log(n),
    which bounds log(a) + log(b) - log(a + b), so the search stays exact.
    """
    n = cost.n
    min_size = max(int(min_size), int(cost.min_size), 1)
    if n == 0:
        return [], np.zeros(1)
    slack = length_weight * math.log(n) if length_weight > 0 else 0.0
    best_cost, last = pelt_search(
        cost.kind,
        cost.reference_kind if cost.reference_kind >= 0 else cost.kind,
        cost.stats,
        cost.params,
        n,
        float(penalty),
        min_size,
        float(length_weight),
        slack,
        cost.tie_tolerance,
        cost.tie_scale,
    )
    return backtrack(last, n), best_cost
