"""Diminishing-returns curves per campaign: E[y] = a * spend^b.

Fitted as a quasi-Poisson GLM with a log link on [1, log spend] by iteratively reweighted least
squares, for all campaigns at once (arrays of campaigns x days; days without spend are left
out, days with zero outcome are fine). The raw elasticity b is shrunk toward the portfolio's
pooled b (prior sd 0.25) and clipped to [0.05, 0.95]; a is then anchored so that the curve
reproduces the campaign's observed total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpi_engine.budget.hill import Hill

B_MIN, B_MAX = 0.05, 0.95
B_DEFAULT = 0.5
PRIOR_SD = 0.25
MIN_DAYS, MIN_SPEND_CV, MIN_CONVERSIONS = 14, 0.10, 20
IRLS_STEPS = 25


@dataclass
class Curves:
    """Per campaign (arrays of length C): E[y] = a * s^b, or an S-curve where ``hill`` says."""

    a: np.ndarray
    b: np.ndarray
    b_raw: np.ndarray
    b_se: np.ndarray
    hill: Hill | None = None

    def value(self, spend: np.ndarray) -> np.ndarray:
        power = self.a * np.power(np.maximum(spend, 0.0), self.b)
        return (
            power if self.hill is None else np.where(self.hill.mask, self.hill.value(spend), power)
        )

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """d outcome / d spend; infinite at zero spend on a power curve."""
        with np.errstate(divide="ignore"):
            power = self.a * self.b * np.power(np.maximum(spend, 0.0), self.b - 1)
        if self.hill is None:
            return power
        return np.where(self.hill.mask, self.hill.marginal(spend), power)

    def elasticity(self, spend: np.ndarray) -> np.ndarray:
        """s·f'(s)/f(s): b on a power curve; on an S-curve it depends on the spend."""
        if self.hill is None:
            return self.b
        return np.where(self.hill.mask, self.hill.elasticity(spend), self.b)


def fit_power(
    spend: np.ndarray, outcome: np.ndarray, offset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quasi-Poisson log-link fit per row of (campaigns x days) arrays; NaN or zero spend days
    are skipped. ``offset`` (per day) is each day's log demand, shared by every campaign.
    Returns (log a, b, standard error of b); NaN where a row cannot be fitted."""
    use = np.isfinite(spend) & np.isfinite(outcome) & (spend > 0)
    x = np.where(use, np.log(np.where(use, spend, 1.0)), 0.0)
    y = np.where(use, outcome, 0.0)
    off = np.zeros(spend.shape[-1]) if offset is None else offset
    w_use = use.astype(float)
    n = w_use.sum(axis=1)
    mean_y = np.where(n > 0, y.sum(axis=1) / np.maximum(n, 1), 0.0)
    beta0 = np.log(np.maximum(mean_y, 1e-9))
    beta1 = np.zeros(len(spend))
    rows = "ij,ij->i"  # row sums of products, without temporaries
    for _ in range(IRLS_STEPS):
        eta = beta0[:, None] + beta1[:, None] * x
        mu = np.exp(np.clip(eta + off, -50, 50))
        z = eta + (y - mu) / np.maximum(mu, 1e-12)
        w = mu * w_use
        wx = w * x
        s0, s1, s2 = w.sum(1), wx.sum(1), np.einsum(rows, wx, x)
        t0, t1 = np.einsum(rows, w, z), np.einsum(rows, wx, z)
        det = s0 * s2 - s1 * s1
        ok = det > 1e-12 * np.maximum(s0 * s2, 1e-300)
        new1 = np.where(ok, (s0 * t1 - s1 * t0) / np.where(ok, det, 1), 0.0)
        new0 = np.where(ok, (t0 - s1 * new1) / np.where(s0 > 0, s0, 1), beta0)
        done = np.all(np.abs(new1 - beta1) < 1e-10)
        beta0, beta1 = new0, new1
        if done:
            break
    eta = beta0[:, None] + beta1[:, None] * x
    mu = np.exp(np.clip(eta + off, -50, 50))
    pearson = np.where(use, (y - mu) ** 2 / np.maximum(mu, 1e-12), 0.0).sum(1)
    dispersion = np.maximum(pearson / np.maximum(n - 2, 1), 1e-12)
    w = mu * w_use
    s0, s1, s2 = w.sum(1), (w * x).sum(1), (w * x * x).sum(1)
    det = s0 * s2 - s1 * s1
    var_b = np.where(det > 0, dispersion * s0 / np.where(det > 0, det, 1), np.inf)
    fitted = (n >= 3) & (det > 0) & (y.sum(1) > 0)
    nan = np.full(len(spend), np.nan)
    return (
        np.where(fitted, beta0, nan),
        np.where(fitted, beta1, nan),
        np.where(fitted, np.sqrt(var_b), nan),
    )


def pooled_elasticity(b_raw: np.ndarray, b_se: np.ndarray) -> float:
    """Precision-weighted mean of the fitted elasticities, or 0.5 when none is usable."""
    ok = np.isfinite(b_raw) & np.isfinite(b_se) & (b_se > 0)
    if not ok.any():
        return B_DEFAULT
    weights = 1 / b_se[ok] ** 2
    return float(np.clip((weights * b_raw[ok]).sum() / weights.sum(), B_MIN, B_MAX))


def shrink(b_raw: np.ndarray, b_se: np.ndarray, b_pooled: float) -> np.ndarray:
    """Posterior mean of b under a normal prior N(pooled, 0.25²), clipped to [0.05, 0.95]."""
    precision = np.where(np.isfinite(b_se) & (b_se > 0), 1 / b_se**2, 0.0)
    prior = 1 / PRIOR_SD**2
    raw = np.where(np.isfinite(b_raw), b_raw, b_pooled)
    return np.clip((precision * raw + prior * b_pooled) / (precision + prior), B_MIN, B_MAX)


def anchor(
    spend: np.ndarray, outcome: np.ndarray, b: np.ndarray, demand: np.ndarray | None = None
) -> np.ndarray:
    """a such that Σ a * s_t^b * d_t over the observed days equals the observed total
    outcome, d_t being each day's demand (1 on an average day)."""
    use = np.isfinite(spend) & (spend > 0) & np.isfinite(outcome)
    powered = np.where(use, np.power(np.where(use, spend, 1.0), b[:, None]), 0.0)
    if demand is not None:
        powered = powered * demand
    total = np.where(use, outcome, 0.0).sum(1)
    denominator = powered.sum(1)
    return np.where(denominator > 0, total / np.where(denominator > 0, denominator, 1), 0.0)
