"""Multiple systems estimation (capture-recapture): how many incidents no source recorded.

Each merged incident has a capture history: which sources recorded it. From the
counts of incidents per combination of sources:

- two sources: the Chapman estimator N = (n1 + 1)(n2 + 1) / (m + 1) - 1 (m = incidents
  in both), nearly unbiased for small m, with Seber's variance; the 95% interval is
  the log-normal one of Chao (1987) for the unseen part f0 = N - observed, so it never
  falls below the observed count;
- three or more sources: log-linear models of the incomplete 2^k table (Fienberg 1972),
  Poisson GLMs (statsmodels) of the observed cells' counts on source main effects and
  a chosen set of two-way interactions; the unobserved cell is exp(intercept). Every
  model from independence up to all two-way interactions (at most 2^3 = 8 sets for
  three sources; with four or more, the models adding one interaction at a time to
  independence) is fitted and the lowest BIC wins (-2 log L + parameters x log(observed
  incidents); AIC picked spurious interactions in 40% of simulated independent tables).
  The 95% interval is the profile likelihood interval of the total N itself (Cormack
  1992): for each N the model is refitted to the table completed with N - observed
  unseen incidents and the multinomial likelihood of N incidents compared with its
  maximum. An interval for the expected unseen count exp(intercept) alone leaves out the
  chance variation of how many incidents all sources happened to miss and covered 87%
  of simulated totals; this one 95% (benchmarks/merge.py). The interval spans those of
  every model within 2 BIC of the best (models the data hardly tell apart); the
  uncertainty of a clearer model choice is not in it.

Not estimable (`not_estimable`): an estimate is withheld, with the reason, when it rests on
a handful of incidents or its interval says nothing. Chapman's estimate divides by the
overlap m; a log-linear model's divides by its *key cells*, the cells whose growth shrinks
the unseen count at least half as fast (elasticity of exp(intercept) to the cell <= -0.5;
with interactions 1x2 and 2x3, the cell "in 1 and 3, not in 2" alone). A key cell (or
overlap) below `MIN_KEY_CELL` incidents, the minimum the overlap of two sources already
needs, or a 95% interval whose upper end exceeds `MAX_INTERVAL_RATIO` times its lower end
(the data cannot tell a total from one ten times larger) makes the stratum "not
estimable". On the simulator's tables of hundreds of incidents neither rule fires
(benchmarks/merge.py --quick reports the same coverage before and after them).

Assumptions (returned with every estimate): a closed population of incidents in the
stratum (the year, region); every incident of the stratum had a chance to be recorded
by each source; matching across sources is right; for two sources, independent
sources and homogeneous recording probabilities (incidents equally likely to be
recorded); for three or more, dependence only as captured by the chosen two-way
interactions. Positive dependence (sources copying each other, or all of them seeing
the large attacks and missing the small) biases the estimate down; its interval is
then too low (see benchmarks/merge.py).
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln, xlogy
from scipy.stats import chi2, norm

ASSUMPTIONS = (
    "Multiple systems estimation assumes: a closed population of incidents in each stratum; every "
    "incident could be recorded by every source; correct matching across sources; for two sources "
    "(Chapman), independent sources and equal recording probabilities for all incidents; for three or "
    "more (log-linear, chosen by BIC), dependence only through the chosen two-way interactions. "
    "Sources that see the same kinds of incidents (positive dependence) make the estimate and its "
    "interval too low. Missed matches inflate the estimate, false matches deflate it: the interval "
    "spans the accepted matching and the one with the possible matches (pairs rejected near the "
    "threshold) accepted. It spans the models within 2 BIC of the best, not the uncertainty of a "
    "clearer model choice."
)


def chapman(n1: int, n2: int, m: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Chapman's estimate of the total and its log-normal (Chao) interval: (estimate, low, high)."""
    estimate = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    return estimate, *_lognormal_interval(n1 + n2 - m, estimate, variance, alpha)


def _lognormal_interval(observed: int, estimate: float, variance: float, alpha: float) -> tuple[float, float]:
    unseen = estimate - observed
    if unseen <= 0 or variance <= 0:
        return float(observed), float(max(estimate, observed))
    z = norm.ppf(1 - alpha / 2)
    c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
    return observed + unseen / c, observed + unseen * c


