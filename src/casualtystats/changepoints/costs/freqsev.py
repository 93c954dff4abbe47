"""Frequency-severity counts: incidents per week, and deaths given incidents.

A weekly casualty series is a sum over incidents, and its heavy tail comes
from the deaths per incident, not from the number of incidents. So per
segment, with N_w incidents and F_w deaths in week w:

    N_w        ~ NB(mean m, size r)               (how often)
    F_w | N_w  ~ NB(mean N_w s, size N_w k)       (how deadly)

The second line is exact if each incident's deaths are NB(s, k) and
independent: a sum of N such counts is NB(N s, N k). m and s have closed-form
MLEs (mean incidents per week, deaths per incident) and the sizes r and k are
profiled over a grid per segment (see costs.negbin), so a segment costs O(grid)
from cumulative sums. A week without incidents says nothing about severity.
Four parameters per segment (m, r, s, k), or two (m, s) with sizes common
to all segments (`sizes`; what detect_change_points' "auto" penalty uses
after setting isolated excursions aside): a change in frequency, in severity
or in both is one change point.
"""

from __future__ import annotations

import copy
import math

import numba as nb
import numpy as np
from scipy import stats as st

from .base import Cost
from .negbin import (
    PART_HEADER,
    PART_ROWS,
    common_part_size,
    nb_mean_ci,
    nb_part_loglik,
    part_params,
    part_stats,
    pearson,
    season_units,
    size_grid,
)

#: sizes k of deaths per incident: UCDP's lognormal(1.3, 1.2) deaths per incident
#: behave like k ~ 0.3; 0.02 allows far heavier tails
SEVERITY_GRID = np.geomspace(0.02, 1000.0, 14)


@nb.njit(cache=True)
def freqsev_segment_cost(stats, params, start, end):
    n_grid = int(params[1])
    freq, _ = nb_part_loglik(stats, params, 0, 0, start, end)
    sev, _ = nb_part_loglik(stats, params, PART_ROWS + n_grid, PART_HEADER + 2 * n_grid, start, end)
    return -2.0 * (params[0] * freq + params[PART_HEADER + 2 * n_grid] * sev)


