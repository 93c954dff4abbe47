"""Trend models for weekly counts: how many, where is it heading, how sure are we.

`fit_trend(series, model=...)` fits a count state-space model to the weekly
series: for week t,

    y_t ~ NegativeBinomial(mean exp(eta_t), dispersion alpha)   (``"negbin"``, default)
    y_t ~ Poisson(exp(eta_t))                                    (``"poisson"``)
    eta_t = f_t + u_t [+ seasonal_t + knot terms_t]

- ``f`` is the trend: an integrated random walk on the log scale (its second
  differences are N(0, sigma_f^2): the discrete penalised spline with one knot a
  week and a second-difference penalty). Its extrapolation is a straight line,
  so at the end of the series it follows the recent slope, not a global one.
- ``u`` is short-term persistence: a stationary AR(1) with sd ``s`` and
  autocorrelation ``phi`` (between 0 and 0.9 a week: fluctuations that fade
  within months count as noise around the trend, slower ones as trend).
- ``seasonal=True`` adds two Fourier pairs of the annual cycle; ``knots=``
  (dates, 0-based positions, or ``"auto"`` = the change points of
  `detect_change_points`) adds at each knot a level shift and a slope change.
  Both are fixed effects with a vague N(0, 10^2) prior, as are the level
  shift and slope change at the start of the growth window (below).

The hyperparameters (sigma_f, s, phi, alpha) are chosen by maximising the
Laplace approximation of the marginal likelihood (the smoothing parameter by
marginal likelihood, as REML does for penalised splines), to convergence: its
analytic gradient, L-BFGS-B and then Newton steps on that gradient, the
log-determinant from a QR factorisation of the Hessian's square root
(`_optimise` and `_square_root_factor` say why; fits move by less than 1e-8
when the data or the objective change in their last bits). Given them, the
latent path is the posterior mode and its covariance the inverse of the
negative Hessian there (Newton on a banded system: O(n) per step). The
uncertainty of the smoothness sigma_f is propagated over a grid (two points a
decade, weights = marginal likelihood, uniform prior on log sigma_f) in the
first-order form: variance at the estimate plus the spread of the grid's
posterior modes (`_integrate_smoothing` says why not the full mixture): where
the data cannot tell a straight line from a bend, the intervals include both.
The other hyperparameters are plugged in.

Why the band is for f + u and why s, phi, alpha are plugged in (both
explored with the simulation study): the split of the log mean into trend f
and AR term u is not identified well: the marginal likelihood often explains
a slow wave (period three years) as AR with phi near 0.9 and a nearly
straight f, so a band for f alone covered the true smooth trend in only
74-89% of weeks with a latent AR term, while the band for f + u follows the
data whatever the split. And a week's count cannot tell the NB's gamma extra
variation from a lognormal AR term with little autocorrelation: at one event
a week, any s from 0 to 0.4 changes the log marginal likelihood by less than
0.4 once alpha is re-estimated. Averaging over s (PC prior, P(s > 1) = 0.01,
alpha along that ridge) therefore widened every band: 0.995 coverage without
an AR term (12 series a cell), and better only where a weakly persistent AR
term is real and counts are few (0.92 against 0.83 at one event a week). The
price of the plug-in: with a weakly persistent latent AR term (phi 0.5, sd
0.3, on a slow wave) the bands cover about 0.85-0.89 instead of 0.95 (the
study's table, README). At 5 and 30 events a week the fit finds the term
(s >= 0.1) in 88% / 95% of series (40 a cell); those cover 0.91 (s estimated
0.15-0.2, or wave and AR read as one AR term with phi at its 0.9 bound), the
rest about 0.6. The lags >= 1 cannot settle this: NB noise is independent
across weeks, but with dispersion 0.5 the term's autocorrelations are small
against their noise, so even an oracle knowing the true trend, phi and the
noise model detects it (one-sided 5% test of lags 1-8) in only 12% / 25% /
32% of series at 1 / 5 / 30 events a week; a rule including it in 85% of
such series includes it in 70% / 53% / 43% of series without one, whose
bands then cover about 1.0. Tried and not kept (20 series a cell, same
series): a moment fit of (s, phi) to the residual autocovariances at lags
1-8 plugged in instead of the marginal likelihood's (noisier: ar0.5 at 5 a
week 0.79 against 0.905, phi 0.8 0.86 against 0.91); the first-order
propagation below extended to phi (+0.003 to +0.004 in ar0.5).

Also tried and not kept: Bayesian model averaging over including the AR term
(with and without it, weighted by marginal likelihood, PC prior on s). In real
AR series the term raises the log marginal likelihood by only 1-4, about what
the prior charges for it, so the narrower no-AR fit took 20-60% of the weight:
flat at 5 a week stayed at 0.984 while ar0.8, ar0.5 and step lost coverage
(13 of 21 cells instead of 17; figures in the README; the code is commit
085ce40, run with benchmarks/trend.py --reps 100). And the first-order
(Kass-Steffey) propagation of s, phi and alpha jointly given sigma_f: the
spread of the modes d eta / d theta' Sigma d eta / d theta added to the
variances, Sigma the inverse of their block of the log marginal likelihood's
negative Hessian (plus a N(0, 1) prior on each transformed hyperparameter; a
hyperparameter held at its bound is fixed). 100 series a cell, same series:
ar0.5 0.854 / 0.889 / 0.889 -> 0.861 / 0.897 / 0.900 at 1 / 5 / 30 a week,
but flat at 30 a week 0.9797 -> 0.9807 (leaving the 0.90-0.98 band; late_rise
at 1 a week 0.9803 -> 0.9810): no miss met, one met cell lost. The series where
the AR term is missed (s at its bound) are those that under-cover, and there
the curvature says nothing.

Nor is the ar0.5 miss a search failure (`benchmarks/trend.py --starts`, the
study's 100 series a cell, 1 / 5 / 30 a week): the best of nine starts (this
one and the corners of s 0.03 / 0.3, phi 0.16 / 0.74, sigma_f 1e-4 / 1e-2)
finds a higher optimum in 23 / 16 / 14% of series (median +0.32 / +0.24 / +0.19),
mostly with phi at its bound, and covers 0.869 / 0.884 / 0.883 against 0.854 /
0.889 / 0.889, at 10-11 times the cost. At the true s, phi and alpha (sigma_f
fitted; a diagnosis, not given to the model) the bands would cover 0.932 / 0.946
/ 0.944, but there the log marginal likelihood is below the best optimum in
every series (median by 1.0-1.2): the likelihood itself prefers hyperparameters
under which the band under-covers (s at its bound: 24 / 14 / 5% of series,
coverage 0.60-0.66; phi at its bound: 29 / 19 / 13%, 0.83-0.88; the rest
0.92-0.94). The cells that over-cover are no search failures either: the nine
starts move flat at 5 / 30 a week 0.984 / 0.980 -> 0.984 / 0.983 and late_rise
at 1 a week 0.980 -> 0.981; at their truth (no AR term) they would cover 0.974 /
0.963 / 0.959, but the fit finds an AR term (s >= 0.05) in 54-58% of them, and
those cover 0.99-1.0. Integrating the band over s along the AR sd / dispersion ridge
(profile in log s with alpha re-fitted, full mixture; commit 3e9aa58, 30
series a cell) does not help either: ar0.5 0.848 / 0.911 / 0.899 -> 0.889 /
0.904 / 0.891 (PC prior) or 0.867 / 0.892 / 0.873 (uniform on log s), flat
0.953-0.983 -> 0.99-1.0: the ridge's low-s end narrows the band as its high-s
end widens it.

What is reported:

- ``fitted``: each week's expected count given the whole series,
  ``exp(eta_t)`` at the posterior mode (trend, season, knots and the AR(1)
  fluctuation), with the pointwise posterior interval of ``eta_t`` mapped
  through ``exp``. Because ``u`` is in the model, these intervals account for
  overdispersion (alpha) and serial dependence (phi) together.
- ``growth_per_month``: the average growth of the trend over the last
  ``growth_window_weeks`` weeks (default 13; ``f`` and knot terms: neither the
  season nor the short-term AR fluctuations), ``exp((f_n - f_{n-w}) *
  days_per_month / days_in_window) - 1``, with its posterior interval; +0.10
  means +10% a month. The trend may change its level and slope freely where
  the window starts (a step and a hinge with vague priors), so the window's
  growth rests on its own weeks. A hinge alone is not enough: when the trend
  turned shortly before the window, the marginal likelihood still prefers a
  nearly straight f (the long past outweighs the turn) and lets the AR term
  absorb the turn's first weeks; f then enters the window at the old line's
  level and the hinge must overshoot to reach the window's data (simulated:
  -22% a month reported for a true -11%). With the level free, the window's
  line is its own: honest, and wide when counts are few or very overdispersed.
  The price is a possible step in ``fitted`` where the window starts, where the
  data show one.
- Weeks before the first event beyond a 26-week lead-in are not modelled (an
  actor that did not yet exist has no trend to estimate, and the Gaussian
  approximation breaks down over long all-zero stretches): their fitted value
  is 0 with an upper bound of ``-log(alpha/2) / weeks`` (the one-sided bound of
  a constant rate given no events); a warning says how many.
- Zero weeks at the end (a group that went quiet) break the Gaussian approximation
  too: zeros add almost no curvature once the log mean runs down, so the band's
  top was set by the trend's prior variance, growing with the cube of the number of
  zero weeks (measured, mean 3 a week then 26 / 52 zero weeks: 95% upper bound 12 /
  740 a week, growth up to +350% a month). The fit still uses every week (the
  hyperparameters and the active weeks see the zeros), but the model's band is
  reported for at most 8 zero weeks after the last event (the lead-out: up to about
  8-10 its upper bound stays within 2x of what the zeros allow at 0.3-10 events a
  week, from 13 it breaks down). The weeks after the lead-out, and all the zero
  weeks when there are too many of them for the half-year before the last event
  (`_zero_run_p_value` below alpha/2: the rate has fallen; inside the lead-out the
  smooth trend cannot follow a sudden stop, so its band misses a mean that fell to
  near 0), are reported as fitted 0 with, in the j-th zero week, the one-sided
  bound of a constant mean over the j weeks since the last event under the
  model's noise (Poisson: ``-log(alpha/2) / j``; it holds for a mean that fell
  during them too, and more zero weeks never raise it). The growth over a window
  ending there is bounded above by that bound over the lower end of the band
  where the window starts (each end holds with probability 1 - alpha/2), and
  is not estimable (estimate 0, ci_low -100%, ci_high at the cap) when the window
  starts inside the quiet stretch: zeros cannot tell a rate that keeps falling
  from one that holds or turns up at a low level. A warning says so.
- ``aic``: -2 times the Laplace log marginal likelihood plus 2 per
  hyperparameter and fixed effect (comparable between fits of one series only);
  ``edf`` the effective degrees of freedom of eta; ``df`` is None (no fixed
  spline basis); ``params`` holds the hyperparameters (no standard errors) and
  the fixed effects.

The simulation study behind these choices is ``benchmarks/trend.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from scipy.linalg import lapack

from .errors import CasualtyStatsError
from .values import float_values

MODELS = ("negbin", "poisson")
_REMOVED_MODELS = ("local_level", "local_linear_trend")
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25
DEFAULT_GROWTH_WINDOW_WEEKS = 13
_SEASONAL_HARMONICS = 2
_FIXED_PRIOR_SD = 10.0  # vague prior of the seasonal and knot coefficients (log scale)
_PHI_MAX_WEEKLY = 0.9  # AR(1) persistence bound per week (see the module docstring)
_LEAD_IN_WEEKS = 26  # zero weeks kept in the fit before the first event
_HALF_YEAR_WEEKS = 26  # the weeks before the last event that a quiet end is tested against
_LEAD_OUT_WEEKS = 8  # zero weeks kept in the fit after the last event (module docstring)
_ETA_CAP = 40.0  # log scale cap of reported means and bounds
_NEGLIGIBLE_MEAN = 1e-3  # events per week: one in twenty years
# hyperparameter search box on the log scale: sigma_f, s, alpha
_LOG_SIGMA_F = (np.log(1e-5), np.log(0.5))
_LOG_S = (np.log(1e-3), np.log(3.0))
_LOG_ALPHA = (np.log(1e-4), np.log(1e3))
_LOGIT_PHI = (-6.0, 6.0)
_SMOOTHING_GRID_STEP = np.log(10) / 2  # grid of log sigma_f: two points a decade
_NEGLIGIBLE_LOG_WEIGHT = 12.0  # log marginal likelihood this far below the best: weight < 1e-5
_LEVEL_PRECISION = 1e-6  # a proper N(0, 1000^2) on each f_t: keeps the Hessian definite without data
_NEWTON_STEP_TOL = 1e-10  # largest change of the mode's log means at convergence
_NEWTON_MAXITER = 60
# hyperparameter search (`_optimise`)
_GRADIENT_TOL = 1e-6  # L-BFGS-B's projected gradient tolerance (log marginal likelihood per unit)
_POLISH_MAXITER = 12
_POLISH_TOL = 1e-8  # Newton step on the transformed scale at convergence
_POLISH_MAX_STEP = 1.0  # a Newton step moves no hyperparameter more than this (log / logit scale)
_POLISH_FD_STEP = 1e-3  # central differences of the gradient (its rounding noise is up to ~1e-6)


class TrendError(CasualtyStatsError):
    """A trend that cannot be fitted to the series given (too short, empty, bad option)."""


@dataclass
class TrendResult:
    """A fitted trend. `fitted` has columns observed, fitted, ci_low, ci_high,
    indexed like the input series; `growth_per_month` has estimate, ci_low,
    ci_high (average growth over the last `growth_window_weeks` weeks)."""

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
    growth_window_weeks: int = DEFAULT_GROWTH_WINDOW_WEEKS
    edf: float = np.nan

    @property
    def growth_estimable(self) -> bool:
        """False when the growth window starts inside a quiet end (its interval is then
        -100% to the cap: nothing bounds it)."""
        return bool(self.growth_per_month["ci_high"] < np.expm1(_ETA_CAP))

    def conf_int(self) -> pd.DataFrame:
        """Wald intervals of the parameters at the result's level (NaN for the
        hyperparameters, which are point estimates)."""
        z = stats.norm.ppf(1 - self.alpha / 2)
        return pd.DataFrame(
            {"lower": self.params - z * self.bse, "upper": self.params + z * self.bse},
            index=self.params.index,
        )

    def to_frame(self) -> pd.DataFrame:
        """The fitted trend (observed, fitted, ci_low, ci_high by week)."""
        return self.fitted.copy()

    def summary(self) -> str:
        level = f"{100 * (1 - self.alpha):.0f}%"
        g = self.growth_per_month
        last = self.fitted.iloc[-1]
        lines = [
            f"Trend model: {self.model} state space (integrated random walk trend + AR(1))   "
            f"observations: {self.nobs}   AIC: {self.aic:.1f}   effective df: {self.edf:.1f}",
        ]
        if self.knots:
            lines.append(f"Knots (level shift and slope change) at {', '.join(str(k) for k in self.knots)}")
        if np.isfinite(self.dispersion):
            lines.append(f"NB dispersion alpha: {self.dispersion:.3f} (variance = mu + alpha mu^2)")
        lines += [
            f"Last fitted value ({_label(self.fitted.index[-1])}): {last['fitted']:.2f} "
            f"({level} CI {last['ci_low']:.2f} to {last['ci_high']:.2f})",
            f"Growth per month over the last {self.growth_window_weeks} weeks: {100 * g['estimate']:+.1f}% "
            f"({level} CI {100 * g['ci_low']:+.1f}% to "
            + ("unbounded: not estimable)" if not self.growth_estimable else f"{100 * g['ci_high']:+.1f}%)"),
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
    growth_window_weeks: int = DEFAULT_GROWTH_WINDOW_WEEKS,
) -> TrendResult:
    """Fit the count state-space trend of the module docstring to a count series
    (pandas Series indexed by date or by position, or a plain array taken as
    weekly). NaN values are left out of the fit but get fitted values.

    Defaults: ``model="negbin"`` (dispersion estimated), no knots, no
    seasonality, 95% intervals (``alpha=0.05``), growth over the last 13 weeks.
    Assumes equally spaced observations (a date index is placed on the grid of
    its median step; absent steps count as missing)."""
    if model in _REMOVED_MODELS:
        raise TrendError(
            f"trend model {model!r} was removed: it smoothed log1p(counts), whose back-transform does not "
            "estimate the mean; the default 'negbin' is a count state-space model"
        )
    if model not in MODELS:
        raise TrendError(f"unknown trend model {model!r}; choose one of {', '.join(MODELS)}")
    if not 0 < alpha < 1:
        raise TrendError(f"alpha must be in (0, 1), got {alpha}")
    if int(growth_window_weeks) < 1:
        raise TrendError(f"growth_window_weeks must be at least 1, got {growth_window_weeks}")
    y, index, t_days, step_days = _as_series(series)
    observed = np.isfinite(y)
    if observed.sum() < 4:
        raise TrendError(f"a trend needs at least 4 observed values, got {int(observed.sum())}")
    if np.any(y[observed] < 0):
        raise TrendError("count models need non-negative values")
    if y[observed].sum() == 0:
        raise TrendError("the series is all zeros: a count trend has no level to fit")
    knot_pos = None if knots is None else _knot_positions(knots, y, index)
    return _fit(y, index, t_days, step_days, model, knot_pos, seasonal, alpha, int(growth_window_weeks))


def _as_series(series):
    """Values as float (NaN for missing), the index, days since the first
    observation, and the step in days (7 for a plain array: weekly)."""
    y, index = float_values(series, TrendError, "the series")
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


def _fourier(t_years):
    cols = []
    for k in range(1, _SEASONAL_HARMONICS + 1):
        cols += [np.sin(2 * np.pi * k * t_years), np.cos(2 * np.pi * k * t_years)]
    return np.column_stack(cols)


# ---------------------------------------------------------------------------
# The latent Gaussian model on a regular grid of m steps. Latent vector
# z = (f_0, u_0, f_1, u_1, ..., f_{m-1}, u_{m-1}, b): the interleaved order keeps
# the precision of (f, u) banded (bandwidth 4), b are the few fixed effects.


def _second_difference_adjoint(d2):
    """D2' d2 for the second-difference operator D2 (m-2 x m)."""
    out = np.zeros(len(d2) + 2)
    out[:-2] += d2
    out[1:-1] -= 2 * d2
    out[2:] += d2
    return out


