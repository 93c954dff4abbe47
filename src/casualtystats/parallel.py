"""Independent per-series model work on every core the process may use.

`map_series(function, items)` is ``[function(item) for item in items]`` (several
iterables give several arguments, as with `map`), run in worker processes when that can help: the report fits the same models to a few
dozen regional series one after another, and those fits share nothing. The
results come back in the order of the items and are the ones the serial loop
gives (every model here is deterministic given its series: no shared random
state crosses from one series to the next). `start_series` starts the same work
and returns at once, so that the caller can do other work meanwhile (the report
draws the sections of its page that need no fit); its `result()` is the map's.

Workers are forked (Linux), so they inherit the parent's imports and numba's
compiled kernels and start in milliseconds; where fork is not available
(macOS spawns by default, Windows cannot fork) the map runs serially. It also
runs serially with one core, with fewer than two calls, or when the environment
variable ``CASUALTYSTATS_WORKERS`` is 1 (any integer >= 1 caps the workers;
unset means one per core the process may use).

`function` must be a module-level function (its name is sent to the workers)
and it must handle each series' expected errors and warnings itself (return a
reason, record warnings) as it would in a serial loop: an exception it raises
propagates from `map_series`, as the serial loop's would, after the other
series have finished.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Generic, TypeVar

from threadpoolctl import threadpool_limits

from .errors import CasualtyStatsError

WORKERS_VARIABLE = "CASUALTYSTATS_WORKERS"

Result = TypeVar("Result")


def available_workers() -> int:
    """Worker processes `map_series` may use: the cores this process may run on
    (``os.sched_getaffinity``, else ``os.cpu_count()``), capped by the environment
    variable ``CASUALTYSTATS_WORKERS`` when set (an integer >= 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    wanted = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not wanted:
        return max(cores, 1)
    if not wanted.isdigit() or int(wanted) < 1:
        raise CasualtyStatsError(f"{WORKERS_VARIABLE} must be a whole number >= 1, got {wanted!r}")
    return min(int(wanted), max(cores, 1))


def map_series(function: Callable[..., Result], *iterables: Iterable) -> list[Result]:
    """``[function(*args) for args in zip(*iterables, strict=True)]``, as the builtin `map`
    takes arguments, on up to `available_workers()` forked processes (serially when there
    is one worker, fewer than two calls, or no fork). Same results in the same order as
    the serial loop; see the module docstring."""
    with start_series(function, *iterables) as pending:
        return pending.result()


class SeriesInProgress(Generic[Result]):
    """The calls of `start_series`, running in worker processes while the caller goes on
    (or, serially, when `result` is first asked for). Use it as a context manager: leaving
    it waits for the workers and stops them."""

    def __init__(self, function: Callable[..., Result], calls: list[tuple]):
        self._function, self._calls = function, calls
        self._results: list[Result] | None = None
        self._pool, self._futures = None, []
        workers = min(available_workers(), len(calls))
        if workers >= 2 and "fork" in multiprocessing.get_all_start_methods():
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            # one call per task: series differ a lot in cost, so small tasks balance the cores
            self._futures = [self._pool.submit(function, *args) for args in calls]

    def result(self) -> list[Result]:
        """The results in the order of the calls (waiting for them); the first call's error, in
        that order, is raised as the serial loop would raise it."""
        if self._results is None:
            if self._pool is None:
                self._results = [self._function(*args) for args in self._calls]
            else:
                self._results = [future.result() for future in self._futures]
        return self._results

    def __enter__(self) -> SeriesInProgress[Result]:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def start_series(function: Callable[..., Result], *iterables: Iterable) -> SeriesInProgress[Result]:
    """`map_series` that returns at once: the calls run in worker processes while the caller
    does other work, and `SeriesInProgress.result()` gives what `map_series` would have given.
    Serially (one worker, fewer than two calls, no fork), the calls run when the result is
    first asked for."""
    return SeriesInProgress(function, list(zip(*iterables, strict=True)))


def single_thread_blas():
    """Context in which BLAS runs on one thread. The models' linear algebra is on small matrices,
    where BLAS threads cost more than they save (a trend fit takes 2.2 times the CPU with two
    OpenBLAS threads on two busy cores) and compete with `map_series`' workers for the cores.
    Results are the same, bit for bit."""
    return threadpool_limits(limits=1, user_api="blas")
