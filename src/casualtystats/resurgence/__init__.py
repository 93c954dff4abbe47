"""Resurgence: flags that say where violence is rising again, each with its
evidence (`find_resurgence`), and a replay of the flags over the past with only
the data known at each date (`backtest`). Rules are defined in `rules`."""

from .backtest import BacktestResult, backtest
from .rules import RULES, ResurgenceError, Thresholds, find_resurgence

__all__ = ["RULES", "BacktestResult", "ResurgenceError", "Thresholds", "backtest", "find_resurgence"]
