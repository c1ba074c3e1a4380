"""CUPED: variance reduction with a pre-experiment covariate (Deng et al. 2013).

Each unit has its KPI value y and the same KPI before exposure, x (0 for a unit without
history). With θ = Cov(y, x) / Var(x) over all units pooled across variants, an arm's adjusted
mean is ȳ − θ(x̄ − x̄_pooled), and the variance of one unit's contribution is
Var(y) + θ²Var(x) − 2θCov(y, x) = Var(y)(1 − ρ²) at the optimal θ. The difference of adjusted
means equals the variant coefficient of an OLS of y on the variant and x up to θ, which OLS
estimates within arms and CUPED pools across them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.stats.sufficient import ArmStats


@dataclass(frozen=True)
class CovariateSums:
    """Σx, Σx² and Σy·x of an arm (its n and Σy, Σy² are in its ArmStats)."""

    sum_x: float = 0.0
    sumsq_x: float = 0.0
    sum_yx: float = 0.0

    def __add__(self, other: CovariateSums) -> CovariateSums:
        return CovariateSums(
            self.sum_x + other.sum_x, self.sumsq_x + other.sumsq_x, self.sum_yx + other.sum_yx
        )

    def __sub__(self, other: CovariateSums) -> CovariateSums:
        return CovariateSums(
            self.sum_x - other.sum_x, self.sumsq_x - other.sumsq_x, self.sum_yx - other.sum_yx
        )


@dataclass(frozen=True)
class AdjustedArm:
    """An arm's CUPED-adjusted mean, shaped like ArmStats for the comparisons."""

    n: float
    value: float
    unit_variance: float

    @property
    def variance(self) -> float:
        return self.unit_variance / self.n


def _moments(arm: ArmStats, cov: CovariateSums) -> tuple[float, float, float]:
    """Var(x), Cov(y, x) and Var(y) of one arm's units (sample, n − 1)."""
    n = arm.n
    var_x = (cov.sumsq_x - cov.sum_x**2 / n) / (n - 1)
    cov_yx = (cov.sum_yx - arm.sum_m * cov.sum_x / n) / (n - 1)
    return var_x, cov_yx, arm.unit_variance


def theta(arms: list[tuple[ArmStats, CovariateSums]]) -> float:
    """Cov(y, x) / Var(x) over all units of the arms pooled (0 when x does not vary)."""
    total = arms[0][0]
    cov = arms[0][1]
    for arm, c in arms[1:]:
        total, cov = total + arm, cov + c
    var_x, cov_yx, _ = _moments(total, cov)
    return cov_yx / var_x if var_x > 0 else 0.0


def adjust(arm: ArmStats, cov: CovariateSums, theta_: float, pooled_x: float) -> AdjustedArm:
    """The arm's adjusted mean ȳ − θ(x̄ − x̄_pooled) and its per-unit variance."""
    var_x, cov_yx, var_y = _moments(arm, cov)
    value = arm.sum_m / arm.n - theta_ * (cov.sum_x / arm.n - pooled_x)
    unit_variance = max(var_y + theta_**2 * var_x - 2 * theta_ * cov_yx, 0.0)
    return AdjustedArm(arm.n, value, unit_variance)


def adjust_pair(
    control: tuple[ArmStats, CovariateSums], treated: tuple[ArmStats, CovariateSums]
) -> tuple[AdjustedArm, AdjustedArm]:
    """Both arms adjusted with θ and x̄ pooled over the two of them."""
    t = theta([control, treated])
    n = control[0].n + treated[0].n
    pooled_x = (control[1].sum_x + treated[1].sum_x) / n
    return adjust(*control, t, pooled_x), adjust(*treated, t, pooled_x)
