"""Change points: exact PELT with pluggable costs, and Bayesian online detection.

detect_change_points(values, cost="auto", penalty="auto", season="auto") -> ChangePoints (.season: Season)
bocpd(values, model="auto", hazard=1/100) -> BOCPDResult
"""

from __future__ import annotations

from .bocpd import bocpd
from .detect import detect_change_points
from .penalties import AutoPenalty
from .results import BOCPDResult, ChangePoints
from .season import Season

__all__ = ["AutoPenalty", "BOCPDResult", "ChangePoints", "Season", "bocpd", "detect_change_points"]
