"""Campaigns with known true curves, simulated day by day (seeded), for the budget tests:
geometric carryover A_t = s_t + θ·A_{t−1}, conversions ~ Poisson(a·A_t^b / value), revenue
= conversions x value x Gamma(mean 1, cv 0.15). The truth is scored on the steady state of a
constant daily spend, a·(s / (1 − θ))^b, with the optimiser under test left out: the true
optimum comes from scipy."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
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
    demand: np.ndarray | None = None,
) -> tuple[list[list], dict[str, float]]:
    """Rows (date, campaign, spend, conversions, revenue) and each campaign's adstock on the
    last day. ``schedule`` fixes a campaign's daily spend; otherwise it is base x lognormal
    noise with sd ``spend_sd``. Without a ``state`` the adstock starts at its steady state.
    ``demand`` (a factor per day) moves spend and the response together, as marketers who
    spend more in season do."""
    rng = np.random.default_rng(seed)
    rows, last = [], {}
    lift = np.ones(days) if demand is None else demand
    for c in campaigns:
        if schedule and c.name in schedule:
            spend = schedule[c.name]
        else:
            spend = c.base * rng.lognormal(-(spend_sd**2) / 2, spend_sd, days) * lift
        carried = state[c.name] if state else c.base / (1 - c.theta)
        for t in range(days):
            carried = spend[t] + c.theta * carried
            conversions = rng.poisson(c.response(carried) * lift[t] / c.value)
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


# -- known-truth scenarios for the budget band's coverage ------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Campaigns with known curves, the demand they share, and their simulated rows."""

    seed: int
    campaigns: list[TrueCampaign]
    demand: np.ndarray
    rows: list[list]

    def true_uplift(self, current: dict, suggested: dict) -> float:
        """What a plan truly gains a day (steady state, at the window's average demand)."""
        gain = sum(
            float(c.steady(suggested[c.name]) - c.steady(current[c.name])) for c in self.campaigns
        )
        return gain * float(self.demand.mean())


def demand_pattern(rng: np.random.Generator, days: int, start: date) -> np.ndarray:
    """Weekdays busier than weekends, and (by chance) a seasonal wave and a promotion week."""
    weekday = np.array(
        [1.08 if (start + timedelta(days=t)).weekday() < 5 else 0.9 for t in range(days)]
    )
    out = weekday
    if rng.random() < 0.7:
        amplitude, period = rng.uniform(0.08, 0.2), rng.uniform(40, 90)
        out = out * (
            1 + amplitude * np.sin(2 * np.pi * np.arange(days) / period + rng.uniform(0, 6))
        )
    if rng.random() < 0.5:
        week = int(rng.integers(10, days - 10))
        out = out * np.where((np.arange(days) >= week) & (np.arange(days) < week + 7), 1.35, 1.0)
    return out / out.mean()


def scenario(seed: int, days: int = 120, start: date = date(2025, 1, 1)) -> Scenario:
    """A seeded portfolio of 4-8 campaigns: power curves with elasticities 0.3-0.9, half of
    the portfolios with carryover, every third with one S-shaped (Hill) campaign."""
    rng = np.random.default_rng(1000 + seed)
    campaigns = []
    for i in range(int(rng.integers(4, 9))):
        base = float(rng.uniform(100, 1500))
        theta = float(rng.uniform(0.2, 0.6)) if seed % 2 else 0.0
        roas = float(rng.uniform(0.8, 5.0))
        value = float(rng.uniform(30, 120))
        adstock = base / (1 - theta)
        if seed % 3 == 2 and i == 0:
            steep = float(rng.uniform(1.5, 2.5))
            half = adstock * float(rng.uniform(0.6, 1.2))
            top = roas * base * (adstock**steep + half**steep) / adstock**steep
            campaigns.append(TrueCampaign(f"c{i}", top, steep, theta, base, value, half))
            continue
        b = float(rng.uniform(0.3, 0.9))
        a = roas * base / adstock**b
        campaigns.append(TrueCampaign(f"c{i}", a, b, theta, base, value))
    demand = demand_pattern(rng, days, start)
    rows, _ = simulate(campaigns, days, 0.3, seed, start, demand=demand)
    return Scenario(seed, campaigns, demand, rows)


@dataclass(frozen=True)
class Scored:
    seed: int
    campaigns: int
    carryover: bool
    s_curve: bool
    claimed: float  # the plan's uplift a day, as the tool states it
    low: float  # its p10
    high: float  # its p90
    truth: float  # what the plan truly gains a day

    @property
    def covered(self) -> bool:
        return self.low <= self.truth <= self.high

    @property
    def error(self) -> float:
        return abs(self.claimed - self.truth) / abs(self.truth) if self.truth else math.inf


def score_scenario(seed: int, workdir: Path, days: int = 120) -> Scored:
    """Simulate scenario ``seed``, plan it with ``kpi_engine budget`` (same total, ±30%) and
    score the claim against the true curves."""
    from kpi_engine.cli import main

    case = scenario(seed, days)
    folder = workdir / f"s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    db = str(folder / "ws.sqlite")
    csv_path = write_csv(folder / "campaigns.csv", case.rows)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["import", str(csv_path), "--name", "c", "--db", db]) == 0
    out = io.StringIO()
    args = ["budget", "c", "--db", db, "--json", "--lag-days", "0", "--window-days", str(days)]
    with contextlib.redirect_stdout(out):
        assert main([*args, "--seed", str(seed)]) == 0
    result = json.loads(out.getvalue())
    current = {c["campaign"]: c["current_spend"] for c in result["campaigns"]}
    suggested = {c["campaign"]: c["suggested_spend"] for c in result["campaigns"]}
    portfolio = result["portfolio"]
    low, high = portfolio["uplift_band"]
    return Scored(
        seed,
        len(case.campaigns),
        seed % 2 == 1,
        any(c.half is not None for c in case.campaigns),
        portfolio["uplift"],
        low,
        high,
        case.true_uplift(current, suggested),
    )
