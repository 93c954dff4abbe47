"""Segment costs, one small class per model (see costs.base.Cost)."""

from __future__ import annotations

from .base import Cost, robust_noise_sd
from .freqsev import FrequencySeverity
from .freqsev_log import FrequencyLogSeverity
from .joint import Joint
from .l2 import L2
from .negbin import NegBin
from .normal_mean import NormalMean
from .normal_meanvar import NormalMeanVar
from .normal_trend import NormalTrend
from .poisson import Poisson

COSTS: dict[str, type[Cost]] = {
    c.name: c
    for c in (
        L2,
        NormalMean,
        NormalMeanVar,
        NormalTrend,
        Poisson,
        NegBin,
        FrequencySeverity,
        FrequencyLogSeverity,
    )
}

__all__ = [
    "COSTS",
    "Cost",
    "FrequencyLogSeverity",
    "FrequencySeverity",
    "Joint",
    "L2",
    "NegBin",
    "NormalMean",
    "NormalMeanVar",
    "NormalTrend",
    "Poisson",
    "robust_noise_sd",
]
