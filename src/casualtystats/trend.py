"""Trend models for weekly counts: how many, where is it heading, how sure are we.

`fit_trend(series, model=...)` fits one of

- ``"negbin"`` (default): a negative binomial (NB2) GLM with a log link. The
  dispersion ``alpha`` is the maximum-likelihood estimate of statsmodels'
  discrete ``NegativeBinomial`` model; the GLM is then fitted with that alpha,
  so intervals are conditional on it (the usual GLM practice).
- ``"poisson"``: a Poisson GLM with the same design (no overdispersion; weekly
  fatalities are overdispersed, so its intervals are too narrow for them).
- ``"local_level"`` / ``"local_linear_trend"``: statsmodels
  ``UnobservedComponents`` on ``log1p(y)``; the fitted trend is the smoothed
  level, back-transformed with ``expm1``.

Time trend of the GLMs (``knots``):

- ``None``: a natural cubic regression spline (patsy ``cr``) whose degrees of
  freedom are chosen by AIC among 1 (log-linear), 3, 4, 6, 8, ... up to about
  one per half-year of data; pass ``df=`` to fix it.
- a list of knots (index labels or 0-based positions) or ``"auto"`` (the change
  points of `detect_change_points`): piecewise log-linear, each segment between
  knots with its own level and slope (the change-point engine finds breaks in
  level, so the pieces are not forced to join).

``seasonal=True`` adds two Fourier pairs of the annual cycle (GLMs) or a
two-harmonic annual cycle (state space).

Intervals: GLM fitted means use the interval of the linear predictor mapped
through the link (delta method on the log scale); the state-space level uses
the smoothed state variance. ``growth_per_month`` is the current growth of the
trend (seasonality excluded), ``exp(slope * days_per_month) - 1``, where the
slope is the last step's change in the trend's log mean: +0.10 means +10% per
month. For the local-level model, which has no slope state, it is the change
of the smoothed level over the last month, from 400 draws of the simulation
smoother (fixed seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from scipy import stats

from .errors import CasualtyStatsError

MODELS = ("negbin", "poisson", "local_level", "local_linear_trend")
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25
_SEASONAL_HARMONICS = 2
_GROWTH_DRAWS = 400


class TrendError(CasualtyStatsError):
    """A trend that cannot be fitted to the series given (too short, empty, bad option)."""


@dataclass
class TrendResult:
    """A fitted trend. `fitted` has columns observed, fitted, ci_low, ci_high,
    indexed like the input series."""

    model: str
    fitted: pd.DataFrame
    growth_per_month: pd.Series
    params: pd.Series
    bse: pd.Series
    alpha: float
    dispersion: float
    knots: list
    df: int | None
    aic: float
    nobs: int
    model_result: object = field(repr=False)

    def conf_int(self) -> pd.DataFrame:
        """Wald intervals of the parameters at the result's level."""
        z = stats.norm.ppf(1 - self.alpha / 2)
        return pd.DataFrame(
            {"lower": self.params - z * self.bse, "upper": self.params + z * self.bse},
            index=self.params.index,
        )

    def summary(self) -> str:
        level = f"{100 * (1 - self.alpha):.0f}%"
        g = self.growth_per_month
        last = self.fitted.iloc[-1]
        lines = [
            f"Trend model: {self.model}   observations: {self.nobs}   AIC: {self.aic:.1f}",
        ]
        if self.model in ("negbin", "poisson"):
            trend = f"natural spline, df={self.df}" if not self.knots and self.df else "log-linear"
            if self.knots:
                trend = f"piecewise log-linear, knots at {', '.join(str(k) for k in self.knots)}"
            lines.append(f"Time trend: {trend}")
        if np.isfinite(self.dispersion):
            lines.append(f"NB dispersion alpha: {self.dispersion:.3f} (variance = mu + alpha mu^2)")
        lines += [
            f"Last fitted value ({_label(self.fitted.index[-1])}): {last['fitted']:.2f} "
            f"({level} CI {last['ci_low']:.2f} to {last['ci_high']:.2f})",
            f"Current growth per month: {100 * g['estimate']:+.1f}% "
            f"({level} CI {100 * g['ci_low']:+.1f}% to {100 * g['ci_high']:+.1f}%)",
            "",
            self.conf_int()
            .assign(estimate=self.params, se=self.bse)[["estimate", "se", "lower", "upper"]]
            .to_string(float_format=lambda v: f"{v:.4g}"),
        ]
        return "\n".join(lines)


