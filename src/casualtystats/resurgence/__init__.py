"""Resurgence: flags that say where violence is rising again, each with its
evidence (`find_resurgence`), thresholds set under a false-alarm budget
(`calibrate`), past alerts consolidated (`alert_history`), and a replay of the
flags over the past with only the data known at each date (`backtest`). Rules
are defined in `rules`."""

from .backtest import BacktestResult, backtest
from .calibrate import DEFAULT_FALSE_ALARM_BUDGET
from .history import alert_history
from .rules import RULES, ResurgenceError, Thresholds, find_resurgence, stack_measures

__all__ = [
    "DEFAULT_FALSE_ALARM_BUDGET",
    "RULES",
    "BacktestResult",
    "ResurgenceError",
    "Thresholds",
    "alert_history",
    "backtest",
    "find_resurgence",
    "stack_measures",
]
