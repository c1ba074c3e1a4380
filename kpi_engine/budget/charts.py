"""The data behind a budget plan's charts, derived from its result."""

from __future__ import annotations

import numpy as np

from kpi_engine.budget.result import CampaignPlan


def curve_points(plan: CampaignPlan, points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A campaign's response curve from 0 to 1.6x the larger of today's and the suggested
    spend, in the objective's units."""
    top = 1.6 * max(plan.current_spend, plan.suggested_spend, 1e-9)
    spend = np.linspace(0, top, points)
    return spend, plan.curve.value(spend)
