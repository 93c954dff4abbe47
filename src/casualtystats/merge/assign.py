"""Which reports are one incident: one-to-one assignment, source by source.

Rule (documented in `merge_incidents`): sources are taken in order of size, the
largest first. Every report of the first source starts an incident. Each next
source is assigned to the incidents built so far by a maximum-weight one-to-one
matching (scipy's `linear_sum_assignment`, Hungarian algorithm) over its accepted
pairs, where the weight of (incident, report) is log(score / threshold) for the best
score between the report and any member of the incident: the score is exp(-penalty),
so the matching minimizes the total penalty of the links it makes, each link counted
by how far it clears the threshold (a sum of log likelihood ratios, as in
Fellegi-Sunter record linkage; a sum of raw scores would trade two good links for one
perfect link and one poor one). The matching is solved separately in each
connected component of the pair graph (most components are a single pair, taken
directly). A report left unassigned starts a new incident. Finally, a report alone
in its incident whose best accepted pair is a multi-day report (a source that
aggregates several events into one, as UCDP sometimes does) joins that report's
incident as "many-to-one". So an incident holds at most one report per source, apart from
many-to-one links and exact duplicates, and two reports of one source are never
merged with each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def assign(
    rows: pd.DataFrame, accepted: pd.DataFrame, source_order: list[int], threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Incident number of every row, and its link type ("own", "matched", "many-to-one").

    `rows` needs `src` and `multi_day`; `accepted` holds a, b, score (accepted pairs, score >= `threshold`).
    """
    n = len(rows)
    src = rows["src"].to_numpy()
    multi_day = rows["multi_day"].to_numpy()
    incident = np.full(n, -1, np.int64)
    link = np.full(n, "matched", dtype=object)
    # Both orientations, so a pair is found from either of its reports.
    edges = pd.DataFrame(
        {
            "row": np.concatenate([accepted["a"], accepted["b"]]),
            "other": np.concatenate([accepted["b"], accepted["a"]]),
            "score": np.concatenate([accepted["score"], accepted["score"]]),
        }
    )
    next_id = 0
    for k, source in enumerate(source_order):
        mine = np.flatnonzero(src == source)
        if k == 0:
            incident[mine] = np.arange(next_id, next_id + len(mine))
            link[mine] = "own"
            next_id += len(mine)
            continue
        # Edges from this source's reports to reports already placed in an incident.
        e = edges[(src[edges["row"].to_numpy()] == source) & (incident[edges["other"].to_numpy()] >= 0)]
        e = e.assign(incident=incident[e["other"].to_numpy()])
        e = e.groupby(["row", "incident"], as_index=False)["score"].max()
        rows_taken, incidents_taken = _one_to_one(e, threshold)
        incident[rows_taken] = incidents_taken
        free = np.setdiff1d(mine, rows_taken)
        incident[free] = np.arange(next_id, next_id + len(free))
        link[free] = "own"
        next_id += len(free)
    _many_to_one(incident, link, edges, multi_day)
    return np.unique(incident, return_inverse=True)[1], link


def _many_to_one(incident: np.ndarray, link: np.ndarray, edges: pd.DataFrame, multi_day: np.ndarray) -> None:
    """A report alone in its incident whose best accepted pair is a multi-day report of another
    incident joins that incident, flagged "many-to-one" (in place)."""
    size = np.bincount(incident)
    row = edges["row"].to_numpy()
    fits = (size[incident[row]] == 1) & ~multi_day[row]
    best = edges[fits].sort_values("score", ascending=False, kind="stable").drop_duplicates("row")
    best = best[multi_day[best["other"].to_numpy()]]
    target = incident[best["other"].to_numpy()]
    incident[best["row"].to_numpy()] = target
    link[best["row"].to_numpy()] = "many-to-one"


def _one_to_one(edges: pd.DataFrame, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of rows to incidents of maximum total log(score / threshold);
    (rows, incidents) matched."""
    if edges.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    row_ids, row_no = np.unique(edges["row"].to_numpy(), return_inverse=True)
    inc_ids, inc_no = np.unique(edges["incident"].to_numpy(), return_inverse=True)
    n_rows = len(row_ids)
    graph = coo_matrix((np.ones(len(edges)), (row_no, n_rows + inc_no)), shape=(n_rows + len(inc_ids),) * 2)
    _, component = connected_components(graph, directed=False)
    comp = component[row_no]
    size = np.bincount(comp, minlength=component.max() + 1)
    single = size[comp] == 1  # a component of one edge: that pair is the matching
    taken_rows = [row_ids[row_no[single]]]
    taken_incidents = [inc_ids[inc_no[single]]]
    # The other components, solved one by one on numpy slices (sorted by component).
    order = np.flatnonzero(~single)
    order = order[np.argsort(comp[order], kind="stable")]
    bounds = np.flatnonzero(np.diff(comp[order])) + 1
    rows, incs, scores = row_no[order], inc_no[order], edges["score"].to_numpy()[order]
    for part in np.split(np.arange(len(order)), bounds) if len(order) else []:
        r_ids, r_no = np.unique(rows[part], return_inverse=True)
        i_ids, i_no = np.unique(incs[part], return_inverse=True)
        weight = np.zeros((len(r_ids), len(i_ids)))
        # A pair exactly at the threshold still weighs a little more than no pair (weight 0).
        weight[r_no, i_no] = np.log(scores[part] / threshold) + 1e-9
        r, i = linear_sum_assignment(weight, maximize=True)
        real = weight[r, i] > 0
        taken_rows.append(row_ids[r_ids[r[real]]])
        taken_incidents.append(inc_ids[i_ids[i[real]]])
    return np.concatenate(taken_rows), np.concatenate(taken_incidents)
