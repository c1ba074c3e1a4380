"""A variant and its control on one KPI, and the estimates of the lift: with CUPED when both
arms carry a covariate, plain otherwise. The headline results, the segments and the lift by
week since exposure all compare pairs the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.experiments.sums import arm, covariate
from kpi_engine.stats import compare
from kpi_engine.stats.cuped import CovariateSums, adjust_pair
from kpi_engine.stats.sufficient import ArmStats


@dataclass(frozen=True)
class Pair:
    control: ArmStats
    treated: ArmStats
    control_x: CovariateSums | None = None
    treated_x: CovariateSums | None = None

    def __sub__(self, other: Pair) -> Pair:
        """What is left of this pair without ``other`` (e.g. the test without one segment)."""
        adjusted = self.control_x is not None and other.control_x is not None
        return Pair(
            self.control - other.control,
            self.treated - other.treated,
            self.control_x - other.control_x if adjusted else None,
            self.treated_x - other.treated_x if adjusted else None,
        )

    @property
    def testable(self) -> bool:
        c, t = self.control, self.treated
        return c.has_variance and t.has_variance and c.value != 0 and not math.isnan(c.value)

    @property
    def adjusted(self) -> bool:
        return self.control_x is not None and self.treated_x is not None

    def plain(self, alpha: float) -> tuple[compare.Comparison, compare.Comparison]:
        """(relative, absolute) comparisons without covariate adjustment."""
        return (
            compare.relative(self.control, self.treated, alpha),
            compare.absolute(self.control, self.treated, alpha),
        )

    def estimates(self, alpha: float) -> tuple[compare.Comparison, compare.Comparison]:
        """(relative, absolute) comparisons, CUPED-adjusted when the pair has covariates."""
        if not self.adjusted:
            return self.plain(alpha)
        control, treated = adjust_pair(
            (self.control, self.control_x), (self.treated, self.treated_x)
        )
        return compare.relative(control, treated, alpha), compare.absolute(control, treated, alpha)


def pair_of(kind: str, control: dict, treated: dict, i: int, shape: KpiShape) -> Pair:
    """KPI ``i``'s pair from a control row and a variant row of the sums."""
    return Pair(
        arm(kind, control, i, shape),
        arm(kind, treated, i, shape),
        covariate(control, i),
        covariate(treated, i),
    )
