"""Budget reallocation: where the next unit of money earns most, with a reason for every move.

Daily spend and outcome per campaign over a window (``window.py``) → a curve per campaign
and its tier (``tiers.py``) → the exact answer to the spec's question (``scenarios.py``) →
per-campaign plans with a sentence each, the moves, and a day-bootstrap band for the
portfolio uplift. This re-splits the past window; it is not a forecast.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np

from kpi_engine.budget import wording
from kpi_engine.budget.carryover import half_life_days
from kpi_engine.budget.curves import Curves
from kpi_engine.budget.lift import apply as calibrated
from kpi_engine.budget.optimizer import Allocation
from kpi_engine.budget.period import period_plan, seek_goal
from kpi_engine.budget.result import (
    ONE_CAMPAIGN,
    BudgetResult,
    CampaignPlan,
    Curve,
    Move,
    Portfolio,
    WindowInfo,
)
from kpi_engine.budget.scenarios import bounds, solve
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.budget.spend_test import NEEDED_BELOW, suggest_test
from kpi_engine.budget.tiers import Fitted, fit_curves
from kpi_engine.budget.uncertainty import Draws, draw_curves, uplift_summary
from kpi_engine.budget.window import Window, load_window
from kpi_engine.currencies.convert import note_if
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store
from kpi_engine.typed_json import finite

EPSILON = 1e-6


def run_budget(store: Store, dataset: Dataset, spec: BudgetSpec) -> BudgetResult:
    spec, notes = _for_the_data(dataset, spec)
    window = load_window(store, dataset, spec)
    locks = set(spec.locks)
    unknown = sorted(locks - set(window.campaigns))
    if unknown:
        raise KpiLabError(f"names {unknown[0]!r}, which is not a campaign of the window", "locks")
    fitted = calibrated(fit_curves(window, locks), window, spec.lifts)
    lb, ub = bounds(window, fitted, spec)
    goal = None
    if spec.goal_target is not None:
        alloc, goal = seek_goal(fitted, window, lb, ub, spec)
    else:
        alloc = solve(fitted, lb, ub, spec, window)
    plans = campaign_plans(window, fitted, alloc, lb, ub, spec)
    notes += _bound_notes(fitted, alloc, lb, ub, spec)
    alone = _alone(window, locks, fitted, spec)
    if alone is not None:  # nothing to re-split: one sentence, no band, no spend test
        notes = (*notes, wording.one_campaign(alone, spec.objective))
    uncertain = spec.bootstrap and alone is None
    draws = draw_curves(fitted, window, spec.bootstrap, spec.seed) if uncertain else None
    portfolio, change = _portfolio(fitted, alloc, draws)
    status = "unallocated budget" if alloc.unallocated > EPSILON else "ok"
    return BudgetResult(
        status=ONE_CAMPAIGN if alone is not None else status,
        scenario=spec.question,
        objective=spec.objective,
        window=_window_info(window, spec),
        campaigns=plans,
        portfolio=portfolio,
        moves=with_confidence(moves(plans), plans, change),
        caveats=wording.CAVEATS,
        currency=spec.currency or dataset.currency,
        notes=notes,
        plan=period_plan(fitted, window, alloc, spec, draws) if spec.has_period else None,
        goal=goal,
        test=(
            suggest_test(fitted, window, alloc, lb, ub, spec, portfolio, draws)
            if alone is None and _wants_test(spec, portfolio)
            else None
        ),
        conversion=note_if(
            store, dataset, spec.convert, spec.currency, (window.start, window.last_day)
        ),
    )


def _alone(window: Window, locks: set[str], fitted: Fitted, spec: BudgetSpec) -> str | None:
    """The one campaign whose spend could move, when today's total is to be re-split and
    there is only one (nothing to reallocate); None otherwise."""
    if spec.question != "fixed budget" or spec.daily_budget is not None:
        return None
    movable = [
        name
        for i, name in enumerate(window.campaigns)
        if name not in locks and fitted.current[i] > 0
    ]
    return movable[0] if len(movable) == 1 else None


def _wants_test(spec: BudgetSpec, portfolio: Portfolio) -> bool:
    """Always with --suggest-test; on the page, when the re-split is under 80% sure."""
    unsure = portfolio.prob_better_split is not None and portfolio.prob_better_split < NEEDED_BELOW
    return spec.suggest_test or (spec.test_when_unsure and unsure)


def _for_the_data(dataset: Dataset, spec: BudgetSpec) -> tuple[BudgetSpec, tuple[str, ...]]:
    """Revenue is the default objective; a dataset without revenue but with conversions gets
    its conversions optimised, and the plan says so."""
    roles = dataset.roles
    if "revenue" in roles or "conversions" not in roles:
        return spec, ()
    if spec.target_roas is not None:
        raise KpiLabError(
            f"needs revenue, which dataset {dataset.name!r} does not have: ask for a target CPA",
            "target_roas",
        )
    return replace(spec, objective="conversions"), (wording.NO_REVENUE,)


def _bound_notes(
    fitted: Fitted, alloc: Allocation, lb: np.ndarray, ub: np.ndarray, spec: BudgetSpec
) -> tuple[str, ...]:
    """When every campaign that can move ends at the same bound, the bounds decided the
    answer, not the curves or the target: say so beside it."""
    free = np.array([tier != "fixed" for tier in fitted.tier]) & (ub > lb + EPSILON)
    if not free.any():
        return ()
    spend = alloc.spend[free]
    if np.all(np.abs(spend - ub[free]) <= EPSILON * np.maximum(ub[free], 1)):
        return (wording.all_at_bound("upper", spec.max_change),)
    if np.all(np.abs(spend - lb[free]) <= EPSILON * np.maximum(lb[free], 1)):
        return (wording.all_at_bound("lower", spec.max_change),)
    return ()


def _window_info(window: Window, spec: BudgetSpec) -> WindowInfo:
    """The days the plan really used: from the first day with data in the window."""
    with_data = np.flatnonzero(window.has_row.any(axis=0))
    first = window.start + timedelta(days=int(with_data[0]))
    days = (window.end - first).days + 1
    return WindowInfo(first.isoformat(), window.end.isoformat(), days, spec.lag_days)


def campaign_plans(
    window: Window,
    fitted: Fitted,
    alloc: Allocation,
    lb: np.ndarray,
    ub: np.ndarray,
    spec: BudgetSpec,
) -> tuple[CampaignPlan, ...]:
    curves, cur, new = fitted.curves, fitted.current, alloc.spend
    m_cur, m_new = curves.marginal(cur), curves.marginal(new)
    level = alloc.level if math.isfinite(alloc.level) and alloc.level > 0 else None
    v_cur, v_new, elasticity = curves.value(cur), curves.value(new), curves.elasticity(cur)
    has_revenue = window.revenue.sum() > 0  # no revenue column: no ROAS of 0 anywhere
    per_conversion = None  # a conversion's value, to show marginal ROAS for conversions too
    if spec.objective == "conversions" and window.conversions.sum() > 0 and has_revenue:
        per_conversion = window.revenue.sum() / window.conversions.sum()
    conv = spec.objective == "conversions"
    plans = []
    for i, name in enumerate(window.campaigns):
        spent, revenue = window.spend[i].sum(), window.revenue[i].sum()
        conversions = window.conversions[i].sum()
        observed_max = float(window.spend[i].max())
        flags = list(fitted.flags[i])
        if new[i] > wording.EXTRAPOLATION * observed_max and observed_max > 0:
            flags.append("extrapolation")
        value = 1.0 if not conv else per_conversion
        plan = CampaignPlan(
            campaign=name,
            current_spend=float(cur[i]),
            suggested_spend=float(new[i]),
            change=float(new[i] - cur[i]),
            change_pct=float(new[i] / cur[i] - 1) if cur[i] > 0 else None,
            roas=float(revenue / spent) if spent > 0 and has_revenue else None,
            cpa=float(spent / conversions) if conversions > 0 else None,
            marginal_roas_current=finite(m_cur[i] * value) if value else None,
            marginal_roas_suggested=finite(m_new[i] * value) if value else None,
            marginal_cpa_current=finite(1 / m_cur[i]) if conv and m_cur[i] > 0 else None,
            marginal_cpa_suggested=finite(1 / m_new[i]) if conv and m_new[i] > 0 else None,
            tier=fitted.tier[i],
            flags=tuple(flags),
            elasticity=float(elasticity[i]),
            curve=curve_of(curves, i),
            outcome_current=float(v_cur[i]),
            outcome_suggested=float(v_new[i]),
            carryover=float(fitted.theta[i]),
            half_life_days=half_life_days(float(fitted.theta[i])),
        )
        stopped, default = _bound(plan, lb[i], ub[i], spec.max_change)
        reason = wording.reason(
            plan, spec.objective, level, stopped, spec.max_change if default else None
        )
        plans.append(replace(plan, reason=reason))
    return tuple(plans)


def curve_of(curves: Curves, i: int) -> Curve:
    hill = curves.hill
    if hill is not None and hill.mask[i]:
        return Curve(0.0, 0.0, "S-curve", float(hill.top[i]), float(hill.half[i]), float(hill.k[i]))
    return Curve(float(curves.a[i]), float(curves.b[i]))


def _bound(plan: CampaignPlan, lb: float, ub: float, max_change: float) -> tuple[str | None, bool]:
    """Which bound stopped the campaign, and whether it is the default ±max_change one."""
    cur, new = plan.current_spend, plan.suggested_spend
    if abs(new - ub) < EPSILON * max(ub, 1):
        return "upper", abs(ub - cur * (1 + max_change)) < EPSILON * max(ub, 1)
    if abs(new - lb) < EPSILON * max(lb, 1):
        return "lower", abs(lb - cur * (1 - max_change)) < EPSILON * max(lb, 1)
    return None, False


def _portfolio(
    fitted: Fitted, alloc: Allocation, draws: Draws | None
) -> tuple[Portfolio, np.ndarray | None]:
    """The portfolio now and after, and each campaign's change in outcome per curve draw."""
    now = float(fitted.curves.value(fitted.current).sum())
    then = float(fitted.curves.value(alloc.spend).sum())
    band: tuple[float | None, float | None] = (None, None)
    prob, better, change = None, None, None
    if draws is not None:
        band, prob, better, change = uplift_summary(draws, fitted.current, alloc.spend)
    portfolio = Portfolio(
        current_spend=float(fitted.current.sum()),
        suggested_spend=float(alloc.spend.sum()),
        current_outcome=now,
        suggested_outcome=then,
        uplift=then - now,
        uplift_pct=(then - now) / now if now else None,
        uplift_band=band,
        prob_positive=prob,
        prob_better_split=better,
        unallocated=float(alloc.unallocated),
        marginal_level=finite(alloc.level),
    )
    return portfolio, change


