"""Budget reallocation: where the next unit of money earns most, with a reason for every move.

Daily spend and outcome per campaign over a window (minus the days still inside the
attribution window) → a curve per campaign (fitted, rule or fixed tier) → the exact optimum
for the chosen scenario → per-campaign moves and sentences, and a day-bootstrap band for the
portfolio uplift. This re-splits the past window; it is not a forecast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from kpi_engine.budget import curves as cv
from kpi_engine.budget.optimizer import (
    Allocation,
    budget_for_outcome,
    budget_for_target_ratio,
    outcome,
    spend_at_level,
    water_fill,
)
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.store import Dataset, Store

OBJECTIVES = ("revenue", "conversions")
PRIOR_DAYS = 7.0  # the rule tier's shrinkage: a week of spend at the portfolio's ratio
EXTRAPOLATION = 1.2  # x the highest observed daily spend
CAVEATS = (
    "Reported conversions and revenue are what the platforms attribute, not incremental results.",
    "This re-splits the spend of the past window; it is not a forecast of future demand.",
    "The uplift band covers day-to-day noise, not a wrong curve shape.",
)


@dataclass(frozen=True)
class BudgetSpec:
    daily_budget: float | None = None
    target_roas: float | None = None
    target_cpa: float | None = None
    target_marginal_roas: float | None = None
    same_outcome: bool = False  # the current outcome at the lowest spend
    plan: tuple[tuple[str, float], ...] = ()  # score a plan the user typed in
    objective: str = "revenue"
    max_change: float = 0.3
    min_spend: float = 0.0
    minimums: tuple[tuple[str, float], ...] = ()
    maximums: tuple[tuple[str, float], ...] = ()
    locks: tuple[str, ...] = ()
    window_days: int = 90
    lag_days: int = 7
    currency: str | None = None
    bootstrap: int = 200
    seed: int = 20240601


@dataclass
class Window:
    campaigns: list[str]
    spend: np.ndarray  # campaigns x days (0 where a campaign has no row)
    outcome: np.ndarray
    revenue: np.ndarray
    conversions: np.ndarray
    has_row: np.ndarray
    start: object = None
    end: object = None


@dataclass
class Fitted:
    curves: cv.Curves
    tier: list[str]
    flags: list[list[str]]
    current: np.ndarray
    log_a_raw: np.ndarray  # the unshrunk fit: where a bootstrap draw's fit starts


@dataclass
class BudgetResult:
    status: str
    scenario: str
    objective: str
    campaigns: list[dict]
    portfolio: dict
    moves: list[dict] = field(default_factory=list)
    caveats: tuple[str, ...] = CAVEATS
    window: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "scenario": self.scenario,
            "objective": self.objective,
            "window": self.window,
            "campaigns": self.campaigns,
            "portfolio": self.portfolio,
            "moves": self.moves,
            "caveats": list(self.caveats),
        }


# -- data ------------------------------------------------------------------------------------


def load_window(store: Store, dataset: Dataset, spec: BudgetSpec) -> Window:
    roles = dataset.roles
    needed = [
        "date",
        "campaign",
        "spend",
        "revenue" if spec.objective == "revenue" else "conversions",
    ]
    missing = [r for r in needed if r not in roles]
    if missing:
        raise KpiLabError(
            f"budget reallocation needs the column(s) {', '.join(missing)}, which"
            f" dataset {dataset.name!r} does not have"
        )
    if spec.objective not in OBJECTIVES:
        raise KpiLabError(f"unknown objective {spec.objective!r}: use revenue or conversions")
    if spec.window_days < 1 or spec.lag_days < 0:
        raise KpiLabError("the window must be at least 1 day and the lag at least 0 days")
    if len(dataset.currencies) > 1 and spec.currency is None:
        raise KpiLabError(
            f"dataset {dataset.name!r} has money in {', '.join(dataset.currencies)}:"
            " choose one currency (budgets are never mixed across currencies)"
        )
    date, campaign = q(roles["date"]), q(roles["campaign"])
    cols = {
        k: (f"sum({q(roles[k])})" if k in roles else "0")
        for k in ("spend", "revenue", "conversions")
    }
    where, params = [f"{date} IS NOT NULL", f"{campaign} IS NOT NULL"], []
    if spec.currency is not None:
        if "currency" not in roles:
            raise KpiLabError(f"dataset {dataset.name!r} has no currency column to filter on")
        where.append(f"CAST({q(roles['currency'])} AS VARCHAR) = ?")
        params.append(spec.currency)
    with store.cursor() as cur:
        last = cur.execute(
            f"SELECT max({date}) FROM {dataset.table} WHERE {' AND '.join(where)}", params
        ).fetchone()[0]
        if last is None:
            raise KpiLabError(f"dataset {dataset.name!r} has no dated campaign rows")
        end = last - timedelta(days=spec.lag_days)
        start = end - timedelta(days=spec.window_days - 1)
        frame = cur.execute(
            f"SELECT CAST({campaign} AS VARCHAR) AS campaign, {date} AS day,"
            f" coalesce({cols['spend']}, 0) AS spend, coalesce({cols['revenue']}, 0) AS revenue,"
            f" coalesce({cols['conversions']}, 0) AS conversions FROM {dataset.table}"
            f" WHERE {' AND '.join(where)} AND {date} BETWEEN ? AND ? GROUP BY 1, 2",
            [*params, start, end],
        ).df()
    if frame.empty:
        raise KpiLabError(f"no rows between {start} and {end}: widen the window or lower the lag")
    campaigns = sorted(frame["campaign"].unique())
    days = pd.date_range(start, end, freq="D")

    def grid(column: str) -> np.ndarray:
        table = frame.pivot_table(index="campaign", columns="day", values=column, aggfunc="sum")
        table.columns = pd.to_datetime(table.columns)
        return table.reindex(index=campaigns, columns=days).to_numpy(dtype=float)

    spend, revenue, conversions = grid("spend"), grid("revenue"), grid("conversions")
    has_row = np.isfinite(spend)
    spend, revenue, conversions = (np.nan_to_num(x) for x in (spend, revenue, conversions))
    target = revenue if spec.objective == "revenue" else conversions
    return Window(campaigns, spend, target, revenue, conversions, has_row, start, end)


# -- curves ----------------------------------------------------------------------------------


def fit_curves(window: Window, locks: set[str]) -> Fitted:
    """Curves per campaign, their tier and the flags that explain it."""
    curves, current, gated, fixed, log_a = _curves(window, locks, None, None)
    tiers = np.where(fixed, "fixed", np.where(gated, "fitted", "rule")).tolist()
    rising = np.isfinite(curves.b_raw) & (curves.b_raw - 2 * curves.b_se > 1)
    flags: list[list[str]] = []
    for i, name in enumerate(window.campaigns):
        if name in locks:
            flags.append(["locked"])
        elif current[i] <= 0:
            flags.append(["no spend"])
        elif gated[i]:
            flags.append(["increasing returns"] if rising[i] else [])
        else:
            flags.append(["thin data"])
    return Fitted(curves, tiers, flags, current, log_a)


def _curves(
    window: Window,
    locks: set[str],
    day_index: np.ndarray | None,
    start: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[cv.Curves, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(curves, today's daily spend, fitted?, fixed?, raw log a) per campaign, on the days
    ``day_index`` picks (a bootstrap draw; all days when None), the fit beginning at ``start``.
    """
    idx = np.arange(window.spend.shape[1]) if day_index is None else day_index
    spend, y = window.spend[:, idx], window.outcome[:, idx]
    has_row, conv = window.has_row[:, idx], window.conversions[:, idx]
    rows = np.maximum(has_row.sum(1), 1)
    current = np.where(has_row, spend, 0).sum(1) / rows
    active = (spend > 0).sum(1)
    positive = spend > 0
    mean = np.where(active > 0, np.where(positive, spend, 0).sum(1) / np.maximum(active, 1), 0.0)
    spread = np.where(positive, spend - mean[:, None], 0.0)
    std = np.sqrt((spread**2).sum(1) / np.maximum(active, 1))
    cv_spend = np.where(mean > 0, std / np.where(mean > 0, mean, 1), 0.0)
    log_a, b_raw, b_se = cv.fit_power(np.where(spend > 0, spend, np.nan), y, start)
    gated = (
        (active >= cv.MIN_DAYS)
        & (np.nan_to_num(cv_spend) >= cv.MIN_SPEND_CV)
        & (conv.sum(1) >= cv.MIN_CONVERSIONS)
        & np.isfinite(b_raw)
    )
    pooled_b = cv.pooled_elasticity(np.where(gated, b_raw, np.nan), b_se)
    b = np.where(gated, cv.shrink(b_raw, b_se, pooled_b), pooled_b)
    a = cv.anchor(np.where(spend > 0, spend, np.nan), y, b)
    total_s, total_y = spend.sum(), y.sum()
    pooled_ratio = total_y / total_s if total_s > 0 else 0.0
    fixed = np.array([name in locks for name in window.campaigns], dtype=bool) | (current <= 0)
    rule = ~fixed & ~gated
    prior = PRIOR_DAYS * current
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (y.sum(1) + prior * pooled_ratio) / (spend.sum(1) + prior)
        a = np.where(rule, ratio * np.power(current, 1 - b), a)  # the shrunk ratio at today's spend
    return cv.Curves(a, b, b_raw, b_se), current, gated, fixed, log_a


