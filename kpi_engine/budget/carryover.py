"""Carryover: part of a day's spend keeps working on the days after it (geometric adstock).

A_t = s_t + θ·A_{t−1}, and the response is E[y_t] = a·A_t^b. Each campaign's θ is chosen on a
grid by profile likelihood (the power curve refitted at every θ) and shrunk toward the
portfolio's θ with a normal prior, as b is. At a constant daily spend s the adstock settles at
s / (1 − θ), so the steady-state curve is again a power curve, a·(1 − θ)^−b·s^b, and the
exact water-filling optimiser works on it unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kpi_engine.budget.curves import fit_power

THETA_GRID = np.round(np.arange(0.0, 0.7001, 0.05), 2)
THETA_PRIOR_SD = 0.15
NO_CARRYOVER_MARGIN = 1.92  # log-likelihood a θ > 0 must gain over none: a 5% likelihood-ratio test


def adstock(spend: np.ndarray, theta: np.ndarray, state: np.ndarray | None = None) -> np.ndarray:
    """A_t = s_t + θ·A_{t−1} along the last axis; ``theta`` (and ``state``, the adstock of the
    day before the first) broadcast over the leading axes."""
    theta = np.asarray(theta, dtype=float)[..., None]
    out = np.empty(np.broadcast_shapes(spend.shape, theta.shape), dtype=float)
    carried = np.zeros(out.shape[:-1]) if state is None else np.asarray(state, dtype=float)
    for t in range(spend.shape[-1]):
        carried = spend[..., t] + theta[..., 0] * carried
        out[..., t] = carried
    return out


def half_life_days(theta: float) -> int:
    """The number of days within which half of a day's effect has landed (1: all at once)."""
    if theta <= 0:
        return 1
    return max(1, math.ceil(math.log(0.5) / math.log(theta)))


def state_at(spend: np.ndarray, before: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The adstock on the day before the window for each θ (``theta`` has campaigns on its
    last axis): from the spend before it where the data has some, else the steady state of
    the first week's mean spend (an export that starts with the window does not mean the
    campaigns did)."""
    carried = adstock(before, theta)[..., -1]
    first_week = spend[:, :7]
    mean = first_week.sum(1) / np.maximum((first_week > 0).sum(1), 1)
    steady = mean / (1 - theta)
    return np.where((before > 0).any(1), carried, steady)


@dataclass
class Profile:
    """The power curve refitted at every θ of the grid (arrays of grid x campaigns, and the
    adstocked spend grid x campaigns x days)."""

    log_a: np.ndarray
    b_raw: np.ndarray
    b_se: np.ndarray
    loglik: np.ndarray  # quasi log-likelihood relative to the campaign's best θ
    deviance: np.ndarray
    dispersion: np.ndarray  # per campaign
    adstocked: np.ndarray
    log_demand: np.ndarray  # per day (0 when the campaigns cannot tell demand apart)


def profile(
    spend: np.ndarray,
    outcome: np.ndarray,
    use: np.ndarray,
    before: np.ndarray,
    log_demand: np.ndarray | None = None,
) -> Profile:
    """Fit a·A^b at every θ of the grid, for all campaigns at once. ``use`` marks the days a
    campaign has a row with spend; ``before`` is the spend of the days before the window;
    ``log_demand`` each day's demand shared by the campaigns (``demand.py``)."""
    grid, campaigns = len(THETA_GRID), spend.shape[0]
    grid_theta = np.broadcast_to(THETA_GRID[:, None], (grid, campaigns))
    adstocked = adstock(spend[None, :, :], grid_theta, state_at(spend, before, grid_theta))
    x = np.where(use[None], adstocked, np.nan).reshape(grid * campaigns, -1)
    y = np.broadcast_to(outcome, (grid, *outcome.shape)).reshape(grid * campaigns, -1)
    off = np.zeros(spend.shape[-1]) if log_demand is None else log_demand
    log_a, b_raw, b_se = fit_power(x, y, off)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.exp(log_a[:, None] + b_raw[:, None] * np.log(x) + off)
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0) - (y - mu)
    if np.any(off):
        b_se = b_se * _within_day_factor(x, mu, grid, campaigns)
    deviance = 2 * np.where(np.isfinite(x), term, 0.0).sum(1).reshape(grid, campaigns)
    deviance = np.where(np.isfinite(b_raw.reshape(grid, campaigns)), deviance, np.inf)
    best = deviance.min(0)
    days = use.sum(1)
    dispersion = np.where(np.isfinite(best), best / np.maximum(days - 3, 1), np.nan)
    dispersion = np.maximum(np.nan_to_num(dispersion, nan=1.0), 1e-9)
    loglik = -(deviance - np.where(np.isfinite(best), best, 0.0)) / (2 * dispersion)
    shape = (grid, campaigns)
    return Profile(
        log_a.reshape(shape),
        b_raw.reshape(shape),
        b_se.reshape(shape),
        np.nan_to_num(loglik, nan=-np.inf),
        deviance,
        dispersion,
        adstocked,
        off,
    )


def _within_day_factor(x: np.ndarray, mu: np.ndarray, grid: int, campaigns: int) -> np.ndarray:
    """How much wider b's standard error is once each day's demand is estimated too: only
    the spend that differs from the other campaigns' on the same day identifies b, so the
    weighted spread of log spend is taken after removing each day's (and each campaign's)
    mean, as a fit with day and campaign effects would."""
    shape = (grid, campaigns, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_x = np.log(x).reshape(shape)
    w = np.where(np.isfinite(log_x) & np.isfinite(mu.reshape(shape)), mu.reshape(shape), 0.0)
    lx = np.where(w > 0, log_x, 0.0)

    def spread(values: np.ndarray) -> np.ndarray:
        centre = (w * values).sum(2, keepdims=True) / np.maximum(w.sum(2, keepdims=True), 1e-300)
        return (w * (values - centre) ** 2).sum(2)

    day_mean = (w * lx).sum(1, keepdims=True) / np.maximum(w.sum(1, keepdims=True), 1e-300)
    within = spread(lx - day_mean)
    factor = np.sqrt(spread(lx) / np.where(within > 0, within, np.nan))
    return np.nan_to_num(np.maximum(factor, 1.0), nan=1.0).reshape(-1)


def theta_posterior(prof: Profile, gated: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights over the grid per campaign (grid x campaigns) and the portfolio's θ: the grid
    value that the fitted campaigns' likelihoods favour together. Carryover has to earn its
    place: no carryover starts with a likelihood-ratio test's margin, so noise alone does not
    smooth the spend and steepen the curve. A campaign without a fit gets the portfolio's θ
    outright."""
    head_start = np.where(THETA_GRID == 0, NO_CARRYOVER_MARGIN, 0.0)
    pooled_index = 0
    if gated.any():
        pooled_index = int(np.argmax(prof.loglik[:, gated].sum(1) + head_start))
    pooled = float(THETA_GRID[pooled_index])
    prior = head_start - (THETA_GRID - pooled) ** 2 / (2 * THETA_PRIOR_SD**2)
    log_post = prof.loglik + prior[:, None]
    log_post = log_post - log_post.max(0)
    weights = np.exp(log_post)
    weights /= weights.sum(0)
    weights[:, ~gated] = 0.0
    weights[pooled_index, ~gated] = 1.0
    return weights, pooled