#: Fewest incidents in a cell the estimate divides by (Chapman's overlap, a log-linear model's
#: key cells); the same minimum as the overlap of two sources (`merge.result.MIN_OVERLAP`).
MIN_KEY_CELL = 5
#: An interval whose upper end is more than this many times its lower end is not an estimate.
MAX_INTERVAL_RATIO = 10.0
#: A cell is a key cell when the unseen count's elasticity to it is at most this (it divides by it).
KEY_CELL_ELASTICITY = -0.5


class LoglinearFit(NamedTuple):
    """The chosen log-linear model's estimate of the total, its interval, its description and the
    smallest of its key cells (the capture history as a tuple of 0/1, and its count)."""

    estimate: float
    ci_low: float
    ci_high: float
    method: str
    key_cell: tuple | None
    key_count: int | None


def not_estimable(
    low: float,
    high: float,
    key_count: int | None,
    key_label: str = "the key cell",
    *,
    min_cell: int = MIN_KEY_CELL,
    max_ratio: float = MAX_INTERVAL_RATIO,
) -> str | None:
    """Why an estimate must not be printed as one, or None when it may (see the module docstring).

    `low`, `high`: its interval of the total; `key_count`: the smallest cell it divides by
    (`key_label` names that cell in the reason)."""
    if key_count is not None and key_count < min_cell:
        return (
            f"not estimable: the estimate divides by {key_label}, {key_count} incident"
            f"{'s' * (key_count != 1)}, fewer than {min_cell}"
        )
    if np.isfinite(low) and low > 0 and not high <= max_ratio * low:
        upper = "no upper bound" if not np.isfinite(high) else f"{high:,.0f}"
        return (
            f"not estimable: its 95% interval ({low:,.0f} to {upper}) spans more than {max_ratio:g} times "
            "its lower end"
        )
    return None


#: An upper interval bound beyond this many times the observed count is reported as infinite.
UNBOUNDED_FACTOR = 1e6

#: Models whose BIC is within this of the best one share in the interval (Raftery 1995: a
#: difference under 2 is "not worth more than a bare mention").
SUPPORTED_BIC = 2.0


def loglinear(histories: pd.Series, alpha: float = 0.05) -> tuple[float, float, float, str]:
    """Log-linear MSE from counts per capture history (index: tuples of 0/1, one per source, no all-zero).

    Returns (estimate, ci_low, ci_high, model description); `loglinear_fit` adds the key cell.
    """
    return tuple(loglinear_fit(histories, alpha)[:4])


def loglinear_fit(histories: pd.Series, alpha: float = 0.05) -> LoglinearFit:
    """`loglinear` with the chosen model's smallest key cell (see the module docstring)."""
    k = len(histories.index[0])
    cells = np.array(list(itertools.product((0, 1), repeat=k))[1:])
    counts = histories.reindex([tuple(c) for c in cells], fill_value=0).to_numpy(dtype=float)
    pairs = list(itertools.combinations(range(k), 2))
    if k == 3:
        choices = [list(c) for r in range(len(pairs) + 1) for c in itertools.combinations(pairs, r)]
    else:
        choices = [[]] + [[p] for p in pairs]
    # A model with as many parameters as cells is saturated: no information left on the unseen cell.
    choices = [c for c in choices if 1 + k + len(c) < len(cells)]
    fitted = []
    for interactions in choices:
        design = _design(cells, interactions)
        fit = _fit(counts, design)
        if fit is not None:
            bic = -2 * fit.llf + design.shape[1] * math.log(counts.sum())
            fitted.append((bic, fit, design, interactions))
    if not fitted:
        return LoglinearFit(math.nan, math.nan, math.nan, "log-linear: no model could be fitted", None, None)
    fitted.sort(key=lambda f: f[0])
    _, fit, design, interactions = fitted[0]
    observed = counts.sum()
    unseen = math.exp(fit.params[0])
    # The interval spans those of every model within SUPPORTED_BIC of the best, so the choice
    # between models the data hardly tell apart widens it instead of being ignored.
    intervals = [
        _profile_total_interval(counts, cells, i, math.exp(f.params[0]), alpha)
        for b, f, _, i in fitted
        if b - fitted[0][0] <= SUPPORTED_BIC
    ]
    low, high = min(i[0] for i in intervals), max(i[1] for i in intervals)
    names = ", ".join(f"{a + 1}x{b + 1}" for a, b in interactions) or "none"
    keys = _key_cells(counts, design, fit)
    smallest = min(keys, key=lambda i: counts[i], default=None)
    return LoglinearFit(
        observed + unseen,
        low,
        high,
        f"log-linear (BIC), interactions: {names}",
        None if smallest is None else tuple(int(v) for v in cells[smallest]),
        None if smallest is None else int(counts[smallest]),
    )


