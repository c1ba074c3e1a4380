"""Exact allocation of a budget over concave power curves f_i(s) = a_i s^b_i (0 < b_i < 1).

At the optimum every campaign that is not at a bound has the same marginal return λ (the
KKT conditions): s_i(λ) = clip((a_i b_i / λ)^(1/(1 - b_i)), lb_i, ub_i). The total Σ s_i(λ)
falls as λ rises, so bisecting λ on a log scale finds the budget exactly (water-filling).
Every scenario is built on that one primitive.

Campaigns on an S-curve (``hill``) take part through the vertices of their concave envelope:
at a level λ such a campaign sits at the last vertex whose segment still returns λ. The total
then jumps where a campaign passes its bend, so the budget can fall inside a jump: the two
vertices either side are tried, the power curves share the rest exactly, and the better plan
on the true curves wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpi_engine.budget.hill import Hill
from kpi_engine.errors import KpiLabError

TOLERANCE = 1e-10


@dataclass(frozen=True)
class Allocation:
    spend: np.ndarray
    level: float  # λ: the common marginal return of the campaigns not at a bound
    unallocated: float = 0.0


def spend_at_level(
    a: np.ndarray,
    b: np.ndarray,
    level: float,
    lb: np.ndarray,
    ub: np.ndarray,
    hill: Hill | None = None,
) -> np.ndarray:
    """Each campaign's spend where its marginal return equals ``level``, within its bounds."""
    return _Levels(a, b, lb, ub, hill).spend(level)


class _Levels:
    """Spend at a marginal level, with what does not depend on the level computed once (a
    water-filling asks a hundred levels)."""

    def __init__(
        self, a: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, hill: Hill | None
    ) -> None:
        self.ab = np.where(a > 0, a * b, 0.0)
        self.exponent = 1 / (1 - b)
        self.lb, self.ub = lb, ub
        self.envelopes = hill.envelopes(lb, ub) if hill is not None and hill.mask.any() else None

    def spend(self, level: float) -> np.ndarray:
        with np.errstate(divide="ignore", over="ignore"):
            spend = np.clip(np.power(self.ab / level, self.exponent), self.lb, self.ub)
        if self.envelopes is not None:
            spend[..., self.envelopes.index] = self.envelopes.at_level(level)
        return spend


def water_fill(
    a: np.ndarray,
    b: np.ndarray,
    budget: float,
    lb: np.ndarray,
    ub: np.ndarray,
    hill: Hill | None = None,
) -> Allocation:
    """Maximise Σ a_i s_i^b_i subject to Σ s_i = budget and lb ≤ s ≤ ub."""
    _check_bounds(budget, lb, ub)
    high_total = float(ub.sum())
    if high_total <= budget:
        return Allocation(ub.copy(), 0.0, budget - high_total)
    spend, level = _plans(a[None, :], b[None, :], budget, lb, ub, hill)
    return Allocation(spend[0], float(level[0]))


def water_fill_rows(
    a: np.ndarray,
    b: np.ndarray,
    budget: float,
    lb: np.ndarray,
    ub: np.ndarray,
    hill: Hill | None = None,
) -> np.ndarray:
    """``water_fill`` for each row of ``a`` and ``b`` (draws x campaigns), the same budget,
    bounds and S-curves for all: one bisection for every row at once, each row's level
    frozen where it would have stopped alone, so each row gets what ``water_fill`` gives it."""
    _check_bounds(budget, lb, ub)
    if float(ub.sum()) <= budget:
        return np.broadcast_to(ub, a.shape).copy()
    return _plans(a, b, budget, lb, ub, hill)[0]


