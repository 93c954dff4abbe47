"""Penalties for PELT, on the scale of -2 x log-likelihood.

- "bic": beta = (p + 1) log n per change, p = parameters per segment
  (+1 for the location) (Schwarz 1978).
- "mbic": Zhang & Siegmund's (2007) modified BIC: (p + 2) log n per change
  plus sum over segments of log(n_i / n), which penalises very short
  segments; equivalently (p + 1) log n per change plus log(n_i) per segment.
- a number: used as is (in the cost's own units: for `l2` that is a sum of
  squares, exactly as ruptures' `pen`).
- "auto" (the default): MBIC, corrected for serial dependence. The costs
  treat observations as independent; real series (economic, weekly
  casualties) have correlated noise, which makes every likelihood gain look
  (1 + phi) / (1 - phi) times larger than it is (phi = lag-1
  autocorrelation; the long-run variance factor of an AR(1)). So: segment
  with MBIC, estimate phi from the residuals about the fitted segments
  (clipped to [0, 0.95]), multiply the penalty by that factor and segment
  again; re-estimate phi once more from the new residuals and segment a last
  time (`DEPENDENCE_ROUNDS` = 2 corrections). `AutoPenalty()` is this rule
  with its constants spelled out; other constants give the variants that
  benchmarks/tcpd.py uses for its leave-one-series-out check. The two rounds
  are not a fixed point of the correction: iterating further drives some
  series to no change at all (see the README, `## Change points`).
For the count costs ("negbin", "poisson", "freqsev", "freqsev_log") "auto" corrects for
dependence differently (`count_dependence`, iterated to a fixed point by
detect_change_points): counts are a latent rate seen through Poisson-type
noise, so their autocorrelation is diluted at lag 1 and then decays slowly,
and the lag-1 AR(1) factor above badly understates the long-run variance
(about 2 where it is 9 for a latent AR(1) log-rate with phi = 0.8).
For `l2`, whose cost is a residual sum of squares, the BIC-type penalties are
multiplied by the robust noise variance so they mean the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .costs import Cost
from .errors import ChangePointError

#: number of times "auto" re-estimates the dependence factor and re-segments
DEPENDENCE_ROUNDS = 2
#: largest lag-1 autocorrelation used (factor 39): beyond it the series is a random walk
MAX_PHI = 0.95
#: count costs: at most this many re-estimates of the long-run factor, stopping when a
#: re-estimate raises no factor by more than COUNT_TOLERANCE (relative)
COUNT_ROUNDS = 10
COUNT_TOLERANCE = 0.05
#: Pearson residuals are clipped at this many sds so that one huge week cannot set the factor
RESIDUAL_CLIP = 3.0
#: autocorrelations up to this lag (at most a quarter of the series) enter the long-run fit
MAX_LAG = 26
#: the fitted dependence is used only when it explains the autocorrelations significantly:
#: n x (sum rho_h^2 - residual sum of squares) is chi^2 with 2 df under independence; 99% point
DEPENDENCE_TEST = 9.21


@dataclass(frozen=True)
class Penalty:
    """A resolved penalty: `value` per change, `length_weight` x log(n_i) per
    segment, and the dependence `factor` already included in both."""

    name: str
    value: float
    length_weight: float = 0.0
    factor: float = 1.0

    def scaled(self, factor: float) -> Penalty:
        """The same penalty with its dependence factor set to `factor`."""
        k = factor / self.factor
        return replace(self, value=self.value * k, length_weight=self.length_weight * k, factor=factor)


@dataclass(frozen=True)
class AutoPenalty:
    """The "auto" rule: per change (p + `change_weight`) log n, per segment
    `length_weight` x log(n_i), both multiplied by the dependence factor
    re-estimated `rounds` times. The defaults are MBIC with 2 rounds.
    `abrupt_only`: with the `normal_trend` cost, keep only the breaks that a
    smooth (cubic) curve does not explain as well (see `abrupt`)."""

    change_weight: float = 1.0
    length_weight: float = 1.0
    rounds: int = DEPENDENCE_ROUNDS
    abrupt_only: bool = True


def bic(n: int, n_params: int) -> float:
    return (n_params + 1) * math.log(max(n, 2))


def mbic(n: int, n_params: int) -> float:
    """Per-change part of MBIC; the log(n_i) per segment is `Penalty.length_weight`."""
    return (n_params + 1) * math.log(max(n, 2))


def dependence_factor(residuals: np.ndarray) -> float:
    """(1 + phi) / (1 - phi) from the lag-1 autocorrelation of `residuals`, phi in [0, MAX_PHI]."""
    r = np.asarray(residuals, dtype=float)
    r = r - r.mean()
    denom = float(r @ r)
    if r.size < 3 or denom <= 0:
        return 1.0
    phi = min(max(float(r[1:] @ r[:-1]) / denom, 0.0), MAX_PHI)
    return (1 + phi) / (1 - phi)


def autocorrelations(e: np.ndarray, max_lag: int) -> np.ndarray:
    """rho_1..rho_max_lag of `e` (NaN = missing: a pair counts only when both are known)."""
    known = np.isfinite(e)
    x = np.where(known, e - np.nanmean(e), 0.0)
    var = float(x @ x) / max(int(known.sum()), 1)
    if var <= 0:
        return np.zeros(max_lag)
    out = np.empty(max_lag)
    for h in range(1, max_lag + 1):
        pairs = int((known[h:] & known[:-h]).sum())
        out[h - 1] = float(x[h:] @ x[:-h]) / max(pairs, 1) / var
    return out


def long_run_factor(e: np.ndarray) -> float:
    """Long-run variance / variance of a residual series whose autocorrelation
    is rho_h = c phi^h (h >= 1): 1 + 2 c phi / (1 - phi).

    That is the autocorrelation of a latent AR(1) seen through independent
    noise (an ARMA(1, 1)): c < 1 is the share of the variance in the latent
    part, phi its persistence. (c, phi) are fitted by least squares to the
    sample autocorrelations at lags 1..min(MAX_LAG, n / 4), phi on a grid in
    [0, MAX_PHI] and c >= 0; the factor is at least 1. Under independence the
    sample autocorrelations are noise of sd 1 / sqrt(n), and a geometric tail
    fitted to noise extrapolates it into a factor of 1.5 or more; so the fit
    counts only when it passes a chi^2(2) test at 1% (`DEPENDENCE_TEST`), else
    the factor is 1. Without the test one noisy overestimate can raise the
    penalty past a real change, whose level shift then looks like strong
    dependence (a second, spurious fixed point of detect's iteration).
    """
    e = np.asarray(e, dtype=float)
    n = int(np.isfinite(e).sum())
    max_lag = min(MAX_LAG, n // 4)
    if max_lag < 2:
        return 1.0
    rho = autocorrelations(np.clip(e, -RESIDUAL_CLIP, RESIDUAL_CLIP), max_lag)
    lags = np.arange(1, max_lag + 1)
    null = float(rho @ rho)
    best, factor = null, 1.0
    for phi in np.linspace(0.0, MAX_PHI, 96)[1:]:
        shape = phi**lags
        c = max(float(rho @ shape) / float(shape @ shape), 0.0)
        loss = float(((rho - c * shape) ** 2).sum())
        if loss < best:
            best, factor = loss, 1.0 + 2.0 * c * phi / (1.0 - phi)
    if n * (null - best) < DEPENDENCE_TEST:
        return 1.0
    return max(factor, 1.0)


def count_dependence(residuals: np.ndarray, scaled=True) -> np.ndarray:
    """Long-run variance factor of each column (part of a count cost) of Pearson
    residuals: their variance (the quasi-likelihood dispersion, at least 1: any
    overdispersion the fitted sizes miss) times `long_run_factor`. Both use the
    residuals clipped at RESIDUAL_CLIP sds. `scaled` (one flag, or one per
    column) False leaves the variance out: for a part whose dispersion the cost
    already estimated robustly (the log severity of "freqsev_log"), where the
    residuals' variance would count a missed change as dispersion."""
    columns = np.atleast_2d(residuals.T)
    out = []
    for col, scale_it in zip(columns, np.broadcast_to(scaled, len(columns)), strict=True):
        clipped = np.clip(col[np.isfinite(col)], -RESIDUAL_CLIP, RESIDUAL_CLIP)
        scale = max(float(np.mean(clipped**2)), 1.0) if clipped.size and scale_it else 1.0
        out.append(scale * long_run_factor(col))
    return np.array(out)


def bad_penalty(penalty) -> str:
    return f"penalty must be 'auto', 'bic', 'mbic', an AutoPenalty or a number, not {penalty!r}"


def resolve_penalty(penalty, cost: Cost, n: int) -> tuple[Penalty, int]:
    """The starting penalty and the number of dependence rounds detect applies
    to it ("auto" and AutoPenalty start from MBIC-type constants; others 0 rounds)."""
    if penalty == "auto":
        penalty = AutoPenalty()
    if isinstance(penalty, AutoPenalty):
        per_change = (cost.n_params + penalty.change_weight) * math.log(max(n, 2))
        pen = Penalty("auto", cost.scale * per_change, cost.scale * penalty.length_weight)
        return pen, int(penalty.rounds)
    if isinstance(penalty, bool):
        raise ChangePointError(bad_penalty(penalty))
    if isinstance(penalty, int | float):
        if not math.isfinite(penalty) or penalty < 0:
            raise ChangePointError(f"penalty must be a finite number >= 0, not {penalty!r}")
        return Penalty("numeric", float(penalty)), 0
    if penalty == "bic":
        return Penalty("bic", cost.scale * bic(n, cost.n_params)), 0
    if penalty == "mbic":
        return Penalty("mbic", cost.scale * mbic(n, cost.n_params), cost.scale), 0
    raise ChangePointError(bad_penalty(penalty))
