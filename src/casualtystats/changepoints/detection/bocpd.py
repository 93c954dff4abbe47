"""Bayesian online change-point detection (Adams & MacKay 2007).

After each observation x_t the run length r (observations in the current
segment, x_t included) has posterior P(r | x_1..x_t):

    P(r = 1)     ∝ H x p(x_t | prior)                       (a change at t)
    P(r = k + 1) ∝ (1 - H) x P(r_{t-1} = k) x p(x_t | the run's data)

with a constant hazard H and conjugate models, so the predictives are closed
form: negative binomial counts with a known size r and a Beta prior on the
success probability (beta-negative-binomial predictive), Poisson-Gamma
(negative binomial predictive) for Poisson counts and Normal-Gamma
(Student-t predictive) for continuous data. Everything is in
log space; run lengths whose posterior falls below `prune` are dropped (and
at most `max_runs` are kept), which keeps each step O(#runs) instead of O(t).
Missing observations carry no likelihood: the run lengths just grow.

`weight` w tempers the likelihood (a power posterior, generalised Bayes): each
observation's predictive enters as p(x_t | ...)^w and adds w to the run's
count and w x_t, w x_t^2 to its sums. With w = 1 / (long-run variance factor)
of serially dependent data, n dependent observations carry the evidence of
n w independent ones (the magnitude adjustment of a composite likelihood,
Ribatet, Cooley & Davison 2012); w = 1 is the usual recursion.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

POISSON, NORMAL, NEGBIN = 0, 1, 2


@nb.njit(cache=True)
def log_predictive(model, x, n, s, ss, prior):
    """log p(x | a run with n observations, sum s, sum of squares ss)."""
    if model == NEGBIN:
        # x ~ NB(size r, p), p ~ Beta(alpha, beta): the run's posterior is Beta(alpha + n r, beta + s)
        r = prior[2]
        a = prior[0] + n * r
        b = prior[1] + s
        return (
            math.lgamma(x + r)
            - math.lgamma(r)
            - math.lgamma(x + 1.0)
            + math.lgamma(a + r)
            + math.lgamma(b + x)
            - math.lgamma(a + r + b + x)
            - math.lgamma(a)
            - math.lgamma(b)
            + math.lgamma(a + b)
        )
    if model == POISSON:
        a = prior[0] + s
        b = prior[1] + n
        return (
            math.lgamma(a + x)
            - math.lgamma(a)
            - math.lgamma(x + 1.0)
            + a * math.log(b / (b + 1.0))
            - x * math.log(b + 1.0)
        )
    mu0, kappa0, alpha0, beta0 = prior[0], prior[1], prior[2], prior[3]
    kappa = kappa0 + n
    mean = s / n if n > 0 else 0.0
    mu = (kappa0 * mu0 + s) / kappa
    alpha = alpha0 + 0.5 * n
    centred = ss - n * mean * mean if n > 0 else 0.0
    beta = beta0 + 0.5 * max(centred, 0.0) + kappa0 * n * (mean - mu0) ** 2 / (2.0 * kappa)
    nu = 2.0 * alpha
    scale2 = beta * (kappa + 1.0) / (alpha * kappa)
    z = (x - mu) ** 2 / (nu * scale2)
    return (
        math.lgamma(0.5 * (nu + 1.0))
        - math.lgamma(0.5 * nu)
        - 0.5 * math.log(nu * math.pi * scale2)
        - 0.5 * (nu + 1.0) * math.log1p(z)
    )


@nb.njit(cache=True)
def bocpd_filter(y, model, prior, hazard, lag, prune, max_runs, first_prior, weight=1.0):
    """Run the recursion; `prior` is that of every new segment, `first_prior` that of the segment
    starting at the first observation, `weight` the likelihood's power (module docstring). Returns (recent, mode, final, evidence): recent[t, l] =
    P(r_t = l + 1 | x_1..x_t) for l <= lag, mode[t] = argmax run length, final[r - 1] =
    P(r_T = r | all data) and evidence = log p(x_1..x_n), the model's marginal likelihood."""
    n = y.size
    recent = np.zeros((n, lag + 1))
    mode = np.zeros(n, dtype=np.int64)
    cap = min(n, max_runs) + 1
    length = np.zeros(cap, dtype=np.int64)
    cnt = np.zeros(cap)
    s1 = np.zeros(cap)
    s2 = np.zeros(cap)
    logp = np.zeros(cap)
    new_length = np.zeros(cap, dtype=np.int64)
    new_cnt = np.zeros(cap)
    new_s1 = np.zeros(cap)
    new_s2 = np.zeros(cap)
    new_logp = np.zeros(cap)
    m = 0  # active runs
    log_h = math.log(hazard)
    log_1h = math.log1p(-hazard)
    evidence = 0.0
    for t in range(n):
        x = y[t]
        missing = math.isnan(x)
        if m == 0:
            new_length[0] = 1
            new_logp[0] = 0.0 if missing else weight * log_predictive(model, x, 0.0, 0.0, 0.0, first_prior)
            new_cnt[0] = 0.0 if missing else weight
            new_s1[0] = 0.0 if missing else weight * x
            new_s2[0] = 0.0 if missing else weight * x * x
            k = 1
        else:
            # a new run starting at t (its predictive is the prior's; the posterior masses sum to 1)
            new_length[0] = 1
            new_logp[0] = log_h + (
                0.0 if missing else weight * log_predictive(model, x, 0.0, 0.0, 0.0, prior)
            )
            new_cnt[0] = 0.0 if missing else weight
            new_s1[0] = 0.0 if missing else weight * x
            new_s2[0] = 0.0 if missing else weight * x * x
            k = 1
            for j in range(m):
                run_prior = first_prior if length[j] == t else prior  # the run from the first observation
                lp = 0.0 if missing else weight * log_predictive(model, x, cnt[j], s1[j], s2[j], run_prior)
                new_length[k] = length[j] + 1
                new_logp[k] = logp[j] + log_1h + lp
                new_cnt[k] = cnt[j] + (0.0 if missing else weight)
                new_s1[k] = s1[j] + (0.0 if missing else weight * x)
                new_s2[k] = s2[j] + (0.0 if missing else weight * x * x)
                k += 1
        # normalise
        top = new_logp[0]
        for j in range(k):
            top = max(top, new_logp[j])
        total = 0.0
        for j in range(k):
            total += math.exp(new_logp[j] - top)
        log_norm = top + math.log(total)
        evidence += log_norm
        # prune and copy back
        threshold = math.log(prune)
        best = -np.inf
        m = 0
        for j in range(k):
            lp = new_logp[j] - log_norm
            if lp < threshold and j != 0:
                continue
            length[m] = new_length[j]
            cnt[m] = new_cnt[j]
            s1[m] = new_s1[j]
            s2[m] = new_s2[j]
            logp[m] = lp
            if lp > best:
                best = lp
                mode[t] = new_length[j]
            if new_length[j] <= lag + 1:
                recent[t, new_length[j] - 1] = math.exp(lp)
            m += 1
        if m > max_runs:  # keep the new run (index 0) and the max_runs - 1 most probable others
            order = np.argsort(-logp[1:m]) + 1
            keep = np.sort(np.concatenate((np.zeros(1, dtype=np.int64), order[: max_runs - 1])))
            for i in range(keep.size):
                j = keep[i]
                length[i], cnt[i], s1[i], s2[i], logp[i] = length[j], cnt[j], s1[j], s2[j], logp[j]
            m = keep.size
    final = np.zeros(n)
    for j in range(m):
        final[length[j] - 1] += math.exp(logp[j])
    return recent, mode, final, evidence