def fit_trend(
    series,
    model: str = "negbin",
    *,
    knots=None,
    seasonal: bool = False,
    alpha: float = 0.05,
    df: int | None = None,
) -> TrendResult:
    """Fit a trend to a count series (pandas Series indexed by week, or a plain
    array taken as weekly). NaN values are left out of the fit but get fitted
    values. See the module docstring for the models and their options."""
    if model not in MODELS:
        raise TrendError(f"unknown trend model {model!r}; choose one of {', '.join(MODELS)}")
    if not 0 < alpha < 1:
        raise TrendError(f"alpha must be in (0, 1), got {alpha}")
    y, index, t_days, step_days = _as_series(series)
    observed = np.isfinite(y)
    if observed.sum() < 4:
        raise TrendError(f"a trend needs at least 4 observed values, got {int(observed.sum())}")
    if model in ("negbin", "poisson"):
        if np.any(y[observed] < 0):
            raise TrendError("count models need non-negative values")
        if y[observed].sum() == 0:
            raise TrendError("the series is all zeros: a count trend has no level to fit")
        return _fit_glm(y, index, t_days, step_days, model, knots, seasonal, alpha, df)
    if knots is not None or df is not None:
        raise TrendError(f"knots and df apply to the GLM models, not {model!r}")
    return _fit_state_space(y, index, step_days, model, seasonal, alpha)


def _as_series(series):
    """Values as float (NaN for missing), the index, days since the first
    observation, and the step in days (7 for a plain array: weekly)."""
    if isinstance(series, pd.Series):
        index = series.index
        y = pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        y = np.asarray(series, dtype=float)
        if y.ndim != 1:
            raise TrendError(f"expected a 1-D series, got shape {y.shape}")
        index = pd.RangeIndex(len(y))
    if isinstance(index, pd.DatetimeIndex):
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise TrendError("the series index must be increasing dates without duplicates")
        t_days = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        step_days = float(np.median(np.diff(t_days))) if len(t_days) > 1 else 7.0
    else:
        step_days = 7.0
        t_days = np.arange(len(y), dtype=float) * step_days
    return y, index, t_days, step_days


def _knot_positions(knots, y, index) -> list[int]:
    if isinstance(knots, str):
        if knots != "auto":
            raise TrendError(f"knots must be None, 'auto' or a list, got {knots!r}")
        from .changepoints import detect_change_points

        return list(detect_change_points(pd.Series(y, index=index)).locations)
    positions = []
    for k in knots:
        if isinstance(k, (int, np.integer)) and not isinstance(index, pd.DatetimeIndex):
            pos = int(k)
        else:
            pos = int(index.searchsorted(pd.Timestamp(k) if isinstance(index, pd.DatetimeIndex) else k))
        if not 0 < pos < len(y):
            raise TrendError(f"knot {k!r} is outside the series")
        positions.append(pos)
    return sorted(set(positions))


