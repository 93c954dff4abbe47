"""detect_change_points: the offline entry point (PELT with a chosen cost and penalty)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .abrupt import keep_abrupt
from .costs import COSTS, Cost, local_dispersion
from .detection.pelt import pelt
from .errors import ChangePointError
from .penalties import AutoPenalty, dependence_factor, resolve_penalty
from .results import ChangePoints

#: integer series with a larger median are measured quantities (populations, money,
#: production), for which the discreteness is immaterial: they get the Gaussian trend cost
MAX_COUNT_MEDIAN = 1000

#: a count series whose neighbouring-pair variance exceeds this multiple of its
#: mean is treated as overdispersed (negative binomial rather than Poisson)
OVERDISPERSION_INDEX = 1.5


def as_series(values) -> tuple[np.ndarray, pd.Index]:
    """Values as a float array plus the labels to report (the Series index, or 0..n-1)."""
    if isinstance(values, pd.Series):
        labels = values.index
        y = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    else:
        try:
            y = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ChangePointError(f"values must be numeric: {exc}") from None
        labels = pd.RangeIndex(y.shape[0] if y.ndim else 0)
    if y.ndim != 1:
        raise ChangePointError(f"values must be one-dimensional, got shape {y.shape}")
    y = np.where(np.isfinite(y), y, np.nan)
    return y, labels


def is_count_series(y: np.ndarray) -> bool:
    return y.size > 0 and bool(np.all(y >= 0) and np.all(y == np.round(y)))


def choose_cost(y: np.ndarray) -> str:
    """The cost="auto" rule (documented in detect_change_points)."""
    if is_count_series(y) and np.median(y) <= MAX_COUNT_MEDIAN:
        index, _ = local_dispersion(y)
        return "negbin" if index > OVERDISPERSION_INDEX else "poisson"
    return "normal_trend"


def segment_bounds(cuts: list[int], n: int) -> list[tuple[int, int]]:
    return list(zip([0, *cuts], [*cuts, n], strict=True))


def residuals(model: Cost, cuts: list[int]) -> np.ndarray:
    """Observed values minus each segment's fitted values."""
    return np.concatenate([model.values[a:b] - model.fitted(a, b) for a, b in segment_bounds(cuts, model.n)])


def make_cost(cost) -> Cost:
    if isinstance(cost, Cost):
        return cost
    if isinstance(cost, type) and issubclass(cost, Cost):
        return cost()
    if cost not in COSTS:
        raise ChangePointError(f"unknown cost {cost!r}; choose one of {sorted(COSTS)} or 'auto'")
    return COSTS[cost]()


def detect_change_points(values, *, cost="auto", penalty="auto", method="pelt", min_size=2) -> ChangePoints:
    """Change points of a 1-D series by exact penalised optimal partitioning (PELT).

    Parameters
    ----------
    values : array-like or pandas Series. Missing values (NaN/None/inf) are
        skipped for the fit; locations and segments refer to positions in the
        input as given (a gap belongs to the segment before it), and the
        `normal_trend` cost keeps the original time spacing.
    cost : "auto", a name in COSTS ("l2", "normal_mean", "normal_meanvar",
        "normal_trend", "poisson", "negbin") or a Cost instance.
        "auto": non-negative integer series with median <= 1000 are counts
        (events or casualties per period): "negbin" when the variance between
        neighbouring periods is more than 1.5x their mean (overdispersed),
        else "poisson". Any other series (including large integer quantities
        such as populations) gets "normal_trend" (Gaussian, own level, slope
        and variance per segment).
    penalty : "auto", "bic", "mbic", an AutoPenalty or a number (cost units).
        "auto" (= AutoPenalty()) is MBIC, (p + 1) log n per change plus
        log(n_i) per segment, multiplied by the long-run variance factor
        (1 + phi) / (1 - phi) of the residuals' lag-1 autocorrelation,
        re-estimated twice from the segmentation (see `penalties`). With the
        `normal_trend` cost, "auto" then keeps only abrupt breaks: each break
        is tested in its window (previous to next break) by BIC, with the same
        dependence factor, between a smooth curve (polynomial of degree <= 3)
        and a jump or kink at the break, and dropped if the curve does as well
        (see `abrupt`): annotators mark abrupt changes, not smooth bends. On
        16 TCPD series this scores mean F1 0.858, cover 0.762 (without the
        test 0.843 / 0.705); held-out estimates in the README.
    method : "pelt" (the only offline search; see `bocpd` for the online one).
    min_size : minimum number of observations per segment.
    """
    if method != "pelt":
        raise ChangePointError(
            f"unknown method {method!r}; detect_change_points supports 'pelt' (see bocpd())"
        )
    if int(min_size) < 1:
        raise ChangePointError(f"min_size must be >= 1, not {min_size!r}")
    y, labels = as_series(values)
    observed = np.flatnonzero(~np.isnan(y))
    obs_values = y[observed]
    model = make_cost(choose_cost(obs_values) if cost == "auto" else cost)
    if model.name in ("poisson", "negbin") and not is_count_series(obs_values):
        raise ChangePointError(f"cost {model.name!r} needs non-negative integer counts")
    model.fit(obs_values, times=observed)
    pen, rounds = resolve_penalty(penalty, model, obs_values.size)
    cuts, trace = pelt(model, pen.value, int(min_size), pen.length_weight)
    for _ in range(rounds):
        pen = pen.scaled(dependence_factor(residuals(model, cuts)))
        cuts, trace = pelt(model, pen.value, int(min_size), pen.length_weight)
    rule = AutoPenalty() if isinstance(penalty, str) and penalty == "auto" else penalty
    if isinstance(rule, AutoPenalty) and rule.abrupt_only and model.name == "normal_trend" and cuts:
        # trace stays PELT's; the test only removes breaks
        factor = dependence_factor(residuals(model, cuts))
        cuts = keep_abrupt(obs_values, observed.astype(float), list(cuts), factor, model.sigma**2)
    # a change's position is that of the first observed value of the new segment
    bounds = segment_bounds(cuts, obs_values.size)
    return ChangePoints(
        values=y,
        labels=labels,
        locations=[int(observed[c]) for c in cuts],
        cost_model=model,
        penalty_used=pen,
        cost_trace=trace,
        observed_bounds=bounds,
        observed_positions=observed,
    )