def moves(plans: tuple[CampaignPlan, ...]) -> tuple[Move, ...]:
    """The plan as "move X from A to B", largest first; agrees with the suggested spends."""
    give = sorted(
        ([p.campaign, -p.change] for p in plans if p.change < -EPSILON), key=lambda x: -x[1]
    )
    take = sorted(
        ([p.campaign, p.change] for p in plans if p.change > EPSILON), key=lambda x: -x[1]
    )
    out, i, j = [], 0, 0
    while i < len(give) and j < len(take):
        amount = min(give[i][1], take[j][1])
        if amount > EPSILON:
            out.append(Move(give[i][0], take[j][0], float(amount)))
        give[i][1] -= amount
        take[j][1] -= amount
        if give[i][1] <= EPSILON:
            i += 1
        if take[j][1] <= EPSILON:
            j += 1
    out += [Move(name, None, float(rest)) for name, rest in give[i:] if rest > EPSILON]
    out += [Move(None, name, float(rest)) for name, rest in take[j:] if rest > EPSILON]
    return tuple(out)


def with_confidence(
    found: tuple[Move, ...], plans: tuple[CampaignPlan, ...], change: np.ndarray | None
) -> tuple[Move, ...]:
    """P(a move helps): over the curve draws, the move's share of what the receiving campaign
    gains minus its share of what the giving one loses. A pure add or cut has no such
    comparison."""
    if change is None:
        return found
    index = {p.campaign: i for i, p in enumerate(plans)}

    def share(name: str, amount: float) -> np.ndarray:
        i = index[name]
        return change[:, i] * amount / abs(plans[i].change)

    out = []
    for m in found:
        if m.source is None or m.target is None:
            out.append(m)
            continue
        gain = share(m.target, m.amount) + share(m.source, m.amount)
        out.append(replace(m, prob_helps=float((gain > 0).mean())))
    return tuple(out)
