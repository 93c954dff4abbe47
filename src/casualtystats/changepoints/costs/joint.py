"""Several series observed at the same times, segmented together (one set of change points).

The joint cost of a segment is the sum of one univariate cost per column (each a Cost of
its own, fitted to its column): the columns are taken as independent given the segment,
so their -2 log-likelihoods add. A change point is a change in any column. Each column's
cost is divided by its weight: its `scale` (the `l2` cost is a residual sum of squares in
squared units; the others are already -2 log-likelihoods) times its long-run variance
factor (`set_weights`; 1 = independent observations), so a column whose noise is serially
dependent counts for what its evidence is worth, as the univariate "auto" penalty's factor
does for one series. A sum of costs that never rise when a segment is split never rises
either, so PELT stays exact (tests/test_pelt_exact.py).
"""

from __future__ import annotations

import math

import numpy as np

from .base import Cost
from .kernel import COLUMN_KINDS, JOINT, JOINT_FIELDS, joint_segment_cost


class Joint(Cost):
    """-2 log-likelihood of an (n, d) array, d >= 2: the sum of `columns[j]`'s cost of column j,
    each divided by its weight (scale x long-run factor). `names` label the columns (results,
    `detail`); parameters per segment are the columns' summed, the minimum segment length the
    largest of theirs. The columns' costs are Cost instances of one series each (not
    "freqsev", which takes two columns itself)."""

    name = "joint"
    data = "columns"
    segment_cost = joint_segment_cost
    kind = JOINT

    def __init__(self, columns, names=None):
        self.columns = list(columns)
        if len(self.columns) < 2:
            raise ValueError(f"a joint cost needs at least 2 columns, got {len(self.columns)}")
        for column in self.columns:
            if not isinstance(column, Cost) or column.kind not in COLUMN_KINDS:
                raise ValueError(f"a joint cost's columns are costs of one series each, not {column!r}")
        self.part_names = (
            tuple(str(c) for c in names) if names is not None else tuple(map(str, range(self.d)))
        )
        if len(self.part_names) != self.d:
            raise ValueError(f"{len(self.part_names)} names for {self.d} columns")
        self.n_params = sum(c.n_params for c in self.columns)
        self.min_size = max(c.min_size for c in self.columns)
        self.factors = np.ones(self.d)

    @property
    def d(self) -> int:
        return len(self.columns)

    def fit(self, values, times=None) -> Joint:
        y = np.asarray(values, dtype=float)
        if y.ndim != 2 or y.shape[1] != self.d:
            raise ValueError(f"a joint cost of {self.d} columns needs an (n, {self.d}) array, got {y.shape}")
        self.values = y
        self.n = y.shape[0]
        self.times = np.arange(self.n, dtype=float) if times is None else np.asarray(times, dtype=float)
        for j, column in enumerate(self.columns):
            column.fit(y[:, j], times=self.times)
        self.stats = np.vstack([c.stats for c in self.columns])
        header = np.zeros(1 + JOINT_FIELDS * self.d)
        header[0] = self.d
        row, at = 0, header.size
        for j, column in enumerate(self.columns):
            k, m = column.stats.shape[0], column.params.size
            header[1 + JOINT_FIELDS * j : 1 + JOINT_FIELDS * (j + 1)] = [
                column.kind,
                row,
                row + k,
                at,
                at + m,
                1.0,
            ]
            row, at = row + k, at + m
        self.params = np.r_[header, *[c.params for c in self.columns]]
        self.set_weights(np.ones(self.d))
        return self

    def set_weights(self, factors) -> None:
        """Divide each column's cost by its scale times its long-run variance factor."""
        self.factors = np.asarray(factors, dtype=float).copy()
        for j, (column, factor) in enumerate(zip(self.columns, self.factors, strict=True)):
            self.params[1 + JOINT_FIELDS * j + 5] = 1.0 / (column.scale * factor)

    def fitted(self, start: int, end: int) -> np.ndarray:
        """Each column's fitted values, shape (end - start, d)."""
        return np.column_stack([c.fitted(start, end) for c in self.columns])

    def estimate(self, start: int, end: int, alpha: float = 0.05):
        """No single level: the columns' own are in `detail`."""
        return math.nan, math.nan, math.nan, math.nan

    def detail(self, start: int, end: int, alpha: float = 0.05) -> dict[str, float]:
        """Each column's segment level with its (1 - alpha) CI, by the column's own cost."""
        out = {}
        for name, column in zip(self.part_names, self.columns, strict=True):
            level, low, high, _ = column.estimate(start, end, alpha=alpha)
            out |= {name: level, f"{name}_ci_low": low, f"{name}_ci_high": high}
        return out

    def __repr__(self) -> str:
        return f"Joint({self.columns!r}, names={list(self.part_names)!r})"
