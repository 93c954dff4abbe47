"""Change-point accuracy metrics of van den Burg & Williams (2020),
"An Evaluation of Change Point Detection Algorithms" (TCPD).

Locations are 0-based indices of the first observation of a new segment.
Index 0 counts as a change point in every annotation and in the prediction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def true_positives(truth: Iterable[int], predicted: Iterable[int], margin: int = 5) -> set[int]:
    """True change points matched by a prediction within `margin`; each
    prediction matches at most one true point (the closest still unmatched,
    taking true points in increasing order)."""
    free = set(predicted)
    hits = set()
    for tau in sorted(set(truth)):
        close = sorted((abs(tau - x), x) for x in free if abs(tau - x) <= margin)
        if close:
            hits.add(tau)
            free.remove(close[0][1])
    return hits


def f_measure(annotations: Mapping[str, Iterable[int]], predicted: Iterable[int], margin: int = 5) -> float:
    """F1 with precision against the union of all annotators' points and
    recall averaged over annotators."""
    per_annotator = [set(points) | {0} for points in annotations.values()]
    union = set().union(*per_annotator)
    pred = set(predicted) | {0}
    precision = len(true_positives(union, pred, margin)) / len(pred)
    recall = sum(len(true_positives(t, pred, margin)) / len(t) for t in per_annotator) / len(per_annotator)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def partition(locations: Iterable[int], n_obs: int) -> list[set[int]]:
    """The segments (as sets of indices) that change points cut 0..n_obs-1 into."""
    cuts = sorted({c for c in locations if 0 < c < n_obs})
    bounds = [0, *cuts, n_obs]
    return [set(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def cover_single(predicted: list[set[int]], truth: list[set[int]]) -> float:
    """Segmentation covering of `truth` by `predicted` (Arbelaez et al. 2011):
    sum over true segments of |A| x best Jaccard overlap, divided by n."""
    n = sum(map(len, truth))
    total = 0.0
    for a in truth:
        total += len(a) * max(len(a & b) / len(a | b) for b in predicted)
    return total / n


def covering(annotations: Mapping[str, Iterable[int]], predicted: Iterable[int], n_obs: int) -> float:
    """Mean over annotators of the covering of their segmentation by the prediction."""
    pred = partition(predicted, n_obs)
    scores = [cover_single(pred, partition(points, n_obs)) for points in annotations.values()]
    return sum(scores) / len(scores)
