"""A variant and its control on one KPI, and the estimates of the lift: with CUPED when both
arms carry a covariate, plain otherwise. The headline results, the segments and the lift by
week since exposure all compare pairs the same way."""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.experiments.sums import arm, covariate
from kpi_engine.stats import lifts
from kpi_engine.stats.cuped import CovariateSums, adjust_pair
from kpi_engine.stats.sufficient import MEAN, PROPORTION, ArmStats

# Below these an estimate is noise, not evidence: the headline says "not enough data yet",
# and segments, weeks since exposure and the charts show no estimate ("too few").
MIN_USERS, MIN_CONVERSIONS, MIN_UNITS = 100, 25, 7


def enough(arm: ArmStats) -> bool:
    """One arm's value (a day's, on a chart) rests on enough units: MIN_USERS users and
    MIN_CONVERSIONS conversions for a rate, MIN_USERS users for a mean, MIN_UNITS units
    (days) for a ratio."""
    if arm.kind == PROPORTION:
        return arm.n >= MIN_USERS and arm.sum_m >= MIN_CONVERSIONS
    if arm.kind == MEAN:
        return arm.n >= MIN_USERS
    return arm.n >= MIN_UNITS


def enough_to_compare(control: ArmStats, treated: ArmStats) -> bool:
    """Two arms hold enough to compare: the units of ``enough`` in each, and for a rate
    MIN_CONVERSIONS conversions in the two together (a control at 0 against 30 is evidence)."""
    if control.kind == PROPORTION:
        converted = control.sum_m + treated.sum_m
        return min(control.n, treated.n) >= MIN_USERS and converted >= MIN_CONVERSIONS
    return enough(control) and enough(treated)


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
    def reason(self) -> str | None:
        """Why this pair has no test (see ``lifts.untestable``), or None."""
        return lifts.untestable(self.control, self.treated)

    @property
    def enough(self) -> bool:
        return enough_to_compare(self.control, self.treated)

    @property
    def adjusted(self) -> bool:
        return self.control_x is not None and self.treated_x is not None

    def arms(self, adjusted: bool = True) -> tuple[lifts.Moments, lifts.Moments]:
        """(control, treated) as the tests see them: CUPED-adjusted when asked and possible."""
        if not (adjusted and self.adjusted):
            return self.control, self.treated
        return adjust_pair((self.control, self.control_x), (self.treated, self.treated_x))

    def lift(
        self,
        alpha: float,
        nonnegative: bool = True,
        adjusted: bool = True,
        sequence: tuple[float, float] | None = None,
    ) -> lifts.Lift:
        """The one test of this pair (``lifts``): the score test for a conversion rate,
        Welch's otherwise (always on CUPED-adjusted means); with ``sequence`` (total units,
        tuning) a confidence sequence's boundary instead of a fixed-horizon one."""
        control, treated = self.arms(adjusted)
        if sequence is not None:
            return lifts.sequential(control, treated, *sequence, alpha, nonnegative)
        if self.control.kind == PROPORTION and not (adjusted and self.adjusted):
            return lifts.proportions(self.control, self.treated, alpha)
        return lifts.welch(control, treated, alpha, nonnegative)


def pair_of(kind: str, control: dict, treated: dict, i: int, shape: KpiShape) -> Pair:
    """KPI ``i``'s pair from a control row and a variant row of the sums."""
    return Pair(
        arm(kind, control, i, shape),
        arm(kind, treated, i, shape),
        covariate(control, i),
        covariate(treated, i),
    )