# -- the scenarios ---------------------------------------------------------------------------


def _bounds(window: Window, fitted: Fitted, spec: BudgetSpec) -> tuple[np.ndarray, np.ndarray]:
    cur = fitted.current
    if spec.max_change < 0:
        raise KpiLabError("--max-change must be 0 or more (0.3 means +/-30%)")
    lb = np.maximum(cur * (1 - spec.max_change), 0.0)
    ub = cur * (1 + spec.max_change)
    lb = np.maximum(lb, spec.min_spend)
    names = {n: i for i, n in enumerate(window.campaigns)}
    for label, pairs in (("minimum", spec.minimums), ("maximum", spec.maximums)):
        for name, value in pairs:
            if name not in names:
                raise KpiLabError(
                    f"no campaign {name!r} for the {label}: the campaigns are"
                    f" {', '.join(window.campaigns[:10])}"
                )
            (lb if label == "minimum" else ub)[names[name]] = value
    for i, tier in enumerate(fitted.tier):
        if tier == "fixed":
            lb[i] = ub[i] = cur[i]
        elif "increasing returns" in fitted.flags[i]:
            lb[i] = max(lb[i], cur[i])  # test more spend; never cut on this evidence
    ub = np.maximum(ub, lb)
    return lb, ub


def _solve(
    fitted: Fitted, lb: np.ndarray, ub: np.ndarray, spec: BudgetSpec, window: Window
) -> tuple[str, Allocation]:
    a, b = fitted.curves.a, fitted.curves.b
    chosen = [
        x is not None
        for x in (spec.daily_budget, spec.target_roas, spec.target_cpa, spec.target_marginal_roas)
    ]
    if sum(chosen) + bool(spec.same_outcome) + bool(spec.plan) > 1:
        raise KpiLabError(
            "choose one scenario: a daily budget, a target ROAS, a target CPA, a"
            " target marginal ROAS, the same outcome at the lowest spend, or a plan"
        )
    if spec.plan:
        names = {n: i for i, n in enumerate(window.campaigns)}
        spend = fitted.current.copy()
        for name, value in spec.plan:
            if name not in names:
                raise KpiLabError(f"no campaign {name!r} in the plan's dataset")
            if value < 0:
                raise KpiLabError(f"the plan gives {name!r} a negative spend")
            spend[names[name]] = value
        return "score plan", Allocation(spend, float("nan"))
    if spec.target_roas is not None:
        _positive(spec.target_roas, "target ROAS")
        return "target roas", budget_for_target_ratio(a, b, lb, ub, spec.target_roas, True)
    if spec.target_cpa is not None:
        _positive(spec.target_cpa, "target CPA")
        if spec.objective != "conversions":
            raise KpiLabError("a target CPA needs --objective conversions")
        return "target cpa", budget_for_target_ratio(a, b, lb, ub, spec.target_cpa, False)
    if spec.target_marginal_roas is not None:
        _positive(spec.target_marginal_roas, "target marginal return")
        spend = spend_at_level(a, b, spec.target_marginal_roas, lb, ub)
        return "target marginal", Allocation(spend, spec.target_marginal_roas)
    if spec.same_outcome:
        wanted = outcome(a, b, fitted.current)
        return "same outcome, lowest spend", budget_for_outcome(a, b, lb, ub, wanted)
    budget = spec.daily_budget if spec.daily_budget is not None else float(fitted.current.sum())
    _positive(budget, "daily budget")
    return "fixed budget", water_fill(a, b, budget, lb, ub)