def _trend_designs(t_years, knot_pos, df, n_obs):
    """Candidate trend designs: {df: matrix} for the spline, or the single
    piecewise design when knots are given."""
    if knot_pos is not None:
        cols = [np.ones_like(t_years), t_years]
        for p in knot_pos:
            cols += [(t_years >= t_years[p]).astype(float), np.maximum(t_years - t_years[p], 0.0)]
        return {None: np.column_stack(cols)}
    if df is not None:
        candidates = [df]
    else:
        # about one degree of freedom per half-year, at most 12 and never more than n/8
        top = int(min(12, max(1, t_years[-1] * 2), n_obs // 8))
        candidates = [1] + [d for d in (3, 4, 6, 8, 10, 12) if d <= top]
    designs = {}
    for d in candidates:
        if d <= 1:
            designs[1] = np.column_stack([np.ones_like(t_years), t_years])
        else:
            basis = patsy.dmatrix(f"cr(t, df={d}, constraints='center')", {"t": t_years})
            designs[d] = np.asarray(basis)
    return designs


def _fourier(t_years):
    cols = []
    for k in range(1, _SEASONAL_HARMONICS + 1):
        cols += [np.sin(2 * np.pi * k * t_years), np.cos(2 * np.pi * k * t_years)]
    return np.column_stack(cols)


def _nb_alpha(y, X, poisson_params) -> float:
    """ML estimate of the NB2 dispersion; a moment estimate if the ML fit fails."""
    try:
        start = np.append(poisson_params, 0.5)
        res = sm.NegativeBinomial(y, X).fit(start_params=start, disp=0, maxiter=300)
        a = float(res.params[-1])
        if np.isfinite(a) and a > 0 and res.mle_retvals.get("converged", True):
            return max(a, 1e-8)
    except (np.linalg.LinAlgError, ValueError, RuntimeWarning):
        pass
    mu = np.exp(X @ poisson_params)
    moment = np.sum(((y - mu) ** 2 - y) / mu**2) / max(len(y) - X.shape[1], 1)
    return float(max(moment, 1e-8))


def _fit_glm(y, index, t_days, step_days, model, knots, seasonal, alpha, df):
    t_years = t_days / DAYS_PER_YEAR
    observed = np.isfinite(y)
    knot_pos = None if knots is None else _knot_positions(knots, y, index)
    designs = _trend_designs(t_years, knot_pos, df, int(observed.sum()))
    season = _fourier(t_years) if seasonal else np.empty((len(y), 0))

    best = None
    for d, trend_X in designs.items():
        X = np.column_stack([trend_X, season])
        Xo, yo = X[observed], y[observed]
        pois = sm.GLM(yo, Xo, family=sm.families.Poisson()).fit()
        if model == "negbin":
            disp = _nb_alpha(yo, Xo, pois.params)
            res = sm.GLM(yo, Xo, family=sm.families.NegativeBinomial(alpha=disp)).fit()
            # the AIC must count alpha as a parameter to compare designs fairly
            aic = res.aic + 2
        else:
            disp, res, aic = np.nan, pois, pois.aic
        if best is None or aic < best[0]:
            best = (aic, d, trend_X.shape[1], X, res, disp)
    aic, d, n_trend, X, res, disp = best

    pred = res.get_prediction(X).summary_frame(alpha=alpha)
    fitted = pd.DataFrame(
        {
            "observed": y,
            "fitted": pred["mean"].to_numpy(),
            "ci_low": pred["mean_ci_lower"].to_numpy(),
            "ci_high": pred["mean_ci_upper"].to_numpy(),
        },
        index=index,
    )
    # growth of the trend part of the linear predictor over the last step
    contrast = np.zeros(X.shape[1])
    if len(y) > 1:
        contrast[:n_trend] = (X[-1, :n_trend] - X[-2, :n_trend]) * (DAYS_PER_MONTH / step_days)
    log_growth = float(contrast @ res.params)
    se = float(np.sqrt(contrast @ res.cov_params() @ contrast))
    names = _param_names(n_trend, knot_pos, d, season.shape[1])
    knot_labels = [] if knot_pos is None else [_label(index[p]) for p in knot_pos]
    return TrendResult(
        model=model,
        fitted=fitted,
        growth_per_month=_growth(log_growth, se, alpha),
        params=pd.Series(res.params, index=names),
        bse=pd.Series(res.bse, index=names),
        alpha=alpha,
        dispersion=disp,
        knots=knot_labels,
        df=d,
        aic=float(aic),
        nobs=int(observed.sum()),
        model_result=res,
    )


def _param_names(n_trend, knot_pos, d, n_season):
    if knot_pos is not None:
        names = ["intercept", "slope_per_year"]
        for i in range(len(knot_pos)):
            names += [f"level_shift_{i + 1}", f"slope_change_{i + 1}"]
    elif d == 1:
        names = ["intercept", "slope_per_year"]
    else:
        names = ["intercept"] + [f"spline_{i}" for i in range(1, n_trend)]
    seasonal = [f"{fn}_{k}" for k in range(1, n_season // 2 + 1) for fn in ("sin_year", "cos_year")]
    return names + seasonal


def _label(value):
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def _growth(log_growth: float, se: float, alpha: float) -> pd.Series:
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.Series(
        {
            "estimate": np.expm1(log_growth),
            "ci_low": np.expm1(log_growth - z * se),
            "ci_high": np.expm1(log_growth + z * se),
        }
    )


def _fit_state_space(y, index, step_days, model, seasonal, alpha):
    z_obs = np.log1p(y)
    spec = {"level": "llevel" if model == "local_level" else "lltrend"}
    if seasonal:
        spec["freq_seasonal"] = [{"period": DAYS_PER_YEAR / step_days, "harmonics": _SEASONAL_HARMONICS}]
    mod = sm.tsa.UnobservedComponents(z_obs, **spec)
    res = mod.fit(disp=False, maxiter=500)
    z = stats.norm.ppf(1 - alpha / 2)
    level = res.level["smoothed"]
    level_sd = np.sqrt(np.maximum(res.level["smoothed_cov"], 0))
    fitted = pd.DataFrame(
        {
            "observed": y,
            "fitted": np.expm1(level),
            "ci_low": np.maximum(np.expm1(level - z * level_sd), 0.0),
            "ci_high": np.expm1(level + z * level_sd),
        },
        index=index,
    )
    steps_per_month = DAYS_PER_MONTH / step_days
    if model == "local_linear_trend":
        slope = res.trend["smoothed"][-1] * steps_per_month
        se = float(np.sqrt(max(res.trend["smoothed_cov"][-1], 0))) * steps_per_month
        growth = _growth(float(slope), se, alpha)
    else:
        growth = _level_growth_draws(mod, res, steps_per_month, alpha)
    names = list(res.model.param_names)
    return TrendResult(
        model=model,
        fitted=fitted,
        growth_per_month=growth,
        params=pd.Series(np.asarray(res.params), index=names),
        bse=pd.Series(np.asarray(res.bse), index=names),
        alpha=alpha,
        dispersion=np.nan,
        knots=[],
        df=None,
        aic=float(res.aic),
        nobs=int(np.isfinite(y).sum()),
        model_result=res,
    )


def _level_growth_draws(mod, res, steps_per_month: float, alpha: float) -> pd.Series:
    """Change of the level over the last month (whole steps, rescaled to a month),
    from joint posterior draws of the level path: the smoother gives only the
    marginal variance of each step, not the covariance across a month."""
    lag = int(min(max(1, round(steps_per_month)), mod.nobs - 1))
    sim = mod.simulation_smoother()
    mod.update(res.params)
    rng = np.random.default_rng(20240601)
    diffs = np.empty(_GROWTH_DRAWS)
    for i in range(_GROWTH_DRAWS):
        sim.simulate(rng=rng)
        path = sim.simulated_state[0]
        diffs[i] = (path[-1] - path[-1 - lag]) * steps_per_month / lag
    q = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return pd.Series(
        {
            "estimate": np.expm1(float(np.mean(diffs))),
            "ci_low": np.expm1(q[0]),
            "ci_high": np.expm1(q[1]),
        }
    )