def _tridiagonal_times(diag, off, v):
    """M v for the symmetric tridiagonal M with diagonals diag and off."""
    out = diag * v
    out[:-1] += off * v[1:]
    out[1:] += off * v[:-1]
    return out


class _Model:
    """Data and fixed structure of one fit; `mode(theta)` finds the posterior
    mode and the Laplace log marginal likelihood for hyperparameters theta."""

    def __init__(self, y, C, poisson, phi_max):
        self.y = y
        self.obs = np.isfinite(y)
        self.y0 = np.where(self.obs, y, 0.0)
        self.m = len(y)
        self.C = C
        self.p = C.shape[1]
        self.poisson = poisson
        self.phi_max = phi_max
        m = self.m
        # D2'D2 of the second-difference operator, as diagonals
        self.d2_main = np.zeros(m)
        self.d2_main[:-2] += 1
        self.d2_main[1:-1] += 4
        self.d2_main[2:] += 1
        self.d2_off1 = np.zeros(m - 1)
        self.d2_off1[:-1] -= 2
        self.d2_off1[1:] -= 2
        self.d2_off2 = np.ones(m - 2)
        self.gammaln_y1 = special.gammaln(self.y0 + 1)
        # start of the mode search: a smoothed log rate
        kernel = np.ones(9) / 9
        smooth = np.convolve(np.pad(self.y0, 4, mode="edge"), kernel, mode="valid")
        z = np.zeros(2 * m + self.p)
        z[0 : 2 * m : 2] = np.log(smooth + 0.5)
        self.z_warm = z  # each mode search starts from the previous one's mode

    def unpack(self, theta):
        sigma_f = np.exp(theta[0])
        s = np.exp(theta[1])
        phi = self.phi_max * special.expit(theta[2])
        disp = 0.0 if self.poisson else float(np.exp(theta[3]))
        return sigma_f, s, phi, disp

    def eta(self, z):
        m = self.m
        return z[0 : 2 * m : 2] + z[1 : 2 * m : 2] + self.C @ z[2 * m :]

    def _loglik_terms(self, eta, disp):
        """Log-likelihood (up to constants in eta), its gradient and the negative
        second derivative in eta, per week (0 where missing)."""
        mu = np.exp(np.clip(eta, -_ETA_CAP, _ETA_CAP))
        y = self.y0
        if disp == 0:
            ll = y * eta - mu
            grad = y - mu
            w = mu
        else:
            k = 1 / disp
            log_km = np.logaddexp(np.log(k), eta)
            ll = y * eta - (y + k) * log_km
            grad = k * (y - mu) / (k + mu)
            w = (y + k) * k * mu / (k + mu) ** 2
        return np.where(self.obs, ll, 0.0), np.where(self.obs, grad, 0.0), np.where(self.obs, w, 0.0)

    def _full_loglik(self, eta, disp):
        if disp == 0:
            ll = self.y0 * eta - np.exp(eta) - self.gammaln_y1
        else:
            k = 1 / disp
            y = self.y0
            ll = (
                special.gammaln(y + k)
                - special.gammaln(k)
                - self.gammaln_y1
                + k * np.log(k)
                + y * eta
                - (y + k) * np.logaddexp(np.log(k), eta)
            )
        return float(np.sum(ll[self.obs]))

    def _prior(self, z, tau, qu_diag, qu_off):
        """Log prior density (up to constants) and its gradient in z."""
        m = self.m
        f, u, b = z[0 : 2 * m : 2], z[1 : 2 * m : 2], z[2 * m :]
        d2 = np.diff(f, 2)
        qf = _second_difference_adjoint(d2)
        quu = _tridiagonal_times(qu_diag, qu_off, u)
        ridge = 1 / _FIXED_PRIOR_SD**2
        value = -0.5 * (tau * d2 @ d2 + _LEVEL_PRECISION * f @ f + u @ quu + ridge * b @ b)
        grad = np.empty_like(z)
        grad[0 : 2 * m : 2] = -tau * qf - _LEVEL_PRECISION * f
        grad[1 : 2 * m : 2] = -quu
        grad[2 * m :] = -ridge * b
        return value, grad

    def _hessian(self, w, tau, qu_diag, qu_off):
        """Negative Hessian of the log posterior: the banded (f, u) block in
        scipy's lower band storage, the border B (2m x p) and the corner D."""
        m = self.m
        ab = np.zeros((5, 2 * m))
        ab[0, 0::2] = tau * self.d2_main + w + _LEVEL_PRECISION
        ab[0, 1::2] = qu_diag + w
        ab[1, 0::2] = w
        ab[2, 0 : 2 * m - 2 : 2] = tau * self.d2_off1
        ab[2, 1 : 2 * m - 2 : 2] = qu_off
        ab[4, 0 : 2 * m - 4 : 2] = tau * self.d2_off2
        return (ab, *self._border(w))

    def _border(self, w):
        """The negative Hessian's border B (2m x p) and corner D at curvatures w."""
        wc = w[:, None] * self.C
        border = np.zeros((2 * self.m, self.p))
        border[0::2] = wc
        border[1::2] = wc
        return border, self.C.T @ wc + np.eye(self.p) / _FIXED_PRIOR_SD**2

    def ar_precision(self, s, phi):
        """Diagonals of the AR(1) precision (marginal sd s) and its log-determinant."""
        v = s**2 * (1 - phi**2)  # innovation variance
        diag = np.full(self.m, (1 + phi**2) / v)
        diag[[0, -1]] = 1 / v
        off = np.full(self.m - 1, -phi / v)
        return diag, off, -self.m * np.log(v) + np.log1p(-(phi**2))

    def square_root_factor(self, w, tau, s, phi):
        """`_Factor` of the negative Hessian at curvatures w, by `_square_root_factor` (accurate
        log-determinant and posterior variances; the Newton steps use the faster Cholesky)."""
        v = s**2 * (1 - phi**2)
        sqrt_w = np.sqrt(np.maximum(w, 0.0))
        cb, schur_factor = _square_root_factor(
            np.sqrt(tau),
            sqrt_w,
            self.C,
            1 / s,
            1 / np.sqrt(v),
            phi,
            np.sqrt(_LEVEL_PRECISION),
            1 / _FIXED_PRIOR_SD,
        )
        return _Factor(None, *self._border(w), square_root=(cb, schur_factor))

    def mode(self, theta):
        """Posterior mode by damped Newton (the log posterior is concave), the
        factorised Hessian there and the Laplace log marginal likelihood."""
        sigma_f, s, phi, disp = self.unpack(theta)
        tau = 1 / sigma_f**2
        qu_diag, qu_off, logdet_qu = self.ar_precision(s, phi)
        z = self.z_warm.copy()

        def objective(z):
            eta = self.eta(z)
            ll, grad_eta, w = self._loglik_terms(eta, disp)
            prior, grad_prior = self._prior(z, tau, qu_diag, qu_off)
            grad = grad_prior
            grad[0 : 2 * self.m : 2] += grad_eta
            grad[1 : 2 * self.m : 2] += grad_eta
            grad[2 * self.m :] += self.C.T @ grad_eta
            return ll.sum() + prior, grad, w

        value, grad, w = objective(z)
        previous = np.inf
        for _ in range(_NEWTON_MAXITER):
            fac = _Factor(*self._hessian(w, tau, qu_diag, qu_off))
            step = fac.solve(grad)
            t = 1.0
            while True:
                new = z + t * step
                new_value, new_grad, new_w = objective(new)
                if new_value >= value - 1e-12 * abs(value) or t < 1e-8:
                    break
                t /= 2
            z, value, grad, w = new, new_value, new_grad, new_w
            size = np.max(np.abs(t * step))
            # Newton converges quadratically: a step this small leaves the mode exact to rounding,
            # and the marginal likelihood and its gradient smooth in theta (the optimiser needs both);
            # a step that stops shrinking has reached the rounding floor
            if size < _NEWTON_STEP_TOL or (size < 1e-6 and size >= previous):
                break
            previous = size
        fac = self.square_root_factor(w, tau, s, phi)
        self.z_warm = z
        eta = self.eta(z)
        prior, _ = self._prior(z, tau, qu_diag, qu_off)
        logml = (
            self._full_loglik(eta, disp)
            + prior
            + 0.5 * (self.m - 2) * np.log(tau)
            + 0.5 * logdet_qu
            - 0.5 * fac.logdet
        )
        return z, fac, logml

    def ar_precision_derivative(self, s, phi):
        """Diagonals of the derivative of the AR(1) precision in phi (s held)."""
        v = s**2 * (1 - phi**2)
        dv = -2 * phi * s**2
        diag = np.full(self.m, (1 + phi**2) / v)
        diag[[0, -1]] = 1 / v
        d_diag = -diag * dv / v
        d_diag[1:-1] += 2 * phi / v
        d_off = np.full(self.m - 1, -1 / v + phi * dv / v**2)
        return d_diag, d_off

    def gradient(self, theta, z, fac):
        """Gradient in theta of the Laplace log marginal likelihood of `mode` at its mode z
        (fac: the factorised negative Hessian there). The mode moves with theta, but the
        log joint is stationary there, so it moves only the log-determinant, through the
        likelihood's curvature w: d/dtheta_j of -0.5 log|H| = -0.5 tr(H^-1 dH/dtheta_j) with
        dH/dtheta_j = (explicit part) + A' diag(dw/deta * deta*/dtheta_j) A, and deta*/dtheta_j
        = A H^-1 r_j (`_mode_shift_rhs`)."""
        m, n = self.m, 2 * self.m
        sigma_f, s, phi, disp = self.unpack(theta)
        tau = 1 / sigma_f**2
        qu_diag, qu_off, _ = self.ar_precision(s, phi)
        dqu_diag, dqu_off = self.ar_precision_derivative(s, phi)
        f, u = z[0:n:2], z[1:n:2]
        eta = self.eta(z)
        mu = np.exp(np.clip(eta, -_ETA_CAP, _ETA_CAP))
        y = self.y0
        hinv, eta_var = _posterior_band(fac, self.C)
        _, _, w = self._loglik_terms(eta, disp)
        if disp == 0:
            dw_deta = mu
        else:
            k = 1 / disp
            dw_deta = (y + k) * k * mu * (k - mu) / (k + mu) ** 3
        dw_deta = np.where(self.obs, dw_deta, 0.0)
        # the implicit terms -0.5 sum_t var(eta_t) dw_t/deta_t deta*_t/dtheta_j = -0.5 r_j' x
        x = fac.solve(self._adjoint(eta_var * dw_deta))
        implicit = -0.5 * (self._mode_shift_rhs(theta, z).T @ x)

        def u_trace(diag, off):
            """tr(H^-1 M) for M symmetric tridiagonal on u (diagonals diag, off)."""
            return hinv[0, 1::2] @ diag + 2 * hinv[2, 1 : n - 2 : 2] @ off

        grad = implicit.copy()
        # log sigma_f (d tau = -2 tau). -0.5 tr(H^-1 dH) = tr(H^-1 tau D2'D2) = m - tr_f(H^-1 R),
        # R = H - tau D2'D2: the same number without summing products of size tau var(f) (up to
        # 1e10) that cancel to O(m)
        d2 = np.diff(f, 2)
        fb = -np.sum((fac.G[0::2] @ fac.schur_inv()) * (w[:, None] * self.C))
        grad[0] += tau * d2 @ d2 + 2 - hinv[0, 0::2] @ (w + _LEVEL_PRECISION) - hinv[1, 0::2] @ w - fb
        # log s: the AR precision scales as s^-2
        quu = _tridiagonal_times(qu_diag, qu_off, u)
        grad[1] += u @ quu - m + u_trace(qu_diag, qu_off)
        # logit phi
        dquu = _tridiagonal_times(dqu_diag, dqu_off, u)
        dphi = self.phi_max * special.expit(theta[2]) * (1 - special.expit(theta[2]))
        grad[2] += (-0.5 * u @ dquu + (m - 1) * phi / (1 - phi**2) - 0.5 * u_trace(dqu_diag, dqu_off)) * dphi
        if disp > 0:  # log alpha: d k = -k
            kmu = k + mu
            dll = special.digamma(y + k) - special.digamma(k) - np.log1p(mu / k) + (mu - y) / kmu
            dw = np.where(self.obs, mu * (y * mu + 2 * k * mu - k * y) / kmu**3, 0.0)
            grad[3] += -k * (np.sum(dll[self.obs]) - 0.5 * eta_var @ dw)
        return grad

    def _adjoint(self, v):
        """A' v for the map A: z -> eta = f + u + C b."""
        out = np.zeros(2 * self.m + self.p)
        out[0 : 2 * self.m : 2] = out[1 : 2 * self.m : 2] = v
        out[2 * self.m :] = self.C.T @ v
        return out

    def _mode_shift_rhs(self, theta, z):
        """Columns r_j = d/dtheta_j of the log joint's gradient in z at fixed z: the mode moves
        by dz*/dtheta_j = H^-1 r_j (implicit function theorem)."""
        n = 2 * self.m
        sigma_f, s, phi, disp = self.unpack(theta)
        f, u = z[0:n:2], z[1:n:2]
        r = np.zeros((len(z), len(theta)))
        r[0:n:2, 0] = 2 / sigma_f**2 * _second_difference_adjoint(np.diff(f, 2))
        qu_diag, qu_off, _ = self.ar_precision(s, phi)
        r[1:n:2, 1] = 2 * _tridiagonal_times(qu_diag, qu_off, u)
        dqu_diag, dqu_off = self.ar_precision_derivative(s, phi)
        dphi = self.phi_max * special.expit(theta[2]) * (1 - special.expit(theta[2]))
        r[1:n:2, 2] = -_tridiagonal_times(dqu_diag, dqu_off, u) * dphi
        if disp > 0:
            k = 1 / disp
            mu = np.exp(np.clip(self.eta(z), -_ETA_CAP, _ETA_CAP))
            r[:, 3] = -k * self._adjoint(np.where(self.obs, (self.y0 - mu) * mu / (k + mu) ** 2, 0.0))
        return r


