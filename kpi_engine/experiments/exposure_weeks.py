"""Lift by week since exposure: does the effect grow, fade or wear off? For each week k after
a user's first exposure (week 1 = days 0 to 6), the users whose whole week k lies inside the
data are compared on their rows of that week (a user without rows that week counts as 0)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from kpi_engine.experiments.pairs import enough_to_compare
from kpi_engine.experiments.result import WeekLift
from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.stats.lifts import compare_arms, untestable
from kpi_engine.stats.sufficient import ArmStats
from kpi_engine.typed_json import finite

MAX_WEEKS = 12
SUMS = ("m", "mm", "d", "dd", "md")


def _eligible(frame: pd.DataFrame, last_day: date, week: int) -> pd.Series:
    """Rows whose first day leaves the whole of week ``week`` (0-based) inside the data."""
    latest = pd.Timestamp(last_day - timedelta(days=7 * week + 6))
    return pd.to_datetime(frame["day"]) <= latest


def _arm(sums: pd.DataFrame, units: pd.Series, variant: str, i: int, shape: KpiShape) -> ArmStats:
    """An arm's week: its eligible users, and the sums of those with rows that week."""
    row = sums.loc[variant] if variant in sums.index else None
    values = [float(row[f"{s}{i}"]) if row is not None else 0.0 for s in SUMS]
    return ArmStats(shape.kind, float(units[variant]), *values)


def _lift(
    kpi: str, variant: str, week: int, control: ArmStats, treated: ArmStats, shape: KpiShape,
    alpha: float,
) -> WeekLift:  # fmt: skip
    """The week's lift by the headline's test, only where both arms hold enough users (and
    conversions) to estimate from."""
    too_few = not enough_to_compare(control, treated)
    lift = None
    if not too_few and untestable(control, treated) is None:
        lift = compare_arms(control, treated, alpha, shape.nonnegative).relative
    return WeekLift(
        kpi,
        variant,
        week,
        control.n,
        treated.n,
        finite(lift.estimate) if lift else None,
        (finite(lift.ci[0]), finite(lift.ci[1])) if lift else (None, None),
        finite(lift.p_value) if lift else None,
        too_few,
    )


def week_lifts(
    frame: pd.DataFrame,
    by_day: pd.DataFrame,
    last_day: date | None,
    order: list[str],
    shapes: dict[str, KpiShape],
    alpha: float,
) -> tuple[WeekLift, ...]:
    """One lift per KPI, variant and week with users in both arms; nothing when the data
    holds fewer than two weeks."""
    if last_day is None or frame.empty:
        return ()
    days = by_day.dropna(subset=["day"])
    out = []
    for week in range(MAX_WEEKS):
        units = days[_eligible(days, last_day, week)].groupby("variant")["n"].sum()
        if len(units) < len(order) or units.min() < 2:
            break
        sums = frame[(frame["week"] == week) & _eligible(frame, last_day, week)]
        sums = sums.groupby("variant").sum(numeric_only=True)
        for i, (kpi, shape) in enumerate(shapes.items()):
            control = _arm(sums, units, order[0], i, shape)
            for variant in order[1:]:
                treated = _arm(sums, units, variant, i, shape)
                out.append(_lift(kpi, variant, week + 1, control, treated, shape, alpha))
    return tuple(out) if len({w.week for w in out}) >= 2 else ()
