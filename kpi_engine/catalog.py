"""The KPI catalog: one declarative entry per KPI.

A formula is written in the grammar of ``kpi_engine.formula`` over base columns (roles).
Ratio KPIs are ratios of sums over the selected rows, never means of daily ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine import formula as fx
from kpi_engine.errors import KpiLabError

UNITS = ("count", "currency", "percent", "ratio")
DIRECTIONS = ("higher", "lower", "neutral")


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    family: str
    formula: str
    unit: str
    direction: str
    description: str
    requires: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.requires:
            object.__setattr__(self, "requires", tuple(fx.columns(fx.parse(self.formula))))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "family": self.family,
            "formula": self.formula,
            "unit": self.unit,
            "direction": self.direction,
            "description": self.description,
            "requires": list(self.requires),
        }


STARTER_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "impressions",
        "Impressions",
        "Brand and awareness",
        "sum(impressions)",
        "count",
        "higher",
        "How many times the ads were shown.",
    ),
    Kpi(
        "clicks",
        "Clicks",
        "Engagement",
        "sum(clicks)",
        "count",
        "higher",
        "How many times people clicked the ads.",
    ),
    Kpi(
        "conversions",
        "Conversions",
        "Conversion",
        "sum(conversions)",
        "count",
        "higher",
        "Purchases, sign-ups or leads the platform attributed to the ads.",
    ),
    Kpi(
        "spend",
        "Spend",
        "Acquisition and cost",
        "sum(spend)",
        "currency",
        "neutral",
        "Money spent on the ads.",
    ),
    Kpi(
        "revenue",
        "Revenue",
        "Revenue and return",
        "sum(revenue)",
        "currency",
        "higher",
        "Conversion value the platform attributed to the ads.",
    ),
    Kpi(
        "ctr",
        "CTR",
        "Engagement",
        "sum(clicks) / sum(impressions)",
        "percent",
        "higher",
        "Click-through rate: clicks per impression, as total clicks / total impressions.",
    ),
    Kpi(
        "cpc",
        "CPC",
        "Acquisition and cost",
        "sum(spend) / sum(clicks)",
        "currency",
        "lower",
        "Cost per click: total spend / total clicks.",
    ),
    Kpi(
        "cpm",
        "CPM",
        "Acquisition and cost",
        "sum(spend) / sum(impressions) * 1000",
        "currency",
        "lower",
        "Cost per thousand impressions: total spend / total impressions x 1000.",
    ),
    Kpi(
        "cvr",
        "CVR",
        "Conversion",
        "sum(conversions) / sum(clicks)",
        "percent",
        "higher",
        "Conversion rate per click: total conversions / total clicks.",
    ),
    Kpi(
        "cpa",
        "CPA",
        "Acquisition and cost",
        "sum(spend) / sum(conversions)",
        "currency",
        "lower",
        "Cost per acquisition: total spend / total conversions. n/a when there are none.",
    ),
    Kpi(
        "roas",
        "ROAS",
        "Revenue and return",
        "sum(revenue) / sum(spend)",
        "ratio",
        "higher",
        "Return on ad spend: total revenue / total spend (2.0 means 2 of revenue per 1 spent).",
    ),
    Kpi(
        "aov",
        "AOV",
        "Revenue and return",
        "sum(revenue) / sum(conversions)",
        "currency",
        "higher",
        "Average order value: total revenue / total conversions.",
    ),
    Kpi(
        "rpc",
        "Revenue per click",
        "Revenue and return",
        "sum(revenue) / sum(clicks)",
        "currency",
        "higher",
        "Revenue per click: total revenue / total clicks.",
    ),
    Kpi(
        "conversion_rate",
        "Conversion rate (users)",
        "Conversion",
        "sum(conversions) / count(unit)",
        "percent",
        "higher",
        "Share of users who converted: converting users / users (one row per user).",
    ),
    Kpi(
        "revenue_per_user",
        "Revenue per user",
        "Revenue and return",
        "sum(revenue) / count(unit)",
        "currency",
        "higher",
        "Average revenue per user, converting or not: total revenue / users.",
    ),
)

CATALOG: dict[str, Kpi] = {kpi.id: kpi for kpi in STARTER_KPIS}


def get_kpi(kpi_id: str) -> Kpi:
    try:
        return CATALOG[kpi_id]
    except KeyError:
        known = ", ".join(CATALOG)
        raise KpiLabError(f"unknown KPI {kpi_id!r}: choose one of {known}") from None


def missing_columns(kpi: Kpi, available: set[str]) -> list[str]:
    """The base columns a KPI needs that a dataset does not have."""
    return [col for col in kpi.requires if col not in available]
