"""Write KPI Lab's synthetic sample data (seeded: the same files every run).

    python sample_data/generate.py

campaigns.csv         date, campaign, channel, impressions, clicks, conversions, spend, revenue
                      120 days x 14 campaigns on 6 channels. Each campaign's expected revenue
                      is a * spend^b with b < 1 (diminishing returns), plus a weekday pattern,
                      a slow seasonal wave and a summer promotion. From 1 August (the KPIs
                      page's last 28 days against the 28 before): Google Ads pays 20% more for
                      the same clicks (CPC +20%, nothing else of it moves) and LinkedIn, the
                      dearest channel per conversion, runs at twice its volume at its own rates
                      (a mix shift: every LinkedIn ratio stays, its share doubles).
ab_test_campaign.csv  date, campaign, variant, impressions, clicks, conversions, spend, revenue
                      28 days x 2 campaigns x variants A/B with the same traffic and cost; B's
                      landing page converts clicks 15% better (true CVR lift +15%).
experiment_users.csv  user_id, date, variant, converted, revenue, pre_revenue, device
                      one row per user, 50/50 split; control converts at 5.0%, treatment at
                      5.6% (true lift +12%); order values are the same in both arms; a
                      user's revenue in the 30 days before the test (a CUPED covariate) and
                      device (a segment without a planted difference).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261123
START = date(2026, 5, 1)
DAYS = 120


@dataclass(frozen=True)
class Campaign:
    name: str
    channel: str
    base_spend: float  # typical daily spend
    roas_at_base: float  # revenue / spend at the typical spend
    elasticity: float  # b in revenue = a * spend^b
    cpc: float
    ctr: float
    aov: float
    weekend: float  # weekend spend multiplier


CAMPAIGNS = (
    Campaign("Search - Brand", "Google Ads", 420, 6.2, 0.45, 0.55, 0.085, 68, 0.85),
    Campaign("Search - Generic", "Google Ads", 1300, 2.1, 0.70, 1.45, 0.041, 74, 0.80),
    Campaign("Shopping - All products", "Google Ads", 950, 3.0, 0.60, 0.62, 0.012, 58, 1.05),
    Campaign("Prospecting - Lookalike", "Meta Ads", 1100, 1.6, 0.75, 0.95, 0.011, 61, 1.15),
    Campaign("Retargeting - Cart", "Meta Ads", 380, 5.1, 0.40, 0.70, 0.019, 66, 1.10),
    Campaign("Advantage+ Shopping", "Meta Ads", 820, 2.6, 0.65, 0.80, 0.014, 63, 1.10),
    Campaign("Spark Ads - Creators", "TikTok", 600, 1.3, 0.80, 0.45, 0.009, 44, 1.25),
    Campaign("In-feed - Summer drop", "TikTok", 450, 1.7, 0.70, 0.40, 0.008, 47, 1.25),
    Campaign("Lead gen - Decision makers", "LinkedIn", 700, 1.1, 0.55, 6.80, 0.006, 240, 0.40),
    Campaign("Sponsored content - Webinar", "LinkedIn", 300, 0.9, 0.60, 5.20, 0.005, 210, 0.40),
    Campaign("Search - Competitors", "Microsoft Ads", 260, 1.8, 0.65, 1.20, 0.037, 79, 0.85),
    Campaign("Search - Brand (Bing)", "Microsoft Ads", 120, 5.5, 0.45, 0.48, 0.079, 70, 0.85),
    Campaign("YouTube - Awareness", "YouTube", 900, 0.7, 0.85, 0.30, 0.004, 55, 1.05),
    Campaign("Discovery - Gmail", "YouTube", 350, 1.4, 0.70, 0.65, 0.010, 52, 1.00),
)


def _day_factor(day: date, index: int) -> float:
    season = 1 + 0.12 * np.sin(2 * np.pi * index / 60)
    promo = 1.35 if date(2026, 7, 10) <= day <= date(2026, 7, 16) else 1.0
    return season * promo


PLANTED_FROM = date(2026, 8, 1)
PRICE_RISE = ("Google Ads", 1.20)  # the channel whose clicks cost 20% more from PLANTED_FROM
DOUBLED = "LinkedIn"  # the channel whose volume doubles at its own rates from PLANTED_FROM


def _planted(day: date, channel: str, counts: list[int], money: list[float]):
    """The August changes, made without a random draw (so every other row and file stays
    as it was): a price rise (spend only) and a doubled channel (every sum, so no ratio)."""
    if day < PLANTED_FROM:
        return counts, money
    if channel == PRICE_RISE[0]:
        money = [money[0] * PRICE_RISE[1], money[1]]
    if channel == DOUBLED:
        counts, money = [2 * n for n in counts], [2 * m for m in money]
    return counts, money


def campaigns(rng: np.random.Generator) -> list[list]:
    rows = []
    for c in CAMPAIGNS:
        a = c.roas_at_base * c.base_spend / c.base_spend**c.elasticity
        level = 1.0
        for i in range(DAYS):
            day = START + timedelta(days=i)
            if rng.random() < 0.04:  # budget changes: spend variation for response curves
                level = float(np.clip(level * rng.choice([0.7, 0.8, 1.25, 1.4]), 0.4, 2.2))
            weekend = c.weekend if day.weekday() >= 5 else 1.0
            spend = c.base_spend * level * weekend * _day_factor(day, i) * rng.lognormal(0, 0.18)
            demand = (1.08 if day.weekday() < 5 else 0.9) * _day_factor(day, i)
            expected_revenue = a * spend**c.elasticity * demand
            conversions = int(rng.poisson(expected_revenue / c.aov))
            revenue = float(np.sum(rng.gamma(4.0, c.aov / 4.0, conversions)))
            clicks = max(conversions, int(rng.poisson(spend / c.cpc)))
            impressions = max(clicks, int(rng.poisson(clicks / c.ctr)))
            counts, money = _planted(
                day, c.channel, [impressions, clicks, conversions], [spend, revenue]
            )
            rows.append(
                [day.isoformat(), c.name, c.channel, *counts, *(round(m, 2) for m in money)]
            )
    return rows


def ab_test_campaign(rng: np.random.Generator) -> list[list]:
    """A landing-page test: B's true conversion rate per click is 15% higher than A's."""
    rows = []
    tests = (
        ("Search - Generic", 650, 1.45, 0.041, 0.040, 74),
        ("Prospecting - Lookalike", 550, 0.95, 0.011, 0.022, 61),
    )
    for name, spend_per_arm, cpc, ctr, cvr_a, aov in tests:
        for i in range(28):
            day = START + timedelta(days=60 + i)
            for variant, cvr in (("A", cvr_a), ("B", cvr_a * 1.15)):
                spend = spend_per_arm * rng.lognormal(0, 0.1)
                clicks = int(rng.poisson(spend / cpc))
                impressions = int(rng.poisson(clicks / ctr))
                conversions = int(rng.binomial(clicks, cvr))
                revenue = float(np.sum(rng.gamma(4.0, aov / 4.0, conversions)))
                rows.append(
                    [
                        day.isoformat(),
                        name,
                        variant,
                        impressions,
                        clicks,
                        conversions,
                        round(spend, 2),
                        round(revenue, 2),
                    ]
                )
    return rows


def experiment_users(rng: np.random.Generator, users: int = 40_000) -> list[list]:
    """User-level test: control converts at 5.0%, treatment at 5.6% (+12% relative). Each
    user has a spending propensity (mean 1) that drives both the test's conversions and the
    revenue of the 30 days before it (``pre_revenue``, untouched by the test: a CUPED
    covariate); the device is independent of everything (a segment with no planted effect)."""
    variants = rng.choice(["control", "treatment"], size=users)
    days = rng.integers(0, 21, size=users)
    propensity = rng.gamma(2.0, 0.5, size=users)
    rate = np.minimum(np.where(variants == "control", 0.050, 0.056) * propensity, 1.0)
    converted = rng.random(users) < rate
    revenue = np.where(converted, rng.gamma(2.0, 30.0, size=users) * propensity, 0.0)
    orders_before = rng.poisson(1.5 * propensity)
    pre_revenue = np.array([rng.gamma(2.0, 30.0, size=k).sum() for k in orders_before])
    pre_revenue *= propensity
    devices = rng.choice(["mobile", "desktop", "tablet"], size=users, p=[0.55, 0.35, 0.10])
    return [
        [
            f"u{100000 + i}",
            (START + timedelta(days=70 + int(days[i]))).isoformat(),
            variants[i],
            int(converted[i]),
            round(float(revenue[i]), 2),
            round(float(pre_revenue[i]), 2),
            devices[i],
        ]
        for i in range(users)
    ]


def _write(name: str, header: list[str], rows: list[list]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    metrics = ["impressions", "clicks", "conversions", "spend", "revenue"]
    _write("campaigns.csv", ["date", "campaign", "channel", *metrics], campaigns(rng))
    _write("ab_test_campaign.csv", ["date", "campaign", "variant", *metrics], ab_test_campaign(rng))
    _write(
        "experiment_users.csv",
        ["user_id", "date", "variant", "converted", "revenue", "pre_revenue", "device"],
        experiment_users(rng),
    )


if __name__ == "__main__":
    main()
