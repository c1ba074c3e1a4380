"""Compare a variant arm with the control arm: lifts, CIs, p-values, chance to beat, risk.

Frequentist: the point estimate and its variance (relative lift by the delta method, as
GrowthBook's gbstats does), with Welch-Satterthwaite degrees of freedom from the arms' unit
variances, so that few units (days) widen the interval as they should.
Proportions also get the classic tests: pooled z, Wald and Newcombe CIs of the difference,
a log-ratio CI of the relative lift, and Fisher's exact test.
Bayesian: a normal posterior of the lift under a flat prior (chance to beat, expected loss).
Sequential: asymptotic confidence sequences (Waudby-Smith et al., as gbstats implements them)
that stay valid however often the result is looked at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as st

from kpi_engine.stats.sufficient import ArmStats


@dataclass(frozen=True)
class Comparison:
    estimate: float  # relative lift (B/A - 1) or absolute difference (B - A)
    se: float
    dof: float
    ci: tuple[float, float]
    p_value: float


def welch_dof(a: ArmStats, b: ArmStats) -> float:
    va, vb = a.unit_variance / a.n, b.unit_variance / b.n
    denominator = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
    return (va + vb) ** 2 / denominator if denominator > 0 else math.inf


def _t_test(estimate: float, variance: float, dof: float, alpha: float) -> Comparison:
    se = math.sqrt(variance) if variance >= 0 else math.nan
    if not se or math.isnan(se):
        return Comparison(estimate, se, dof, (math.nan, math.nan), math.nan)
    critical = st.t.ppf(1 - alpha / 2, dof)
    p_value = 2 * st.t.sf(abs(estimate) / se, dof)
    return Comparison(
        estimate, se, dof, (estimate - critical * se, estimate + critical * se), float(p_value)
    )


def z_test(estimate: float, variance: float, alpha: float = 0.05) -> Comparison:
    """A normal (large-sample) test of an estimate with a known variance."""
    return _t_test(estimate, variance, math.inf, alpha)


def non_inferiority(comparison: Comparison, margin: float, higher_is_better: bool) -> float:
    """One-sided p-value of H0 "the variant is worse than the control by ``margin`` or more"
    (a relative margin, e.g. 0.02): for a KPI where higher is better H0 is lift <= -margin,
    where lower is better lift >= +margin."""
    estimate, se = comparison.estimate, comparison.se
    if not se or math.isnan(se):
        return math.nan
    distance = estimate + margin if higher_is_better else margin - estimate
    return float(st.t.sf(distance / se, comparison.dof))


def differ(a: Comparison, b: Comparison) -> float:
    """Two-sided p-value of a Welch test that two independent estimates differ."""
    variance = a.se**2 + b.se**2
    if not variance or math.isnan(variance):
        return math.nan
    denominator = a.se**4 / a.dof + b.se**4 / b.dof
    dof = variance**2 / denominator if denominator > 0 else math.inf
    return float(2 * st.t.sf(abs(a.estimate - b.estimate) / math.sqrt(variance), dof))


def absolute(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> Comparison:
    return _t_test(b.value - a.value, a.variance + b.variance, welch_dof(a, b), alpha)


def relative(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> Comparison:
    """Relative lift B/A - 1 with the delta-method variance of the ratio of two estimates."""
    ma, mb = a.value, b.value
    variance = b.variance / ma**2 + a.variance * mb**2 / ma**4
    return _t_test(mb / ma - 1, variance, welch_dof(a, b), alpha)


# -- proportions --------------------------------------------------------------------------


def pooled_z(a: ArmStats, b: ArmStats) -> tuple[float, float]:
    """Pooled two-proportion z test of B - A: (z, two-sided p)."""
    pooled = (a.sum_m + b.sum_m) / (a.n + b.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    z = (b.value - a.value) / se if se else math.nan
    return z, float(2 * st.norm.sf(abs(z)))


def wald_ci(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> tuple[float, float]:
    z = st.norm.ppf(1 - alpha / 2)
    diff = b.value - a.value
    se = math.sqrt(a.value * (1 - a.value) / a.n + b.value * (1 - b.value) / b.n)
    return diff - z * se, diff + z * se


def _wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_ci(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval of B - A (method 10), from Wilson intervals."""
    z = st.norm.ppf(1 - alpha / 2)
    lo_a, hi_a = _wilson(a.sum_m, a.n, z)
    lo_b, hi_b = _wilson(b.sum_m, b.n, z)
    pa, pb = a.value, b.value
    diff = pb - pa
    lower = diff - math.sqrt((pb - lo_b) ** 2 + (hi_a - pa) ** 2)
    upper = diff + math.sqrt((hi_b - pb) ** 2 + (pa - lo_a) ** 2)
    return lower, upper


