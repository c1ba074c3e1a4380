"""Why a KPI moved between two periods: its log change split into the parts of a ratio, and
its change split across groups into mix and rate (Kitagawa's symmetric shift-share).

For a KPI that is a ratio of sums, R = N / D, and groups g that partition the rows,

    R = Σ_g w_g r_g     with   w_g = D_g / D (the group's share)  and  r_g = N_g / D_g.

Between a period 0 and a period 1, with w̄ and r̄ the two periods' averages and c = (R0 + R1)/2,

    ΔR = Σ_g Δw_g (r̄_g − c)  +  Σ_g w̄_g Δr_g        (mix + rate, exactly).

Centring the mix term on c changes no total (the shares sum to one in both periods) but makes
each group's own mix term readable: share moving to a group above the average raises R.
A group present in one period only takes its one rate for both, so its arrival or departure
is all mix. Rows whose denominator sums to 0 (conversions with no spend) have no share; what
they add to N counts as that group's rate, so the parts still add up to ΔR exactly.

Noise is a normal approximation on the log scale: a rate of counts (clicks / impressions) is
binomial, Var(log r) = (1 − r) / N; a ratio with money no count describes (revenue) is judged
by a permutation of the periods' days; otherwise each count in the ratio is Poisson, adding
1 / count (``explain.form.noise_of`` says which).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_NOISE = 1.96  # a change inside ±1.96 standard errors is within noise (95%)
PERMUTATIONS = 2000


@dataclass(frozen=True)
class ShiftShare:
    """Per group: the mix and rate terms (in the KPI's units); they add to ``total``."""

    mix: np.ndarray
    rate: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.mix + self.rate


def _share_and_rate(n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares of the denominator, each group's own ratio (NaN without a denominator), and
    what groups without a denominator add to the KPI on their own (N_g / D)."""
    total = d.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = d / total
        rate = np.where(d != 0, n / np.where(d != 0, d, 1.0), np.nan)
        loose = np.where(d == 0, n / total, 0.0)
    return share, rate, loose


def shift_share(
    n0: np.ndarray, d0: np.ndarray, n1: np.ndarray, d1: np.ndarray, scale: float = 1.0
) -> ShiftShare:
    """Mix and rate per group of ``scale · ΣN / ΣD`` from period 0 to period 1. Both periods'
    denominators must be above 0 (the KPI has a value in both)."""
    n0, d0, n1, d1 = (np.asarray(a, dtype=float) for a in (n0, d0, n1, d1))
    w0, r0, loose0 = _share_and_rate(n0, d0)
    w1, r1, loose1 = _share_and_rate(n1, d1)
    r0 = np.where(np.isnan(r0), r1, r0)  # one period only: its one rate for both
    r1 = np.where(np.isnan(r1), r0, r1)
    r0, r1 = np.nan_to_num(r0), np.nan_to_num(r1)  # no denominator in either: no share at all
    centre = (n0.sum() / d0.sum() + n1.sum() / d1.sum()) / 2
    mix = (w1 - w0) * ((r0 + r1) / 2 - centre)
    rate = (w0 + w1) / 2 * (r1 - r0) + (loose1 - loose0)
    return ShiftShare(mix * scale, rate * scale)


def sum_changes(s0: np.ndarray, s1: np.ndarray) -> ShiftShare:
    """A sum (spend, clicks) has no mix: each group's change is its own."""
    s0, s1 = np.asarray(s0, dtype=float), np.asarray(s1, dtype=float)
    return ShiftShare(np.zeros_like(s0), s1 - s0)


def log_change(before: float | None, now: float | None) -> float | None:
    """log(now / before), or None where it does not exist (a zero or missing value, a sign
    change)."""
    if before is None or now is None or not before > 0 or not now > 0:
        return None
    return math.log(now / before)


def log_shares(kpi_change: float | None, part_changes: list[float | None]) -> list[float | None]:
    """Each part's signed share of the KPI's log change (parts multiply to the KPI, each
    ``part_changes`` entry already carries its exponent): the shares add to 1."""
    if kpi_change is None or kpi_change == 0 or any(c is None for c in part_changes):
        return [None] * len(part_changes)
    return [c / kpi_change for c in part_changes]  # type: ignore[operator]


def binomial_log_variance(successes: float, trials: float) -> float:
    """Var(log p̂) of a proportion successes / trials."""
    if successes <= 0 or trials <= 0:
        return math.inf
    return max(0.0, 1 - successes / trials) / successes


def poisson_log_variance(counts: list[float]) -> float:
    """Var(log) of a product or ratio of independent Poisson counts: Σ 1 / count."""
    if any(count <= 0 for count in counts):
        return math.inf
    return sum(1 / count for count in counts)


def days_permutation_p(
    before: tuple[np.ndarray, np.ndarray | None],
    now: tuple[np.ndarray, np.ndarray | None],
    rounds: int = PERMUTATIONS,
    seed: int = 0,
) -> float:
    """Two-sided p-value of log(ΣN/ΣD) moving between two periods, with their days as
    exchangeable units: the days are dealt to the two periods at random ``rounds`` times.
    For money no count describes (revenue, however skewed its order values are); real
    day-to-day swings (weekdays) count as noise too, which errs towards "within noise".
    Without denominators it compares the mean per day."""
    n0, n1 = (np.asarray(n, dtype=float) for n, _ in (before, now))
    d0, d1 = (
        np.ones(len(n)) if d is None else np.asarray(d, dtype=float) for n, d in (before, now)
    )
    numerators, denominators = np.concatenate([n0, n1]), np.concatenate([d0, d1])
    days, first = len(numerators), len(n0)
    rng = np.random.default_rng(seed)
    order = rng.permuted(np.tile(np.arange(days), (rounds, 1)), axis=1)

    def statistic(n_a, d_a, n_b, d_b):
        with np.errstate(divide="ignore", invalid="ignore"):
            moved = np.abs(np.log((n_b / d_b) / (n_a / d_a)))
        return np.where(np.isfinite(moved), moved, np.inf)

    observed = statistic(n0.sum(), d0.sum(), n1.sum(), d1.sum())
    if not np.isfinite(observed):
        return 1.0
    n_perm, d_perm = numerators[order], denominators[order]
    shuffled = statistic(
        n_perm[:, :first].sum(1),
        d_perm[:, :first].sum(1),
        n_perm[:, first:].sum(1),
        d_perm[:, first:].sum(1),
    )
    return float((1 + np.count_nonzero(shuffled >= observed * (1 - 1e-12))) / (rounds + 1))


def within_noise(change: float, standard_error: float | None) -> bool | None:
    """True when ``change`` lies inside ±1.96 standard errors (always, with an infinite one:
    a count of 0 measures nothing); None without an estimate."""
    if standard_error is None or math.isnan(standard_error):
        return None
    return bool(abs(change) < Z_NOISE * standard_error)