class _Factor:
    """Cholesky factor of the bordered banded matrix [[A, B], [B', D]]:
    A banded (lower storage), B the border, D the small corner."""

    def __init__(self, ab, border, corner, square_root=None):
        """From the matrix (A in band storage, B, D) by Cholesky, or from `square_root`: the
        factors (band of L, upper Cholesky factor of the Schur complement) that
        `_Model.square_root_factor` computes without forming the matrix."""
        if square_root is None:
            self.cb = _cholesky_banded(ab)
        else:
            self.cb = square_root[0]
        if not np.isfinite(self.cb[0]).all() or np.any(self.cb[0] <= 0):
            raise np.linalg.LinAlgError("the Hessian of the trend model is not positive definite")
        self.border = border
        self.G = _solve_banded(self.cb, border)  # A^-1 B
        if square_root is not None:
            self.schur_chol = (square_root[1], False) if border.shape[1] else None
        else:
            schur = corner - border.T @ self.G
            self.schur_chol = _cho_factor(schur) if schur.size else None
        self.logdet = 2 * np.sum(np.log(self.cb[0]))
        if self.schur_chol is not None:
            self.logdet += 2 * np.sum(np.log(np.abs(np.diag(self.schur_chol[0]))))

    def solve(self, rhs):
        n = self.cb.shape[1]
        w = _solve_banded(self.cb, rhs[:n, None])[:, 0]
        if self.schur_chol is None:
            return w
        b = _cho_solve(self.schur_chol, rhs[n:] - self.border.T @ w)
        return np.concatenate([w - self.G @ b, b])

    def schur_inv(self):
        p = self.border.shape[1]
        return _cho_solve(self.schur_chol, np.eye(p)) if p else np.zeros((0, 0))


