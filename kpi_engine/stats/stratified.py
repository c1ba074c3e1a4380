"""Post-stratification by day: when the split changes from day to day, each arm's value is
re-weighted to the same day mix (each day weighted by its share of all units), so that a
drifting split cannot make the pooled comparison point the wrong way (Simpson's paradox).
A day needs units in both arms; the estimate uses the normal approximation."""

from __future__ import annotations

import math

from scipy import stats as st

from kpi_engine.stats.lifts import Lift, Mean, welch
from kpi_engine.stats.sufficient import ArmStats


def post_stratified(
    strata: list[tuple[ArmStats, ArmStats]], alpha: float = 0.05, nonnegative: bool = True
) -> Lift | None:
    """The treated arm against the control, each day weighted by its units: the difference
    tested with the normal approximation and the relative lift's interval from the same test
    (``lifts.welch``); None with fewer than two usable days."""
    usable = [(a, b) for a, b in strata if a.n > 1 and b.n > 1]
    if len(usable) < 2:
        return None
    total = sum(a.n + b.n for a, b in usable)
    value_a = value_b = var_a = var_b = 0.0
    for a, b in usable:
        w = (a.n + b.n) / total
        value_a += w * a.value
        value_b += w * b.value
        var_a += w * w * a.variance
        var_b += w * w * b.variance
    if not (math.isfinite(var_a) and math.isfinite(var_b)) or not var_a + var_b > 0:
        return None
    n_a, n_b = sum(a.n for a, _ in usable), sum(b.n for _, b in usable)
    return welch(
        Mean(value_a, var_a, n_a), Mean(value_b, var_b, n_b), alpha, nonnegative, dof=math.inf
    )


def split_changed(strata: list[tuple[ArmStats, ArmStats]]) -> float:
    """p-value of a chi-square test that the split is the same on every day."""
    table = [[a.n for a, _ in strata], [b.n for _, b in strata]]
    return float(st.chi2_contingency(table)[1])
