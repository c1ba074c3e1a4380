"""Column presets per ad platform, and which platform an export comes from.

Each preset maps normalised headers (see ``roles.normalise``) to roles, with a confidence
below 1 where the platform's column only approximates the role (Google's "Interactions" are
clicks for search ads but views for video). ``markers`` are headers that only that platform
writes; two of them identify it. Headers follow the account's language, so the German,
French and Spanish names of the same columns are in ``roles.SYNONYMS`` for every preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine.roles import normalise


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    markers: frozenset[str]
    headers: dict[str, tuple[str, float]] = field(default_factory=dict)


def _h(**pairs: str | tuple[str, float]) -> dict[str, tuple[str, float]]:
    """Preset headers, written with underscores for spaces: conv_value="revenue"."""
    return {
        key.replace("_", " "): value if isinstance(value, tuple) else (value, 1.0)
        for key, value in pairs.items()
    }


PLATFORMS: dict[str, Platform] = {
    p.id: p
    for p in (
        Platform(
            "google_ads",
            "Google Ads",
            frozenset(
                {
                    "impr",
                    "conv value",
                    "currency code",
                    "avg cpc",
                    "cost conv",
                    "interactions",
                    "interaction rate",
                    "conv rate",
                    "search impr share",
                    "all conv",
                    "view through conv",
                    "campaign status",
                    "optimization score",
                }
            ),
            _h(
                day="date",
                week="date",
                month="date",
                campaign="campaign",
                impr="impressions",
                clicks="clicks",
                interactions=("clicks", 0.8),
                cost="spend",
                conversions="conversions",
                conv_value="revenue",
                currency_code="currency",
                network="channel",
                campaign_type=("channel", 0.6),
            ),
        ),
        Platform(
            "meta_ads",
            "Meta Ads",
            frozenset(
                {
                    "amount spent",
                    "reporting starts",
                    "reporting ends",
                    "link clicks",
                    "results",
                    "cost per result",
                    "reach",
                    "frequency",
                    "purchases conversion value",
                    "ad set name",
                    "result indicator",
                }
            ),
            _h(
                reporting_starts="date",
                day="date",
                campaign_name="campaign",
                amount_spent="spend",
                impressions="impressions",
                link_clicks="clicks",
                clicks_all=("clicks", 0.7),
                results=("conversions", 0.8),
                purchases="conversions",
                purchases_conversion_value="revenue",
                currency="currency",
            ),
        ),
        Platform(
            "linkedin",
            "LinkedIn",
            frozenset(
                {
                    "total spent",
                    "campaign group name",
                    "start date in utc",
                    "leads",
                    "campaign group id",
                    "sends",
                    "opens",
                    "average cpc",
                }
            ),
            _h(
                start_date_in_utc="date",
                date="date",
                campaign_name="campaign",
                total_spent="spend",
                impressions="impressions",
                clicks="clicks",
                conversions="conversions",
                leads=("conversions", 0.8),
                conversion_value="revenue",
                currency="currency",
            ),
        ),
        Platform(
            "tiktok",
            "TikTok",
            frozenset(
                {
                    "total complete payment",
                    "complete payment",
                    "stat time day",
                    "ad group name",
                    "cost per conversion",
                    "conversion rate cvr",
                    "video views at 100",
                }
            ),
            _h(
                stat_time_day="date",
                date="date",
                by_day="date",
                campaign_name="campaign",
                cost="spend",
                impressions="impressions",
                clicks="clicks",
                conversions="conversions",
                total_complete_payment="revenue",
                complete_payment=("revenue", 0.8),
                currency="currency",
            ),
        ),
        Platform(
            "microsoft_ads",
            "Microsoft Ads",
            frozenset(
                {
                    "gregorian date",
                    "account name",
                    "return on ad spend",
                    "ad distribution",
                    "delivered match type",
                    "time period",
                }
            ),
            _h(
                gregorian_date="date",
                time_period="date",
                campaign_name="campaign",
                spend="spend",
                impressions="impressions",
                clicks="clicks",
                conversions="conversions",
                revenue="revenue",
                currency_code="currency",
                ad_distribution="channel",
            ),
        ),
        Platform("generic", "Generic", frozenset()),
    )
}


def detect_platform(headers: list[str]) -> str:
    """The platform whose marker headers the file has most of (at least two), else generic."""
    names = {normalise(h) for h in headers}
    best, hits = "generic", 1
    for platform in PLATFORMS.values():
        found = len(platform.markers & names)
        if found > hits:
            best, hits = platform.id, found
    return best