# scipy.linalg's cho_factor / cho_solve call these LAPACK routines after checks that cost more
# than the routines on the few fixed effects (the mode search factors thousands of times a fit)
def _cho_factor(a):
    """Upper Cholesky factor of `a` (as `scipy.linalg.cho_factor(a)`)."""
    c, info = lapack.dpotrf(np.asarray_chkfinite(a), lower=0, clean=0)
    if info > 0:  # scipy's messages: a failed fit names its cause in the report
        raise np.linalg.LinAlgError(f"{info}-th leading minor of the array is not positive definite")
    if info < 0:
        raise ValueError(f'LAPACK reported an illegal value in {-info}-th argument on entry to "POTRF".')
    return c, False


def _cho_solve(factor, b):
    """Solve with `_cho_factor`'s factor (as `scipy.linalg.cho_solve`)."""
    x, info = lapack.dpotrs(factor[0], np.asarray_chkfinite(b), lower=0)
    if info:
        raise ValueError(f"illegal value in {-info}th argument of internal potrs")
    return x


@numba.njit(cache=True)
def _square_root_factor(sqrt_tau, sqrt_w, C, ar_first, ar_innovation, phi, sqrt_level, sqrt_ridge):
    """The Cholesky factor of the trend model's negative Hessian H = M'M without forming H:
    Givens QR of its square root M, one row at a time, rows sorted by first column. Rows:
    sqrt(tau) (f_t - 2 f_{t+1} + f_{t+2}); u_0 / s and (u_t - phi u_{t-1}) / innovation sd;
    sqrt(w_t) (f_t + u_t + C_t b); sqrt(level precision) f_t; sqrt(ridge) b_k. Latent order
    (f_0, u_0, f_1, u_1, ..., b). Returns the band of L = R' (lower storage, cb[d, j] = L[j+d, j])
    and the upper factor of the Schur complement of the (f, u) block.

    Why not Cholesky of H: H's trend block is tau D2'D2 + small terms with tau = 1/sigma_f^2
    up to 1e10, so each entry's rounding (eps tau) perturbs the slow trends, whose precision
    is far smaller, and the log-determinant moved by up to 1e-4 between nearby
    hyperparameters. In M the second-difference rows are sqrt(tau) times exact integers and
    a backward error of M perturbs H only at second order there (the square-root information
    form of a least-squares problem)."""
    m = sqrt_w.shape[0]
    p = C.shape[1]
    n = 2 * m
    bw = 5
    R = np.zeros((bw, n))  # R[d, j] = R_(j, j+d)
    Rb = np.zeros((n, p))  # R's border columns
    Rbb = np.zeros((p, p))
    x = np.zeros(bw)
    xb = np.zeros(p)
    for col in range(n):
        t = col // 2
        for kind in range(3):
            x[:] = 0.0
            xb[:] = 0.0
            if col % 2 == 0:
                if kind == 0:
                    x[0] = sqrt_level
                elif kind == 1:
                    if sqrt_w[t] == 0.0:
                        continue
                    x[0] = sqrt_w[t]
                    x[1] = sqrt_w[t]
                    for k in range(p):
                        xb[k] = sqrt_w[t] * C[t, k]
                else:
                    if t > m - 3:
                        continue
                    x[0] = sqrt_tau
                    x[2] = -2.0 * sqrt_tau
                    x[4] = sqrt_tau
            else:
                if kind == 0:
                    if t > 0:
                        continue
                    x[0] = ar_first
                elif kind == 1:
                    if t + 1 >= m:
                        continue
                    x[0] = -phi * ar_innovation
                    x[2] = ar_innovation
                else:
                    continue
            # rotate the row (first column col, band x[0..4], border xb) into R
            placed = False
            for j in range(col, min(col + bw, n)):
                xj = x[j - col]
                if xj == 0.0:
                    continue
                rjj = R[0, j]
                if rjj == 0.0:  # an empty row of R: the rest of x becomes it
                    sign = 1.0 if xj > 0 else -1.0
                    for d in range(bw):
                        if j + d < n:
                            R[d, j] = sign * (x[j - col + d] if j - col + d < bw else 0.0)
                    for k in range(p):
                        Rb[j, k] = sign * xb[k]
                    placed = True
                    break
                rho = np.hypot(rjj, xj)
                c = rjj / rho
                s = xj / rho
                for d in range(bw):
                    if j + d >= n:
                        break
                    a = R[d, j]
                    b = x[j - col + d] if j - col + d < bw else 0.0
                    R[d, j] = c * a + s * b
                    if j - col + d < bw:
                        x[j - col + d] = -s * a + c * b
                for k in range(p):
                    a = Rb[j, k]
                    b = xb[k]
                    Rb[j, k] = c * a + s * b
                    xb[k] = -s * a + c * b
            if not placed:
                _rotate_into_triangle(Rbb, xb)
    for k in range(p):
        xb[:] = 0.0
        xb[k] = sqrt_ridge
        _rotate_into_triangle(Rbb, xb)
    return R, Rbb


