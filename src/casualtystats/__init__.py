"""casualtystats: casualty statistics of political violence.

Pipeline (data flows one way)::

    sources -> schema -> aggregate -> changepoints, trend -> resurgence -> report, briefing

The public API is imported lazily, so ``import casualtystats`` stays fast and
a script that only loads files never pays for numba, statsmodels or plotly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "IncidentSchema": "schema",
    "load_incidents": "sources",
    "LoadResult": "sources",
    "LoadError": "sources",
    "involving": "normalize",
    "close_actor_names": "normalize",
    "normalize_actors": "normalize",
    "normalize_regions": "normalize",
    "weekly_panel": "aggregate",
    "monthly_panel": "aggregate",
    "yearly_panel": "aggregate",
    "PanelSchema": "aggregate",
    "simulate_incidents": "simulate",
    "simulate_sources": "simulate",
    "merge_incidents": "merge",
    "MergeResult": "merge",
    "SimulatedIncidents": "simulate",
    "detect_change_points": "changepoints",
    "ChangePoints": "changepoints",
    "bocpd": "changepoints",
    "BOCPDResult": "changepoints",
    "fit_trend": "trend",
    "TrendResult": "trend",
    "forecast": "forecast",
    "Forecast": "forecast",
    "find_resurgence": "resurgence",
    "backtest": "resurgence",
    "alert_history": "resurgence",
    "build_report": "report",
    "briefing": "briefing",
    "Briefing": "briefing",
    "assess": "assessment",
    "build_assessment": "assessment",
    "Assessment": "assessment",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'casualtystats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # for type checkers and IDEs only; __all__ above lists them at run time
    # ruff: noqa: F401
    from .aggregate import PanelSchema, monthly_panel, weekly_panel, yearly_panel
    from .assessment import Assessment, assess, build_assessment
    from .briefing import Briefing, briefing
    from .changepoints import BOCPDResult, ChangePoints, bocpd, detect_change_points
    from .forecast import Forecast, forecast
    from .merge import MergeResult, merge_incidents
    from .normalize import close_actor_names, involving, normalize_actors, normalize_regions
    from .report import build_report
    from .resurgence import alert_history, backtest, find_resurgence
    from .schema import IncidentSchema
    from .simulate import SimulatedIncidents, simulate_incidents, simulate_sources
    from .sources import LoadError, LoadResult, load_incidents
    from .trend import TrendResult, fit_trend
