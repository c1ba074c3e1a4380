"""The pieces every comparison of two arms shares: an estimate with its standard error,
degrees of freedom, interval and p-value; Welch-Satterthwaite degrees of freedom from the
arms' unit variances (so that few units, days for instance, widen the interval as they
should); a Welch test that two independent estimates differ (segments against the rest);
and the half-width of an asymptotic confidence sequence (Waudby-Smith et al., as gbstats
implements it) that stays valid however often the result is looked at. The tests
themselves are in ``lifts``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from scipy import stats as st


@dataclass(frozen=True)
class Comparison:
    estimate: float  # relative lift (B/A - 1) or absolute difference (B - A)
    se: float
    dof: float
    ci: tuple[float, float]
    p_value: float


class Units(Protocol):
    unit_variance: float
    n: float


def welch_dof(a: Units, b: Units) -> float:
    va, vb = a.unit_variance / a.n, b.unit_variance / b.n
    denominator = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
    return (va + vb) ** 2 / denominator if denominator > 0 else math.inf


def differ(a: Comparison, b: Comparison) -> float:
    """Two-sided p-value of a Welch test that two independent estimates differ."""
    variance = a.se**2 + b.se**2
    if not variance or math.isnan(variance):
        return math.nan
    denominator = a.se**4 / a.dof + b.se**4 / b.dof
    dof = variance**2 / denominator if denominator > 0 else math.inf
    return float(2 * st.t.sf(abs(a.estimate - b.estimate) / math.sqrt(variance), dof))


def rho2(tuning: float, alpha: float) -> float:
    """The confidence sequence's mixing parameter, tightest at ``tuning`` total units."""
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def sequential_halfwidth(se: float, n_total: float, tuning: float, alpha: float) -> float:
    """Half-width of the asymptotic confidence sequence (gbstats' formula), for an estimate
    with standard error ``se`` after ``n_total`` units; ``tuning`` is the total sample size at
    which the sequence is tightest."""
    r2 = rho2(tuning, alpha)
    s2 = se**2 * n_total
    nr = n_total * r2
    return math.sqrt(s2) * math.sqrt(
        2 * (nr + 1) / (n_total**2 * r2) * math.log(math.sqrt(nr + 1) / alpha)
    )