def log_ratio_ci(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> tuple[float, float]:
    """CI of the relative lift pB/pA - 1 from the log of the risk ratio."""
    z = st.norm.ppf(1 - alpha / 2)
    ratio = b.value / a.value
    se = math.sqrt(1 / b.sum_m - 1 / b.n + 1 / a.sum_m - 1 / a.n)
    return ratio * math.exp(-z * se) - 1, ratio * math.exp(z * se) - 1


def fisher_p(a: ArmStats, b: ArmStats) -> float:
    table = [[b.sum_m, b.n - b.sum_m], [a.sum_m, a.n - a.sum_m]]
    return float(st.fisher_exact([[int(x) for x in row] for row in table]).pvalue)


def small_counts(a: ArmStats, b: ArmStats, minimum: float = 10) -> bool:
    """Any cell of the 2x2 table below ``minimum``: Fisher's exact test instead of z."""
    return min(a.sum_m, a.n - a.sum_m, b.sum_m, b.n - b.sum_m) < minimum


def beta_chance_to_beat(a: ArmStats, b: ArmStats) -> float:
    """Exact P(pB > pA) under independent Beta(1 + s, 1 + f) posteriors (Evan Miller)."""
    from scipy.special import betaln

    alpha_a, beta_a = 1 + a.sum_m, 1 + a.n - a.sum_m
    alpha_b, beta_b = 1 + b.sum_m, 1 + b.n - b.sum_m
    total = 0.0
    for i in range(int(alpha_b)):
        total += math.exp(
            betaln(alpha_a + i, beta_b + beta_a)
            - math.log(beta_b + i)
            - betaln(1 + i, beta_b)
            - betaln(alpha_a, beta_a)
        )
    return total


# -- Bayesian, normal approximation ----------------------------------------------------------


def chance_to_beat(estimate: float, se: float, higher_is_better: bool = True) -> float:
    """P(the variant is better) under a flat prior: the posterior of the lift is N(est, se²)."""
    if not se or math.isnan(se):
        return math.nan
    p_up = float(st.norm.sf(-estimate / se))
    return p_up if higher_is_better else 1 - p_up


def expected_loss(estimate: float, se: float, higher_is_better: bool = True) -> float:
    """E[max(0, -improvement)]: what choosing the variant costs on average if it is worse,
    in the units of ``estimate``."""
    if not se or math.isnan(se):
        return math.nan
    mu = estimate if higher_is_better else -estimate
    return float(se * st.norm.pdf(mu / se) - mu * st.norm.cdf(-mu / se))


# -- sequential -----------------------------------------------------------------------------


def _rho2(tuning: float, alpha: float) -> float:
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def sequential_halfwidth(se: float, n_total: float, tuning: float, alpha: float) -> float:
    """Half-width of the asymptotic confidence sequence (gbstats' formula), for an estimate
    with standard error ``se`` after ``n_total`` units; ``tuning`` is the total sample size at
    which the sequence is tightest."""
    rho2 = _rho2(tuning, alpha)
    s2 = se**2 * n_total
    nr = n_total * rho2
    return math.sqrt(s2) * math.sqrt(
        2 * (nr + 1) / (n_total**2 * rho2) * math.log(math.sqrt(nr + 1) / alpha)
    )


def sequential(
    comparison: Comparison, n_total: float, tuning: float, alpha: float = 0.05
) -> Comparison:
    """The same estimate with an always-valid interval and p-value. The p-value solves the
    sequence's boundary for the level at which it touches zero, with the tuning (rho) held at
    the chosen alpha, as gbstats does; it is capped at 1."""
    estimate, se = comparison.estimate, comparison.se
    half = sequential_halfwidth(se, n_total, tuning, alpha)
    rho2 = _rho2(tuning, alpha)
    nr = n_total * rho2
    s2 = se**2 * n_total
    p_value = math.sqrt(nr + 1) * math.exp(-(estimate**2) * n_total**2 * rho2 / (2 * s2 * (nr + 1)))
    return Comparison(
        estimate, se, comparison.dof, (estimate - half, estimate + half), min(1.0, p_value)
    )
