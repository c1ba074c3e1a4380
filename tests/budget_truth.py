"""Campaigns with known true curves, simulated day by day (seeded), for the budget tests:
geometric carryover A_t = s_t + θ·A_{t−1}, conversions ~ Poisson(a·A_t^b / value), revenue
= conversions x value x Gamma(mean 1, cv 0.15). The truth is scored on the steady state of a
constant daily spend, a·(s / (1 − θ))^b, with the optimiser under test left out: the true
optimum comes from scipy."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from scipy.optimize import minimize


@dataclass(frozen=True)
class TrueCampaign:
    name: str
    a: float  # revenue a day = a * A^b
    b: float
    theta: float
    base: float  # typical daily spend
    value: float = 50.0  # revenue per conversion
    half: float | None = None  # an S-curve: a * A^b / (A^b + half^b), b its steepness

    def response(self, adstock: np.ndarray | float) -> np.ndarray:
        powered = np.power(np.asarray(adstock, dtype=float), self.b)
        if self.half is None:
            return self.a * powered
        return self.a * powered / (powered + self.half**self.b)

    def steady(self, spend: np.ndarray | float) -> np.ndarray:
        return self.response(np.asarray(spend) / (1 - self.theta))


def simulate(
    campaigns: list[TrueCampaign],
    days: int,
    spend_sd: float,
    seed: int,
    start: date = date(2025, 1, 1),
    schedule: dict[str, np.ndarray] | None = None,
    state: dict[str, float] | None = None,
) -> tuple[list[list], dict[str, float]]:
    """Rows (date, campaign, spend, conversions, revenue) and each campaign's adstock on the
    last day. ``schedule`` fixes a campaign's daily spend; otherwise it is base x lognormal
    noise with sd ``spend_sd``. Without a ``state`` the adstock starts at its steady state."""
    rng = np.random.default_rng(seed)
    rows, last = [], {}
    for c in campaigns:
        if schedule and c.name in schedule:
            spend = schedule[c.name]
        else:
            spend = c.base * rng.lognormal(-(spend_sd**2) / 2, spend_sd, days)
        carried = state[c.name] if state else c.base / (1 - c.theta)
        for t in range(days):
            carried = spend[t] + c.theta * carried
            conversions = rng.poisson(c.response(carried) / c.value)
            revenue = conversions * c.value * rng.gamma(1 / 0.15**2, 0.15**2) if conversions else 0
            day = start + timedelta(days=t)
            rows.append(
                [day.isoformat(), c.name, round(spend[t], 2), conversions, round(revenue, 2)]
            )
        last[c.name] = carried
    return rows, last


def write_csv(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["date", "campaign", "spend", "conversions", "revenue"])
        writer.writerows(rows)
    return path


def true_optimum(
    campaigns: list[TrueCampaign], budget: float, lb: np.ndarray, ub: np.ndarray
) -> np.ndarray:
    """The best steady-state split of ``budget`` within the bounds, by scipy's SLSQP."""

    def negative(s):
        return -sum(c.steady(max(x, 1e-9)) for c, x in zip(campaigns, s, strict=True))

    x0 = np.clip(np.full(len(campaigns), budget / len(campaigns)), lb, ub)
    found = minimize(
        negative,
        x0,
        method="SLSQP",
        bounds=list(zip(lb, ub, strict=True)),
        constraints=[{"type": "eq", "fun": lambda s: s.sum() - budget}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return found.x


def capture(campaigns: list[TrueCampaign], current: dict, suggested: dict, best: dict) -> float:
    """The share of the true optimal uplift a plan captures (steady state, true curves)."""

    def value(plan: dict) -> float:
        return float(sum(c.steady(plan[c.name]) for c in campaigns))

    return (value(suggested) - value(current)) / (value(best) - value(current))


def reference_args(scenario: dict, question: dict) -> list[str]:
    """The ``budget`` flags that ask a reference scenario's question (its budget or target,
    and its widest bound as ±max-change)."""
    current = {c["campaign"]: c["current_daily_spend"] for c in scenario["campaigns"]}
    widest = max(hi / current[k] for k, (lo, hi) in question["bounds"].items())
    common = [
        "--lag-days",
        "0",
        "--window-days",
        str(scenario["window"]["days"]),
        "--bootstrap",
        "100",
        "--max-change",
        f"{widest - 1:.6f}",
    ]
    if scenario["outcome_modelled"] == "conversions":
        common += ["--objective", "conversions"]
    objective = question["objective"]
    if "fixed_budget" in objective:
        return ["--daily-budget", str(question["daily_budget"]), *common]
    if "blended_cpa" in objective:
        return ["--target-cpa", str(question["target_blended_cpa"]), *common]
    return ["--target-marginal-roas", str(1 / question["target_marginal_cpa"]), *common]
