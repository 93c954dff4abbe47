"""The change-point stage's user-facing error."""

from __future__ import annotations

from ..errors import CasualtyStatsError


class ChangePointError(CasualtyStatsError, ValueError):
    """Bad arguments to detect_change_points or bocpd (unknown cost, bad penalty, not 1-D, ...)."""
