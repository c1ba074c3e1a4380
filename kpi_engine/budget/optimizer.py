"""Exact allocation of a budget over concave power curves f_i(s) = a_i s^b_i (0 < b_i < 1).

At the optimum every campaign that is not at a bound has the same marginal return λ (the
KKT conditions): s_i(λ) = clip((a_i b_i / λ)^(1/(1 - b_i)), lb_i, ub_i). The total Σ s_i(λ)
falls as λ rises, so bisecting λ on a log scale finds the budget exactly (water-filling).
Every scenario is built on that one primitive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kpi_engine.errors import KpiLabError

TOLERANCE = 1e-10


@dataclass(frozen=True)
class Allocation:
    spend: np.ndarray
    level: float  # λ: the common marginal return of the campaigns not at a bound
    unallocated: float = 0.0


def spend_at_level(
    a: np.ndarray, b: np.ndarray, level: float, lb: np.ndarray, ub: np.ndarray
) -> np.ndarray:
    """Each campaign's spend where its marginal return equals ``level``, within its bounds."""
    with np.errstate(divide="ignore", over="ignore"):
        free = np.where(a > 0, np.power(a * b / level, 1 / (1 - b)), 0.0)
    return np.clip(np.nan_to_num(free, posinf=np.inf), lb, ub)


def water_fill(
    a: np.ndarray, b: np.ndarray, budget: float, lb: np.ndarray, ub: np.ndarray
) -> Allocation:
    """Maximise Σ a_i s_i^b_i subject to Σ s_i = budget and lb ≤ s ≤ ub."""
    if np.any(lb > ub + 1e-9):
        raise KpiLabError("a campaign's minimum is above its maximum: fix its bounds")
    low_total, high_total = float(lb.sum()), float(ub.sum())
    if low_total > budget * (1 + 1e-12) + 1e-9:
        scale = budget / low_total if low_total else 0
        raise KpiLabError(
            f"the minimum spends add up to {low_total:,.2f} a day, more than the budget of"
            f" {budget:,.2f}: scale every minimum down to {scale:.0%} of it, or lower the"
            " minimums (the global minimum daily spend, or the -X% bound)"
        )
    if high_total <= budget:
        return Allocation(ub.copy(), 0.0, budget - high_total)
    lo, hi = 1e-12, 1e12  # levels: a high level means little spend
    for _ in range(400):
        mid = math.sqrt(lo * hi)
        total = spend_at_level(a, b, mid, lb, ub).sum()
        if abs(total - budget) <= TOLERANCE * max(budget, 1.0):
            break
        lo, hi = (mid, hi) if total > budget else (lo, mid)
    spend = spend_at_level(a, b, mid, lb, ub)
    spend *= budget / spend.sum() if spend.sum() > 0 else 1.0
    return Allocation(np.clip(spend, lb, ub), mid)


def outcome(a: np.ndarray, b: np.ndarray, spend: np.ndarray) -> float:
    return float((a * np.power(np.maximum(spend, 0), b)).sum())


def budget_for_target_ratio(
    a: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, target: float, per_spend: bool
) -> Allocation:
    """The largest budget whose optimal allocation still returns ``target`` outcome per unit of
    spend (a target ROAS) — or, with ``per_spend`` False, costs at most ``target`` per unit of
    outcome (a target CPA). Both ratios worsen as the budget grows on concave curves."""

    def ok(budget: float) -> bool:
        alloc = water_fill(a, b, budget, lb, ub)
        spent = alloc.spend.sum()
        value = outcome(a, b, alloc.spend)
        if per_spend:
            return value >= target * spent
        return spent <= target * value

    lo, hi = float(lb.sum()), float(ub.sum())
    if not ok(max(lo, 1e-9)):
        raise KpiLabError(
            f"no budget within the bounds reaches the target ({target:g}): even the minimum"
            " spends miss it; lower the target or relax the minimums"
        )
    if ok(hi):
        return water_fill(a, b, hi, lb, ub)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return water_fill(a, b, lo, lb, ub)


def budget_for_outcome(
    a: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, wanted: float
) -> Allocation:
    """The smallest budget whose optimal allocation still reaches ``wanted`` outcome."""
    lo, hi = float(lb.sum()), float(ub.sum())
    if outcome(a, b, water_fill(a, b, hi, lb, ub).spend) < wanted:
        return water_fill(a, b, hi, lb, ub)
    for _ in range(200):
        mid = (lo + hi) / 2
        reached = outcome(a, b, water_fill(a, b, mid, lb, ub).spend) >= wanted
        lo, hi = (lo, mid) if reached else (mid, hi)
    return water_fill(a, b, hi, lb, ub)
