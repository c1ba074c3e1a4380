"""The bounds every plan keeps, and the question the spec asks, each answered exactly by the
optimiser's water-filling."""

from __future__ import annotations

import numpy as np

from kpi_engine.budget.optimizer import (
    Allocation,
    budget_for_outcome,
    budget_for_target_ratio,
    outcome,
    spend_at_level,
    water_fill,
)
from kpi_engine.budget.period import plan_days
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.budget.tiers import Fitted
from kpi_engine.budget.window import Window
from kpi_engine.errors import KpiLabError


def _index(window: Window, name: str, field: str) -> int:
    try:
        return window.campaigns.index(name)
    except ValueError:
        raise KpiLabError(
            f"names {name!r}, which is not a campaign of the window: the campaigns are"
            f" {', '.join(window.campaigns[:10])}",
            field,
        ) from None


def bounds(window: Window, fitted: Fitted, spec: BudgetSpec) -> tuple[np.ndarray, np.ndarray]:
    """Each campaign's least and most spend: ±max_change of today, the global minimum, the
    user's minimums and maximums; fixed campaigns keep their spend, and a campaign whose
    returns look increasing is never cut on that evidence."""
    cur = fitted.current
    lb = np.maximum(np.maximum(cur * (1 - spec.max_change), 0.0), spec.min_spend)
    ub = cur * (1 + spec.max_change)
    for name, value in spec.minimums:
        lb[_index(window, name, "minimums")] = value
    for name, value in spec.maximums:
        ub[_index(window, name, "maximums")] = value
    for i, tier in enumerate(fitted.tier):
        if tier == "fixed":
            lb[i] = ub[i] = cur[i]
        elif "increasing returns" in fitted.flags[i]:
            lb[i] = max(lb[i], cur[i])
    return lb, np.maximum(ub, lb)


def solve(
    fitted: Fitted, lb: np.ndarray, ub: np.ndarray, spec: BudgetSpec, window: Window
) -> Allocation:
    """The allocation that answers the spec's question."""
    a, b, hill = fitted.curves.a, fitted.curves.b, fitted.curves.hill
    question = spec.question
    if question == "score plan":
        spend = fitted.current.copy()
        for name, value in spec.plan:
            spend[_index(window, name, "plan")] = value
        return Allocation(spend, float("nan"))
    if question == "target roas":
        return budget_for_target_ratio(a, b, lb, ub, spec.target_roas, True, hill)
    if question == "target cpa":
        return budget_for_target_ratio(a, b, lb, ub, spec.target_cpa, False, hill)
    if question == "target marginal":
        spend = spend_at_level(a, b, spec.target_marginal_roas, lb, ub, hill)
        return Allocation(spend, spec.target_marginal_roas)
    if question == "total for the period":
        return water_fill(a, b, float(spec.total or 0) / plan_days(window, spec)[1], lb, ub, hill)
    if question == "same outcome, lowest spend":
        return budget_for_outcome(a, b, lb, ub, outcome(a, b, fitted.current, hill), hill)
    budget = spec.daily_budget if spec.daily_budget is not None else float(fitted.current.sum())
    if not budget > 0:
        raise KpiLabError("is 0: the window has no spend to split", "daily_budget")
    return water_fill(a, b, budget, lb, ub, hill)
