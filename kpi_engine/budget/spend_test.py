"""The spend test that would settle an uncertain plan, and what it is worth.

When the curve draws cannot say whether a plan helps, more of the same data will not either:
the elasticities need spend that varies more. The test alternates days at +X% and −X% of
today's spend on the campaigns whose curves carry most of the plan's uncertainty (the daily
average stays where it was); how many campaigns and how many days is what maximises the
test's value. Each such day adds (δ·(1 − θ)/(1 + θ))²·μ/φ to the information
about b, where δ is half the gap in log spend and (1 − θ)/(1 + θ) is how much carryover
damps a day-to-day swing; the expected standard error after N days follows.

Its value is a pre-posterior calculation over the same draws: take a draw as the truth,
simulate the test's estimate of b, update, re-plan, and score both plans on the true curves;
the mean gain a day, over the horizon, minus the outcome the test's swings cost, is the value
of deciding after the test instead of now.
"""

from __future__ import annotations

import numpy as np

from kpi_engine.budget import curves as cv
from kpi_engine.budget.optimizer import Allocation, water_fill_rows
from kpi_engine.budget.period import plan_days
from kpi_engine.budget.result import Portfolio, SpendTest
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.budget.tiers import Fitted
from kpi_engine.budget.uncertainty import Draws, draw_curves
from kpi_engine.budget.window import Window

CHANGE = 0.5
DAYS = (14, 28, 42, 56)
NEEDED_BELOW = 0.8  # P(the split helps) under which a plan should wait for a test
HORIZON_DAYS = 180  # what a test teaches about the curves stays useful for about half a year
MAX_CAMPAIGNS = 5
SIMULATED = 100


def suggest_test(
    fitted: Fitted,
    window: Window,
    alloc: Allocation,
    lb: np.ndarray,
    ub: np.ndarray,
    spec: BudgetSpec,
    portfolio: Portfolio,
    draws: Draws | None,
) -> SpendTest:
    draws = draws if draws is not None else draw_curves(fitted, window, 200, spec.seed)
    ranked = _ranked(fitted, draws, alloc, lb, ub)
    sd_now = fitted.b_sd()
    per_day = _information_a_day(fitted, window)
    horizon = plan_days(window, spec)[1] if spec.has_period else HORIZON_DAYS
    best = None
    for count in range(1, min(len(ranked), MAX_CAMPAIGNS) + 1):
        tested = sorted(ranked[:count])
        for days in DAYS:
            info = np.zeros(len(sd_now))
            info[tested] = per_day[tested] * days
            rng = np.random.default_rng(spec.seed + 1)  # the same simulated truths for each
            value = _value(fitted, draws, alloc, lb, ub, sd_now, info, rng) * horizon
            value -= _cost_a_day(fitted, tested) * days
            if best is None or value > best[1]:
                best = (days, value, info, tested)
    days, value, info, tested = best
    se_after = 1 / np.sqrt(1 / sd_now**2 + info)
    prob = portfolio.prob_better_split
    return SpendTest(
        campaigns=tuple(window.campaigns[i] for i in tested),
        change=CHANGE,
        days=days,
        expected_b_se=tuple(float(se_after[i]) for i in tested),
        value=float(value),
        needed=bool(prob is not None and prob < NEEDED_BELOW),
        b_se_now=tuple(float(sd_now[i]) for i in tested),
        horizon_days=horizon,
    )


def _ranked(
    fitted: Fitted, draws: Draws, alloc: Allocation, lb: np.ndarray, ub: np.ndarray
) -> list[int]:
    """Movable campaigns, those whose curves carry most of the plan's uncertainty (their
    variance of the uplift over the draws) first; with no move, the least known first."""
    movable = np.array([t != "fixed" for t in fitted.tier]) & (ub > lb)
    if fitted.curves.hill is not None:  # the test measures an elasticity, not an S-curve
        movable &= ~fitted.curves.hill.mask
    spread = (draws.value(alloc.spend) - draws.value(fitted.current)).var(0)
    if not (spread[movable] > 0).any():
        spread = fitted.b_sd() * fitted.current
    order = np.argsort(-spread, kind="stable")
    return [int(i) for i in order if movable[i]]


def _information_a_day(fitted: Fitted, window: Window) -> np.ndarray:
    """What one day of the test adds to 1 / se(b)² for each campaign."""
    delta = (np.log1p(CHANGE) - np.log1p(-CHANGE)) / 2 * (1 - fitted.theta) / (1 + fitted.theta)
    days = np.maximum(window.has_row.sum(1), 1)
    mean = window.outcome.sum(1) / days
    dispersion = np.where(
        fitted.gated, fitted.profile.dispersion, np.median(fitted.profile.dispersion)
    )
    return delta**2 * mean / dispersion


def _value(
    fitted: Fitted,
    draws: Draws,
    alloc: Allocation,
    lb: np.ndarray,
    ub: np.ndarray,
    sd_now: np.ndarray,
    info: np.ndarray,
    rng: np.random.Generator,
) -> float:
    """The mean daily gain, over draws taken as the truth, of re-planning after the test."""
    n = min(SIMULATED, len(draws.b))
    if n == 0:
        return 0.0
    a, b, cur = fitted.curves.a, fitted.curves.b, fitted.current
    level_now = a * np.power(cur, b)
    tested = info > 0
    se_test = np.where(tested, 1 / np.sqrt(np.where(tested, info, 1.0)), np.inf)
    noise = rng.standard_normal((n, len(b)))
    measured = draws.b[:n] + np.where(tested, se_test, 0.0) * noise
    weight = np.where(tested, 1 / se_test**2, 0.0)
    b_after = (b / sd_now**2 + weight * measured) / (1 / sd_now**2 + weight)
    b_after = np.clip(b_after, cv.B_MIN, cv.B_MAX)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_after = np.nan_to_num(level_now / np.power(cur, b_after))
    budget = float(alloc.spend.sum())
    replanned = water_fill_rows(a_after, b_after, budget, lb, ub, fitted.curves.hill)
    # the test teaches elasticities: its value is counted on the power curves, without
    # the S-curves the band also draws (a test does not settle a shape)
    scale = draws.hill_scale
    truth = Draws(
        draws.a[:n],
        draws.b[:n],
        draws.theta[:n],
        draws.hill,
        scale[:n] if isinstance(scale, np.ndarray) else scale,
    )
    return float((truth.value(replanned) - truth.value(alloc.spend)).sum(1).mean())


def _cost_a_day(fitted: Fitted, tested: list[int]) -> float:
    """What the swings cost a day on concave curves: f(s) minus the mean of f(s(1 ± X))."""
    a, b, s = (x[tested] for x in (fitted.curves.a, fitted.curves.b, fitted.current))
    swings = (np.power(s * (1 + CHANGE), b) + np.power(s * (1 - CHANGE), b)) / 2
    return float((a * (np.power(s, b) - swings)).sum())
