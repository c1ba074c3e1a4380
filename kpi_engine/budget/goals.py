"""From a KPI target that is falling behind to the budget plan that would reach it."""

from __future__ import annotations

from kpi_engine.budget.spec import OBJECTIVES, BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.kpis.result import TargetStatus

BEHIND = ("behind", "at risk")


def goal_for_target(dataset: Dataset, status: TargetStatus) -> BudgetSpec | None:
    """The goal-seek plan for what a conversions or revenue target still lacks by its
    deadline, or None where a budget plan cannot answer it (another KPI, a target on some of
    the rows only, a dataset without campaigns and spend, a target on pace)."""
    roles = dataset.roles
    plannable = {"date", "campaign", "spend", status.kpi} <= set(roles)
    if status.status not in BEHIND or status.kpi not in OBJECTIVES or status.scope or not plannable:
        return None
    missing = status.target - (status.value or 0.0)
    if missing <= 0:
        return None
    return BudgetSpec(
        dataset.dataset_id, goal_target=missing, until=status.deadline, objective=status.kpi
    )
