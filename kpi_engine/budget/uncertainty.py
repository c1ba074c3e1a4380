"""How sure a plan can be: draws of every campaign's curve from what the data says about it.

A fitted campaign draws its carryover θ from its profile-likelihood weights, then its
elasticity b from the normal posterior at that θ (the fit's standard error combined with the
portfolio prior), then the level that makes the curve reproduce the campaign's observed
total, with that total's own noise. A thin-data campaign's b is borrowed from the portfolio,
so it is drawn from the prior (sd 0.25): a move onto a campaign the data cannot see is as
uncertain as it should be. A campaign the data cannot tell from an S-curve takes its best
S-curve in a share of the draws (``hill.Doubt``). Locked campaigns keep their curve and draw
only its level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpi_engine.budget import carryover as co
from kpi_engine.budget import curves as cv
from kpi_engine.budget.hill import Hill
from kpi_engine.budget.lift import sample
from kpi_engine.budget.tiers import Fitted
from kpi_engine.budget.window import Window

CHUNK = 16  # draws whose adstocked spend is powered at once (memory: CHUNK x campaigns x days)


@dataclass
class Draws:
    """Steady-state curves, one row per draw (draws x campaigns)."""

    a: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    hill: Hill | None = None  # S-curves keep their shape and draw their level (hill_scale)
    hill_scale: np.ndarray | float = 1.0
    doubt: Hill | None = None  # S-curves a power campaign may be, where ``doubted`` says so
    doubted: np.ndarray | bool = False

    def value(self, spend: np.ndarray) -> np.ndarray:
        """Outcome a day per draw and campaign at a constant daily ``spend``."""
        out = self.a * np.power(np.maximum(spend, 0.0), self.b)
        if self.hill is not None:
            out = np.where(self.hill.mask, self.hill.value(spend) * self.hill_scale, out)
        if self.doubt is not None:
            out = np.where(self.doubted, self.doubt.value(spend) * self.hill_scale, out)
        return out

    def adstock_a(self) -> np.ndarray:
        return self.a * np.power(1 - self.theta, self.b)


def draw_curves(fitted: Fitted, window: Window, n: int, seed: int) -> Draws:
    rng = np.random.default_rng(seed)
    cur, campaigns = fitted.current, len(fitted.current)
    cols = np.arange(campaigns)
    cumulative = np.cumsum(fitted.weights, axis=0)
    pick = (rng.random((n, campaigns))[None] > cumulative[:, None, :]).sum(0)
    pick = np.minimum(pick, len(fitted.weights) - 1)
    prof = fitted.profile
    b_raw, b_se = prof.b_raw[pick, cols], prof.b_se[pick, cols]
    precision = np.where(np.isfinite(b_se) & (b_se > 0), 1 / b_se**2, 0.0)
    prior = 1 / cv.PRIOR_SD**2
    raw = np.where(np.isfinite(b_raw), b_raw, fitted.pooled_b)
    mean = (precision * raw + prior * fitted.pooled_b) / (precision + prior)
    sd = 1 / np.sqrt(precision + prior)
    gated = np.broadcast_to(fitted.gated, (n, campaigns))
    z = rng.standard_normal((n, campaigns))
    b = np.clip(
        np.where(gated, mean + sd * z, fitted.pooled_b + cv.PRIOR_SD * z), cv.B_MIN, cv.B_MAX
    )
    fixed = np.array([t == "fixed" for t in fitted.tier])
    b = np.where(fixed, fitted.curves.b, b)
    theta = np.where(gated, co.THETA_GRID[pick], fitted.theta)
    a = np.where(gated, _anchored(fitted, window, pick, b, theta), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        through_today = fitted.curves.a * np.power(cur, fitted.curves.b) / np.power(cur, b)
    a = np.where(gated, a, np.nan_to_num(through_today))
    a = np.where(fixed, fitted.curves.a, a)
    noise = fitted.level_sd * rng.standard_normal((n, campaigns))
    scale = np.exp(noise - fitted.level_sd**2 / 2)
    a = a * scale
    for i, cal in fitted.calibrated.items():  # a lift test's grid replaces the curve's draws
        b[:, i], log_k = sample(cal, n, rng)
        a[:, i] = np.exp(log_k) * cal.level_at(b[:, i])
    hill = fitted.curves.hill
    if hill is not None:
        theta = np.where(hill.mask, fitted.theta, theta)
    doubt, doubted = None, False
    if fitted.doubt is not None:  # a draw takes the S-curve with the chance it is the shape
        doubt = fitted.doubt.curves
        doubted = doubt.mask & (rng.random((n, campaigns)) < fitted.doubt.weight)
    return Draws(a, b, theta, hill, scale, doubt, doubted)


def _anchored(
    fitted: Fitted, window: Window, pick: np.ndarray, b: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """The steady-state level that reproduces each campaign's observed total under (θ, b)."""
    use = window.has_row & (window.spend > 0)
    total = np.where(use, window.outcome, 0.0).sum(1)
    with np.errstate(divide="ignore"):
        log_adstock = np.where(use, np.log(fitted.profile.adstocked), -np.inf)
    cols = np.arange(len(total))
    out = np.empty(b.shape)
    for lo in range(0, len(b), CHUNK):
        rows = slice(lo, lo + CHUNK)
        logs = log_adstock[pick[rows], cols]
        powered = np.exp(b[rows, :, None] * logs + fitted.profile.log_demand).sum(-1)
        out[rows] = np.where(powered > 0, total / np.where(powered > 0, powered, 1), 0.0)
    return out * np.power(1 - theta, -b)


def uplift_summary(
    draws: Draws, current: np.ndarray, suggested: np.ndarray
) -> tuple[tuple[float, float], float, float | None, np.ndarray]:
    """The p10–p90 band of the daily uplift, P(uplift > 0), P(the re-split helps), and each
    campaign's change in outcome per draw (draws x campaigns). The third is P(uplift > 0)
    when the plan keeps today's total; a plan that changes the total is judged by the total
    first (a cut loses outcome by design), so it has None there."""
    change = draws.value(suggested) - draws.value(current)
    uplift = change.sum(1)
    band = (float(np.quantile(uplift, 0.1)), float(np.quantile(uplift, 0.9)))
    prob = float((uplift > 0).mean())
    same_total = abs(suggested.sum() - current.sum()) <= 1e-6 * max(current.sum(), 1.0)
    return band, prob, prob if same_total else None, change
