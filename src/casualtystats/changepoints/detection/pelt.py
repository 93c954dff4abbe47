"""PELT: exact optimal partitioning with pruning (Killick, Fearnhead & Eckley 2012).

F(s) = min over admissible t of F(t) + C(y[t:s]) + beta + w log(s - t),
F(0) = 0, where every segment is at least `min_size` long. Every segment cost
is O(1) from the cost's cumulative sums, so a step costs O(#candidates) and
the whole search is between O(n) and O(n^2).

Pruning with a minimum segment length m. Every cost is a profile -2
log-likelihood, so splitting a segment never raises its cost:
C(t, s') >= C(t, s) + C(s, s'). If F(t) + C(t, s) >= F(s) at step s, then for
every later end s' >= s + m (so that y[s:s'] is an admissible segment)

    F(t) + C(t, s') + beta + w log(s' - t)
        >= F(s) + C(s, s') + beta + w log(s' - s) >= F(s'),

and t can never be needed again. For ends s' in (s, s + m) the segment
y[s:s'] is too short and the argument says nothing, so t is dropped only m
steps after the inequality first held (with m = 1: at once, Killick et al.'s
rule). Pruning on the spot, as ruptures.Pelt and R's changepoint do, loses
the optimum in a few per cent of short series when m >= 2. The inequality is
tested with a small relative margin, so a rounding error can keep a
candidate a little longer but never prune one that might be optimal.

Ties follow ruptures.Pelt(jump=1): candidates are tried in increasing order
and the first minimum wins (a candidate kept only for the minimum length,
which ruptures would have dropped, wins a tie only if no other candidate
attains the minimum), and F is accumulated segment by segment in the same
order, so where ruptures' answer is optimal the l2 change points are the same.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..costs.kernel import segment_costs

#: relative margin of the pruning inequality (rounding errors of the O(1) costs are far smaller)
PRUNE_MARGIN = 1e-9


@nb.njit(cache=True)
def pelt_search(kind, reference_kind, stats, params, n, penalty, min_size, length_weight, tie_tol, tie_scale):
    """Optimal penalised partition of y[:n].

    Each segment costs cost(...) + penalty + length_weight * log(length).
    Returns (F, last): F[s] is the optimal penalised cost of y[:s] and last[s]
    the start of the final segment in that optimum (-1 where y[:s] cannot be
    split into segments of at least min_size).

    `kind` selects the O(1) cost in costs.kernel. Where candidates come within
    `tie_tol` x (|F| + penalty + 1 + tie_scale) of the best, the choice is made
    on cost `reference_kind` instead, and F is accumulated from reference costs:
    for l2 that is ruptures' own floating-point arithmetic, so exact ties on
    integer data break the same way. For other costs the two are the same.
    """
    best_cost = np.full(n + 1, np.inf)
    best_cost[0] = 0.0
    last = np.full(n + 1, -1, dtype=np.int64)
    admissible = np.empty(n + 1, dtype=np.int64)
    # step at which a candidate was first found dominated (n + 1: not yet)
    dominated_at = np.empty(n + 1, dtype=np.int64)
    totals = np.empty(n + 1)  # F(t) + penalised cost of y[t:s]
    splits = np.empty(n + 1)  # F(t) + C(t, s), the left side of the pruning inequality
    picks = np.empty(n + 1, dtype=np.int64)  # positions in `admissible` to cost again
    starts = np.empty(n + 1, dtype=np.int64)
    costs = np.empty(n + 1)
    # the per-segment length term from a table: no logarithm in the inner loop
    log_length = length_weight * np.log(np.maximum(np.arange(n + 1), 1).astype(np.float64))
    n_adm = 0
    for s in range(min_size, n + 1):
        t_new = s - min_size
        # y[:t_new] must itself split into segments of at least min_size
        if t_new == 0 or t_new >= min_size:
            admissible[n_adm] = t_new
            dominated_at[n_adm] = n + 1
            n_adm += 1
        segment_costs(kind, stats, params, admissible, n_adm, s, costs)
        best, arg = _best(
            admissible, dominated_at, costs, best_cost, log_length, penalty, s, n_adm, totals, splits
        )
        if reference_kind != kind:
            # near-best candidates again on the reference cost; the first minimum wins, as in ruptures
            tol = tie_tol * (abs(best) + penalty + 1.0 + tie_scale)
            k = 0
            for i in range(n_adm):
                if totals[i] - best <= tol:
                    picks[k] = i
                    starts[k] = admissible[i]
                    k += 1
            segment_costs(reference_kind, stats, params, starts, k, s, costs)
            ref_totals, ref_splits = np.empty(k), np.empty(k)
            best, j = _best(
                starts,
                dominated_at[picks[:k]],
                costs,
                best_cost,
                log_length,
                penalty,
                s,
                k,
                ref_totals,
                ref_splits,
            )
            totals[picks[:k]] = ref_totals
            splits[picks[:k]] = ref_splits
            arg = picks[j]
        best_cost[s] = best
        last[s] = admissible[arg]

        # prune: flag candidates with F(t) + C(t, s) >= F(s), drop them min_size steps later
        margin = PRUNE_MARGIN * (abs(best) + tie_scale + 1.0)
        kept = 0
        for i in range(n_adm):
            flagged = dominated_at[i]
            if flagged > s and splits[i] > best + margin:
                scale = abs(splits[i]) + 2.0 * abs(best_cost[admissible[i]])
                if splits[i] > best + margin + PRUNE_MARGIN * scale:
                    flagged = s
            if flagged + min_size > s + 1:
                admissible[kept] = admissible[i]
                dominated_at[kept] = flagged
                kept += 1
        n_adm = kept
    return best_cost, last


@nb.njit(cache=True, inline="always")
def _best(starts, dominated_at, costs, best_cost, log_length, penalty, s, count, totals, splits):
    """Totals F(t) + C(t, s) + penalty + length term of candidates starts[:count]
    (into totals, splits), their minimum and the position of the first minimum,
    preferring a candidate not yet found dominated (the set ruptures keeps)."""
    best = np.inf
    arg_any = -1
    arg_free = -1
    for i in range(count):
        t = starts[i]
        splits[i] = best_cost[t] + costs[i]
        # summed as ruptures does: F(t) + (segment cost + penalty)
        total = best_cost[t] + (costs[i] + penalty + log_length[s - t])
        totals[i] = total
        free = dominated_at[i] > s
        if total < best:
            best = total
            arg_any = i
            arg_free = i if free else -1
        elif total == best and arg_free < 0 and free:
            arg_free = i
    return best, (arg_free if arg_free >= 0 else arg_any)


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

    Exact for every `min_size` (the optimum of the penalised objective, see the
    module docstring). `length_weight` adds length_weight * log(segment length)
    to every segment (the MBIC term); the pruning rule stays valid with it,
    since log(s' - t) >= log(s' - s) for t < s.
    """
    n = cost.n
    min_size = max(int(min_size), int(cost.min_size), 1)
    if n == 0:
        return [], np.zeros(1)
    best_cost, last = pelt_search(
        cost.kind,
        cost.reference_kind if cost.reference_kind >= 0 else cost.kind,
        cost.stats,
        cost.params,
        n,
        float(penalty),
        min_size,
        float(length_weight),
        cost.tie_tolerance,
        cost.tie_scale,
    )
    return backtrack(last, n), best_cost
