"""bocpd(): Bayesian online change-point detection for a briefing's
"did something change in the last few weeks?"."""

from __future__ import annotations

import numpy as np

from .costs import local_dispersion, robust_noise_sd
from .detect import OVERDISPERSION_INDEX, as_series, is_count_series
from .detection.bocpd import NORMAL, POISSON, bocpd_filter
from .errors import ChangePointError
from .results import BOCPDResult


def default_prior(model: str, y: np.ndarray) -> np.ndarray:
    """Weakly informative priors centred on the series itself.

    poisson: Gamma(shape 1, rate 1 / mean) on the rate (prior mean = overall mean).
    normal: mean ~ N(median, var(levels)) with var(levels) the series' robust
    variance, noise variance ~ InvGamma(1, sigma^2) with sigma the robust noise
    sd from first differences, i.e. Normal-Gamma(mu0, kappa0 = sigma^2 / var(levels), 1, sigma^2).
    """
    if model == "poisson":
        return np.array([1.0, 1.0 / max(float(y.mean()), 1e-3)])
    sigma2 = max(robust_noise_sd(y), 1e-12) ** 2
    spread = 1.482602218505602 * float(np.median(np.abs(y - np.median(y))))
    levels = max(spread**2, float(y.var()), sigma2)
    return np.array([float(np.median(y)), sigma2 / levels, 1.0, sigma2])


def bocpd(
    values,
    *,
    model: str = "auto",
    hazard: float = 1 / 100,
    lag: int = 5,
    prior=None,
    prune: float = 1e-10,
    max_runs: int = 1000,
) -> BOCPDResult:
    """Bayesian online change-point detection (Adams & MacKay 2007).

    model: "poisson" (Poisson-Gamma, counts), "normal" (Normal-Gamma, unknown
        mean and variance) or "auto": "poisson" for non-negative integer series
        that are not overdispersed (neighbouring-pair variance <= 1.5 x mean),
        "normal" otherwise.
    hazard: prior probability of a change at each step (expected run 1/hazard).
    lag: change_prob[t] is judged with `lag` more observations, min(lag, n-1-t)
        at the end: P(a segment starts at t | x_1..x_{t+lag}); 0 at t = 0.
    prior: hyperparameters (poisson: shape, rate; normal: mu0, kappa0, alpha0,
        beta0); default `default_prior`.
    """
    y, labels = as_series(values)
    observed = y[~np.isnan(y)]
    if model == "auto":
        counts = is_count_series(observed) and local_dispersion(observed)[0] <= OVERDISPERSION_INDEX
        model = "poisson" if counts else "normal"
    if model not in ("poisson", "normal"):
        raise ChangePointError(f"unknown BOCPD model {model!r}; choose 'poisson', 'normal' or 'auto'")
    if model == "poisson" and not is_count_series(observed):
        raise ChangePointError("the poisson model needs non-negative integer counts")
    if not 0 < hazard < 1:
        raise ChangePointError(f"hazard must be in (0, 1), not {hazard!r}")
    if observed.size == 0:
        raise ChangePointError("bocpd needs at least one observed value")
    params = default_prior(model, observed) if prior is None else np.asarray(prior, dtype=float)
    recent, mode, final = bocpd_filter(
        y,
        POISSON if model == "poisson" else NORMAL,
        params,
        float(hazard),
        int(lag),
        float(prune),
        int(max_runs),
    )
    n = y.size
    ell = np.minimum(lag, n - 1 - np.arange(n))
    change_prob = recent[np.arange(n) + ell, ell]
    change_prob[0] = 0.0  # the first observation starts the series, not a change
    return BOCPDResult(
        labels=labels,
        change_prob=change_prob,
        run_length_mode=mode,
        run_length_posterior=final,
        model=model,
        hazard=float(hazard),
        lag=int(lag),
    )
