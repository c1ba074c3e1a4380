"""The power planner: users per variant to detect the smallest lift worth detecting, and how
many more days the test in hand needs for it. The verdicts' "keep testing about N more days"
for a conversion rate comes from the same sample size and the same traffic, so the two never
disagree at the same settings."""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.experiments.result import PowerSummary
from kpi_engine.stats.power import days_needed, plan, reachable_mde


@dataclass(frozen=True)
class Plan:
    n_per_arm: int
    n_total: int
    in_hand: float | None  # users per variant in the test so far
    reach: float | None  # the smallest lift those users can detect
    more_days: float | None  # at the test's traffic, until n_per_arm


def power_plan(
    known: PowerSummary | None, baseline: float, mde: float, alpha: float, power: float
) -> Plan:
    """Raises KpiLabError for a baseline and lift no rate allows."""
    planned = plan(baseline, mde, alpha, power)
    if known is None:
        return Plan(planned.n_per_arm, planned.n_total, None, None, None)
    reach = reachable_mde(baseline, known.n_per_arm, alpha, power)
    more = None
    if known.users_per_day_per_arm:
        more = days_needed(planned.n_per_arm, known.n_per_arm, known.users_per_day_per_arm)
    return Plan(planned.n_per_arm, planned.n_total, known.n_per_arm, reach, more)
