"""The KPI catalog: one declarative entry per KPI.

A formula is written in the grammar of ``kpi_engine.kpis.formula`` over base columns (roles).
Ratio KPIs are ratios of sums over the selected rows, never means of daily ratios. Each entry
says what the KPI means, the pitfall that misleads people most often, whether it is a vanity
metric (volume without outcome), and which campaign objectives it serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis import formula as fx

UNITS = ("count", "currency", "percent", "ratio", "seconds")
DIRECTIONS = ("higher", "lower", "neutral")
OBJECTIVES = ("awareness", "traffic", "leads", "sales", "retention")
FAMILIES = (
    "Acquisition and cost",
    "Engagement",
    "Conversion",
    "Revenue and return",
    "Retention and loyalty",
    "Brand and awareness",
)


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    family: str
    formula: str
    unit: str
    direction: str
    description: str
    pitfall: str = ""
    vanity: bool = False
    objectives: tuple[str, ...] = ()
    requires: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.requires:
            object.__setattr__(self, "requires", tuple(fx.columns(fx.parse(self.formula))))

    @property
    def nonnegative(self) -> bool:
        """Sums and ratios of sums of counts and money cannot go below 0; a formula that
        subtracts (a margin) can."""
        return "-" not in self.formula

    @property
    def additive(self) -> bool:
        """A plain sum (spend, clicks): it adds up over rows, periods and groups; a ratio
        does not."""
        return self.formula.startswith("sum(") and self.formula.count("(") == 1

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
            "pitfall": self.pitfall,
            "vanity": self.vanity,
            "objectives": list(self.objectives),
        }


A, E, C = "Acquisition and cost", "Engagement", "Conversion"
R, L, B = "Revenue and return", "Retention and loyalty", "Brand and awareness"

# id, name, family, formula, unit, direction, description, pitfall, vanity, objectives
_ENTRIES = (
    (
        "impressions",
        "Impressions",
        B,
        "sum(impressions)",
        "count",
        "higher",
        "How many times the ads were shown.",
        "Counts showings, not people or attention: cheap placements inflate it.",
        True,
        ("awareness",),
    ),
    (
        "clicks",
        "Clicks",
        E,
        "sum(clicks)",
        "count",
        "higher",
        "How many times people clicked the ads.",
        "Accidental and bot clicks count too; judge clicks by what they lead to.",
        True,
        ("traffic",),
    ),
    (
        "conversions",
        "Conversions",
        C,
        "sum(conversions)",
        "count",
        "higher",
        "Purchases, sign-ups or leads the platform attributed to the ads.",
        "Each platform attributes with its own window and model; totals across platforms"
        " double-count.",
        False,
        ("leads", "sales"),
    ),
    (
        "spend",
        "Spend",
        A,
        "sum(spend)",
        "currency",
        "neutral",
        "Money spent on the ads.",
        "Spend says nothing about value on its own: pair it with an outcome.",
        False,
        (),
    ),
    (
        "revenue",
        "Revenue",
        R,
        "sum(revenue)",
        "currency",
        "higher",
        "Conversion value the platform attributed to the ads.",
        "Attributed, not incremental: some of it would have happened without the ads.",
        False,
        ("sales",),
    ),
    (
        "ctr",
        "CTR",
        E,
        "sum(clicks) / sum(impressions)",
        "percent",
        "higher",
        "Click-through rate: clicks per impression, as total clicks / total impressions.",
        "A high CTR on the wrong audience sells nothing; compare it within a placement type.",
        False,
        ("traffic",),
    ),
    (
        "cpc",
        "CPC",
        A,
        "sum(spend) / sum(clicks)",
        "currency",
        "lower",
        "Cost per click: total spend / total clicks.",
        "Cheap clicks can be poor clicks; read it with CVR.",
        False,
        ("traffic",),
    ),
    (
        "cpm",
        "CPM",
        A,
        "sum(spend) / sum(impressions) * 1000",
        "currency",
        "lower",
        "Cost per thousand impressions: total spend / total impressions x 1000.",
        "A low CPM often means low-quality inventory.",
        False,
        ("awareness",),
    ),
    (
        "cvr",
        "CVR",
        C,
        "sum(conversions) / sum(clicks)",
        "percent",
        "higher",
        "Conversion rate per click: total conversions / total clicks.",
        "View-through conversions can push it above 100% per click; check the attribution setting.",
        False,
        ("leads", "sales"),
    ),
    (
        "cpa",
        "CPA",
        A,
        "sum(spend) / sum(conversions)",
        "currency",
        "lower",
        "Cost per acquisition: total spend / total conversions. n/a when there are none.",
        "An average: the next conversion usually costs more (see the Budget page).",
        False,
        ("leads", "sales"),
    ),
    (
        "roas",
        "ROAS",
        R,
        "sum(revenue) / sum(spend)",
        "ratio",
        "higher",
        "Return on ad spend: total revenue / total spend (2.0 means 2 of revenue per 1 spent).",
        "Average ROAS is not what the next unit of spend earns; and revenue is not profit.",
        False,
        ("sales",),
    ),
    (
        "aov",
        "AOV",
        R,
        "sum(revenue) / sum(conversions)",
        "currency",
        "higher",
        "Average order value: total revenue / total conversions.",
        "Rises when fewer, bigger orders come in: read it with the number of orders.",
        False,
        ("sales",),
    ),
    (
        "rpc",
        "Revenue per click",
        R,
        "sum(revenue) / sum(clicks)",
        "currency",
        "higher",
        "Revenue per click: total revenue / total clicks.",
        "Compare with CPC: a click is worth buying while RPC is above it.",
        False,
        ("sales",),
    ),
    (
        "conversion_rate",
        "Conversion rate (users)",
        C,
        "users(conversions) / count(unit)",
        "percent",
        "higher",
        "Share of users who converted: users with a conversion / users, each user counted once"
        " however many rows they have (the same count on the KPIs and Experiments pages).",
        "Needs a user column; per-click rates are CVR (conversions / clicks).",
        False,
        ("leads", "sales"),
    ),
    (
        "revenue_per_user",
        "Revenue per user",
        R,
        "sum(revenue) / count(unit)",
        "currency",
        "higher",
        "Average revenue per user, converting or not: total revenue / users, each user"
        " counted once.",
        "A few large orders move it a lot; look at its interval, not just its value.",
        False,
        ("sales",),
    ),
    (
        "cost_per_lead",
        "Cost per lead",
        A,
        "sum(spend) / sum(leads)",
        "currency",
        "lower",
        "Spend / leads: what one lead costs.",
        "Cheap leads that never buy are expensive: pair it with lead-to-customer rate.",
        False,
        ("leads",),
    ),
    (
        "cac",
        "CAC",
        A,
        "sum(spend) / sum(new_customers)",
        "currency",
        "lower",
        "Customer acquisition cost: spend / new customers.",
        "Counts ad spend only; a full CAC adds sales and tooling costs.",
        False,
        ("sales", "leads"),
    ),
    (
        "cpi",
        "Cost per install",
        A,
        "sum(spend) / sum(installs)",
        "currency",
        "lower",
        "Spend / app installs.",
        "Installs that are never opened are wasted: read it with retention.",
        False,
        ("traffic",),
    ),
    (
        "engagement_rate",
        "Engagement rate",
        E,
        "sum(engagements) / sum(impressions)",
        "percent",
        "higher",
        "Engagements (likes, comments, shares, clicks) per impression.",
        "Likes are cheap: high engagement on the wrong audience is vanity.",
        False,
        ("awareness",),
    ),
    (
        "video_view_rate",
        "Video view rate",
        E,
        "sum(video_views) / sum(impressions)",
        "percent",
        "higher",
        "Video views per impression.",
        "Platforms define a view differently (2 s, 3 s, 15 s): compare within one platform.",
        False,
        ("awareness",),
    ),
    (
        "bounce_rate",
        "Bounce rate",
        E,
        "sum(bounces) / sum(sessions)",
        "percent",
        "lower",
        "Sessions that left after one page / sessions.",
        "A one-page answer can be a success; judge bounces by page intent.",
        False,
        ("traffic",),
    ),
    (
        "pages_per_session",
        "Pages per session",
        E,
        "sum(pageviews) / sum(sessions)",
        "ratio",
        "higher",
        "Page views / sessions.",
        "More pages can mean people cannot find what they want.",
        False,
        ("traffic",),
    ),
    (
        "avg_time_on_site",
        "Average time on site",
        E,
        "sum(time_on_site) / sum(sessions)",
        "seconds",
        "higher",
        "Total time on site (seconds) / sessions.",
        "Tabs left open inflate it; analytics tools cut the last page of a visit differently.",
        False,
        ("traffic",),
    ),
    (
        "lead_to_customer",
        "Lead-to-customer rate",
        C,
        "sum(new_customers) / sum(leads)",
        "percent",
        "higher",
        "New customers / leads: how many leads become customers.",
        "Customers arrive weeks after the leads: compare periods with the lag in mind.",
        False,
        ("leads", "sales"),
    ),
    (
        "roi",
        "ROI",
        R,
        "(sum(revenue) - sum(cogs) - sum(spend)) / sum(spend)",
        "ratio",
        "higher",
        "Return on investment: (revenue - cost of goods - spend) / spend.",
        "Needs the cost of goods; without it ROI is really ROMI.",
        False,
        ("sales",),
    ),
    (
        "romi",
        "ROMI",
        R,
        "(sum(revenue) - sum(spend)) / sum(spend)",
        "ratio",
        "higher",
        "Return on marketing investment: (revenue - spend) / spend.",
        "Ignores the cost of goods: a positive ROMI can still lose money.",
        False,
        ("sales",),
    ),
    (
        "profit",
        "Profit",
        R,
        "sum(revenue) - sum(cogs) - sum(spend)",
        "currency",
        "higher",
        "Revenue - cost of goods sold - ad spend.",
        "Contribution before fixed costs, on attributed revenue.",
        False,
        ("sales",),
    ),
    (
        "margin",
        "Gross margin",
        R,
        "(sum(revenue) - sum(cogs)) / sum(revenue)",
        "percent",
        "higher",
        "(Revenue - cost of goods) / revenue.",
        "Ad spend is not in it: see profit for that.",
        False,
        ("sales",),
    ),
    (
        "retention_rate",
        "Retention rate",
        L,
        "sum(retained_users) / sum(users)",
        "percent",
        "higher",
        "Users still active at the end of the period / users at its start.",
        "Depends on the period length: compare like with like.",
        False,
        ("retention",),
    ),
    (
        "churn_rate",
        "Churn rate",
        L,
        "sum(churned_users) / sum(users)",
        "percent",
        "lower",
        "Users lost during the period / users at its start.",
        "Monthly and yearly churn are not comparable without converting.",
        False,
        ("retention",),
    ),
    (
        "repeat_purchase_rate",
        "Repeat-purchase rate",
        L,
        "sum(repeat_customers) / sum(customers)",
        "percent",
        "higher",
        "Customers who bought more than once / customers.",
        "Short windows understate it: many second purchases come months later.",
        False,
        ("retention",),
    ),
    (
        "clv",
        "CLV estimate",
        L,
        "sum(revenue) / sum(customers) / (sum(churned_users) / sum(users))",
        "currency",
        "higher",
        "Revenue per customer in the period / churn rate: expected lifetime revenue.",
        "A rough estimate: it assumes churn and spend per customer stay constant.",
        False,
        ("retention", "sales"),
    ),
    (
        "nps",
        "NPS",
        L,
        "(sum(promoters) - sum(detractors)) / (sum(promoters) + sum(passives) + sum(detractors))"
        " * 100",
        "count",
        "higher",
        "Net promoter score: % promoters - % detractors, from -100 to 100.",
        "Few responses swing it wildly; show the response count beside it.",
        False,
        ("retention",),
    ),
    (
        "csat",
        "CSAT",
        L,
        "sum(satisfied) / sum(responses)",
        "percent",
        "higher",
        "Satisfied responses / responses.",
        "Only those who answer are counted: unhappy customers often do not.",
        False,
        ("retention",),
    ),
    (
        "reach",
        "Reach",
        B,
        "sum(reach)",
        "count",
        "higher",
        "People who saw the ads at least once.",
        "Reach does not add up over days or campaigns (the same people come back): totals over"
        " several rows overstate it.",
        True,
        ("awareness",),
    ),
    (
        "frequency",
        "Frequency",
        B,
        "sum(impressions) / sum(reach)",
        "ratio",
        "neutral",
        "Impressions / reach: how often each person saw the ads.",
        "Inherits reach's overlap problem; high frequency wears people out.",
        False,
        ("awareness",),
    ),
    (
        "share_of_voice",
        "Share of voice",
        B,
        "sum(mentions) / (sum(mentions) + sum(competitor_mentions))",
        "percent",
        "higher",
        "Our mentions / all mentions in the category (ours and competitors').",
        "Depends on which competitors are tracked.",
        False,
        ("awareness",),
    ),
    (
        "brand_mentions",
        "Brand mentions",
        B,
        "sum(mentions)",
        "count",
        "higher",
        "How often the brand was mentioned.",
        "Counts complaints too: read it with sentiment.",
        True,
        ("awareness",),
    ),
)

CATALOG: dict[str, Kpi] = {
    entry[0]: Kpi(*entry[:7], pitfall=entry[7], vanity=entry[8], objectives=entry[9])
    for entry in _ENTRIES
}
# KPIs that are products of other catalog KPIs, each part with its exponent (-1: it divides):
# "why did CPA move?" splits CPA's change into CPC's and CVR's. CPA = CPC ÷ CVR,
# ROAS = AOV × CVR ÷ CPC, CPM = CPC × CTR (× 1000). Tests multiply each back to its formula.
PARTS: dict[str, tuple[tuple[str, int], ...]] = {
    "cpa": (("cpc", 1), ("cvr", -1)),
    "roas": (("aov", 1), ("cvr", 1), ("cpc", -1)),
    "cpm": (("cpc", 1), ("ctr", 1)),
    "cpc": (("cpm", 1), ("ctr", -1)),
    "rpc": (("aov", 1), ("cvr", 1)),
    "cac": (("cost_per_lead", 1), ("lead_to_customer", -1)),
}
RECOMMENDED = {
    "awareness": ("reach", "frequency", "cpm", "video_view_rate", "share_of_voice"),
    "traffic": ("ctr", "cpc", "bounce_rate", "pages_per_session", "avg_time_on_site"),
    "leads": ("cost_per_lead", "cvr", "lead_to_customer", "cpa", "conversions"),
    "sales": ("roas", "cpa", "revenue", "aov", "profit"),
    "retention": ("retention_rate", "churn_rate", "repeat_purchase_rate", "clv", "nps"),
}


def get_kpi(kpi_id: str) -> Kpi:
    try:
        return CATALOG[kpi_id]
    except KeyError:
        known = ", ".join(CATALOG)
        raise KpiLabError(f"unknown KPI {kpi_id!r}: choose one of {known}") from None


def missing_columns(kpi: Kpi, available: set[str]) -> list[str]:
    """The base columns a KPI needs that a dataset does not have."""
    return [col for col in kpi.requires if col not in available]


def only_vanity(kpi_ids: list[str]) -> bool:
    """A selection of volume metrics with no outcome KPI in it."""
    return bool(kpi_ids) and all(CATALOG[k].vanity for k in kpi_ids if k in CATALOG)
