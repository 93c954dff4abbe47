"""detect_change_points: the offline entry point (PELT with a chosen cost and penalty)."""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import pandas as pd
from scipy import stats

from ..values import float_values
from .abrupt import keep_abrupt
from .costs import COSTS, Cost, FrequencySeverity, Joint, NegBin
from .costs.base import noise_scale
from .costs.kernel import COLUMN_KINDS
from .detection.pelt import pelt
from .errors import ChangePointError
from .penalties import (
    COUNT_ROUNDS,
    COUNT_TOLERANCE,
    AutoPenalty,
    count_dependence,
    dependence_factor,
    resolve_penalty,
)
from .results import ChangePoints
from .season import (
    SEASON_ROUNDS,
    fit_season,
    penalised_cost,
    period_from_labels,
    periodogram_period,
    season_penalty,
    segment_index,
)

#: a non-negative integer series whose period-to-period noise is below this share of its median
#: is a level that moves smoothly (population, money, production, passengers at scale), not
#: counts of events: those have relative noise sqrt(1/mu + 1/r) >= 1/sqrt(mu) (Poisson) and, for
#: any rate that varies by 10% or more between periods, >= 0.1 at every scale
MIN_COUNT_NOISE = 0.1
#: count costs: at most this many passes that set isolated excursions aside
EXCURSION_PASSES = 3
#: count costs: under independence, a segment (not the last) of at most this many weeks
#: between two changes is an excursion candidate; its largest week is set aside
EXCURSION_WEEKS = 8


def as_series(values) -> tuple[np.ndarray, pd.Index]:
    """Values as a float array plus the labels to report (the Series index, or 0..n-1)."""
    return float_values(values, ChangePointError)


def is_casualty_frame(frame: pd.DataFrame) -> bool:
    """A DataFrame with a column `incidents` or `fatalities_best` is read as a weekly panel slice
    (and then needs both); any other DataFrame is a multivariate series."""
    return any(c in frame.columns for c in FrequencySeverity.columns)


def frame_labels(frame: pd.DataFrame) -> pd.Index:
    """The `week` column when there is one, else the index; one row per label."""
    labels = pd.Index(frame["week"]) if "week" in frame.columns else frame.index
    if labels.has_duplicates:
        raise ChangePointError(
            "the DataFrame holds more than one series (repeated weeks): select one group first, "
            "e.g. panel[panel['region'] == 'Anbar']"
        )
    return labels


def as_columns(columns: list[np.ndarray]) -> np.ndarray:
    """Columns as an (n, d) array in which a row with any value missing is missing: the costs
    need every column at each time they use (the row-wise rule of a panel slice too)."""
    data = np.column_stack(columns)
    data[np.isnan(data).any(axis=1)] = np.nan
    return data