@numba.njit(cache=True)
def _rotate_into_triangle(R, x):
    """Givens-rotate the row x into the upper triangular R (QR update; diagonal kept >= 0)."""
    p = R.shape[0]
    for j in range(p):
        if x[j] == 0.0:
            continue
        rho = np.hypot(R[j, j], x[j])
        c = R[j, j] / rho
        s = x[j] / rho
        for k in range(j, p):
            a = R[j, k]
            b = x[k]
            R[j, k] = c * a + s * b
            x[k] = -s * a + c * b


@numba.njit(cache=True)
def _cholesky_banded(ab):
    """Lower Cholesky factor in band storage (cb[d, j] = L[j+d, j]) of the
    symmetric banded matrix given the same way; NaN when not positive definite.
    (scipy's cholesky_banded does the same; its call overhead dominated here.)"""
    bw, n = ab.shape
    cb = np.zeros((bw, n))
    for j in range(n):
        for i in range(j, min(j + bw, n)):
            acc = ab[i - j, j]
            for k in range(max(0, i - bw + 1), j):
                acc -= cb[i - k, k] * cb[j - k, k]
            if i == j:
                if acc <= 0.0:
                    cb[0, :] = np.nan
                    return cb
                cb[0, j] = np.sqrt(acc)
            else:
                cb[i - j, j] = acc / cb[0, j]
    return cb


