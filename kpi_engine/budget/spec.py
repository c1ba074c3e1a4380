"""Every setting that changes a budget plan, in one frozen spec.

The Budget page, ``python -m kpi_engine budget`` and a shared link build this spec. One
question at most (a daily budget, a target ROAS or CPA, a target marginal return, the same
outcome for less, or a typed-in plan); none means today's total, split better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from kpi_engine.errors import KpiLabError
from kpi_engine.view_fields import ViewFields, header

OBJECTIVES = ("revenue", "conversions")
DEFAULT_SEED = 20240601
MAX_BOOTSTRAP = 5000
MAX_PLAN_DAYS = 366


@dataclass(frozen=True)
class BudgetSpec:
    PAGE: ClassVar[str] = "budget"

    dataset_id: str
    daily_budget: float | None = None
    target_roas: float | None = None
    target_cpa: float | None = None
    target_marginal_roas: float | None = None
    same_outcome: bool = False  # the current outcome at the lowest spend
    plan: tuple[tuple[str, float], ...] = ()  # score a plan the user typed in
    objective: str = "revenue"
    max_change: float = 0.3  # largest change per campaign, as a share of today's spend
    min_spend: float = 0.0
    minimums: tuple[tuple[str, float], ...] = ()
    maximums: tuple[tuple[str, float], ...] = ()
    locks: tuple[str, ...] = ()
    window_days: int = 90
    lag_days: int = 7  # recent days left out: their conversions are still coming in
    currency: str | None = None
    convert: bool = False  # every amount in ``currency``, at each row's day's exchange rate
    bootstrap: int = 200  # draws of every curve for the bands and P(it helps)
    seed: int = DEFAULT_SEED
    plan_days: int | None = None  # a plan for this many days after the data's last day
    until: str | None = None  # ... or up to this day (inclusive)
    total: float | None = None  # the money for the whole plan period
    goal_target: float | None = None  # reach this much of the objective by the period's end
    lifts: tuple[tuple[str, float | None, float, float, float], ...] = ()  # see lift.py
    suggest_test: bool = False
    test_when_unsure: bool = False  # the page: the spend test only when the split is unsure

    def __post_init__(self) -> None:
        questions = [
            self.daily_budget is not None,
            self.target_roas is not None,
            self.target_cpa is not None,
            self.target_marginal_roas is not None,
            self.same_outcome,
            bool(self.plan),
            self.total is not None,
            self.goal_target is not None,
        ]
        if sum(questions) > 1:
            raise KpiLabError(
                "choose one question: a daily budget, a target ROAS, a target CPA, a target"
                " marginal ROAS, the same outcome at the lowest spend, a plan, a total for the"
                " period or a goal"
            )
        self._check_period()
        for field in (
            "daily_budget",
            "target_roas",
            "target_cpa",
            "target_marginal_roas",
            "total",
            "goal_target",
        ):
            value = getattr(self, field)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise KpiLabError(f"must be a positive number, not {value:g}", field)
        if self.objective not in OBJECTIVES:
            raise KpiLabError(
                f"{self.objective!r} is not an objective: use revenue or conversions", "objective"
            )
        if self.target_cpa is not None and self.objective != "conversions":
            raise KpiLabError("must be conversions for a target CPA", "objective")
        if not (math.isfinite(self.max_change) and self.max_change >= 0):
            raise KpiLabError("must be 0 or more (0.3 means +/-30%)", "max_change")
        if not (math.isfinite(self.min_spend) and self.min_spend >= 0):
            raise KpiLabError("must be 0 or more", "min_spend")
        for field in ("plan", "minimums", "maximums"):
            for name, value in getattr(self, field):
                if not (math.isfinite(value) and value >= 0):
                    raise KpiLabError(f"gives {name!r} a negative or missing amount", field)
        if self.window_days < 1:
            raise KpiLabError("must be at least 1 day", "window_days")
        if self.lag_days < 0:
            raise KpiLabError("must be 0 days or more", "lag_days")
        if not 0 <= self.bootstrap <= MAX_BOOTSTRAP:
            raise KpiLabError(f"must be between 0 and {MAX_BOOTSTRAP} draws", "bootstrap")

    def _check_period(self) -> None:
        if self.plan_days is not None and self.until is not None:
            raise KpiLabError("give the plan's length in days or its last day, not both", "until")
        if self.plan_days is not None and not 1 <= self.plan_days <= MAX_PLAN_DAYS:
            raise KpiLabError(f"must be between 1 and {MAX_PLAN_DAYS} days", "plan_days")
        if self.until is not None:
            try:
                date.fromisoformat(self.until)
            except ValueError:
                raise KpiLabError(
                    f"{self.until!r} is not a date: write it as YYYY-MM-DD", "until"
                ) from None
        period = self.plan_days is not None or self.until is not None
        if self.total is not None and not period:
            raise KpiLabError("needs the plan's days (--days N or --until DATE)", "total")
        if self.goal_target is not None and not period:
            raise KpiLabError("needs the date to reach it by (--until DATE)", "goal_target")

    @property
    def has_period(self) -> bool:
        return self.plan_days is not None or self.until is not None

    @property
    def question(self) -> str:
        """Which question the spec asks (its scenario)."""
        if self.goal_target is not None:
            return "goal"
        if self.total is not None:
            return "total for the period"
        if self.plan:
            return "score plan"
        if self.target_roas is not None:
            return "target roas"
        if self.target_cpa is not None:
            return "target cpa"
        if self.target_marginal_roas is not None:
            return "target marginal"
        if self.same_outcome:
            return "same outcome, lowest spend"
        return "fixed budget"

    def to_view(self) -> dict:
        return {
            **header(self.PAGE, self.dataset_id),
            "daily_budget": self.daily_budget,
            "target_roas": self.target_roas,
            "target_cpa": self.target_cpa,
            "target_marginal_roas": self.target_marginal_roas,
            "same_outcome": self.same_outcome,
            "plan": [list(p) for p in self.plan],
            "objective": self.objective,
            "max_change": self.max_change,
            "min_spend": self.min_spend,
            "minimums": [list(p) for p in self.minimums],
            "maximums": [list(p) for p in self.maximums],
            "locks": list(self.locks),
            "window_days": self.window_days,
            "lag_days": self.lag_days,
            "currency": self.currency,
            "convert": self.convert,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "plan_days": self.plan_days,
            "until": self.until,
            "total": self.total,
            "goal_target": self.goal_target,
            "lifts": [list(lift) for lift in self.lifts],
            "suggest_test": self.suggest_test,
            "test_when_unsure": self.test_when_unsure,
        }

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> BudgetSpec:
        f = ViewFields(view, cls.__dataclass_fields__)
        return cls(
            dataset_id=f.text("dataset_id") or "",
            daily_budget=f.number("daily_budget"),
            target_roas=f.number("target_roas"),
            target_cpa=f.number("target_cpa"),
            target_marginal_roas=f.number("target_marginal_roas"),
            same_outcome=f.flag("same_outcome"),
            plan=f.pairs("plan"),
            objective=f.text("objective", "revenue"),
            max_change=f.number("max_change", 0.3),
            min_spend=f.number("min_spend", 0.0),
            minimums=f.pairs("minimums"),
            maximums=f.pairs("maximums"),
            locks=f.texts("locks"),
            window_days=f.integer("window_days", 90),
            lag_days=f.integer("lag_days", 7),
            currency=f.text("currency"),
            convert=f.flag("convert"),
            bootstrap=f.integer("bootstrap", 200),
            seed=f.integer("seed", DEFAULT_SEED),
            plan_days=f.integer("plan_days"),
            until=f.text("until"),
            total=f.number("total"),
            goal_target=f.number("goal_target"),
            lifts=f.named_numbers("lifts", 4),
            suggest_test=f.flag("suggest_test"),
            test_when_unsure=f.flag("test_when_unsure"),
        )
