"""Result objects of the change-point stage: estimates, intervals, summary()."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from .costs import Cost, Joint
from .errors import ChangePointError
from .inference import rate_ratio_table
from .penalties import Penalty
from .season import Season


def _text_table(frame: pd.DataFrame, float_format: str = "{:.4g}") -> str:
    formatters = {c: float_format.format for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    return frame.to_string(index=False, formatters=formatters)


@dataclass(eq=False)
class ChangePoints:
    """Change points of one series and the segments between them.

    locations: sorted 0-based positions, each the first observation of a new
    segment (the TCPD convention). Positions index the input as given,
    including missing values, which were skipped for the fit.
    """

    #: the series (a panel slice: its deaths; a multivariate series: (n, d), one column per series)
    values: np.ndarray
    labels: pd.Index
    locations: list[int]
    cost_model: Cost = field(repr=False)
    penalty_used: Penalty
    cost_trace: np.ndarray = field(repr=False)
    #: (start, end) of each segment among the observed (non-missing) values
    observed_bounds: list[tuple[int, int]] = field(repr=False)
    #: positions of the observed values in the input
    observed_positions: np.ndarray = field(repr=False)
    #: long-run variance factor of each part of the cost (count costs: incidents[, deaths
    #: given incidents]; a multivariate series: each column; other costs: the penalty's
    #: factor); 1 = independent weeks
    dependence: tuple[float, ...] = (1.0,)
    #: positions set aside as isolated excursions (count costs with penalty "auto")
    outliers: list[int] = field(default_factory=list)
    #: each part's own changes where the parts were segmented apart ("freqsev", "freqsev_log" with
    #: penalty "auto"), by the quantity it measures ("incident_rate", "deaths_per_incident",
    #: "median_deaths_per_incident"); `locations` is their union. Empty for one-part costs
    part_locations: dict[str, list[int]] = field(default_factory=dict)
    #: the seasonal factor shared by all segments (count costs with penalty "auto", when its test
    #: finds one; see changepoints.season): segment levels are then de-seasonalised means
    season: Season | None = None
    alpha: float = 0.05
    #: what `rate_ratios` estimated from the series once (noise, calibrated dependence), by seed:
    #: the same for every alpha, and the resurgence rule asks at several levels
    inference_cache: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def cost(self) -> str:
        return self.cost_model.name

    @property
    def penalty(self) -> float:
        """Penalty per change, in the cost's units."""
        return self.penalty_used.value

    @property
    def n_changes(self) -> int:
        return len(self.locations)

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of a multivariate series' columns (empty for one series or a panel slice)."""
        return self.cost_model.part_names if isinstance(self.cost_model, Joint) else ()

    def column(self, name) -> ChangePoints:
        """One column of a multivariate result as a result of its own: the same change points,
        segments and positions set aside, that column's values, cost and long-run factor (the
        penalty in that column's units: the joint penalty times its factor). Its segments,
        rate ratios and intervals are that column's, judged as if it had been segmented alone
        at these changes (the joint detection may have found a change mainly in another column)."""
        if str(name) not in self.columns:
            raise ChangePointError(f"no column {name!r}; the columns are {list(self.columns)}")
        j = self.columns.index(str(name))
        factor = self.dependence[j]
        return replace(
            self,
            values=self.values[:, j],
            cost_model=self.cost_model.columns[j],
            penalty_used=self.penalty_used.scaled(factor),
            dependence=(factor,),
        )

    @cached_property
    def segments(self) -> pd.DataFrame:
        """One row per segment: `start`, `end` (exclusive, positions in the
        input), `start_label`, `end_label` (label of the last observation),
        `n` (observed values, excursions set aside excluded), `estimate`
        (mean level / rate; deaths per week for "freqsev") and its (1 - alpha)
        CI `ci_low`, `ci_high`. The "freqsev" cost adds `incident_rate`
        (incidents per week), `deaths_per_incident`, each with its CI
        (`incident_ci_low`, `incident_ci_high`, `severity_ci_low`,
        `severity_ci_high`). A multivariate series has no single level
        (`estimate` and its CI are NaN): each column's follows, by its own
        cost (`<name>`, `<name>_ci_low`, `<name>_ci_high`)."""
        return self._segment_table(self.alpha)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Each segment's level with its (1 - alpha) interval (default the result's alpha):
        start_label, end_label, estimate, lower, upper. The intervals are given the segments
        found; for a change itself use `rate_ratios()`, whose intervals allow for its
        detection."""
        alpha = self.alpha if alpha is None else float(alpha)
        if not 0 < alpha < 1:
            raise ChangePointError(f"alpha must be between 0 and 1, not {alpha!r}")
        table = self._segment_table(alpha)[["start_label", "end_label", "estimate", "ci_low", "ci_high"]]
        return table.rename(columns={"ci_low": "lower", "ci_high": "upper"})

    def _segment_table(self, alpha: float) -> pd.DataFrame:
        n_total = len(self.values)
        starts = [0, *self.locations]
        ends = [*self.locations, n_total]
        rows = []
        detail = getattr(self.cost_model, "detail", None)
        for (lo, hi), start, end in zip(self.observed_bounds, starts, ends, strict=True):
            est, low, high, _ = self.cost_model.estimate(lo, hi, alpha=alpha)
            row = {
                "start": start,
                "end": end,
                "start_label": self.labels[start],
                "end_label": self.labels[end - 1],
                "n": hi - lo,
                "estimate": est,
                "ci_low": low,
                "ci_high": high,
            }
            rows.append(row | (detail(lo, hi, alpha=alpha) if detail else {}))
        columns = ["start", "end", "start_label", "end_label", "n", "estimate", "ci_low", "ci_high"]
        return pd.DataFrame(rows, columns=columns + [c for c in rows[0] if c not in columns])

    def rate_ratios(
        self, alpha: float = 0.05, method: str = "scan", n_boot: int = 199, seed: int = 0
    ) -> pd.DataFrame:
        """For each change: level after / level before with a (1 - alpha) CI.

        Columns: `location`, `label`, `before`, `after`, `ratio`, `ci_low`,
        `ci_high`, `p_value` (of "no change in this change's window"; NaN for
        "naive") and `method`. The intervals stay honest after detection: each
        is simultaneous over the places the change could have been put in its
        window and holds the selective interval given that the detection kept
        the change (weak changes are found where noise inflated them), with
        overdispersion and serial dependence estimated from the series, and
        excludes 1 exactly when p_value < alpha.
        method "scan" (default, tens of ms): critical value from the Gaussian
        approximation of the scan, the dependence estimate's bias and spread
        calibrated on 40 simulated series (seeded by `seed`, so repeated calls
        agree). "bootstrap": from `n_boot` series simulated
        without the change (seeded by `seed`), noise re-estimated on each (counts
        only; ~1 ms x n_boot per change). "naive": each cost's given-segmentation
        formula, right only for change dates fixed without these data.
        A panel slice segmented part by part (cost "auto" = "freqsev_log", or
        "freqsev", with penalty "auto"; see `part_locations`) gets one row per
        change and part that found it, with a `part` column: "incident_rate"
        (incidents per week), "deaths_per_incident" (mean deaths per incident)
        or "median_deaths_per_incident" (the typical incident, exp of the
        log-mean); `location` is that part's change, `before`, `after` and
        `ratio` are that part's quantity, judged in the window between that
        part's own neighbouring changes and given that part's detection. Rows
        are sorted by location. Other results: one row per change, the level
        of the cost (deaths per week for a panel slice segmented jointly).
        A multivariate series gets one row per change and column, with a `part` column
        (the column's name): that column's level after / before, judged as in `column`.
        See `changepoints.inference` for the assumptions.
        """
        if self.columns:
            tables = [
                self.column(name).rate_ratios(alpha, method, n_boot, seed).assign(part=name)
                for name in self.columns
            ]
            table = pd.concat(tables, ignore_index=True).sort_values("location", kind="stable")
            first = ["location", "label", "part"]
            return table[first + [c for c in table.columns if c not in first]].reset_index(drop=True)
        return rate_ratio_table(self, alpha=alpha, method=method, n_boot=n_boot, seed=seed)

    def location_intervals(self, alpha: float = 0.05) -> pd.DataFrame:
        """For each change: when it could have started. Columns `location`,
        `label`, (`part` where the parts were segmented apart), `earliest`,
        `latest` and their labels: the first and last position of the
        (1 - alpha) confidence set of the change's date, the splits of its
        window whose likelihood falls short of the best by at most
        -2 log(1 - sqrt(1 - alpha)) (7.35 at 95%), dependence allowed for.
        See `changepoints.locations`."""
        from .locations import location_table

        return location_table(self, alpha)

    def to_frame(self) -> pd.DataFrame:
        """One row per observation, indexed like the input: `value`, `segment`
        (0, 1, ...), the segment's `estimate`, `ci_low`, `ci_high` (a multivariate series:
        each column's values and its segment's level and CI, named as in `segments`), and
        `change` (True at the first observation of each new segment) and
        `outlier` (True where the week was set aside as an isolated excursion);
        where the parts were segmented apart, `found_by`: the parts that put a
        change at that week, comma-separated ("" elsewhere)."""
        seg = self.segments
        segment = np.repeat(np.arange(len(seg)), (seg["end"] - seg["start"]).to_numpy())
        if self.columns:
            frame = pd.DataFrame(self.values, columns=list(self.columns), index=self.labels)
            frame["segment"] = segment
            levels = [f"{name}_{what}" for name in self.columns for what in ("level", "ci_low", "ci_high")]
            shown = [c for name in self.columns for c in (name, f"{name}_ci_low", f"{name}_ci_high")]
        else:
            frame = pd.DataFrame({"value": self.values, "segment": segment}, index=self.labels)
            levels = shown = ["estimate", "ci_low", "ci_high"]
        for col, source in zip(levels, shown, strict=True):
            frame[col] = seg[source].to_numpy()[segment]
        frame["change"] = False
        frame.iloc[self.locations, frame.columns.get_loc("change")] = True
        frame["outlier"] = False
        frame.iloc[self.outliers, frame.columns.get_loc("outlier")] = True
        if self.part_locations:
            found = [[] for _ in range(len(frame))]
            for part, locations in self.part_locations.items():
                for i in locations:
                    found[i].append(part)
            frame["found_by"] = [", ".join(parts) for parts in found]
        return frame

    def summary(self) -> str:
        n_obs = len(self.observed_positions)
        head = [
            "Change points (PELT)",
            "=" * 60,
            f"cost: {self.cost:<16} penalty: {self.penalty_used.name} = {self.penalty:.4g} per change",
            f"observations: {len(self.values)} ({len(self.values) - n_obs - len(self.outliers)} missing, skipped)",
            f"change points: {self.n_changes}  at {self._named(self.locations)}",
            *(
                f"  found by {part}: {self._named(locations)}"
                for part, locations in self.part_locations.items()
            ),
            f"dependence (long-run variance factor): {', '.join(f'{f:.3g}' for f in self.dependence)}",
            f"set aside as isolated excursions: {self._named(self.outliers)}",
            f"season (shared by all segments): {self.season.describe() if self.season else 'none'}",
            "-" * 60,
            f"segments (level and {100 * (1 - self.alpha):.0f}% CI)",
            _text_table(self.segments),
        ]
        if self.n_changes:
            what = (
                "each part's quantity, in its own windows"
                if self.part_locations
                else "each column's level, after / before"
                if self.columns
                else "after / before"
            )
            head += ["-" * 60, f"rate ratios ({what})", _text_table(self.rate_ratios(self.alpha))]
        return "\n".join(head)

    def _named(self, positions) -> str:
        """Labels of `positions` as text: dates as YYYY-MM-DD, not Timestamp(...) reprs."""
        names = [f"{x:%Y-%m-%d}" if isinstance(x, pd.Timestamp) else str(x) for x in self.labels[positions]]
        return ", ".join(names) if names else "none"

    def __repr__(self) -> str:
        return f"ChangePoints(cost={self.cost!r}, penalty={self.penalty:.4g}, locations={self.locations})"


@dataclass(eq=False)
class BOCPDResult:
    """Bayesian online change-point detection (Adams & MacKay 2007) of one series.

    change_prob[t]: posterior probability that a new segment starts at t
    (x_t is its first observation), judged with `lag` more observations.
    run_length_mode[t]: most probable number of observations in the current
    segment after seeing x_t. run_length_posterior: the final step's run-length
    distribution (index r - 1 for run length r). dependence: the long-run
    variance factor the likelihood was tempered by (1 = independent).
    """

    labels: pd.Index
    change_prob: np.ndarray
    run_length_mode: np.ndarray
    run_length_posterior: np.ndarray
    model: str
    hazard: float
    lag: int
    dependence: float = 1.0

    def prob_recent_change(self, k: int) -> float:
        """Posterior probability, given all the data, that a change happened
        within the last k steps (the current segment is at most k long)."""
        if k < 1:
            return 0.0
        return float(min(1.0, self.run_length_posterior[:k].sum()))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"change_prob": self.change_prob, "run_length_mode": self.run_length_mode}, index=self.labels
        )

    def summary(self, top: int = 5) -> str:
        order = np.argsort(-np.nan_to_num(self.change_prob, nan=-1.0))[:top]
        peaks = pd.DataFrame(
            {"position": order, "label": self.labels[order], "change_prob": self.change_prob[order]}
        )
        recent = pd.DataFrame(
            {"within_last": [1, 4, 13], "probability": [self.prob_recent_change(k) for k in (1, 4, 13)]}
        )
        return "\n".join(
            [
                "Bayesian online change-point detection",
                "=" * 60,
                f"model: {self.model:<10} hazard: {self.hazard:.4g} (expected run {1 / self.hazard:.0f})  lag: {self.lag}",
                f"dependence (long-run variance factor, likelihood weighed by its inverse): {self.dependence:.3g}",
                f"observations: {len(self.change_prob)}  current run length (mode): {int(self.run_length_mode[-1]) if len(self.run_length_mode) else 0}",
                "-" * 60,
                "largest change probabilities",
                _text_table(peaks),
                "-" * 60,
                "probability of a change in the last k steps",
                _text_table(recent),
            ]
        )
