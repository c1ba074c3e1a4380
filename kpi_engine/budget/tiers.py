"""A curve per campaign over a window, and its tier: fitted (enough varied data), rule (thin
data: a shrunk average ratio), or fixed (locked, or no spend), with the flags that say why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpi_engine.budget import curves as cv
from kpi_engine.budget.window import Window

PRIOR_DAYS = 7.0  # the rule tier's shrinkage: a week of spend at the portfolio's ratio


@dataclass
class Fitted:
    curves: cv.Curves
    tier: list[str]
    flags: list[list[str]]
    current: np.ndarray  # today's daily spend per campaign
    log_a_raw: np.ndarray  # the unshrunk fit: where a bootstrap draw's fit starts


def fit_curves(window: Window, locks: set[str]) -> Fitted:
    """Curves per campaign, their tier and the flags that explain it."""
    curves, current, gated, fixed, log_a = curves_on_days(window, locks, None, None)
    tiers = np.where(fixed, "fixed", np.where(gated, "fitted", "rule")).tolist()
    rising = np.isfinite(curves.b_raw) & (curves.b_raw - 2 * curves.b_se > 1)
    flags: list[list[str]] = []
    for i, name in enumerate(window.campaigns):
        if name in locks:
            flags.append(["locked"])
        elif current[i] <= 0:
            flags.append(["no spend"])
        elif gated[i]:
            flags.append(["increasing returns"] if rising[i] else [])
        else:
            flags.append(["thin data"])
    return Fitted(curves, tiers, flags, current, log_a)


def curves_on_days(
    window: Window,
    locks: set[str],
    day_index: np.ndarray | None,
    start: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[cv.Curves, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(curves, today's daily spend, fitted?, fixed?, raw log a) per campaign, on the days
    ``day_index`` picks (a bootstrap draw; all days when None), the fit beginning at ``start``.
    """
    idx = np.arange(window.spend.shape[1]) if day_index is None else day_index
    spend, y = window.spend[:, idx], window.outcome[:, idx]
    has_row, conv = window.has_row[:, idx], window.conversions[:, idx]
    rows = np.maximum(has_row.sum(1), 1)
    current = np.where(has_row, spend, 0).sum(1) / rows
    active = (spend > 0).sum(1)
    positive = spend > 0
    mean = np.where(active > 0, np.where(positive, spend, 0).sum(1) / np.maximum(active, 1), 0.0)
    spread = np.where(positive, spend - mean[:, None], 0.0)
    std = np.sqrt((spread**2).sum(1) / np.maximum(active, 1))
    cv_spend = np.where(mean > 0, std / np.where(mean > 0, mean, 1), 0.0)
    log_a, b_raw, b_se = cv.fit_power(np.where(spend > 0, spend, np.nan), y, start)
    gated = (
        (active >= cv.MIN_DAYS)
        & (np.nan_to_num(cv_spend) >= cv.MIN_SPEND_CV)
        & (conv.sum(1) >= cv.MIN_CONVERSIONS)
        & np.isfinite(b_raw)
    )
    pooled_b = cv.pooled_elasticity(np.where(gated, b_raw, np.nan), b_se)
    b = np.where(gated, cv.shrink(b_raw, b_se, pooled_b), pooled_b)
    a = cv.anchor(np.where(spend > 0, spend, np.nan), y, b)
    total_s, total_y = spend.sum(), y.sum()
    pooled_ratio = total_y / total_s if total_s > 0 else 0.0
    fixed = np.array([name in locks for name in window.campaigns], dtype=bool) | (current <= 0)
    rule = ~fixed & ~gated
    prior = PRIOR_DAYS * current
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (y.sum(1) + prior * pooled_ratio) / (spend.sum(1) + prior)
        a = np.where(rule, ratio * np.power(current, 1 - b), a)  # the shrunk ratio at today's spend
    return cv.Curves(a, b, b_raw, b_se), current, gated, fixed, log_a
