"""Typical ranges of catalog KPIs by channel type, from published benchmark reports.

Rough guides, never targets: each range spans the all-industry averages the cited reports
give (industries, objectives and years differ by a factor of two or more), and money ranges
hold only for their currency. A range is shown as "typical for search: 3.5–6.4%" and the
monitor can watch a KPI leaving it. Channel types without a sourced range have none. For
e-mail, CTR is clicks per delivered e-mail (map the delivered count to impressions).
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.formatting import format_value
from kpi_engine.kpis.catalog import Kpi

CHANNEL_TYPES = ("search", "social", "display", "video", "email")
# what each import platform is, as a channel type
PLATFORM_CHANNEL = {
    "google_ads": "search",
    "microsoft_ads": "search",
    "meta_ads": "social",
    "linkedin": "social",
    "tiktok": "social",
}


@dataclass(frozen=True)
class Typical:
    kpi: str
    channel: str
    low: float
    high: float
    source: str
    year: int
    currency: str | None = None  # money ranges hold for this currency only

    def text(self, kpi: Kpi) -> str:
        low = format_value(self.low, kpi.unit, self.currency)
        high = format_value(self.high, kpi.unit, self.currency)
        return f"typical for {self.channel}: {low}–{high}"


WORDSTREAM_SEARCH = (
    "WordStream, Google Ads benchmarks (2020: 3.52% CTR; 2024: 6.42% CTR, 6.96% CVR, $4.66 CPC)"
)
WORDSTREAM_FACEBOOK = (
    "WordStream, Facebook ads benchmarks (2017: 0.90% CTR, $1.72 CPC, 9.21% CVR; 2024 lead"
    " ads: 2.53% CTR, $1.88 CPC, 8.78% CVR)"
)
WORDSTREAM_DISPLAY = (
    "WordStream, Google Display Network all-industry average (0.35% CTR); Advante, Google Ads"
    " benchmarks (2025: display CTR 0.05-0.08%)"
)
ADVANTE_SEARCH = "Advante, Google Ads benchmarks (2025: search CTR 3-5%, conversion rate 2-4%)"
WORLDMETRICS = "WorldMetrics, PPC statistics (US average CPC $2.69)"
MAILCHIMP = (
    "Mailchimp, email marketing benchmarks (October 2019): average unique click rate by"
    " industry, 1.92% (beauty and personal care) to 2.95% (arts); 2.62% over all industries"
)

RANGES: tuple[Typical, ...] = (
    Typical("ctr", "search", 0.0352, 0.0642, WORDSTREAM_SEARCH, 2024),
    Typical("ctr", "social", 0.009, 0.0253, WORDSTREAM_FACEBOOK, 2024),
    Typical("ctr", "display", 0.0005, 0.0035, WORDSTREAM_DISPLAY, 2025),
    Typical("ctr", "email", 0.0192, 0.0295, MAILCHIMP, 2019),
    Typical("cvr", "search", 0.02, 0.0696, f"{ADVANTE_SEARCH}; {WORDSTREAM_SEARCH}", 2025),
    Typical("cvr", "social", 0.0878, 0.0921, WORDSTREAM_FACEBOOK, 2024),
    Typical("cpc", "search", 2.69, 4.66, f"{WORLDMETRICS}; {WORDSTREAM_SEARCH}", 2024, "USD"),
    Typical("cpc", "social", 1.72, 1.88, WORDSTREAM_FACEBOOK, 2024, "USD"),
)


def typical_ranges(kpi_id: str) -> tuple[Typical, ...]:
    return tuple(r for r in RANGES if r.kpi == kpi_id)


def typical_for(kpi_id: str, channel: str | None, currency: str | None = None) -> Typical | None:
    """The range of a KPI on a channel type (a money range only in its own currency)."""
    for r in typical_ranges(kpi_id):
        if r.channel == channel and (r.currency is None or r.currency == currency):
            return r
    return None


def channel_of(platform: str | None) -> str | None:
    """The channel type of an import platform (None for a generic file)."""
    return PLATFORM_CHANNEL.get(platform or "")
