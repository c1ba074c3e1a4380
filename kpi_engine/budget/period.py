"""A plan for the days ahead: each campaign's daily spend from the day after the data's last
day, the outcome day by day with the carryover of spend already made, by week, with a band
from the curve draws; and goal-seek, the cheapest such plan whose expected outcome reaches a
goal by a date (bisection on the daily budget, each budget split by water-filling)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from kpi_engine.budget.carryover import adstock
from kpi_engine.budget.hill import Hill
from kpi_engine.budget.optimizer import Allocation, water_fill
from kpi_engine.budget.result import GoalResult, PeriodPlan, PlanWeek
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.budget.tiers import Fitted
from kpi_engine.budget.uncertainty import Draws
from kpi_engine.budget.window import Window
from kpi_engine.errors import KpiLabError


def plan_days(window: Window, spec: BudgetSpec) -> tuple[date, int]:
    """The plan's first day (the day after the data's last) and its length."""
    start = window.last_day + timedelta(days=1)
    if spec.plan_days is not None:
        return start, spec.plan_days
    until = date.fromisoformat(spec.until or "")
    if until < start:
        raise KpiLabError(
            f"is {until}, before the plan could start ({start}, the day after the data's"
            " last day): choose a later date",
            "until",
        )
    return start, (until - start).days + 1


def daily_outcome(
    a_adstock: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    history: np.ndarray,
    spend: np.ndarray,
    days: int,
    hill: Hill | None = None,
    hill_scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Outcome per day of the plan (..., days), summed over campaigns: the adstock carries on
    from ``history`` (campaigns x past days of spend, burn-in to the data's last day) and the
    plan spends ``spend`` every day. S-curve campaigns respond on their Hill curve (its level
    times ``hill_scale``, a draw's noise)."""
    state = adstock(history, theta)[..., -1]
    ahead = np.broadcast_to(np.asarray(spend)[..., None], (*np.shape(theta), days))
    carried = adstock(ahead, theta, state)
    out = a_adstock[..., None] * np.power(carried, b[..., None])
    if hill is not None:
        half = np.where(hill.mask, hill.adstock_half(theta), 1.0)
        powered = np.power(carried / half[..., None], hill.k[:, None])
        scale = np.asarray(hill_scale) * hill.top
        s_curve = np.asarray(scale)[..., None] * powered / (1 + powered)
        out = np.where(hill.mask[:, None], s_curve, out)
    return out.sum(-2)


def history(window: Window) -> np.ndarray:
    return np.concatenate([window.spend_before, window.spend, window.spend_after], axis=1)


def period_plan(
    fitted: Fitted,
    window: Window,
    alloc: Allocation,
    spec: BudgetSpec,
    draws: Draws | None,
) -> PeriodPlan:
    start, days = plan_days(window, spec)
    past = history(window)
    spend = alloc.spend
    hill = fitted.curves.hill
    per_day = daily_outcome(
        fitted.adstock_a(), fitted.curves.b, fitted.theta, past, spend, days, hill
    )
    band: tuple[float | None, float | None] = (None, None)
    if draws is not None:
        totals = daily_outcome(
            draws.adstock_a(), draws.b, draws.theta, past, spend, days, hill, draws.hill_scale
        ).sum(-1)
        band = (float(np.quantile(totals, 0.1)), float(np.quantile(totals, 0.9)))
    weeks = tuple(
        PlanWeek(
            (start + timedelta(days=first)).isoformat(),
            float(spend.sum() * len(per_day[first : first + 7])),
            float(per_day[first : first + 7].sum()),
        )
        for first in range(0, days, 7)
    )
    return PeriodPlan(
        start.isoformat(),
        (start + timedelta(days=days - 1)).isoformat(),
        days,
        float(spend.sum() * days),
        float(per_day.sum()),
        band,
        weeks,
    )


def seek_goal(
    fitted: Fitted, window: Window, lb: np.ndarray, ub: np.ndarray, spec: BudgetSpec
) -> tuple[Allocation, GoalResult]:
    """The smallest daily budget whose best split reaches the goal over the plan's days, or
    the largest the bounds allow when none does."""
    start, days = plan_days(window, spec)
    past = history(window)
    a, b, theta = fitted.adstock_a(), fitted.curves.b, fitted.theta
    hill = fitted.curves.hill
    target = float(spec.goal_target or 0.0)

    def reached(budget: float) -> tuple[Allocation, float]:
        alloc = water_fill(fitted.curves.a, b, budget, lb, ub, hill)
        return alloc, float(daily_outcome(a, b, theta, past, alloc.spend, days, hill).sum())

    lo, hi = float(lb.sum()), float(ub.sum())
    best, best_outcome = reached(hi)
    if best_outcome < target:
        found, value, reachable = best, best_outcome, False
    elif reached(lo)[1] >= target:
        (found, value), reachable = reached(lo), True
    else:
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if reached(mid)[1] >= target else (mid, hi)
        (found, value), reachable = reached(hi), True
    until = (start + timedelta(days=days - 1)).isoformat()
    goal = GoalResult(
        kpi=spec.objective,
        target=target,
        until=until,
        reachable=reachable,
        total_spend=float(found.spend.sum() * days),
        expected_outcome=value,
        best_reachable=best_outcome,
    )
    return found, goal