@numba.njit(cache=True)
def _solve_banded(cb, rhs):
    """Solve L L' x = rhs (columns of rhs) given the band Cholesky factor."""
    bw, n = cb.shape
    x = rhs.copy()
    for c in range(x.shape[1]):
        for i in range(n):
            acc = x[i, c]
            for k in range(max(0, i - bw + 1), i):
                acc -= cb[i - k, k] * x[k, c]
            x[i, c] = acc / cb[0, i]
        for i in range(n - 1, -1, -1):
            acc = x[i, c]
            for k in range(i + 1, min(n, i + bw)):
                acc -= cb[k - i, i] * x[k, c]
            x[i, c] = acc / cb[0, i]
    return x


@numba.njit(cache=True)
def _banded_inverse(cb):
    """The band of the inverse of L L' (L lower banded, scipy storage
    cb[d, j] = L[j+d, j]) by the Takahashi recursion: S[d, j] = inv[j+d, j]."""
    bw, n = cb.shape
    S = np.zeros((bw, n))
    for i in range(n - 1, -1, -1):
        lii = cb[0, i]
        top = min(bw - 1, n - 1 - i)
        for dj in range(top, -1, -1):
            j = i + dj
            acc = 0.0
            for dk in range(1, top + 1):
                k = i + dk
                # inv[k, j] with both k, j > i (or j == i, then it is inv[k, i] = S[dk, i])
                if dj == 0:
                    val = S[dk, i]
                elif k >= j:
                    val = S[k - j, j]
                else:
                    val = S[j - k, k]
                acc += cb[dk, i] * val
            if dj == 0:
                S[0, i] = (1.0 / lii - acc) / lii
            else:
                S[dj, i] = -acc / lii
    return S


def _fit(y, index, t_days, step_days, model, knot_pos, seasonal, alpha, window_weeks):
    grid = np.rint(t_days / step_days).astype(int)
    if np.any(np.diff(grid) < 1):
        raise TrendError("the series index is not close to equally spaced (two dates on one step)")
    y_grid = np.full(grid[-1] + 1, np.nan)
    y_grid[grid] = y
    # leading all-zero weeks beyond the lead-in are not modelled; trailing ones are, but their
    # reported band may come from a bound instead (`_quiet_tail`; the module docstring says why)
    events = np.flatnonzero(np.nan_to_num(y_grid) > 0)
    start = max(0, int(events[0]) - int(round(_LEAD_IN_WEEKS * 7 / step_days)))
    y_fit = y_grid[start:]
    m = len(y_fit)
    if m < 4:
        y_fit, start, m = y_grid, 0, len(y_grid)
    steps_fit = np.arange(start, start + m)
    t_years = steps_fit * step_days / DAYS_PER_YEAR
    cols, names = [], []
    if seasonal:
        cols.append(_fourier(t_years))
        names += [f"{fn}_{k}" for k in range(1, _SEASONAL_HARMONICS + 1) for fn in ("sin_year", "cos_year")]
    n_season = len(names)
    knot_labels = []
    for i, p in enumerate(knot_pos or []):
        at = grid[p]
        if at <= start + 1:
            continue  # a knot in the unmodelled lead: nothing to shift
        at_years = at * step_days / DAYS_PER_YEAR
        cols.append(np.column_stack([(steps_fit >= at).astype(float), np.maximum(t_years - at_years, 0.0)]))
        names += [f"level_shift_{i + 1}", f"slope_change_{i + 1}_per_year"]
        knot_labels.append(_label(index[p]))
    # the trend may step and bend freely where the growth window starts: the window's growth
    # is then estimated from its own weeks, not carried over from a long straight past
    lag = int(min(max(1, round(window_weeks * 7 / step_days)), m - 1))
    if m >= 2 * lag + 4:
        since = steps_fit - steps_fit[m - 1 - lag]
        cols.append(
            np.column_stack([(since >= 0).astype(float), np.maximum(since, 0) * step_days / DAYS_PER_YEAR])
        )
        names += ["window_level_shift", "window_slope_change_per_year"]
    C = np.column_stack(cols) if cols else np.zeros((m, 0))
    phi_max = _PHI_MAX_WEEKLY ** (step_days / 7)
    lm = _Model(y_fit, C, model == "poisson", phi_max)

    theta, logml, problems = _optimise(lm, y_fit)
    contrast = np.zeros(2 * m + lm.p)  # f_n - f_(n-lag) plus the knot and window terms
    contrast[2 * (m - 1)] += 1
    contrast[2 * (m - 1 - lag)] -= 1
    contrast[2 * m + n_season :] = C[m - 1, n_season:] - C[m - 1 - lag, n_season:]
    mix = _integrate_smoothing(lm, theta, logml, contrast)
    eta, eta_var, log_change, change_var, b_hat, b_var, edf = mix
    sigma_f, s, phi, disp = lm.unpack(theta)

    z_crit = stats.norm.ppf(1 - alpha / 2)
    sd = np.sqrt(eta_var)
    fit_grid = np.full((len(y_grid), 3), np.nan)
    # a bound beyond exp(40) per week only says "unbounded": capped to stay finite
    fit_grid[start:, 0] = np.exp(np.minimum(eta, _ETA_CAP))
    fit_grid[start:, 1] = np.exp(np.minimum(eta - z_crit * sd, _ETA_CAP))
    fit_grid[start:, 2] = np.exp(np.minimum(eta + z_crit * sd, _ETA_CAP))
    if start:
        fit_grid[:start] = [0.0, 0.0, -np.log(alpha / 2) / start]
        problems.append(
            f"the first {start} weeks (before the first event, less a {_LEAD_IN_WEEKS}-week lead-in) "
            "have no events and are not modelled: fitted 0, upper bound that of a constant rate"
        )
    half_year = int(round(_HALF_YEAR_WEEKS * 7 / step_days))
    lead_out_end = int(events[-1]) + 1 + int(round(_LEAD_OUT_WEEKS * 7 / step_days))
    quiet_from, quiet_weeks = _quiet_tail(
        y_grid, fit_grid, int(events[-1]), lead_out_end, disp, alpha, half_year
    )
    if quiet_from is not None:
        why = (
            "too long for the half-year before the last event"
            if quiet_from == events[-1] + 1
            else f"beyond a {_LEAD_OUT_WEEKS}-week lead-out"
        )
        problems.append(
            f"the last {quiet_weeks} weeks have no events; the {len(y_grid) - quiet_from} weeks of that stretch "
            f"{why} are reported as fitted 0 with the upper bound of a constant or falling rate since the "
            "last event; the growth is bounded by the trend where its window starts, or not estimable "
            "(estimate 0, unbounded above) when the window lies in the stretch"
        )
    reported = steps_fit < (len(y_grid) if quiet_from is None else quiet_from)
    tiny = int(np.sum(lm.obs & reported & (eta < np.log(_NEGLIGIBLE_MEAN))))
    if tiny:
        problems.append(
            f"the fitted mean is below {_NEGLIGIBLE_MEAN:g} in {tiny} weeks (long all-zero stretches): "
            "the intervals there are rough"
        )
    fitted = pd.DataFrame(
        {
            "observed": y,
            "fitted": fit_grid[grid, 0],
            "ci_low": fit_grid[grid, 1],
            "ci_high": fit_grid[grid, 2],
        },
        index=index,
    )

    # average growth of the trend (f, knot and window terms, not the season) over the window
    scale = DAYS_PER_MONTH / (lag * step_days)
    log_growth = log_change * scale
    growth_se = float(np.sqrt(change_var)) * scale
    if quiet_from is not None:
        series_lag = int(min(max(1, round(window_weeks * 7 / step_days)), len(y_grid) - 1))
        growth = _quiet_end_growth(fit_grid, len(y_grid) - 1 - series_lag, step_days * series_lag)
    else:
        growth = pd.Series(
            {
                "estimate": np.expm1(min(log_growth, _ETA_CAP)),
                "ci_low": np.expm1(min(log_growth - z_crit * growth_se, _ETA_CAP)),
                "ci_high": np.expm1(min(log_growth + z_crit * growth_se, _ETA_CAP)),
            }
        )

    hyper = {"trend_slope_sd_per_week": sigma_f, "ar_sd": s, "ar_phi": phi}
    params = pd.Series({**hyper, **dict(zip(names, b_hat, strict=True))}, dtype=float)
    bse = pd.Series(
        {**dict.fromkeys(hyper, np.nan), **dict(zip(names, np.sqrt(b_var), strict=True))}, dtype=float
    )
    n_hyper = 3 + (model == "negbin")
    return TrendResult(
        model=model,
        fitted=fitted,
        growth_per_month=growth,
        params=params,
        bse=bse,
        alpha=alpha,
        dispersion=np.nan if model == "poisson" else disp,
        knots=knot_labels,
        df=None,
        aic=float(-2 * logml + 2 * (n_hyper + lm.p)),
        nobs=int(np.isfinite(y).sum()),
        model_result=None,
        warnings=problems,
        growth_window_weeks=window_weeks,
        edf=edf,
    )


