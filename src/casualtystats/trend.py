"""Trend models for weekly counts: how many, where is it heading, how sure are we.

`fit_trend(series, model=...)` fits one of

- ``"negbin"`` (default): a negative binomial (NB2) GLM with a log link. The
  dispersion ``alpha`` is its maximum-likelihood estimate (bounded to
  1e-8..1e3), alternated with the fit of the means until both settle (as
  MASS ``glm.nb``); intervals are conditional on it (the usual GLM practice).
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

Fitting the GLMs: the design columns are centred and scaled (coefficients are
reported back on the original basis: years since the first week), the fit
starts from the Poisson fit, and it is statsmodels' penalised GLM (the GLM
likelihood with a weak ridge on the non-intercept coefficients; covariance from
the penalised Fisher information). Without the ridge a long all-zero stretch
(years of zero weeks before an actor appears) has no finite maximum-likelihood
estimate: the log mean there runs to -inf and plain IRLS breaks down. Problems that
remain (dispersion at its bound, no convergence, a trend pinned near zero) are
listed in ``TrendResult.warnings`` and in ``summary()``. ``model_result`` is the
statsmodels results object of the state-space models (None for the GLMs).

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
from scipy import optimize, stats
from statsmodels.base._penalized import PenalizedMixin
from statsmodels.base._penalties import L2ConstraintsPenalty

from .errors import CasualtyStatsError

MODELS = ("negbin", "poisson", "local_level", "local_linear_trend")
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25
_SEASONAL_HARMONICS = 2
_GROWTH_DRAWS = 400
# GLM fitting: prior sd of each standardised trend/seasonal coefficient on the
# log scale. Weak where there are events (the information there is sum(mu) >> 1),
# it binds only where the data cannot pin the trend down, e.g. years of zero
# weeks before an actor existed; there it keeps the upper interval near 1/week
# instead of 1e11 (sd 10 did that on the UCDP Iraq series from 1989).
_RIDGE_SD = 1.0
_ETA_BOUND = 30.0  # |log mean| cap when evaluating means, far outside any real weekly count
_NEWTON_MAXITER = 100
_ALTERNATIONS = 25
_DISPERSION_BOUNDS = (1e-8, 1e3)
_NEGLIGIBLE_MEAN = 1e-3  # events per week: one in twenty years


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
    warnings: list[str] = field(default_factory=list)

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
        lines += [f"Warning: {w}" for w in self.warnings]
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


def _standardise(X, rows):
    """The design with every non-constant column centred and scaled on the
    observed rows (a well-conditioned basis: decades of weeks in years, spline
    columns of very different sizes), and the matrix M mapping the coefficients
    of the scaled design back to the original ones (beta = M @ beta_scaled)."""
    centre = X[rows].mean(axis=0)
    scale = X[rows].std(axis=0)
    varying = scale > 1e-12 * np.maximum(1.0, np.abs(centre))
    intercept = np.flatnonzero(~varying & np.isclose(X[rows].mean(axis=0), 1.0))
    M = np.eye(X.shape[1])
    Xs = X.copy()
    for j in np.flatnonzero(varying):
        Xs[:, j] = (X[:, j] - centre[j]) / scale[j]
        M[j, j] = 1 / scale[j]
        if intercept.size:
            M[intercept[0], j] = -centre[j] / scale[j]
    return Xs, M, varying


def _loglike(y, mu, disp):
    """Log-likelihood of counts under NB2 (disp > 0) or Poisson (disp = 0),
    computed stably when mu is tiny (an all-zero stretch)."""
    if disp > 0:
        size = 1 / disp
        return float(np.sum(stats.nbinom.logpmf(y, size, size / (size + mu))))
    return float(np.sum(stats.poisson.logpmf(y, mu)))


class _PenalizedGLM(PenalizedMixin, sm.GLM):
    """statsmodels GLM maximising the log-likelihood minus an L2 penalty."""


def _penalized_glm(y, X, disp, ridge, beta):
    """Fit the log-link Poisson (disp = 0) or NB2 GLM with the dispersion fixed,
    by statsmodels' penalised GLM (Newton, started from `beta`), maximising
    loglike - sum(ridge * b**2) / 2. The weak ridge keeps the estimate finite
    where the plain MLE does not exist: over a long all-zero stretch the
    likelihood keeps rising as the log mean there goes to -inf.
    Returns (beta, information X'WX, penalised Hessian, log-likelihood, converged)."""
    family = sm.families.NegativeBinomial(alpha=disp) if disp > 0 else sm.families.Poisson()
    model = _PenalizedGLM(y, X, family=family, penal=L2ConstraintsPenalty(weights=ridge / 2), pen_weight=1.0)
    # a step may overshoot into overflow before Newton's line search pulls it back;
    # the outcome is checked below and reported, not the intermediate steps
    with np.errstate(all="ignore"):
        res = model.fit(method="newton", start_params=beta, maxiter=_NEWTON_MAXITER, disp=0)
    beta = np.asarray(res.params, dtype=float)
    converged = bool(res.mle_retvals.get("converged", False)) and bool(np.all(np.isfinite(beta)))
    if not np.all(np.isfinite(beta)):
        raise TrendError("the trend model could not be fitted: the estimates diverged")
    mu = np.exp(np.clip(X @ beta, -_ETA_BOUND, _ETA_BOUND))
    w = mu / (1 + disp * mu)
    info = X.T @ (w[:, None] * X)  # expected (Fisher) information of the means
    return beta, info, info + np.diag(ridge), _loglike(y, mu, disp), converged


def _nb_dispersion(y, mu) -> float:
    """ML estimate of the NB2 dispersion given the means, within bounds."""
    res = optimize.minimize_scalar(
        lambda log_a: -_loglike(y, mu, np.exp(log_a)),
        bounds=np.log(_DISPERSION_BOUNDS),
        method="bounded",
        options={"xatol": 1e-5},
    )
    return float(np.exp(res.x))


def _fit_count_glm(y, X, model, ridge):
    """Poisson, or NB2 with the dispersion by ML alternated with the fit of the
    means until both settle (as MASS::glm.nb), started from the Poisson fit.
    Returns (beta, cov, loglike, edf, dispersion, problems)."""
    problems = []
    start = np.zeros(X.shape[1])
    start[np.flatnonzero(ridge == 0)[:1]] = np.log(y.mean())
    beta, info, hessian, llf, converged = _penalized_glm(y, X, 0.0, ridge, start)
    disp = np.nan
    if model == "negbin":
        disp = _nb_dispersion(y, np.exp(np.clip(X @ beta, -_ETA_BOUND, _ETA_BOUND)))
        for _ in range(_ALTERNATIONS):
            beta, info, hessian, llf, converged = _penalized_glm(y, X, disp, ridge, beta)
            new = _nb_dispersion(y, np.exp(np.clip(X @ beta, -_ETA_BOUND, _ETA_BOUND)))
            settled = abs(np.log(new / disp)) < 1e-4
            disp = new
            if settled:
                break
        else:
            problems.append("the NB dispersion and the trend did not settle jointly")
        beta, info, hessian, llf, converged = _penalized_glm(y, X, disp, ridge, beta)
        if disp >= 0.999 * _DISPERSION_BOUNDS[1]:
            problems.append(
                f"the NB dispersion reached its bound {_DISPERSION_BOUNDS[1]:g}: "
                "the counts are almost all zeros with a few bursts, intervals are rough"
            )
    if not converged:
        problems.append("the penalised GLM fit did not converge")
    cov = np.linalg.inv(hessian)
    if not np.all(np.isfinite(cov)) or not np.all(np.isfinite(beta)):
        raise TrendError("the trend model could not be fitted: non-finite estimates")
    # effective degrees of freedom of the penalised fit (p when the ridge is inactive)
    edf = float(np.trace(cov @ info)) + (model == "negbin")
    return beta, cov, llf, edf, disp, problems


def _fit_glm(y, index, t_days, step_days, model, knots, seasonal, alpha, df):
    t_years = t_days / DAYS_PER_YEAR
    observed = np.isfinite(y)
    knot_pos = None if knots is None else _knot_positions(knots, y, index)
    designs = _trend_designs(t_years, knot_pos, df, int(observed.sum()))
    season = _fourier(t_years) if seasonal else np.empty((len(y), 0))

    best = None
    for d, trend_X in designs.items():
        X = np.column_stack([trend_X, season])
        Xs, M, varying = _standardise(X, observed)
        ridge = np.where(varying, 1 / _RIDGE_SD**2, 0.0)
        try:
            beta, cov, llf, edf, disp, problems = _fit_count_glm(y[observed], Xs[observed], model, ridge)
        except np.linalg.LinAlgError:
            raise TrendError(
                "the trend model could not be fitted: its design is singular "
                "(too many knots or spline terms for the observed weeks?)"
            ) from None
        aic = -2 * llf + 2 * edf
        if best is None or aic < best[0]:
            best = (aic, d, trend_X.shape[1], Xs, M, beta, cov, disp, problems)
    aic, d, n_trend, Xs, M, beta, cov, disp, problems = best

    eta = Xs @ beta
    eta_se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Xs, cov, Xs), 0))
    z = stats.norm.ppf(1 - alpha / 2)
    fitted = pd.DataFrame(
        {
            "observed": y,
            "fitted": np.exp(eta),
            "ci_low": np.exp(eta - z * eta_se),
            "ci_high": np.exp(eta + z * eta_se),
        },
        index=index,
    )
    tiny = int(np.sum(observed & (eta < np.log(_NEGLIGIBLE_MEAN))))
    if tiny:
        problems = [
            *problems,
            f"the fitted mean is below {_NEGLIGIBLE_MEAN:g} in {tiny} weeks (long all-zero stretches): "
            "the data there only say 'near zero', so the trend there leans on the ridge prior",
        ]
    # growth of the trend part of the linear predictor over the last step
    contrast = np.zeros(Xs.shape[1])
    if len(y) > 1:
        contrast[:n_trend] = (Xs[-1, :n_trend] - Xs[-2, :n_trend]) * (DAYS_PER_MONTH / step_days)
    log_growth = float(contrast @ beta)
    se = float(np.sqrt(max(contrast @ cov @ contrast, 0.0)))
    names = _param_names(n_trend, knot_pos, d, season.shape[1])
    # report the coefficients of the original basis (years since the start)
    params = M @ beta
    params_cov = M @ cov @ M.T
    knot_labels = [] if knot_pos is None else [_label(index[p]) for p in knot_pos]
    return TrendResult(
        model=model,
        fitted=fitted,
        growth_per_month=_growth(log_growth, se, alpha),
        params=pd.Series(params, index=names),
        bse=pd.Series(np.sqrt(np.diag(params_cov)), index=names),
        alpha=alpha,
        dispersion=disp,
        knots=knot_labels,
        df=d,
        aic=float(aic),
        nobs=int(observed.sum()),
        model_result=None,
        warnings=problems,
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