def _key_cells(counts: np.ndarray, design: np.ndarray, fit) -> list[int]:
    """Cells the unseen count divides by: elasticity of exp(intercept) to the cell's count at most
    `KEY_CELL_ELASTICITY`. At the Poisson MLE d(params)/d(counts) = (X'WX)^-1 X' (W = fitted
    means), so the elasticity to cell i is count_i times row 0 of (X'WX)^-1 x_i."""
    information = design.T @ (design * fit.mu[:, None])
    try:
        slope = np.linalg.solve(information, design.T)[0]
    except np.linalg.LinAlgError:
        return []
    return [i for i in np.flatnonzero(counts * slope <= KEY_CELL_ELASTICITY)]


def _design(cells: np.ndarray, interactions: list[tuple[int, int]]) -> np.ndarray:
    columns = [np.ones(len(cells)), *cells.T.astype(float)]
    columns += [(cells[:, a] * cells[:, b]).astype(float) for a, b in interactions]
    return np.column_stack(columns)


def _fit(counts: np.ndarray, design: np.ndarray, offset: np.ndarray | None = None):
    import statsmodels.api as sm  # only here: importing statsmodels takes seconds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(counts, design, family=sm.families.Poisson(), offset=offset).fit()
        except (ValueError, np.linalg.LinAlgError):
            return None
    if not np.all(np.isfinite(fit.params)):
        return None
    return fit


def _profile_total_interval(
    counts: np.ndarray, cells: np.ndarray, interactions: list[tuple[int, int]], unseen: float, alpha: float
) -> tuple[float, float]:
    """Profile likelihood interval of the total N (Cormack 1992), as a (low, high) pair.

    For a given N the unseen cell holds N - observed incidents; the model fitted to that
    completed table by Poisson ML gives the cell probabilities that maximize the multinomial
    likelihood of the 2^k table of N incidents, so the profile log likelihood is
    log N!/(N - n)! + sum over cells of count x log(fitted / N). Unlike an interval for the
    expected unseen count exp(intercept), this one also carries the chance variation of how
    many incidents every source happened to miss.
    """
    full = np.vstack([np.zeros(cells.shape[1], int), cells])
    design = _design(full, interactions)
    observed = counts.sum()

    def loglik(total: float) -> float:
        table = np.concatenate([[total - observed], counts])
        fit = _fit(table, design) if total >= observed else None
        if fit is None:
            return -np.inf
        return float(
            gammaln(total + 1) - gammaln(total - observed + 1) + np.sum(xlogy(table, fit.mu / total))
        )

    # The maximum lies near the conditional estimate; the profile likelihood is unimodal in N.
    guess = observed + unseen  # the conditional estimate of the model fitted to the observed cells
    top = minimize_scalar(lambda t: -loglik(t), bounds=(observed, guess + unseen + 10), method="bounded")
    peak, best = max((top.x, -top.fun), (guess, loglik(guess)), key=lambda p: p[1])
    peak = max(peak, float(observed))
    cutoff = chi2.ppf(1 - alpha, 1) / 2

    def drop(total: float) -> float:
        return best - loglik(total) - cutoff

    low = float(observed) if drop(float(observed)) <= 0 else brentq(drop, observed, peak, xtol=1e-3)
    # Searched outwards up to a million times the observed count; a likelihood still within the
    # cutoff there sets no upper limit (the fits of ever larger tables only add rounding noise).
    step, outer = max(peak - observed, 1.0), peak
    while outer < UNBOUNDED_FACTOR * observed:
        inner, outer = outer, min(outer + step, UNBOUNDED_FACTOR * observed)
        if drop(outer) > 0:
            return low, brentq(drop, inner, outer, xtol=1e-3)
        step *= 2
    return low, math.inf
