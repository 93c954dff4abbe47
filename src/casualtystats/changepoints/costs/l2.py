"""Least squared deviation from the segment mean (ruptures' "l2")."""

from __future__ import annotations

import numba as nb
import numpy as np

from .base import Cost, cumulative, noise_scale


@nb.njit(cache=True)
def l2_segment_cost(stats, params, start, end):
    n = end - start
    s1 = stats[0, end] - stats[0, start]
    s2 = stats[1, end] - stats[1, start]
    return s2 - s1 * s1 / n


@nb.njit(cache=True, inline="always")
def _term(a, i, shift, square):
    # the summed value: a[i], or (a[i] - shift)**2 as numpy's var computes it (d * d)
    if square:
        d = a[i] - shift
        return d * d
    return a[i]


@nb.njit(cache=True)
def numpy_block_sum(a, lo, n, shift, square):
    """numpy's sum of at most 128 values: 8 running sums, combined pairwise, then the tail."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += _term(a, lo + i, shift, square)
        return res
    r0, r1 = _term(a, lo, shift, square), _term(a, lo + 1, shift, square)
    r2, r3 = _term(a, lo + 2, shift, square), _term(a, lo + 3, shift, square)
    r4, r5 = _term(a, lo + 4, shift, square), _term(a, lo + 5, shift, square)
    r6, r7 = _term(a, lo + 6, shift, square), _term(a, lo + 7, shift, square)
    i = 8
    while i < n - n % 8:
        r0 += _term(a, lo + i, shift, square)
        r1 += _term(a, lo + i + 1, shift, square)
        r2 += _term(a, lo + i + 2, shift, square)
        r3 += _term(a, lo + i + 3, shift, square)
        r4 += _term(a, lo + i + 4, shift, square)
        r5 += _term(a, lo + i + 5, shift, square)
        r6 += _term(a, lo + i + 6, shift, square)
        r7 += _term(a, lo + i + 7, shift, square)
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += _term(a, lo + i, shift, square)
        i += 1
    return res


@nb.njit(cache=True)
def numpy_pairwise_sum(a, lo, n, shift=0.0, square=False):
    """Sum of a[lo:lo + n] (or of its squared deviations from `shift`) in
    numpy's order, so the rounding matches np.sum bit for bit: blocks of at
    most 128, larger ranges split in two halves (the first a multiple of 8
    long) and the halves added. numpy recurses; this walks the same tree with
    an explicit stack (recursive numba functions do not survive the on-disk
    cache). The squares are formed on the fly: no temporary array per call."""
    if n <= 128:
        return numpy_block_sum(a, lo, n, shift, square)
    depth = 64
    f_lo = np.empty(depth, dtype=np.int64)
    f_n = np.empty(depth, dtype=np.int64)
    f_stage = np.empty(depth, dtype=np.int64)
    f_left = np.empty(depth)
    f_lo[0], f_n[0], f_stage[0] = lo, n, 0
    top = 0
    result = 0.0
    while top >= 0:
        m = f_n[top]
        if m <= 128:
            result = numpy_block_sum(a, f_lo[top], m, shift, square)
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if f_stage[top] == 0:  # descend into the first half
            f_stage[top] = 1
            f_lo[top + 1], f_n[top + 1], f_stage[top + 1] = f_lo[top], half, 0
            top += 1
        elif f_stage[top] == 1:  # first half done: keep it, descend into the second
            f_left[top] = result
            f_stage[top] = 2
            f_lo[top + 1], f_n[top + 1], f_stage[top + 1] = f_lo[top] + half, m - half, 0
            top += 1
        else:
            result = f_left[top] + result
            top -= 1
    return result


@nb.njit(cache=True)
def l2_reference_cost(stats, params, start, end):
    """ruptures' CostL2.error, y[start:end].var() * (end - start), with numpy's
    rounding: two passes, O(end - start)."""
    n = end - start
    y = stats[2]
    mean = numpy_pairwise_sum(y, start, n, 0.0, False) / n
    return (numpy_pairwise_sum(y, start, n, mean, True) / n) * n


class L2(Cost):
    """Residual sum of squares about the segment mean, in the data's units.

    The same quantity as ruptures' CostL2; with a numeric penalty, PELT on
    this cost returns exactly ruptures.Pelt(model="l2", jump=1) change
    points, including how exact ties on integer data are broken.
    """

    name = "l2"
    n_params = 1
    segment_cost = l2_segment_cost
    kind = 0  # costs.kernel.L2
    reference_kind = 1  # costs.kernel.L2_REFERENCE
    tie_tolerance = 1e-9

    def _stats(self, y):
        # centring first keeps s2 - s1^2/n from cancelling on series far from zero;
        # row 2 keeps the raw values for the reference cost
        yc = y - y.mean()
        stats = cumulative(yc, yc * yc, np.zeros_like(y))
        stats[2, : y.size] = y
        # s2 - s1^2/n loses up to ~eps x (total sum of squares): near-ties are judged on that scale
        self.tie_scale = float(stats[1, -1])
        return stats, np.zeros(0)

    @property
    def scale(self) -> float:
        # RSS = sigma^2 x (-2 log-likelihood): BIC-type penalties are multiplied by sigma^2
        return noise_scale(self.values) ** 2