def _positive(value: float, label: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise KpiLabError(f"the {label} must be a positive number")


# -- the whole thing -------------------------------------------------------------------------


def run_budget(store: Store, dataset: Dataset, spec: BudgetSpec) -> BudgetResult:
    window = load_window(store, dataset, spec)
    locks = set(spec.locks)
    unknown = sorted(locks - set(window.campaigns))
    if unknown:
        raise KpiLabError(f"cannot lock {unknown[0]!r}: no such campaign in the window")
    fitted = fit_curves(window, locks)
    lb, ub = _bounds(window, fitted, spec)
    scenario, alloc = _solve(fitted, lb, ub, spec, window)
    rows = _campaign_rows(window, fitted, alloc, lb, ub, spec)
    portfolio = _portfolio(window, fitted, alloc, spec, locks, lb, ub, scenario)
    status = "unallocated budget" if alloc.unallocated > 1e-6 else "ok"
    win = {
        "start": str(window.start),
        "end": str(window.end),
        "days": spec.window_days,
        "lag_days": spec.lag_days,
    }
    return BudgetResult(status, scenario, spec.objective, rows, portfolio, moves(rows), window=win)


def _campaign_rows(
    window: Window,
    fitted: Fitted,
    alloc: Allocation,
    lb: np.ndarray,
    ub: np.ndarray,
    spec: BudgetSpec,
) -> list[dict]:
    curves, cur, new = fitted.curves, fitted.current, alloc.spend
    m_cur, m_new = curves.marginal(cur), curves.marginal(new)
    level = alloc.level if math.isfinite(alloc.level) and alloc.level > 0 else None
    value_per_conv = None
    if spec.objective == "conversions" and window.conversions.sum() > 0:
        value_per_conv = window.revenue.sum() / window.conversions.sum()
    rows = []
    for i, name in enumerate(window.campaigns):
        spent, revenue, conv = (
            window.spend[i].sum(),
            window.revenue[i].sum(),
            window.conversions[i].sum(),
        )
        observed_max = float(window.spend[i].max())
        flags = list(fitted.flags[i])
        if new[i] > EXTRAPOLATION * observed_max and observed_max > 0:
            flags.append("extrapolation")
        if spec.objective == "revenue":
            mroas_cur, mroas_new = float(m_cur[i]), float(m_new[i])
        else:
            mroas_cur = float(m_cur[i] * value_per_conv) if value_per_conv else None
            mroas_new = float(m_new[i] * value_per_conv) if value_per_conv else None
        row = {
            "campaign": name,
            "current_spend": float(cur[i]),
            "suggested_spend": float(new[i]),
            "change": float(new[i] - cur[i]),
            "change_pct": float(new[i] / cur[i] - 1) if cur[i] > 0 else None,
            "roas": float(revenue / spent) if spent > 0 else None,
            "cpa": float(spent / conv) if conv > 0 else None,
            "marginal_roas_current": _finite(mroas_cur),
            "marginal_roas_suggested": _finite(mroas_new),
            "tier": fitted.tier[i],
            "flags": flags,
            "elasticity": float(curves.b[i]),
            "curve": {"a": float(curves.a[i]), "b": float(curves.b[i])},
            "outcome_current": float(curves.a[i] * cur[i] ** curves.b[i]),
            "outcome_suggested": float(curves.a[i] * new[i] ** curves.b[i]),
        }
        if spec.objective == "conversions":
            row["marginal_cpa_current"] = _finite(1 / m_cur[i]) if m_cur[i] > 0 else None
            row["marginal_cpa_suggested"] = _finite(1 / m_new[i]) if m_new[i] > 0 else None
        row["reason"] = _reason(row, level, lb[i], ub[i], spec)
        rows.append(row)
    return rows


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _reason(row: dict, level: float | None, lb: float, ub: float, spec: BudgetSpec) -> str:
    change = row["change"]
    current = row["current_spend"]
    if row["tier"] == "fixed":
        return "keep: " + ("locked" if "locked" in row["flags"] else "no spend in the window")
    conv = spec.objective == "conversions"
    unit = "marginal CPA" if conv else "marginal ROAS"
    mine = row["marginal_cpa_current"] if conv else row["marginal_roas_current"]
    portfolio = (1 / level if conv else level) if level else None
    versus = f" vs portfolio {portfolio:.2f}" if portfolio else ""
    mine_text = f"{unit} {mine:.2f}" if mine is not None else unit
    if "increasing returns" in row["flags"] and change >= -1e-9:
        text = (
            f"hold or grow: returns look increasing (elasticity above 1); run a spend test"
            f" rather than cutting; {mine_text}{versus}"
        )
    elif current > 0 and change > 0.005 * current:
        text = f"increase: {mine_text}{versus}"
        if abs(row["suggested_spend"] - ub) < 1e-6 * max(ub, 1):
            text += "; stopped at its upper bound" + (
                f" (+{spec.max_change:.0%})"
                if abs(ub - current * (1 + spec.max_change)) < 1e-6 * max(ub, 1)
                else ""
            )
    elif current > 0 and change < -0.005 * current:
        text = f"decrease: {mine_text}{versus}"
        if abs(row["suggested_spend"] - lb) < 1e-6 * max(lb, 1):
            text += "; stopped at its lower bound" + (
                f" (-{spec.max_change:.0%})"
                if abs(lb - current * (1 - spec.max_change)) < 1e-6 * max(lb, 1)
                else ""
            )
    else:
        text = f"keep: {mine_text}{versus}"
    if row["tier"] == "rule":
        text += " (thin data: a shrunk average ratio, not a fitted curve)"
    if "extrapolation" in row["flags"]:
        text += f"; above {EXTRAPOLATION:.1f}x the highest daily spend seen: an extrapolation"
    return text


def _portfolio(
    window: Window,
    fitted: Fitted,
    alloc: Allocation,
    spec: BudgetSpec,
    locks: set[str],
    lb: np.ndarray,
    ub: np.ndarray,
    scenario: str,
) -> dict:
    a, b = fitted.curves.a, fitted.curves.b
    now = outcome(a, b, fitted.current)
    then = outcome(a, b, alloc.spend)
    band, prob = _bootstrap(window, fitted, alloc.spend, spec, locks)
    return {
        "current_spend": float(fitted.current.sum()),
        "suggested_spend": float(alloc.spend.sum()),
        "current_outcome": now,
        "suggested_outcome": then,
        "uplift": then - now,
        "uplift_pct": (then - now) / now if now else None,
        "uplift_band": band,
        "prob_positive": prob,
        "unallocated": float(alloc.unallocated),
        "marginal_level": alloc.level if math.isfinite(alloc.level) else None,
    }


def _bootstrap(
    window: Window, fitted: Fitted, suggested: np.ndarray, spec: BudgetSpec, locks: set[str]
) -> tuple[list[float | None], float | None]:
    """Resample days, refit the curves, and score the suggested move against today's split."""
    days = window.spend.shape[1]
    if spec.bootstrap <= 0 or days < 2:
        return [None, None], None
    rng = np.random.default_rng(spec.seed)
    start = (fitted.log_a_raw, fitted.curves.b_raw)
    uplifts = []
    for _ in range(spec.bootstrap):
        idx = rng.integers(0, days, days)
        boot = _curves(window, locks, idx, start)[0]
        uplifts.append(outcome(boot.a, boot.b, suggested) - outcome(boot.a, boot.b, fitted.current))
    values = np.array(uplifts)
    return (
        [float(np.quantile(values, 0.1)), float(np.quantile(values, 0.9))],
        float((values > 0).mean()),
    )


def curve_points(row: dict, points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A campaign's response curve from 0 to 1.6x the larger of today's and the suggested
    spend, in the objective's units (for the chart)."""
    top = 1.6 * max(row["current_spend"], row["suggested_spend"], 1e-9)
    spend = np.linspace(0, top, points)
    return spend, row["curve"]["a"] * np.power(spend, row["curve"]["b"])


def moves(rows: list[dict]) -> list[dict]:
    """The plan as "move X from A to B", largest first; agrees with the suggested spends."""
    give = sorted(
        ((r["campaign"], -r["change"]) for r in rows if r["change"] < -1e-6), key=lambda x: -x[1]
    )
    take = sorted(
        ((r["campaign"], r["change"]) for r in rows if r["change"] > 1e-6), key=lambda x: -x[1]
    )
    out, i, j = [], 0, 0
    give = [list(g) for g in give]
    take = [list(t) for t in take]
    while i < len(give) and j < len(take):
        amount = min(give[i][1], take[j][1])
        if amount > 1e-6:
            out.append({"from": give[i][0], "to": take[j][0], "amount": float(amount)})
        give[i][1] -= amount
        take[j][1] -= amount
        if give[i][1] <= 1e-6:
            i += 1
        if take[j][1] <= 1e-6:
            j += 1
    for name, rest in give[i:]:
        if rest > 1e-6:
            out.append({"from": name, "to": None, "amount": float(rest)})
    for name, rest in take[j:]:
        if rest > 1e-6:
            out.append({"from": None, "to": name, "amount": float(rest)})
    return out
