"""A curve per campaign over a window, and its tier: fitted (enough varied data), rule (thin
data: a shrunk average ratio), or fixed (locked, or no spend), with the flags that say why.

Every curve is the steady-state curve of a daily spend (carryover included): the optimiser,
the table and the moves all read it. What the draws of ``uncertainty.py`` need to redraw a
curve (the carryover profile, the portfolio's elasticity) travels with it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kpi_engine.budget import carryover as co
from kpi_engine.budget import curves as cv
from kpi_engine.budget.demand import log_demand
from kpi_engine.budget.hill import Doubt, fit_hill
from kpi_engine.budget.window import Window

PRIOR_DAYS = 7.0  # the rule tier's shrinkage: a week of spend at the portfolio's ratio
DEMAND_ROUNDS = 2
NOT_IDENTIFIED = "elasticity not identified"  # the fit sits at its cap: the data cannot say


@dataclass
class Fitted:
    curves: cv.Curves  # steady state: E[outcome a day] = a * s^b at a constant daily spend s
    tier: list[str]
    flags: list[list[str]]
    current: np.ndarray  # today's daily spend per campaign
    theta: np.ndarray  # carryover per campaign (0: none)
    profile: co.Profile
    weights: np.ndarray  # grid x campaigns: how likely each θ is
    gated: np.ndarray  # fitted campaigns
    pooled_b: float
    level_sd: np.ndarray  # relative standard error of each curve's level
    calibrated: dict = field(default_factory=dict)  # campaign index -> lift.Calibrated
    doubt: Doubt | None = None  # S-curves the data cannot rule out, drawn in the band

    def b_sd(self) -> np.ndarray:
        """The posterior standard deviation of each elasticity: the fit's standard error with
        the portfolio prior (the prior alone for a borrowed b); a lift-calibrated campaign's
        from its calibration."""
        se = self.curves.b_se
        precision = np.where(self.gated & np.isfinite(se) & (se > 0), 1 / se**2, 0.0)
        sd = 1 / np.sqrt(precision + 1 / cv.PRIOR_SD**2)
        for i, cal in self.calibrated.items():
            sd[i] = cal.b_sd()
        return sd

    def adstock_a(self) -> np.ndarray:
        """a of E[y_t] = a * A_t^b on adstocked spend (the steady-state a times (1 − θ)^b)."""
        return self.curves.a * np.power(1 - self.theta, self.curves.b)


def fit_curves(window: Window, locks: set[str]) -> Fitted:
    """Curves per campaign, their carryover, their tier and the flags that explain it."""
    spend, y = window.spend, window.outcome
    has_row = window.has_row
    current = np.where(has_row, spend, 0).sum(1) / np.maximum(has_row.sum(1), 1)
    use = has_row & (spend > 0)
    enough = _gated(spend, window.conversions)
    columns = np.arange(len(current))
    demand = log_demand(spend[enough], y[enough], use[enough])
    for round_ in range(DEMAND_ROUNDS):  # demand at no carryover, then at each one's own
        prof = co.profile(spend, y, use, window.spend_before, demand)
        gated = enough & np.isfinite(prof.b_raw).any(0)
        weights, pooled_theta = co.theta_posterior(prof, gated)
        pick = np.argmax(weights, axis=0)
        if round_ + 1 < DEMAND_ROUNDS:
            carried_spend = prof.adstocked[pick, columns]
            demand = log_demand(carried_spend[enough], y[enough], use[enough])
    b_raw, b_se = prof.b_raw[pick, columns], prof.b_se[pick, columns]
    pooled_b = cv.pooled_elasticity(np.where(gated, b_raw, np.nan), b_se)
    b_by_theta = cv.shrink(prof.b_raw, prof.b_se, pooled_b)  # grid x campaigns
    carried = np.where(pick == 0, 0.0, weights)  # a campaign whose best θ is 0 keeps θ = 0
    carried[0] = np.where(pick == 0, 1.0, 0.0)
    carried /= carried.sum(0)
    b = np.where(gated, np.nansum(carried * b_by_theta, axis=0), pooled_b)
    theta = np.where(gated, carried.T @ co.THETA_GRID, pooled_theta)
    adstocked = co.adstock(spend, theta, co.state_at(spend, window.spend_before, theta))
    a = cv.anchor(np.where(use, adstocked, np.nan), y, b, np.exp(demand))
    a = a * np.power(1 - theta, -b)
    fixed = np.array([name in locks for name in window.campaigns], dtype=bool) | (current <= 0)
    rule = ~fixed & ~gated
    a = np.where(rule, _rule_level(spend, y, current, b), a)
    hill, doubt = fit_hill(
        prof.adstocked[pick, columns],
        y,
        use,
        prof.deviance[pick, columns],
        prof.dispersion,
        gated,
        co.THETA_GRID[pick],
        demand,
    )
    theta = np.where(hill.mask, co.THETA_GRID[pick], theta)
    curves = cv.Curves(a, b, b_raw, b_se, hill if hill.mask.any() else None)
    tiers = np.where(fixed, "fixed", np.where(gated, "fitted", "rule")).tolist()
    level_sd = np.where(
        gated,
        np.sqrt(prof.dispersion / np.maximum(y.sum(1), 1e-9)),
        1 / np.sqrt(window.conversions.sum(1) + 1),
    )
    return Fitted(
        curves,
        tiers,
        _flags(window, locks, current, gated, curves),
        current,
        theta,
        prof,
        weights,
        gated,
        pooled_b,
        np.minimum(level_sd, 1.0),
        doubt=doubt if doubt.curves.mask.any() else None,
    )


def _gated(spend: np.ndarray, conversions: np.ndarray) -> np.ndarray:
    """Enough active days, enough variation in spend and enough conversions for a fit."""
    positive = spend > 0
    active = positive.sum(1)
    mean = np.where(positive, spend, 0).sum(1) / np.maximum(active, 1)
    spread = np.where(positive, spend - mean[:, None], 0.0)
    std = np.sqrt((spread**2).sum(1) / np.maximum(active, 1))
    cv_spend = np.where(mean > 0, std / np.where(mean > 0, mean, 1), 0.0)
    return (
        (active >= cv.MIN_DAYS)
        & (np.nan_to_num(cv_spend) >= cv.MIN_SPEND_CV)
        & (conversions.sum(1) >= cv.MIN_CONVERSIONS)
    )


def _rule_level(spend: np.ndarray, y: np.ndarray, current: np.ndarray, b: np.ndarray):
    """Thin data: the curve passes through today's spend at the campaign's ratio, shrunk
    toward the portfolio's by a week of spend."""
    total_s, total_y = spend.sum(), y.sum()
    pooled_ratio = total_y / total_s if total_s > 0 else 0.0
    prior = PRIOR_DAYS * current
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (y.sum(1) + prior * pooled_ratio) / (spend.sum(1) + prior)
        return np.nan_to_num(ratio * np.power(current, 1 - b))


def _flags(
    window: Window, locks: set[str], current: np.ndarray, gated: np.ndarray, curves: cv.Curves
) -> list[list[str]]:
    rising = np.isfinite(curves.b_raw) & (curves.b_raw - 2 * curves.b_se > 1)
    if curves.hill is not None:  # an S-curve explains a steep rise: it is not a warning
        rising &= ~curves.hill.mask
    flags: list[list[str]] = []
    for i, name in enumerate(window.campaigns):
        if name in locks:
            flags.append(["locked"])
        elif current[i] <= 0:
            flags.append(["no spend"])
        elif gated[i]:
            flags.append(["increasing returns"] if rising[i] else [])
            if curves.b[i] >= cv.B_MAX - 1e-9 and not rising[i]:
                flags[-1].append(NOT_IDENTIFIED)
            if curves.hill is not None and curves.hill.mask[i]:
                flags[-1].append("S-curve")
        else:
            flags.append(["thin data"])
    return flags