def as_casualty_frame(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """A weekly panel slice as an (n, 2) array [incidents, fatalities_best] and its week labels.

    The labels are the `week` column when there is one, else the index; a row
    with either value missing is missing."""
    missing = [c for c in FrequencySeverity.columns if c not in frame.columns]
    if missing:
        raise ChangePointError(
            f"a DataFrame needs the columns {list(FrequencySeverity.columns)} (a weekly panel slice); "
            f"missing {missing}. For one measure pass a Series, e.g. panel['fatalities_best']"
        )
    labels = frame_labels(frame)
    data = as_columns([as_series(frame[c].reset_index(drop=True))[0] for c in FrequencySeverity.columns])
    return data, labels


def as_multivariate(values) -> tuple[np.ndarray, pd.Index, tuple[str, ...]]:
    """A multivariate series (a DataFrame that is not a panel slice, or a 2-D array) as an
    (n, d) array (`as_columns`), its labels and its column names. A DataFrame's columns are
    all but `week` (its labels when present); an array's columns are named 0..d-1."""
    if isinstance(values, pd.DataFrame):
        labels = frame_labels(values)
        dated = [c for c in values.columns if c != "week" and pd.api.types.is_datetime64_any_dtype(values[c])]
        if dated:
            raise ChangePointError(
                f"column {dated[0]!r} holds dates: put them in the index or a `week` column, not among the series"
            )
        names = tuple(str(c) for c in values.columns if c != "week")
        columns = [
            float_values(values[c].reset_index(drop=True), ChangePointError, f"column {c!r}")[0]
            for c in values.columns
            if c != "week"
        ]
    else:
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ChangePointError(f"values must be numbers or missing: {exc}") from None
        if array.ndim != 2:
            raise ChangePointError(f"values must be one- or two-dimensional, got shape {array.shape}")
        labels, names = pd.RangeIndex(array.shape[0]), tuple(map(str, range(array.shape[1])))
        columns = [
            float_values(array[:, j], ChangePointError, f"column {j}")[0] for j in range(array.shape[1])
        ]
    if len(columns) < 2:
        raise ChangePointError(
            f"a multivariate series needs at least 2 columns, got {len(columns)}: for one measure pass a Series"
        )
    return as_columns(columns), labels, names


def as_input(values) -> tuple[np.ndarray, pd.Index, tuple[str, ...] | None]:
    """`values` as data, labels and column names: a 1-D series (names None), a panel slice
    (an (n, 2) array [incidents, fatalities_best], names FrequencySeverity.columns) or a
    multivariate series ((n, d), names its columns). Only column names mark a panel slice:
    a bare 2-D array is always a multivariate series (see detect_change_points)."""
    if isinstance(values, pd.DataFrame):
        if is_casualty_frame(values):
            return *as_casualty_frame(values), FrequencySeverity.columns
        return as_multivariate(values)
    try:
        columns = not isinstance(values, pd.Series) and np.ndim(values) >= 2
    except ValueError:  # ragged nesting: as_series says what is wrong
        columns = False
    return as_multivariate(values) if columns else (*as_series(values), None)


def is_count_series(y: np.ndarray) -> bool:
    return y.size > 0 and bool(np.all(y >= 0) and np.all(y == np.round(y)))


def relative_noise(y: np.ndarray) -> float:
    """Period-to-period noise (`costs.base.noise_scale`: robust sd of first differences / sqrt 2,
    at least the rounding error) over the median; inf at median 0, and for fewer than 3 values
    or a constant series, which show no noise to judge. It has no unit: the same for k y as for y."""
    level = float(np.median(y))
    if level <= 0 or y.size < 3 or np.ptp(y) == 0:
        return math.inf
    return noise_scale(y) / level


def choose_cost(y: np.ndarray) -> str:
    """The cost="auto" rule for one series (documented in detect_change_points)."""
    if is_count_series(y) and relative_noise(y) >= MIN_COUNT_NOISE:
        return "negbin"
    return "normal_trend"


def column_dependence(model: Joint, cuts: list[int]) -> np.ndarray:
    """Each column's long-run variance factor given the segments `cuts`, by the rule the "auto"
    penalty applies to that column alone: count columns ("negbin", "poisson") the count costs'
    `count_dependence` of their Pearson residuals, others the lag-1 factor of theirs."""
    bounds = segment_bounds(cuts, model.n)
    resid = residuals(model, cuts)
    return np.array(
        [
            count_dependence(column.residuals(bounds))[0]
            if is_count_cost(column)
            else dependence_factor(resid[:, j])
            for j, column in enumerate(model.columns)
        ]
    )


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


def chosen_cost(cost, data: np.ndarray, names: tuple[str, ...] | None) -> Cost:
    """The cost for `data` (observed rows) with column `names` (None: one series): "auto" by the
    rule in detect_change_points; a cost of one series given for a multivariate series is
    used for every column (a joint cost)."""
    if isinstance(cost, str) and cost == "auto":
        if names == FrequencySeverity.columns:
            return make_cost("freqsev_log")
        if names is not None:
            return Joint([make_cost(choose_cost(column)) for column in data.T], names)
        return make_cost(choose_cost(data))
    model = make_cost(cost)
    if names is not None and names != FrequencySeverity.columns and model.kind in COLUMN_KINDS:
        return Joint([copy.deepcopy(model) for _ in names], names)
    return model


def check_counts(model: Cost, data: np.ndarray, names: tuple[str, ...] | None) -> None:
    if isinstance(model, FrequencySeverity):
        if names != FrequencySeverity.columns:
            raise ChangePointError(
                f"cost {model.name!r} needs a DataFrame with the columns incidents and fatalities_best"
            )
        if np.any(data < 0):
            raise ChangePointError("incidents and fatalities_best must be >= 0")
        if np.any((data[:, 0] <= 0) & (data[:, 1] > 0)):
            raise ChangePointError("a week has fatalities_best > 0 but no incidents")
    elif isinstance(model, Joint):
        if names is None or len(names) != model.d or names == FrequencySeverity.columns:
            raise ChangePointError(
                f"cost 'joint' of {model.d} columns needs a multivariate series of as many"
            )
        for column, values in zip(model.columns, data.T, strict=True):
            check_counts(column, values, None)
    elif data.ndim == 2:
        raise ChangePointError(
            f"cost {model.name!r} takes one series: pass a Series (e.g. panel['fatalities_best']), "
            "or use cost 'auto', 'freqsev' or 'freqsev_log' with the DataFrame"
        )
    elif model.name in ("poisson", "negbin") and not is_count_series(data):
        raise ChangePointError(f"cost {model.name!r} needs non-negative integer counts")


def is_count_cost(model: Cost) -> bool:
    return isinstance(model, NegBin | FrequencySeverity)


def short_segments(bounds, length: int) -> list[tuple[int, int]]:
    """Segments of at most `length` observations, except the last (the newest data)."""
    return [(a, b) for a, b in bounds[:-1] if b - a <= length]


def as_matrix(values: np.ndarray) -> np.ndarray:
    """Values as an (n, d) array: one series is one column."""
    return values.reshape(values.shape[0], -1)


def gaussian_columns(model: Cost) -> list[int]:
    """The columns the Gaussian excursion rule judges: one series' only column; a joint cost's
    columns that are not counts (see detect_change_points)."""
    if isinstance(model, Joint):
        return [j for j, column in enumerate(model.columns) if not is_count_cost(column)]
    return [0]


def outlyingness(
    model: Cost, observed: np.ndarray, cuts: list[int], position: int, value, columns: list[int]
) -> float:
    """|value - fitted level| in robust sds (MAD of the residuals) of the segment that holds
    `position` (the level interpolated between the segment's fitted values); inf when those
    residuals have no spread. For several `columns` (of the model's values) `value` is a row
    of them and the largest of their distances counts."""
    a, b = next((a, b) for a, b in segment_bounds(cuts, model.n) if b == model.n or observed[b] > position)
    fitted = as_matrix(model.fitted(a, b))[:, columns]
    sd = stats.median_abs_deviation(as_matrix(model.values[a:b])[:, columns] - fitted, scale="normal", axis=0)
    level = np.array([np.interp(position, observed[a:b], column) for column in fitted.T])
    distance = np.abs(np.atleast_1d(value) - level)
    return max(d / s if s > 0 else math.inf for d, s in zip(distance, sd, strict=True))


def isolated_outliers(values: np.ndarray, half_width: int, bound: float) -> np.ndarray:
    """Positions of single values beyond `bound` robust sds from the running median of the
    2 half_width + 1 values around them, whose neighbours are not: the running median follows
    level shifts and trends but not a value alone, and the sd is the local MAD of the
    deviations (4 half_width + 1 values), so a noisier stretch makes no outliers. Two or more
    such values in a row are a burst, a short regime, not outliers; the last value is never
    one (it may be the first of a new regime). Several columns: each column by itself, and a
    row is an outlier where any of its values is."""
    x = pd.DataFrame(as_matrix(values))
    deviation = (x - x.rolling(2 * half_width + 1, center=True, min_periods=1).median()).to_numpy()
    scale = (
        1.4826
        * pd.DataFrame(np.abs(deviation)).rolling(4 * half_width + 1, center=True, min_periods=1).median()
    ).to_numpy()
    far = (np.abs(deviation) > bound * scale) & (scale > 0)
    calm = np.zeros((1, far.shape[1]), dtype=bool)
    alone = far & ~np.vstack([calm, far[:-1]]) & ~np.vstack([far[1:], calm])
    return np.flatnonzero(alone[:-1].any(axis=1))


def set_aside_excursions(fit, model: Cost, keep: np.ndarray, min_size: int, single_bound=None):
    """Isolated excursions set aside, in up to EXCURSION_PASSES passes: segment (`fit()` returns
    the observed positions still kept, the cuts among them and the cost trace), then in each
    segment of at most max(EXCURSION_WEEKS, min_size) observations that is not the last, set
    aside (keep[...] = False) its largest value. Only one value per segment goes: a real short
    burst keeps its other values and so its changes. Returns the last fit, made after the last
    values were set aside.

    Gaussian costs (`single_bound` given: symmetric noise) first set aside single outliers
    (`isolated_outliers`) beyond both the two-sided 5% Bonferroni bound over the observations
    and `single_bound()`, the largest standardised deviation a value can have without paying,
    as a one-value segment, for the two changes around it (sqrt of twice the penalty of a
    change; called after the first fit, so the penalty is the one in use): left in, two such
    values a few positions apart make a short segment with a change at each end, and one alone
    inflates its segment's variance. Then, in the short segments, the value farthest from the
    median of the neighbouring segments goes. Each value stays aside only if it was an isolated
    excursion: it is an outlier from the segment that holds it in the next fit (beyond the
    Bonferroni bound, in robust sds of that segment's residuals) and, for a short segment's
    value, that fit has no segment there any more (no change within one position of its ends);
    otherwise (a short regime) it is put back and not tried again. Counts set their largest
    weeks aside unconfirmed: an aggregated report is the likelier reading there.

    A joint cost (several columns): a row is set aside whole (its position is missing, as for a
    panel slice), judged on the columns `gaussian_columns` names, each in its own noise units,
    by its most outlying one, the bound over every value tested."""
    tried: set[int] = set()
    observed, cuts, trace = fit()
    columns = gaussian_columns(model)

    def judged() -> np.ndarray:
        return as_matrix(model.values)[:, columns]  # the model's values change with each fit

    bound = stats.norm.isf(0.025 / ((model.n + 1) * len(columns)))
    if single_bound is not None:
        single = isolated_outliers(judged(), max(EXCURSION_WEEKS, min_size), max(bound, single_bound()))
        if single.size:
            values, positions = judged()[single], observed[single]
            keep[positions] = False
            tried.update(int(p) for p in positions)
            observed, cuts, trace = fit()
            back = [
                p
                for p, v in zip(positions, values, strict=True)
                if outlyingness(model, observed, cuts, p, v, columns) <= bound
            ]
            if back:
                keep[back] = True
                observed, cuts, trace = fit()
    for _ in range(EXCURSION_PASSES):
        bounds = segment_bounds(cuts, model.n)
        candidates = []  # (position set aside, its value, its segment's ends)
        # several columns are compared in their own noise units (one column needs no common unit)
        z = judged()
        if len(columns) > 1:
            z = z / [noise_scale(column) for column in z.T]
        for a, b in short_segments(bounds, max(EXCURSION_WEEKS, min_size)):
            if single_bound is None:
                extreme = int(np.argmax(model.values[a:b]))
            else:
                i = bounds.index((a, b))  # not the last, so a next segment exists
                before = z[bounds[i - 1][0] : a] if i else z[:0]
                level = np.median(np.vstack([before, z[b : bounds[i + 1][1]]]), axis=0)
                extreme = int(np.argmax(np.abs(z[a:b] - level).max(axis=1)))
            if observed[a + extreme] in tried:
                continue
            ends = [observed[a]] if a else []
            candidates.append((observed[a + extreme], judged()[a + extreme], [*ends, observed[b]]))
        if not candidates:
            break
        for position, *_ in candidates:
            keep[position] = False
            tried.add(position)
        observed, cuts, trace = fit()
        if single_bound is None:
            continue
        found, restored = observed[cuts], False
        for position, value, ends in candidates:
            gone = not any(np.any(np.abs(found - end) <= 1) for end in ends)
            if not (gone and outlyingness(model, observed, cuts, position, value, columns) > bound):
                keep[position] = restored = True
        if restored:
            observed, cuts, trace = fit()
    return observed, cuts, trace


def segment_counts(model: Cost, data: np.ndarray, rule: AutoPenalty, min_size: int):
    """PELT for a count cost with the "auto" treatment of isolated excursions, of
    dispersion and of dependence (see detect_change_points). Returns (the cost
    used, its penalty, observed positions, cuts among them, cost trace,
    dependence factors, positions set aside, each part's own cuts)."""
    known = ~np.isnan(data if data.ndim == 1 else data[:, 0])
    keep = known.copy()

    pen = resolve_penalty(rule, model, int(known.sum()))[0]

    def fit(factors: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray]:
        observed = np.flatnonzero(keep)
        model.fit(data[observed], times=observed)
        model.set_weights(factors)
        return observed, *pelt(model, pen.value, min_size, pen.length_weight)

    # 1. isolated excursions under independence (an aggregated report) are set aside first:
    #    left in, a segment with a tiny dispersion absorbs them and can hide a real change,
    #    whose level shift then passes for strong dependence. Only the largest week of a short
    #    segment goes: if the segment was a real burst, its other weeks keep it. Parts whose
    #    dispersion the cost estimates robustly (freqsev_log's log severity) are left out: they
    #    need no such protection, and adding one leaves the weeks set aside, and so the other
    #    parts' changes, as they were
    screened = np.where(model.robust_dispersion, np.inf, 1.0)  # weight 1 / inf = 0: part left out
    observed, cuts, _ = set_aside_excursions(lambda: fit(screened), model, keep, min_size)
    # 2. one dispersion (per part) for all segments, by maximum likelihood given the segments
    #    just found: robust, as the excursions are gone, and fewer parameters per segment
    if model.profiled:
        model = model.with_common_size(segment_bounds(cuts, model.n))
        pen = resolve_penalty(rule, model, int(keep.sum()))[0]
    # 3. per part (incidents; deaths given incidents), the least fixed point of factor ->
    #    segmentation -> factor, from independence upwards: too many changes hide the dependence
    #    they absorb, so each round can only raise the factor. The parts' likelihoods are separate
    #    and each part gets its own changes (a change point is a change in either part), so a
    #    fall in incidents is not pulled to where deaths per incident change. Each change is
    #    charged the penalty of a change of the whole segment: searched separately at a one-part
    #    penalty, two parts double the false alarms. Then any remaining short excursion is set
    #    aside and the rest segmented again
    for passes in range(1, EXCURSION_PASSES + 1):
        factors = np.ones(model.parts)
        part_cuts, trace = [], 0.0
        for j in range(model.parts):
            only = np.arange(model.parts) == j  # weight 1 / inf = 0: the other parts are left out
            observed, cuts, part_trace = fit(np.where(only, 1.0, np.inf))
            for _ in range(COUNT_ROUNDS if rule.rounds > 0 else 0):
                residual = model.residuals(segment_bounds(cuts, model.n))[:, j]
                found = count_dependence(residual, not model.robust_dispersion[j])[0]
                if found <= factors[j] * (1 + COUNT_TOLERANCE):
                    break
                factors[j] = found
                observed, cuts, part_trace = fit(np.where(only, factors[j], np.inf))
            part_cuts.append(cuts)
            trace = trace + part_trace
        cuts = merge_cuts(part_cuts, min_size)
        short = [seg for c in part_cuts for seg in short_segments(segment_bounds(c, model.n), min_size)]
        if not short or passes == EXCURSION_PASSES:
            break
        for a, b in short:
            keep[observed[a:b]] = False
    model.set_weights(factors)
    return model, pen, observed, cuts, trace, factors, np.flatnonzero(known & ~keep), part_cuts


def seasonal_counts(model: Cost, data: np.ndarray, rule: AutoPenalty, min_size: int, season, labels):
    """segment_counts with a seasonal factor shared by all segments when the data prefer one
    (`season`="auto"; see changepoints.season), or with the given period (a number), or none.
    Returns segment_counts' tuple and the Season (or None).

    A candidate season is first estimated as if there were no change (the seasonless segments
    follow the cycle and would absorb it) and pursued only if its likelihood ratio passes the
    test for independent weeks (the long-run factor of those residuals is inflated by the
    changes left out); then the series is segmented again with it, the season re-estimated and
    tested given the new segments (dispersion and long-run factor included), and so on until the
    segments repeat (at most SEASON_ROUNDS re-segmentations); a season that fails given the
    newest segments is dropped. A season that passes has been tested only given segments it
    shaped: once it has absorbed a step, nothing competes with it. So the two complete models,
    the seasonless segments and the seasonal ones with their season, are then judged by one
    criterion, the penalised cost PELT minimises (`counts_objective`) plus the season's penalty
    (its test's threshold, `season.season_penalty`), at one long-run factor: the smaller of the two
    fits' (the model that leaves the least dependence, as quasi-AIC takes its factor from the
    best-fitting model; the other's factor counts its misfit as dependence). The seasonal answer
    is kept only if it costs less."""
    period, source = season_period(season, labels)
    plain = segment_counts(model, data, rule, min_size)
    if source is None or not getattr(model, "seasonal", False):
        return plain, None
    size = None if model.profiled else fixed_count_size(model)
    fit, found, previous = plain, None, None
    for rounds in range(SEASON_ROUNDS + 1):
        fitted = fit[0]
        # the first estimate: given no change (the seasonless segments have absorbed the cycle,
        # and any part of it the season leaves out); then given the counts' own segments
        bounds = segment_bounds(fit[7][0] if rounds else [], fitted.n)
        counts = fitted.values if fitted.parts == 1 else fitted.incidents
        if period is None:  # no dates: a candidate period from the periodogram
            period = periodogram_period(counts, fitted.times, int(labels.size))
            if period is None:
                return plain, None
        candidate = fit_season(
            counts, fitted.times, bounds, size, period, source, int(labels.size), dependence=rounds > 0
        )
        if candidate is None:
            return plain, None
        if rounds == SEASON_ROUNDS or (previous is not None and list(fit[3]) == previous):
            break
        found, previous = candidate, list(fit[3])
        fit = segment_counts(model.with_season(found), data, rule, min_size)
    # on the weeks both fits kept (each sets its own excursions aside)
    weeks = np.intersect1d(plain[2], fit[2])
    factor = min(float(plain[5][0]), float(fit[5][0]))
    seasonless = counts_objective(plain, weeks, size, factor)
    seasonal = counts_objective(fit, weeks, size, factor) + season_penalty(found)
    return (fit, found) if seasonal < seasonless else (plain, None)


def counts_objective(fit, weeks: np.ndarray, size: float | None, factor: float) -> float:
    """The penalised cost of the counts' segments (the first part: for a panel slice the
    incidents, which the season is of) of a `segment_counts` result `fit`, with its cost's
    season, on the positions `weeks` among those it kept, at the long-run factor `factor`;
    `size`: the cost's fixed NB size, or None for the ML common size given those segments."""
    model, pen, observed, part_cuts = fit[0], fit[1], fit[2], fit[7]
    counts = model.values if model.parts == 1 else model.incidents
    common = np.isin(observed, weeks)
    segment = segment_index(segment_bounds(part_cuts[0], observed.size), observed.size)[common]
    return penalised_cost(
        counts[common], model.units[common], segment, size, factor, pen.value, pen.length_weight
    )


def season_period(season, labels: pd.Index) -> tuple[float | None, str | None]:
    """The period `season` asks for and where it comes from: ("given"), the dates ("index"),
    None to search the periodogram ("periodogram"); source None: no season."""
    if season is None or season is False:
        return None, None
    if isinstance(season, str) and season == "auto":
        period = period_from_labels(labels)
        return period, ("index" if period is not None else "periodogram")
    if (
        isinstance(season, bool)
        or not isinstance(season, numbers.Real)
        or not season > 1
        or math.isinf(season)
    ):
        raise ChangePointError(f"season must be 'auto', None or a period > 1 (a number), not {season!r}")
    return float(season), "given"


def fixed_count_size(model: Cost) -> float:
    """The fixed NB size of a count cost's counts (incidents for a panel slice)."""
    return model.size if model.parts == 1 else model.sizes_fixed[0]


def merge_cuts(part_cuts: list[list[int]], min_size: int) -> list[int]:
    """The union of each part's changes; of two closer than `min_size`, the earlier is kept."""
    merged: list[int] = []
    for c in sorted(set().union(*part_cuts)):
        if c >= (merged[-1] if merged else 0) + min_size:
            merged.append(c)
    return merged


def abrupt_breaks(model: Cost, observed: np.ndarray, cuts: list[int]) -> list[int]:
    """The breaks `cuts` of a `normal_trend` fit that are abrupt (`abrupt.keep_abrupt`, at the
    residuals' dependence factor). A joint cost whose columns are all `normal_trend` keeps a
    break abrupt in any column (a change in any column is a change); other costs keep every
    break (a level model has no smooth alternative to test). The cost trace stays PELT's."""
    if model.name == "normal_trend":
        series = [(model.values, model)]
    elif isinstance(model, Joint) and all(c.name == "normal_trend" for c in model.columns):
        series = list(zip(model.values.T, model.columns, strict=True))
    else:
        return cuts
    resid = as_matrix(residuals(model, cuts))
    kept = [
        keep_abrupt(values, observed.astype(float), cuts, dependence_factor(r), column.sigma**2)
        for (values, column), r in zip(series, resid.T, strict=True)
    ]
    return sorted(set().union(*kept))


def detect_change_points(
    values, *, cost="auto", penalty="auto", method="pelt", min_size=2, season="auto"
) -> ChangePoints:
    """Change points of a series by exact penalised optimal partitioning (PELT).

    Parameters
    ----------
    values : array-like or pandas Series of one measure; or a DataFrame, one
        weekly panel slice (one group, index or `week` column = week) with the
        columns `incidents` and `fatalities_best`; or a multivariate series, d >= 2
        numeric columns observed at the same times: a DataFrame without those two
        columns (its columns but `week`; labels the `week` column or the index)
        or a 2-D array (n, d), segmented jointly (one set of change points for all
        columns; `ChangePoints.column(name)` gives one column's view). Only the
        column names mark a panel slice: a bare 2-D array is always a
        multivariate series, since two columns of non-negative integers may be
        any two counts, and reading them as incidents and deaths given incidents
        would impose a model the data never claimed (a DataFrame with only one of
        the two names is an error). Missing values (NaN/None; an infinite value
        is an error)
        are skipped for the fit; locations and segments refer to positions in
        the input as given (a gap belongs to the segment before it), and the
        `normal_trend` cost keeps the original time spacing. With several columns
        a row with any value missing is missing (every column's cost needs the
        row; as for a panel slice).
    cost : "auto", a name in COSTS ("l2", "normal_mean", "normal_meanvar",
        "normal_trend", "poisson", "negbin", "freqsev", "freqsev_log") or a
        Cost instance. "auto":
        - a DataFrame gets "freqsev_log": incidents per week (negative
          binomial), deaths per incident (compound negative binomial: their
          mean) and the log of deaths per incident (Gaussian on the log scale:
          the typical incident), see costs.freqsev_log. Deaths are a sum over
          incidents and their heavy tail is in the deaths per incident, so the
          parts are modelled separately and a change in any is a change. The
          mean follows the largest incidents; for lognormal deaths per incident
          (UCDP: log-sd about 1.2) it holds less than half the information of
          the log-mean, so the log part finds rises in every incident's deaths
          that the mean misses (severity doublings found 0.39 / 0.96 / 0.96 at
          1 / 3 / 10 incidents a week against 0.25 / 0.81 / 0.92 with
          "freqsev", the same false-alarm rates), while the mean part keeps
          rises carried by the largest incidents (a massacre-driven jump)
          that the log-mean barely shows. benchmarks/changepoint_sim.py.
        - a series of non-negative integers (counts per period) gets
          "negbin", a mean per segment and a robustly estimated dispersion
          (Poisson is its limit, so near-Poisson counts need no separate
          rule), at any scale, unless its period-to-period noise (robust sd
          of first differences / sqrt 2, `relative_noise`) is below
          MIN_COUNT_NOISE = 10% of its median: such a series moves as a
          smooth level (a population, money, production, passengers counted
          in millions), while counts of events carry at least Poisson noise,
          1 / sqrt(mean) of the mean (so counts with mean up to 100 are
          always counts), and 10% or more at any scale when their rate varies
          by 10% or more between periods (NB size <= 100). The rule has no
          unit: counting in thousands changes no choice. (It replaces a
          switch at median 1000, above which a x1.5 step in NB(size 3)
          weekly counts was found 0.33-0.53 of the time, now 0.68-0.78;
          benchmarks/count_scale.py.)
        - any other series (non-integer or negative values, or an integer
          level as above) gets "normal_trend" (Gaussian, own level, slope and
          variance per segment).
        - a multivariate series gets the joint cost (costs.Joint): each column
          the cost the rule above gives it alone ("negbin" or "normal_trend",
          each with its own robust scale), summed: the columns are taken as
          independent given the segment. A change is a change of the whole
          segment, charged for all its parameters (p = the columns' summed, e.g.
          3 + 3 for two trend columns). A cost name of one series (e.g.
          "normal_mean") is used for every column; a Joint instance as given.
    penalty : "auto", "bic", "mbic", an AutoPenalty or a number (cost units).
        "auto" (= AutoPenalty()) is MBIC, (p + 1) log n per change plus
        log(n_i) per segment (p = parameters per segment), corrected for
        serial dependence:
        - count costs ("negbin", "poisson", "freqsev", "freqsev_log"), in four steps:
          (1) segment under independence with each segment's own NB sizes;
          the largest week of any segment of at most 8 weeks that is not the
          last (one week holding an aggregated report) is set aside
          (`ChangePoints.outliers`), up to 3 passes (the log part of
          "freqsev_log" is left out of this step: its dispersion is already
          robust, and so adding it does not change which weeks are set
          aside); (2) one size per part
          (incidents; deaths given incidents) for all segments, its maximum
          likelihood given those segments (robust: the excursions are gone;
          a dispersion fitted to all weeks is wrecked by one such week);
          (3) each part of the cost is divided by its long-run variance
          factor, the variance of its Pearson residuals about the fitted
          segments (not for the log part, whose variance s^2 is estimated
          robustly and would count a missed change) times the long-run factor of a geometrically decaying
          autocorrelation (a latent AR(1) rate seen through count noise;
          `penalties.count_dependence`), iterated to its least fixed point
          from 1 (segment, estimate, re-segment), because spurious changes
          absorb the very dependence that should forbid them. With "freqsev"
          and "freqsev_log" each part is segmented on its own (its likelihood
          is separate) and the change points are the union of the parts' changes (of two
          closer than `min_size`, the earlier): a fall in incidents is not
          pulled to where deaths per incident change. Each part's change is
          charged the penalty of a change of the whole segment (p = 2, rate
          and severity: the log part tests the same severity parameter as the
          mean part, see costs.freqsev_log): at a one-part penalty the
          searches double the false alarms; each part's own changes are
          kept (`ChangePoints.part_locations`) and `rate_ratios()` judges
          each on that part's quantity in that part's windows; (4) a segment
          no longer than `min_size` that is not the last one is set aside
          and the rest segmented again (at most 3 passes). A short last
          segment is kept: it is the newest data.
        - other costs: the penalty is multiplied by (1 + phi) / (1 - phi) from
          the residuals' lag-1 autocorrelation, re-estimated twice. Single
          outliers are then set aside (a value alone, not the last, far from
          the running median of the 17 around it: beyond the 5% Bonferroni
          bound and beyond what would pay for a one-value segment's two
          changes), then isolated excursions by the count costs' rule (a
          segment of at most 8 observations, not the last, loses its value
          farthest from its neighbours; up to 3 passes); each is kept aside
          only when it is a 5% Bonferroni outlier from the segment that takes
          it back and, for a short segment's value, that segment vanished
          (`ChangePoints.outliers`): a spike is not cut out as a 3-point
          segment, two spikes are not a segment, a short real regime keeps
          its values. With the
          `normal_trend` cost, "auto" then keeps only abrupt breaks: each
          break is tested in its window (previous to next break) by BIC, with
          the same dependence factor, between a smooth curve (polynomial of
          degree <= 3) and a jump or kink at the break or a jump in the
          noise variance, and dropped if the curve does as well (see
          `abrupt`). On 16 TCPD series this scores mean F1 0.877, cover
          0.743; held-out estimates in the README.
        - a multivariate series: as for "other costs", except that each
          column's cost is divided by its own long-run factor (the penalty
          itself stays MBIC with the summed p): a count column's by the count
          costs' `count_dependence` of its Pearson residuals, another's
          (1 + phi) / (1 - phi) of its residuals, re-estimated twice (for one
          column, dividing its cost by the factor is the same as multiplying the
          penalty). Outliers and excursions are judged on rows, by the
          Gaussian rule above applied to the columns that are not counts: a
          row is set aside whole (`ChangePoints.outliers`) when any of those
          values is a single outlier in its own column (the Bonferroni bound
          over all the values tested), or is the short segment's row farthest
          from its neighbours in any of those columns (in each column's noise
          units), and stays aside on the same confirmation as for one series
          (its most outlying column). Count columns are not judged: a lone
          large count is what heavy-tailed counts produce (the Gaussian rule
          would set aside every tenth week of sparse deaths), and the count
          path's own rule rests on its separate dispersion steps, which the
          joint cost does not take (its count columns keep a size per
          segment). With
          every column "normal_trend", the abruptness test is applied to each
          column at the joint breaks (each with its own dependence factor) and
          a break abrupt in any column is kept; with any other column cost every
          break is kept (a level model has no smooth alternative to test).
        AutoPenalty(rounds=0) turns the dependence correction off.
    method : "pelt" (the only offline search; see `bocpd` for the online one).
    min_size : minimum number of observations per segment.
    season : "auto" (default), None, or a period (a number of observations).
        Count costs with penalty "auto" ("negbin", "freqsev", "freqsev_log"; for
        a panel slice the incidents): a multiplicative seasonal factor shared by
        all segments, the weeks' exposure (segment levels are then
        de-seasonalised means), one or two Fourier pairs fitted given the
        segments, kept only when a test at 1% (dispersion and long-run factor
        included) finds it given the segments found with it (the series is
        segmented again with it until the segments repeat) and when that
        seasonal segmentation, the season charged its test's threshold, costs
        less than the seasonless one by the penalised cost PELT minimises
        (a season that mimics a step does not take its place;
        `seasonal_counts`, changepoints.season). "auto" takes the period from dated labels (the
        year: 52.18 for weeks, 12 for months) or, without dates, from the
        periodogram's peak if Fisher's g test finds one (>= 3 cycles). The
        result's `season` is the factor found (None: none). A series without a
        season is segmented as with season=None. Other costs: ignored.
    """
    if method != "pelt":
        raise ChangePointError(
            f"unknown method {method!r}; detect_change_points supports 'pelt' (see bocpd())"
        )
    if int(min_size) < 1:
        raise ChangePointError(f"min_size must be >= 1, not {min_size!r}")
    min_size = int(min_size)
    data, labels, names = as_input(values)
    shown = data[:, 1] if names == FrequencySeverity.columns else data
    rows = ~np.isnan(data if data.ndim == 1 else data[:, 0])
    if not rows.any():
        raise ChangePointError("no observed value (every value is missing or not finite)")
    model = chosen_cost(cost, data[rows], names)
    check_counts(model, data[rows], names)
    observed = np.flatnonzero(rows)
    model.fit(data[observed], times=observed)
    pen, rounds = resolve_penalty(penalty, model, int(rows.sum()))
    rule = AutoPenalty() if isinstance(penalty, str) and penalty == "auto" else penalty
    aside = np.zeros(0, dtype=int)
    factors = np.ones(1)
    part_cuts: list[list[int]] = []
    found_season = None
    if is_count_cost(model) and isinstance(rule, AutoPenalty):
        (model, pen, observed, cuts, trace, factors, aside, part_cuts), found_season = seasonal_counts(
            model, data, rule, min_size, season, labels
        )
    else:
        keep, start = rows.copy(), pen

        def segment():
            """PELT on the values kept, its penalty corrected for dependence `rounds` times."""
            nonlocal pen
            kept = np.flatnonzero(keep)
            model.fit(data[kept], times=kept)
            if is_count_cost(model):
                model.set_weights(np.ones(model.parts))
            pen = start
            cuts, trace = pelt(model, pen.value, min_size, pen.length_weight)
            for _ in range(rounds):
                if isinstance(model, Joint):
                    model.set_weights(column_dependence(model, cuts))
                else:
                    pen = pen.scaled(dependence_factor(residuals(model, cuts)))
                cuts, trace = pelt(model, pen.value, min_size, pen.length_weight)
            return kept, cuts, trace

        if isinstance(rule, AutoPenalty) and gaussian_columns(model):
            # isolated excursions set aside by the count costs' rule, but among the segments of the
            # dependence-corrected penalty: under independence a dependent series (most real ones)
            # is cut into short pieces that are not excursions
            observed, cuts, trace = set_aside_excursions(
                segment, model, keep, min_size, single_bound=lambda: math.sqrt(2 * pen.value)
            )
            aside = np.flatnonzero(rows & ~keep)
        else:
            observed, cuts, trace = segment()
        if isinstance(rule, AutoPenalty) and rule.abrupt_only and cuts:
            cuts = abrupt_breaks(model, observed, list(cuts))
        factors = model.factors if isinstance(model, Joint) else np.array([pen.factor])
    # a change's position is that of the first observed value of the new segment
    return ChangePoints(
        values=shown,
        labels=labels,
        locations=[int(observed[c]) for c in cuts],
        cost_model=model,
        penalty_used=pen,
        cost_trace=trace,
        observed_bounds=segment_bounds(cuts, observed.size),
        observed_positions=observed,
        dependence=tuple(float(f) for f in factors),
        outliers=[int(i) for i in aside],
        season=found_season,
        # only parts segmented apart have changes of their own (a one-part cost's are its part's)
        part_locations={
            name: [int(observed[c]) for c in own]
            for name, own in zip(model.part_names, part_cuts, strict=True)
        }
        if len(part_cuts) > 1
        else {},
    )