def _quiet_tail(y_grid, fit_grid, last_event, end, disp, alpha, half_year):
    """Mark the zero weeks after the last event that are not reported from the model and
    fill their rows of fit_grid (fitted 0, ci_low 0, ci_high a bound). Returns the first
    such week (None if none) and the number of observed zero weeks since the last event.

    The stretch starts right after the last event when its zero weeks are too many for the
    half-year before (`_zero_run_p_value` below alpha/2: the rate has fallen); otherwise
    after the lead-out (the model's band is kept for at most `_LEAD_OUT_WEEKS` zero weeks). Week j
    of the stretch (j observed zero weeks since the last event) gets the one-sided bound of
    a constant mean over those j weeks under the model's noise: the mean mu with
    P(j zeros) = (1 + disp mu)^(-j / disp) = alpha/2 (Poisson: -log(alpha/2) / j). It also
    holds for a mean that fell during those weeks, as it does not lean on the later zeros,
    and more zero weeks never raise it."""
    zeros_so_far = np.cumsum(np.isfinite(y_grid[last_event + 1 :]))
    quiet_weeks = int(zeros_so_far[-1]) if len(zeros_so_far) else 0
    if not quiet_weeks:
        return None, 0
    if _zero_run_p_value(y_grid, last_event, quiet_weeks, half_year) <= alpha / 2:
        quiet_from = last_event + 1
    elif end < len(y_grid):
        quiet_from = end
    else:
        return None, quiet_weeks
    j = zeros_so_far[quiet_from - last_event - 1 :].astype(float)
    log_p = -np.log(alpha / 2)
    with np.errstate(divide="ignore", over="ignore"):
        bound = log_p / j if disp == 0 else np.expm1(log_p * disp / j) / disp
    bound = np.minimum(bound, np.exp(_ETA_CAP))
    fit_grid[quiet_from:] = np.column_stack([np.zeros_like(bound), np.zeros_like(bound), bound])
    return quiet_from, quiet_weeks


def _zero_run_p_value(y_grid, last_event, quiet_weeks, half_year):
    """How surprising `quiet_weeks` zero weeks after the last event are, given the weeks
    with events in the half-year (`half_year` steps, the last event's own excluded) before it: with the weeks exchangeable
    (a constant rate, any overdispersion within a week), the probability that none of the
    M event weeks among those n weeks and the zero run falls in the run,
    C(n, M) / C(n + k, M). Model-free on purpose: the fitted trend has already bent down
    to the zeros, so its level at the last event understates the rate before them."""
    before = y_grid[max(0, last_event - half_year + 1) : last_event]
    before = before[np.isfinite(before)]
    n, m = len(before), int(np.sum(before > 0))
    return float(special.comb(n, m) / special.comb(n + quiet_weeks, m))


def _quiet_end_growth(fit_grid, window_start, window_days):
    """Growth per month over a window whose end lies in the quiet tail (`_quiet_tail`), whose
    rate is at most its bound there. Bounded above by that bound over the lower end
    of the window start's band: each end holds with probability at least 1 - alpha/2, so both
    with at least 1 - alpha. Estimate: from the fitted values (-100% from a modelled start; 0,
    a constant rate, when the start is unmodelled too, and the growth is not estimable: the
    upper bound is then the cap)."""
    scale = DAYS_PER_MONTH / window_days
    fitted_start, low_start = fit_grid[max(window_start, 0), :2]
    with np.errstate(divide="ignore"):
        log_ratio_high = np.log(fit_grid[-1, 2]) - np.log(low_start)
    return pd.Series(
        {
            "estimate": -1.0 if fitted_start > 0 else 0.0,
            "ci_low": -1.0,
            "ci_high": np.expm1(min(log_ratio_high * scale, _ETA_CAP)),
        }
    )


def _posterior_means(lm, theta, contrast):
    """At hyperparameters theta: the log marginal likelihood and the posterior
    modes of each week's log mean eta (trend, AR term and fixed effects), of the
    growth contrast and of the fixed effects; also the mode z and its factor."""
    z, fac, logml = lm.mode(theta)
    return (logml, lm.eta(z), float(contrast @ z), z[2 * lm.m :]), z, fac


def _posterior_band(fac, C):
    """The band of the posterior covariance H^-1 over the interleaved (f, u) (the banded
    block's inverse by Takahashi plus the border's low-rank term G S^-1 G', S the Schur
    complement) and the posterior variance of each week's eta = f + u + C b."""
    band = _banded_inverse(fac.cb)
    schur_inv = fac.schur_inv()
    diff_eta = fac.G[0::2] + fac.G[1::2] - C
    eta_var = band[0, 0::2] + band[0, 1::2] + 2 * band[1, 0::2]
    eta_var += np.einsum("ij,jk,ik->i", diff_eta, schur_inv, diff_eta)
    gs = fac.G @ schur_inv
    n = band.shape[1]
    for d in range(band.shape[0]):
        band[d, : n - d] += np.einsum("ij,ij->i", fac.G[d:], gs[: n - d])
    return band, eta_var


def _posterior_variances(lm, theta, z, fac, contrast):
    """At hyperparameters theta and their mode z: posterior variances of each
    week's eta, of the growth contrast and of the fixed effects, and the
    effective degrees of freedom of eta."""
    _, eta_var = _posterior_band(fac, lm.C)
    _, _, w = lm._loglik_terms(lm.eta(z), lm.unpack(theta)[3])
    change_var = float(max(contrast @ fac.solve(contrast), 0.0))
    return (eta_var, change_var, np.diag(fac.schur_inv())), float(np.sum(w * eta_var))


