"""Demand that moves spend and outcome together: a season, a promotion week, weekdays.

Marketers spend more when demand is high, so a campaign's outcome rises with its spend
partly because both follow demand. Fitted alone, the curve takes demand for the effect of
spend and its elasticity piles up near 1 (the sample data's true elasticities of 0.40-0.85
came out at the 0.95 cap). With several campaigns, a day's demand is what they share: each
day gets one factor d_t, common to all campaigns, and each campaign's curve is fitted within
days (log E[y_ct] = log a_c + b_c log s_ct + log d_t), by alternating the curves' fits with
the factors' closed form (the Poisson likelihood's, shrunk toward an average day). The factors
have to earn their place: an F test against none, as carryover has to.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as st

from kpi_engine.budget.curves import fit_power

MIN_CAMPAIGNS = 4  # fewer cannot tell a day's demand from their own spend
STEPS, TOLERANCE = 40, 1e-6
SIGNIFICANCE = 0.01  # the day factors must explain this clearly more than chance
PRIOR_WEIGHT = 0.05  # of an average day's fitted outcome: a quiet day stays near average


def log_demand(spend: np.ndarray, outcome: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Each day's log demand factor (mean of d_t over days with data: 1), or zeros when fewer
    than MIN_CAMPAIGNS campaigns have a fit."""
    days = spend.shape[-1]
    x = np.where(use, spend, np.nan)
    y = np.where(use, outcome, np.nan)
    log_a, b, _ = fit_power(x, y)
    fitted = np.isfinite(b)
    if fitted.sum() < MIN_CAMPAIGNS:
        return np.zeros(days)
    x, y, mask = x[fitted], np.nan_to_num(y[fitted]), use[fitted]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_x = np.where(mask, np.log(x), 0.0)
    active = mask.any(0)
    gamma = np.zeros(days)
    for _ in range(STEPS):
        log_a, b, _ = fit_power(x, y, gamma)
        if not np.isfinite(b).all():
            return np.zeros(days)
        mu = np.where(mask, np.exp(log_a[:, None] + b[:, None] * log_x), 0.0)
        observed, expected = (y * mask).sum(0), mu.sum(0)
        prior = PRIOR_WEIGHT * expected[active].mean()
        new = np.where(active, np.log((observed + prior) / (expected + prior)), 0.0)
        new[active] -= np.log(np.exp(new[active]).mean())
        done = np.max(np.abs(new - gamma)) < TOLERANCE
        gamma = new
        if done:
            break
    return gamma if _earns_its_place(x, y, mask, gamma) else np.zeros(days)


def _deviance(x: np.ndarray, y: np.ndarray, mask: np.ndarray, gamma: np.ndarray) -> float:
    log_a, b, _ = fit_power(x, y, gamma)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.exp(log_a[:, None] + b[:, None] * np.log(x) + gamma)
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0) - (y - mu)
    return float(2 * np.where(mask, term, 0.0).sum())


def _earns_its_place(x: np.ndarray, y: np.ndarray, mask: np.ndarray, gamma: np.ndarray) -> bool:
    """A quasi-likelihood F test of the day factors against none, at 1%: without demand in
    the data, a factor a day only adds noise to every curve."""
    extra = int(mask.any(0).sum()) - 1
    residual = int(mask.sum()) - 2 * len(x) - extra
    if extra < 1 or residual < 1:
        return False
    with_days = _deviance(x, y, mask, gamma)
    without = _deviance(x, y, mask, np.zeros_like(gamma))
    dispersion = with_days / residual
    if not dispersion > 0:
        return False
    statistic = (without - with_days) / extra / dispersion
    return bool(st.f.sf(statistic, extra, residual) < SIGNIFICANCE)
