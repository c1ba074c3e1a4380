"""Power planning for a conversion-rate test: sample size, reachable effect, days needed.

The unpooled normal approximation: n per arm = (z_{1-alpha/2} + z_power)^2 (p1 q1 + p2 q2) /
(p2 - p1)^2. 5% -> 5.5% at alpha 0.05 and power 0.8 needs 31,231 users per arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as st

from kpi_engine.errors import KpiLabError

POWER = 0.8  # the power every plan and "keep testing" sentence assumes


def _z(alpha: float, power: float) -> float:
    return float(st.norm.ppf(1 - alpha / 2) + st.norm.ppf(power))


def _check(baseline: float, alpha: float, power: float) -> None:
    if not 0 < baseline < 1:
        raise KpiLabError(f"baseline {baseline} must be a rate between 0 and 1 (e.g. 0.05 for 5%)")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise KpiLabError("alpha and power must be between 0 and 1 (e.g. 0.05 and 0.8)")


def sample_size_per_arm(
    baseline: float, relative_mde: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    _check(baseline, alpha, power)
    target = baseline * (1 + relative_mde)
    if relative_mde == 0 or not 0 < target < 1:
        raise KpiLabError(
            f"a relative MDE of {relative_mde:+.0%} from {baseline:.2%} is not a valid rate:"
            " use e.g. 0.10 for +10%"
        )
    variance = baseline * (1 - baseline) + target * (1 - target)
    return _z(alpha, power) ** 2 * variance / (target - baseline) ** 2


def reachable_mde(
    baseline: float, n_per_arm: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The smallest relative lift the test can detect with ``n_per_arm`` users per arm."""
    _check(baseline, alpha, power)
    if n_per_arm <= 0:
        return math.inf
    lo, hi = 1e-9, (1 - 1e-9) / baseline - 1  # the largest lift that is still a rate
    if sample_size_per_arm(baseline, hi, alpha, power) > n_per_arm:
        return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (
            (mid, hi) if sample_size_per_arm(baseline, mid, alpha, power) > n_per_arm else (lo, mid)
        )
    return hi


@dataclass(frozen=True)
class PowerPlan:
    baseline: float
    relative_mde: float
    alpha: float
    power: float
    n_per_arm: int
    n_total: int

    def to_dict(self) -> dict:
        return {
            "baseline": self.baseline,
            "mde": self.relative_mde,
            "alpha": self.alpha,
            "power": self.power,
            "n_per_arm": self.n_per_arm,
            "n_total": self.n_total,
        }


def plan(
    baseline: float, relative_mde: float, alpha: float = 0.05, power: float = 0.8, arms: int = 2
) -> PowerPlan:
    n = math.ceil(sample_size_per_arm(baseline, relative_mde, alpha, power))
    return PowerPlan(baseline, relative_mde, alpha, power, n, n * arms)


def days_needed(n_needed_per_arm: float, n_now_per_arm: float, per_day_per_arm: float) -> float:
    """More days at the current traffic until each arm has ``n_needed_per_arm``."""
    if n_now_per_arm >= n_needed_per_arm:
        return 0.0
    if per_day_per_arm <= 0:
        return math.inf
    return (n_needed_per_arm - n_now_per_arm) / per_day_per_arm
