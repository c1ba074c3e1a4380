"""What a budget plan returns: typed, and its JSON has the same shape (``to_dict``/
``from_dict``). All amounts are daily."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.typed_json import from_json, to_json


@dataclass(frozen=True)
class Curve:
    """E[outcome a day] = a * spend^b, or on an S-curve top * s^k / (s^k + half^k)."""

    a: float
    b: float
    shape: str = "power"  # or "S-curve"
    top: float | None = None
    half: float | None = None
    k: float | None = None

    def value(self, spend: np.ndarray) -> np.ndarray:
        s = np.maximum(spend, 0.0)
        if self.shape == "S-curve":
            powered = np.power(s / (self.half or 1.0), self.k or 1.0)
            return (self.top or 0.0) * powered / (1 + powered)
        return self.a * np.power(s, self.b)


@dataclass(frozen=True)
class CampaignPlan:
    campaign: str
    current_spend: float
    suggested_spend: float
    change: float
    change_pct: float | None
    roas: float | None
    cpa: float | None
    marginal_roas_current: float | None
    marginal_roas_suggested: float | None
    marginal_cpa_current: float | None
    marginal_cpa_suggested: float | None
    tier: str  # fitted, rule or fixed
    flags: tuple[str, ...]
    elasticity: float
    curve: Curve
    outcome_current: float
    outcome_suggested: float
    reason: str = ""
    carryover: float = 0.0  # θ of the geometric adstock: the share of a day's effect kept
    half_life_days: int = 1  # half of a day's effect lands within this many days


@dataclass(frozen=True)
class Portfolio:
    current_spend: float
    suggested_spend: float
    current_outcome: float
    suggested_outcome: float
    uplift: float
    uplift_pct: float | None
    uplift_band: tuple[float | None, float | None]  # p10, p90 over draws of every curve
    prob_positive: float | None
    unallocated: float
    marginal_level: float | None
    prob_better_split: float | None = None  # P(beats today's split scaled to the same total)


@dataclass(frozen=True)
class Move:
    source: str | None = field(metadata={"json": "from"})
    target: str | None = field(metadata={"json": "to"})
    amount: float
    prob_helps: float | None = None  # share of the curve draws in which the move gains


@dataclass(frozen=True)
class WindowInfo:
    start: str
    end: str
    days: int
    lag_days: int


@dataclass(frozen=True)
class PlanWeek:
    week: str  # the week's first day
    spend: float
    outcome: float


@dataclass(frozen=True)
class PeriodPlan:
    """The plan over the days ahead, with the carryover of spend already made."""

    start: str
    end: str
    days: int
    total_spend: float
    expected_outcome: float
    band: tuple[float | None, float | None]  # p10, p90 of the period's outcome
    weeks: tuple[PlanWeek, ...]


@dataclass(frozen=True)
class GoalResult:
    kpi: str
    target: float
    until: str
    reachable: bool
    total_spend: float  # over the plan's days
    expected_outcome: float
    best_reachable: float  # the most the bounds allow by the date


@dataclass(frozen=True)
class SpendTest:
    """The test that would settle an uncertain plan: spend on alternate days at +change and
    -change of today's spend on these campaigns, for these days."""

    campaigns: tuple[str, ...]
    change: float
    days: int
    expected_b_se: tuple[float, ...]  # each campaign's elasticity standard error after it
    value: float  # expected outcome of deciding after the test minus deciding now
    needed: bool  # the split is uncertain enough (P(it helps) under 80%) to wait for the test
    b_se_now: tuple[float, ...] = ()
    horizon_days: int = 0  # the days over which the value is counted


ONE_CAMPAIGN = "one campaign"  # a status: a re-split with a single campaign to move


@dataclass(frozen=True)
class BudgetResult:
    status: str  # ok, or "unallocated budget" when every campaign is at its maximum
    scenario: str
    objective: str
    window: WindowInfo
    campaigns: tuple[CampaignPlan, ...]
    portfolio: Portfolio
    moves: tuple[Move, ...]
    caveats: tuple[str, ...]
    currency: str | None = None
    notes: tuple[str, ...] = ()  # what the plan decided for the data (e.g. no revenue)
    plan: PeriodPlan | None = None  # with a period ahead (--days or --until)
    goal: GoalResult | None = None
    test: SpendTest | None = None  # with --suggest-test, or on the page when uncertain
    conversion: ConversionNote | None = None  # how amounts became ``currency``

    def to_dict(self) -> dict:
        return to_json(self)

    @classmethod
    def from_dict(cls, data: dict) -> BudgetResult:
        return from_json(cls, data)