def _integrate_smoothing(lm, theta, logml, contrast):
    """Propagate the uncertainty of the trend's smoothness sigma_f instead of
    plugging in its estimate (Kass & Steffey 1989, the first-order form that
    Wood, Pya & Saefken 2016 use for smoothing parameters): on a grid of log
    sigma_f (other hyperparameters at their estimates), weights proportional to
    the Laplace marginal likelihood times the prior (uniform on log sigma_f
    within its box). Means are the weighted means of the grid's posterior
    modes; variances are the posterior variances at the estimate plus the
    weighted spread of those modes. Where the data cannot tell a straight line
    from a bend, the intervals then include both fits.

    Why not the full mixture (which also averages the posterior variances over
    the grid): when the data are consistent with a straight line, the marginal
    likelihood is flat from the box's lower end up to moderately wiggly sigma_f,
    so the grid's weights, and with them the averaged variances of wigglier fits,
    are set by where the box ends, not by the data. Measured (benchmarks/trend.py,
    20 series a cell, same series): a flat truth at 30 a week was covered 0.997
    with the full mixture, 0.981 with this form; truths with bends kept their
    coverage (wave 0.910 / 0.912, step 0.906 / 0.901 at 1 a week): what covers
    their smoothing bias is the spread of the modes, which both forms keep."""
    at_estimate, z_best, fac = _posterior_means(lm, theta, contrast)
    variances, edf = _posterior_variances(lm, theta, z_best, fac, contrast)
    means = {theta[0]: at_estimate}
    z_best = z_best.copy()
    steps = np.arange(_SMOOTHING_GRID_STEP, _LOG_SIGMA_F[1] - _LOG_SIGMA_F[0], _SMOOTHING_GRID_STEP)
    for direction in (1, -1):  # outward from the estimate: each mode search starts from a neighbour's
        lm.z_warm = z_best.copy()
        for step in steps:
            point = theta.copy()
            point[0] = theta[0] + direction * step
            if not _LOG_SIGMA_F[0] <= point[0] <= _LOG_SIGMA_F[1]:
                break
            means[point[0]] = _posterior_means(lm, point, contrast)[0]
            if means[point[0]][0] < logml - _NEGLIGIBLE_LOG_WEIGHT:
                break  # beyond here the weights are negligible
    lm.z_warm = z_best
    keys = sorted(means)
    logw = np.array([means[k][0] for k in keys])
    weights = np.exp(logw - logw.max())
    weights /= weights.sum()
    out = []
    for pos, at_mode in zip((1, 2, 3), variances, strict=True):  # eta, growth contrast, fixed effects
        modes = np.array([means[k][pos] for k in keys])
        mean = np.tensordot(weights, modes, axes=1)
        spread = np.tensordot(weights, modes**2, axes=1) - mean**2
        out += [mean, at_mode + np.maximum(spread, 0.0)]
    trend_eta, trend_var, change, change_var, b_hat, b_var = out
    return trend_eta, trend_var, float(change), float(change_var), b_hat, b_var, edf


def _optimise(lm, y_fit, start=None):
    """Hyperparameters maximising the Laplace log marginal likelihood, within the search
    box on the transformed scale: L-BFGS-B with the analytic gradient (`_Model.gradient`),
    then Newton steps on that gradient (`_newton_polish`), from `start` (transformed
    sigma_f, s, phi, alpha; default `_default_start`). Returns theta, the log marginal
    likelihood and a list of problems met.

    Why the polish: the likelihood is nearly flat along the AR sd / NB dispersion ridge (a
    week's count cannot tell the NB's gamma noise from a weakly persistent AR term), and
    quasi-Newton line searches stop on that ridge where rounding decides: before, with
    forward differences and ftol 1e-6, a 1e-15 relative change of the objective moved fitted
    values by up to 16% (Qadisiyah's fatalities in the UCDP Iraq file). The log marginal
    likelihood itself is only good to about 1e-6 absolute there (the trend's precision has
    entries up to 1/sigma_f^2 while the posterior variance of slow trends in long all-zero
    stretches is large), too coarse for a line search to place the optimum on a ridge,
    but the gradient is accurate enough to find its root."""
    theta0 = _default_start(y_fit) if start is None else np.asarray(start, dtype=float)
    bounds = [_LOG_SIGMA_F, _LOG_S, _LOGIT_PHI, _LOG_ALPHA]
    if lm.poisson:
        theta0, bounds = theta0[:3], bounds[:3]

    def negative(theta):
        """Minus the log marginal likelihood and its gradient."""
        with np.errstate(over="ignore", under="ignore"):
            z, fac, logml = lm.mode(theta)
            return -logml, -lm.gradient(theta, z, fac)

    try:
        res = optimize.minimize(
            negative,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-12, "gtol": _GRADIENT_TOL, "maxiter": 500},
        )
        lower, upper = np.array(bounds).T
        theta = _newton_polish(negative, res.x, lower, upper)
        value = negative(theta)[0]  # also leaves the mode search warm at theta
    except np.linalg.LinAlgError:
        raise TrendError("the trend model could not be fitted: its Hessian is singular") from None
    if not np.isfinite(value):
        raise TrendError("the trend model could not be fitted: the estimates diverged")
    problems = []
    if not lm.poisson and theta[3] >= _LOG_ALPHA[1] - 1e-3:
        problems.append(
            f"the NB dispersion reached its bound {np.exp(_LOG_ALPHA[1]):g}: the counts are almost all zeros "
            "with a few bursts, intervals are rough"
        )
    return (np.append(theta, 0.0) if lm.poisson else theta), -value, problems


def _default_start(y_fit):
    """The search's start: a smooth trend (sigma_f 1e-3), AR sd 0.2, phi half its bound, and
    the NB dispersion of the counts' moments (within 0.05-10).

    One start, not several: the likelihood has other local optima in some series, but the
    best of nine starts costs ten times as much and does not cover the truth better (module
    docstring; `benchmarks/trend.py --starts`)."""
    obs = y_fit[np.isfinite(y_fit)]
    mean, var = obs.mean(), obs.var()
    alpha0 = float(np.clip((var - mean) / max(mean, 1e-6) ** 2, 0.05, 10.0))
    return np.array([np.log(1e-3), np.log(0.2), 0.0, np.log(alpha0)])


def _newton_polish(negative, theta, lower, upper):
    """Newton steps on the gradient of `negative` from theta, within [lower, upper]: the
    Hessian by central differences of the analytic gradient (at the start; again only if a
    step makes no progress), bound coordinates whose gradient points out of the box held,
    each step at most `_POLISH_MAX_STEP` and along |eigenvalues| (a saddle-free step).
    A step is taken while it shrinks the free gradient; the polish stops when the step is
    below `_POLISH_TOL`. The result depends on the gradient's root, not on where a line
    search on a flat ridge ran out of improvement."""
    grad = negative(theta)[1]
    hessian, fresh = None, False

    def free_of(theta, grad):
        return ~(((theta <= lower) & (grad > 0)) | ((theta >= upper) & (grad < 0)))

    for _ in range(_POLISH_MAXITER):
        free = free_of(theta, grad)
        if not free.any():
            break
        if hessian is None:
            hessian, fresh = _gradient_jacobian(negative, theta), True
        val, vec = np.linalg.eigh(hessian[np.ix_(free, free)])
        val = np.maximum(np.abs(val), 1e-8 * max(np.abs(val).max(), 1e-8))
        step = np.zeros_like(theta)
        step[free] = -vec @ ((vec.T @ grad[free]) / val)
        step *= min(1.0, _POLISH_MAX_STEP / max(np.max(np.abs(step)), 1e-300))
        new = np.clip(theta + step, lower, upper)
        new_grad = negative(new)[1]
        if np.linalg.norm(new_grad[free_of(new, new_grad)]) >= np.linalg.norm(grad[free]):
            if fresh:
                break  # at the gradient's rounding floor
            hessian = None  # the curvature changed since it was measured: measure again
            continue
        moved = np.max(np.abs(new - theta))
        theta, grad, fresh = new, new_grad, False
        if moved < _POLISH_TOL:
            break
    return theta


def _gradient_jacobian(negative, theta):
    """Symmetrised central-difference Jacobian of `negative`'s gradient (its Hessian)."""
    k = len(theta)
    jac = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = _POLISH_FD_STEP
        jac[:, j] = (negative(theta + step)[1] - negative(theta - step)[1]) / (2 * _POLISH_FD_STEP)
    return (jac + jac.T) / 2


def _label(value):
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value
