"""Gaussian segments with their own straight-line trend."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .base import Cost, cumulative, robust_noise_sd


@nb.njit(cache=True)
def trend_rss(stats, start, end):
    n = end - start
    st_ = stats[0, end] - stats[0, start]
    sy = stats[1, end] - stats[1, start]
    stt = stats[2, end] - stats[2, start] - st_ * st_ / n
    sty = stats[3, end] - stats[3, start] - st_ * sy / n
    syy = stats[4, end] - stats[4, start] - sy * sy / n
    if stt <= 0.0:
        return max(syy, 0.0)
    return max(syy - sty * sty / stt, 0.0)


@nb.njit(cache=True)
def normal_trend_segment_cost(stats, params, start, end):
    return trend_rss(stats, start, end) / params[0]


class NormalTrend(Cost):
    """-2 log-likelihood of a Gaussian segment around its own least-squares
    line (level and slope per segment, not joined), with a common noise
    variance estimated once from first differences.

    A change point is then a break in level or in slope: a steadily rising
    series is one segment, not a staircase of mean shifts.
    """

    name = "normal_trend"
    n_params = 2
    min_size = 2
    segment_cost = normal_trend_segment_cost

    def _stats(self, y):
        t = self.times - self.times.mean()
        self.sigma = max(robust_noise_sd(y), 1e-12 * max(1.0, float(np.abs(y).max(initial=0.0))))
        yc = (y - y.mean()) / self.sigma  # in noise units, so the cost needs no further scaling
        return cumulative(t, yc, t * t, t * yc, yc * yc), np.array([1.0])
