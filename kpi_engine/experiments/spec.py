"""Every setting that changes an experiment's numbers, in one frozen spec.

The Experiments page, the command line and a shared link all build this spec; it checks its
own values (an error names the wrong field) and reads and writes itself as view JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.capping import parse_cap
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.stats.multiple import CORRECTIONS
from kpi_engine.view_fields import ViewFields, custom_to_view, header

FAMILIES = ("both", "variants", "kpis")
DEFAULT_TUNING = 5000.0
DEFAULT_ALPHA = 0.05
MAX_ALPHA = 0.5
DEFAULT_MDE = 0.10  # the smallest relative lift worth detecting: "keep testing" plans for it
DEFAULT_PRE_DAYS = 14  # GrowthBook's default CUPED lookback
MAX_PRE_DAYS = 365
CUPED_ROWS = "(rows before exposure)"  # CUPED on each KPI's own rows, not a column


@dataclass(frozen=True)
class ExperimentSpec:
    """What to compare and how. Guardrail KPIs are compared too, even when not in ``kpis``."""

    PAGE: ClassVar[str] = "experiments"

    dataset_id: str
    variant_col: str
    control: str
    kpis: tuple[str, ...]
    custom: tuple[Kpi, ...] = ()  # custom KPIs the ids may name, by value
    unit_col: str | None = None  # users; or, for campaign rows, what splits a day further
    correction: str = "holm"
    family: str = "both"  # what the correction adjusts over
    sequential: bool = False
    tuning: float = DEFAULT_TUNING  # expected total units at decision time (sequential only)
    split: tuple[float, ...] | None = None  # intended shares: control first, then the others
    alpha: float = DEFAULT_ALPHA
    guardrails: tuple[tuple[str, float], ...] = ()  # (kpi, largest acceptable loss, e.g. 0.05)
    start: date | None = None
    end: date | None = None
    keep_multiple_exposures: bool = False  # count a unit seen in several variants in each
    caps: tuple[tuple[str, str], ...] = ()  # (kpi, "p99" | "p1:p99" | "0:500" | ":500")
    covariates: tuple[tuple[str, str], ...] = ()  # CUPED: (kpi, column of its pre-test value)
    cuped: bool = False  # CUPED on each KPI's own rows in the days before exposure
    pre_days: int = DEFAULT_PRE_DAYS
    segment_col: str | None = None
    non_inferiority: tuple[tuple[str, float], ...] = ()  # (kpi, margin, e.g. 0.02)
    mde: float = DEFAULT_MDE  # smallest lift worth detecting, for "keep testing" and power
    weeks: bool = True  # lift by week since exposure (the page asks for it when it is opened)
    currency: str | None = None  # with several currencies: this one's rows (or, converting, all)
    convert: bool = False  # every amount in ``currency``, at each row's day's exchange rate

    def __post_init__(self) -> None:
        if not self.variant_col:
            raise KpiLabError("is empty: name the column that holds the variants", "variant_col")
        if not self.kpis:
            raise KpiLabError("is empty: choose at least one KPI to compare", "kpis")
        if self.correction not in CORRECTIONS:
            raise KpiLabError(
                f"{self.correction!r} is not a correction: use {', '.join(CORRECTIONS)}",
                "correction",
            )
        if self.family not in FAMILIES:
            raise KpiLabError(
                f"{self.family!r} is not a family: use {', '.join(FAMILIES)}", "family"
            )
        if not (math.isfinite(self.alpha) and 0 < self.alpha <= MAX_ALPHA):
            raise KpiLabError(
                f"must be between 0 and {MAX_ALPHA} (0.05 for 95% confidence), not {self.alpha}",
                "alpha",
            )
        if not (math.isfinite(self.mde) and 0 < self.mde <= 5):
            raise KpiLabError(
                f"must be a relative lift above 0% and at most 500% (0.1 for 10%), not {self.mde}",
                "mde",
            )
        if not (math.isfinite(self.tuning) and self.tuning > 0):
            raise KpiLabError(f"must be a positive number of units, not {self.tuning}", "tuning")
        if self.split is not None and (
            len(self.split) < 2 or not all(math.isfinite(s) and s > 0 for s in self.split)
        ):
            raise KpiLabError(
                "needs a positive share per variant, control first (e.g. 50,50)", "split"
            )
        for kpi, loss in self.guardrails:
            if not (math.isfinite(loss) and loss >= 0):
                raise KpiLabError(
                    f"for {kpi} must allow a loss of 0% or more, not {loss:.0%}", "guardrails"
                )
        if self.start and self.end and self.start > self.end:
            raise KpiLabError(f"{self.start} is after the end date {self.end}", "start")
        self._check_settings()

    def _check_settings(self) -> None:
        """Caps, CUPED, segments and margins: each names the KPI it is about."""
        for field, pairs in (
            ("caps", self.caps),
            ("covariates", self.covariates),
            ("non_inferiority", self.non_inferiority),
        ):
            for kpi, _ in pairs:
                if kpi not in self.compared:
                    raise KpiLabError(
                        f"names {kpi!r}, which is not one of the KPIs compared"
                        f" ({', '.join(self.compared)})",
                        field,
                    )
        for _, cap in self.caps:
            parse_cap(cap)
        for kpi, margin in self.non_inferiority:
            if not (math.isfinite(margin) and 0 < margin < 1):
                raise KpiLabError(
                    f"for {kpi} must be a margin above 0% and below 100%, not {margin:.0%}",
                    "non_inferiority",
                )
        if not 1 <= self.pre_days <= MAX_PRE_DAYS:
            raise KpiLabError(
                f"must be between 1 and {MAX_PRE_DAYS} days, not {self.pre_days}", "pre_days"
            )
        if self.segment_col is not None and self.segment_col == self.variant_col:
            raise KpiLabError("is the variant column: choose another column", "segment_col")

    @property
    def compared(self) -> tuple[str, ...]:
        """The KPIs the analysis compares: the chosen ones, then the guardrails' others."""
        return tuple(dict.fromkeys([*self.kpis, *(kpi for kpi, _ in self.guardrails)]))

    def to_view(self) -> dict:
        return {
            **header(self.PAGE, self.dataset_id),
            "variant_col": self.variant_col,
            "control": self.control,
            "kpis": list(self.kpis),
            "custom": custom_to_view(self.custom),
            "unit_col": self.unit_col,
            "correction": self.correction,
            "family": self.family,
            "sequential": self.sequential,
            "tuning": self.tuning,
            "split": list(self.split) if self.split else None,
            "alpha": self.alpha,
            "guardrails": [list(g) for g in self.guardrails],
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "keep_multiple_exposures": self.keep_multiple_exposures,
            "caps": [list(c) for c in self.caps],
            "covariates": [list(c) for c in self.covariates],
            "cuped": self.cuped,
            "pre_days": self.pre_days,
            "segment_col": self.segment_col,
            "non_inferiority": [list(m) for m in self.non_inferiority],
            "mde": self.mde,
            "weeks": self.weeks,
            "currency": self.currency,
            "convert": self.convert,
        }

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> ExperimentSpec:
        f = ViewFields(view, cls.__dataclass_fields__)
        return cls(
            dataset_id=f.text("dataset_id") or "",
            variant_col=f.text("variant_col") or "",
            control=f.text("control") or "",
            kpis=f.texts("kpis"),
            custom=f.custom(),
            unit_col=f.text("unit_col"),
            correction=f.text("correction", "holm"),
            family=f.text("family", "both"),
            sequential=f.flag("sequential"),
            tuning=f.number("tuning", DEFAULT_TUNING),
            split=f.numbers("split"),
            alpha=f.number("alpha", DEFAULT_ALPHA),
            guardrails=f.pairs("guardrails"),
            start=f.day("start"),
            end=f.day("end"),
            keep_multiple_exposures=f.flag("keep_multiple_exposures"),
            caps=f.text_pairs("caps"),
            covariates=f.text_pairs("covariates"),
            cuped=f.flag("cuped"),
            pre_days=f.integer("pre_days", DEFAULT_PRE_DAYS),
            segment_col=f.text("segment_col"),
            non_inferiority=f.pairs("non_inferiority"),
            mde=f.number("mde", DEFAULT_MDE),
            weeks=f.flag("weeks", True),
            currency=f.text("currency"),
            convert=f.flag("convert"),
        )