def _plans(
    a: np.ndarray, b: np.ndarray, budget: float, lb: np.ndarray, ub: np.ndarray, hill: Hill | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's spends and level λ, its budget feasible and below the maximums' sum."""
    if hill is not None and hill.mask.any():
        return _s_curve_rows(a, b, budget, lb, ub, hill)
    return _power_rows(a, b, np.full(len(a), budget), lb, ub)


def _power_rows(
    a: np.ndarray, b: np.ndarray, budgets: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Power curves only, a budget per row (each at least the sum of the minimums): the
    rows' spends and their levels λ."""
    roomy = budgets >= ub.sum()  # water_fill gives such a row every maximum
    levels = _Levels(a, b, lb, ub, None)
    lo, hi = np.full(len(a), 1e-12), np.full(len(a), 1e12)
    mid, done = np.sqrt(lo * hi), roomy.copy()
    tolerance = TOLERANCE * np.maximum(budgets, 1.0)
    for _ in range(400):
        mid = np.where(done, mid, np.sqrt(lo * hi))
        total = levels.spend(mid[:, None]).sum(1)
        done |= np.abs(total - budgets) <= tolerance
        if done.all():
            break
        over = total > budgets
        lo, hi = np.where(~done & over, mid, lo), np.where(~done & ~over, mid, hi)
    spend = levels.spend(mid[:, None])
    sums = spend.sum(1)
    spend *= np.where(sums > 0, budgets / np.where(sums > 0, sums, 1.0), 1.0)[:, None]
    return np.where(roomy[:, None], ub, np.clip(spend, lb, ub)), np.where(roomy, 0.0, mid)


def _s_curve_rows(
    a: np.ndarray, b: np.ndarray, budget: float, lb: np.ndarray, ub: np.ndarray, hill: Hill
) -> tuple[np.ndarray, np.ndarray]:
    """With S-curves: the rows' spends and levels. An S-curve campaign sits at an envelope
    vertex, so the total jumps where a campaign passes its bend: the level is bisected to
    the jump (24 decades to a relative 1e-6), the vertices either side are tried, the power
    curves share the rest exactly, and the better plan on the true curves wins."""
    at = _Levels(a, b, lb, ub, hill).spend
    lo, hi = np.full(len(a), 1e-12), np.full(len(a), 1e12)
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        over = at(mid[:, None]).sum(1) > budget
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    more, less = at(lo[:, None]), at(hi[:, None])
    power = ~hill.mask & (ub > lb)
    rows = np.arange(len(a))
    best, best_value = more, np.full(len(a), -np.inf)
    for fixed in (more, less):
        spend = fixed.copy()
        rest = budget - spend[:, hill.mask].sum(1) - spend[:, ~power & ~hill.mask].sum(1)
        fits = np.ones(len(a), dtype=bool)
        if power.any():
            low = float(lb[power].sum())
            fits = ~(low > rest * (1 + 1e-12) + 1e-9)
            spend[:, power] = _power_rows(
                a[:, power], b[:, power], np.where(fits, rest, low), lb[power], ub[power]
            )[0]
        else:  # only S-curves: the jumping campaign takes the rest along its segment
            jump = np.argmax(np.abs(more - less), axis=1)
            moved = spend[rows, jump] + budget - spend.sum(1)
            spend[rows, jump] = np.clip(moved, lb[jump], ub[jump])
        value = np.where(fits, values(a, b, spend, hill).sum(1), -np.inf)
        better = value > best_value
        best = np.where(better[:, None], spend, best)
        best_value = np.where(better, value, best_value)
    if not np.isfinite(best_value).all():
        raise KpiLabError("no split of this budget fits the bounds: relax the minimums")
    return best, np.sqrt(lo * hi)


def _check_bounds(budget: float, lb: np.ndarray, ub: np.ndarray) -> None:
    if np.any(lb > ub + 1e-9):
        raise KpiLabError("a campaign's minimum is above its maximum: fix its bounds")
    low_total = float(lb.sum())
    if low_total > budget * (1 + 1e-12) + 1e-9:
        scale = budget / low_total if low_total else 0
        raise KpiLabError(
            f"the minimum spends add up to {low_total:,.2f} a day, more than the budget of"
            f" {budget:,.2f}: scale every minimum down to {scale:.0%} of it, or lower the"
            " minimums (the global minimum daily spend, or the -X% bound)"
        )


def outcome(a: np.ndarray, b: np.ndarray, spend: np.ndarray, hill: Hill | None = None) -> float:
    return float(values(a, b, spend, hill).sum())


def values(a: np.ndarray, b: np.ndarray, spend: np.ndarray, hill: Hill | None = None) -> np.ndarray:
    """Each campaign's outcome a day at ``spend`` (its S-curve where it has one)."""
    power = a * np.power(np.maximum(spend, 0), b)
    return power if hill is None else np.where(hill.mask, hill.value(spend), power)


def budget_for_target_ratio(
    a: np.ndarray,
    b: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    target: float,
    per_spend: bool,
    hill: Hill | None = None,
) -> Allocation:
    """The largest budget whose optimal allocation still returns ``target`` outcome per unit of
    spend (a target ROAS) — or, with ``per_spend`` False, costs at most ``target`` per unit of
    outcome (a target CPA). Both ratios worsen as the budget grows on concave curves."""

    def ok(budget: float) -> bool:
        alloc = water_fill(a, b, budget, lb, ub, hill)
        spent = alloc.spend.sum()
        value = outcome(a, b, alloc.spend, hill)
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
        return water_fill(a, b, hi, lb, ub, hill)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return water_fill(a, b, lo, lb, ub, hill)


def budget_for_outcome(
    a: np.ndarray,
    b: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    wanted: float,
    hill: Hill | None = None,
) -> Allocation:
    """The smallest budget whose optimal allocation still reaches ``wanted`` outcome."""
    lo, hi = float(lb.sum()), float(ub.sum())

    def fill(budget: float) -> Allocation:
        return water_fill(a, b, budget, lb, ub, hill)

    if outcome(a, b, fill(hi).spend, hill) < wanted:
        return fill(hi)
    for _ in range(200):
        mid = (lo + hi) / 2
        reached = outcome(a, b, fill(mid).spend, hill) >= wanted
        lo, hi = (lo, mid) if reached else (mid, hi)
    return fill(hi)