class FrequencySeverity(Cost):
    """-2 log-likelihood of weekly incidents (NB per segment) plus deaths given
    incidents (compound NB per segment). Values: an (n, 2) array of
    [incidents, deaths] per week, non-negative integers, no deaths without an
    incident. Segment `estimate` is deaths per week (incidents per week x
    deaths per incident); `detail` gives both factors with intervals."""

    name = "freqsev"
    segment_cost = freqsev_segment_cost
    kind = 7  # costs.kernel.FREQSEV
    data = "incidents_and_deaths"  # an (n, 2) array: see random_input
    columns = ("incidents", "fatalities_best")
    #: per part: is its dispersion estimated robustly by the cost itself? (see detect.segment_counts)
    robust_dispersion = (False, False)
    #: per part: the quantity it measures, named as in `detail` (ChangePoints.part_locations' keys)
    part_names = ("incident_rate", "deaths_per_incident")

    #: a changepoints.season.Season of the incidents shared by all segments (None: no season): the
    #: exposure of each week's incidents, as in costs.negbin; deaths per incident have none
    season = None
    seasonal = True

    def __init__(self, sizes: tuple[float, float] | None = None):
        self.sizes_fixed = sizes
        r, k = sizes if sizes is not None else (None, None)
        self.grid, self.poisson = size_grid(r)
        self.severity_grid, self.severity_poisson = (SEVERITY_GRID, True) if sizes is None else size_grid(k)
        self.n_params = 4 if sizes is None else 2

    @classmethod
    def random_input(cls, rng: np.random.Generator, n: int) -> np.ndarray:
        """Valid input for tests (e.g. the exactness test): small NB-like incident counts with
        ties and zeros, heavy-tailed deaths, none without an incident."""
        incidents = rng.negative_binomial(rng.uniform(0.5, 5), rng.uniform(0.2, 0.8), size=n)
        deaths = rng.negative_binomial(np.maximum(incidents, 1) * 0.7, 0.25) * (incidents > 0)
        return np.column_stack([incidents, deaths]).astype(float)

    @property
    def profiled(self) -> bool:
        """True when the sizes are profiled per segment (not fixed)."""
        return self.sizes_fixed is None

    def fit(self, values, times=None) -> FrequencySeverity:
        data = np.asarray(values, dtype=float)
        if data.ndim != 2 or data.shape[1] != 2:
            raise ValueError(f"freqsev needs an (n, 2) array of incidents and deaths, got shape {data.shape}")
        self.incidents, self.deaths = data[:, 0], data[:, 1]
        self.values = self.deaths
        self.n = data.shape[0]
        self.times = np.arange(self.n, dtype=float) if times is None else np.asarray(times, dtype=float)
        self.units = season_units(self.season, self.times)
        self.stats = np.vstack(
            [
                part_stats(self.incidents, self.units, self.grid),
                part_stats(self.deaths, self.incidents, self.severity_grid),
            ]
        )
        self.params = np.r_[
            part_params(self.grid, self.poisson), part_params(self.severity_grid, self.severity_poisson)
        ]
        return self

    @property
    def parts(self) -> int:
        return 2

    def _severity_offsets(self) -> tuple[int, int]:
        return PART_ROWS + self.grid.size, PART_HEADER + 2 * self.grid.size

    def with_common_size(self, bounds) -> FrequencySeverity:
        """The same cost with the sizes r and k common to all segments: their ML values
        given the segments `bounds` (each with its own rate and severity)."""
        row, _ = self._severity_offsets()
        r = common_part_size(self.stats, 0, self.grid, self.poisson, bounds)
        k = common_part_size(self.stats, row, self.severity_grid, self.severity_poisson, bounds)
        return type(self)(sizes=(r, k)).with_season(self.season)

    def with_season(self, season) -> FrequencySeverity:
        """The same (unfitted) cost with the seasonal factor `season` of the incidents (None: none)."""
        out = copy.copy(self)
        out.season = season
        return out

    def _weight_columns(self) -> tuple[int, ...]:
        """Where in `params` each part's weight sits."""
        return (0, self._severity_offsets()[1])

    def set_weights(self, factors) -> None:
        """Divide each part's cost (frequency, severity[, log severity]) by its long-run variance factor."""
        for col, factor in zip(self._weight_columns(), factors, strict=True):
            self.params[col] = 1.0 / float(factor)

    def part_error(self, part: int, start: int, end: int) -> float:
        """Cost of y[start:end] in one part alone, with that part's weight (the others' set to 0)."""
        params = self.params.copy()
        for j, col in enumerate(self._weight_columns()):
            if j != part:
                params[col] = 0.0
        return float(type(self).segment_cost(self.stats, params, start, end))

    def sizes(self, start: int, end: int) -> tuple[float, float]:
        """Profiled sizes (r of incidents per week, k of deaths per incident) of a segment."""
        row, col = self._severity_offsets()
        r = nb_part_loglik(self.stats, self.params, 0, 0, start, end)[1]
        k = nb_part_loglik(self.stats, self.params, row, col, start, end)[1]
        return float(r), float(k)

    def residuals(self, bounds) -> np.ndarray:
        """Pearson residuals of incidents and of deaths given incidents, shape (n, 2)."""
        out = []
        for a, b in bounds:
            n_inc, dead = self.incidents[a:b], self.deaths[a:b]
            r, k = self.sizes(a, b)
            total = n_inc.sum()
            s = dead.sum() / total if total > 0 else 0.0
            units = self.units[a:b]
            rate = pearson(n_inc, units, total / units.sum(), r)
            out.append(np.c_[rate, pearson(dead, n_inc, s, k)])
        return np.vstack(out)

    def detail(self, start: int, end: int, alpha: float = 0.05) -> dict[str, float]:
        """Incidents per week and deaths per incident of y[start:end], each with a (1 - alpha) CI."""
        r, k = self.sizes(start, end)
        total = float(self.incidents[start:end].sum())
        rate, rate_low, rate_high, _ = nb_mean_ci(total, self.exposure(start, end), r, alpha)
        if total > 0:
            sev, sev_low, sev_high, _ = nb_mean_ci(float(self.deaths[start:end].sum()), total, k, alpha)
        else:
            sev = sev_low = sev_high = math.nan
        return {
            "incident_rate": rate,
            "incident_ci_low": rate_low,
            "incident_ci_high": rate_high,
            "deaths_per_incident": sev,
            "severity_ci_low": sev_low,
            "severity_ci_high": sev_high,
        }

    def estimate(self, start, end, alpha=0.05):
        """Deaths per week = incidents per week x deaths per incident, Wald on the log
        scale with var(log) = var(log rate) + var(log severity) (asymptotically independent)."""
        r, k = self.sizes(start, end)
        n = self.exposure(start, end)
        total = float(self.incidents[start:end].sum())
        dead = float(self.deaths[start:end].sum())
        if dead <= 0:
            return nb_mean_ci(0.0, n, r, alpha)
        _, _, _, se_rate = nb_mean_ci(total, n, r, alpha)
        _, _, _, se_sev = nb_mean_ci(dead, total, k, alpha)
        level = dead / n
        se = math.sqrt(se_rate**2 + se_sev**2)
        q = st.norm.ppf(1 - alpha / 2)
        return level, level * math.exp(-q * se), level * math.exp(q * se), se

    def exposure(self, start: int, end: int) -> float:
        """Weeks in y[start:end], each counted by its seasonal factor (the number of weeks without one)."""
        return float(self.units[start:end].sum())

    def fitted(self, start: int, end: int) -> np.ndarray:
        return self.deaths[start:end].sum() / self.exposure(start, end) * self.units[start:end]

    def __repr__(self) -> str:
        return f"FrequencySeverity(sizes={self.sizes_fixed})"
