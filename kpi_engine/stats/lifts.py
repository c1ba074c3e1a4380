"""One test of a variant against its control, and every number of the result from it.

The difference and the relative lift come from the same test, so "significant" (p < alpha),
an interval of the difference that leaves out 0 and an interval of the relative lift that
leaves out 0% always go together:

- **Means and ratios** (revenue per user, CUPED-adjusted means, CTR or ROAS over days): Welch's
  t test of the difference, each arm's variance from its units (by the delta method for a
  ratio). The relative lift's interval is Fieller's: the ratios r for which the same test
  does not reject "variant = r x control". At r = 1 that is the Welch test itself. It is
  asymmetric, as a ratio's interval should be, and never goes below -100% for a KPI that
  cannot be negative. When the control's value is itself too uncertain (its interval
  includes 0), no relative interval exists and the result says so.
- **Conversion rates**: the Miettinen-Nurminen score test, with its score intervals of the
  difference and of the ratio; at "no difference" both are the same statistic, so they agree
  with the test. It is defined with zero conversions in one arm. Fisher's exact test is
  given beside it for small counts.

Where no test is defined (one unit, no variation in either arm, no conversions or only
conversions in both arms), ``untestable`` says why, in words, for that KPI only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from scipy import optimize
from scipy import stats as st
from scipy.special import betaln

from kpi_engine.stats.compare import Comparison, rho2, sequential_halfwidth, welch_dof
from kpi_engine.stats.sufficient import PROPORTION, TOTALS, ArmStats

WELCH, SCORE = "welch", "score"
EXACT_BETA_LIMIT = 5000  # exact P(B > A) sums this many terms at most


@dataclass(frozen=True)
class Lift:
    """A variant against its control: the test, its two intervals, the chance to beat."""

    difference: Comparison  # B - A: estimate, se, dof, interval, p-value (the test)
    relative: Comparison  # B/A - 1: delta-method se, the interval from the same test, same p
    chance_to_beat: float  # P(B > A) (flat prior); the direction is applied by the caller
    method: str  # WELCH or SCORE
    relative_reason: str | None = None  # why there is no relative interval


class Moments(Protocol):
    """An arm seen by the tests: its value, the variance of that value, per-unit variance
    and units (an ArmStats, or a CUPED-adjusted arm)."""

    value: float
    variance: float
    unit_variance: float
    n: float


@dataclass(frozen=True)
class Mean:
    """An estimate with its variance over ``n`` units (a post-stratified arm, for one)."""

    value: float
    variance: float
    n: float

    @property
    def unit_variance(self) -> float:
        return self.variance * self.n


def untestable(a: ArmStats, b: ArmStats) -> str | None:
    """Why no test compares these arms, or None."""
    if a.kind == TOTALS or b.kind == TOTALS:
        return "only totals per variant: no per-unit values, so no variance"
    if min(a.n, b.n) < 2:
        return "fewer than two units in an arm"
    if math.isnan(a.value) or math.isnan(b.value):
        return "the KPI's denominator is 0 in an arm"
    if a.kind == PROPORTION:
        converted = a.sum_m + b.sum_m
        if converted == 0:
            return "no conversions in either arm"
        if converted == a.n + b.n:
            return "every unit converted in both arms"
        return None
    if not (a.unit_variance > 0 or b.unit_variance > 0):
        return "no variation within either arm"
    return None


# -- means and ratios ---------------------------------------------------------------------


def fieller(
    ma: float, va: float, mb: float, vb: float, critical: float, nonnegative: bool
) -> tuple[float, float] | None:
    """Relative lifts r - 1 with |mb - r ma| <= critical * sqrt(vb + r² va) (independent
    arms); None when that set is unbounded (the control's value is not clearly non-zero)."""
    c2 = critical * critical
    lead = ma * ma - c2 * va
    if lead <= 0:
        return None
    root = critical * math.sqrt(vb * lead + mb * mb * va)
    lo, hi = sorted(((ma * mb - root) / lead, (ma * mb + root) / lead))
    if nonnegative:
        lo = max(lo, 0.0)
    return lo - 1, hi - 1


def _delta_se(ma: float, va: float, mb: float, vb: float) -> float:
    """Delta-method standard error of mb/ma - 1 (for the Bayesian summaries and segments)."""
    if ma == 0:
        return math.nan
    return math.sqrt(max(vb / ma**2 + va * mb**2 / ma**4, 0.0))


def welch(
    a: Moments,
    b: Moments,
    alpha: float = 0.05,
    nonnegative: bool = True,
    dof: float | None = None,
    critical: float | None = None,
) -> Lift:
    """Welch's t test of B - A, and Fieller's interval of the relative lift from it.
    ``critical`` replaces the t quantile (a confidence sequence's, for instance)."""
    dof = welch_dof(a, b) if dof is None else dof
    diff, var = b.value - a.value, a.variance + b.variance
    se = math.sqrt(var) if var > 0 else math.nan
    c = float(st.t.ppf(1 - alpha / 2, dof)) if critical is None else critical
    p = float(2 * st.t.sf(abs(diff) / se, dof)) if se > 0 else math.nan
    if critical is not None and se > 0:
        p = math.nan  # the caller states the p-value of its own boundary
    difference = Comparison(diff, se, dof, (diff - c * se, diff + c * se), p)
    ratio = fieller(a.value, a.variance, b.value, b.variance, c, nonnegative)
    rel_est = b.value / a.value - 1 if a.value else math.nan
    relative = Comparison(
        rel_est,
        _delta_se(a.value, a.variance, b.value, b.variance),
        dof,
        ratio if ratio is not None else (math.nan, math.nan),
        p,
    )
    higher = float(st.norm.sf(-diff / se)) if se > 0 else math.nan
    reason = None
    if ratio is None:
        reason = (
            "the control's value is 0"
            if a.value == 0
            else "the control's value is too uncertain to put the change in relative terms"
        )
    return Lift(difference, relative, higher, WELCH, reason)


def ratio_p_value(
    a: Moments, b: Moments, ratio: float, higher_is_better: bool, dof: float
) -> float:
    """One-sided p-value of "B is no better than ``ratio`` x A" (Fieller's statistic), e.g.
    ratio 0.98 for a non-inferiority margin of 2% on a KPI where higher is better."""
    var = b.variance + ratio * ratio * a.variance
    if not var > 0:
        return math.nan
    t = (b.value - ratio * a.value) / math.sqrt(var)
    return float(st.t.sf(t if higher_is_better else -t, dof))


# -- conversion rates ---------------------------------------------------------------------


def _mn_factor(n_total: float) -> float:
    return n_total / (n_total - 1)


def _restricted_diff(xa: float, na: float, xb: float, nb: float, delta: float):
    """Maximum-likelihood rates (pA, pB) with pB - pA = delta (Farrington & Manning)."""
    p1, p2, theta = xb / nb, xa / na, na / nb
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b * b / (9 * a * a) - c / (3 * a), 0.0)), v)
    cosine = 1.0 if u == 0 else max(-1.0, min(1.0, v / u**3))
    w = (math.pi + math.acos(cosine)) / 3
    pb = min(max(2 * u * math.cos(w) - b / (3 * a), 0.0), 1.0)
    return min(max(pb - delta, 0.0), 1.0), pb


def _score_diff(xa: float, na: float, xb: float, nb: float, delta: float) -> float:
    pa, pb = _restricted_diff(xa, na, xb, nb, delta)
    var = (pa * (1 - pa) / na + pb * (1 - pb) / nb) * _mn_factor(na + nb)
    gap = xb / nb - xa / na - delta
    if var <= 0:
        return math.copysign(math.inf, gap) if gap else 0.0
    return gap / math.sqrt(var)


def _restricted_ratio(xa: float, na: float, xb: float, nb: float, ratio: float):
    """Maximum-likelihood rates (pA, pB) with pB = ratio x pA."""
    big_a = (na + nb) * ratio
    big_b = -(nb * ratio + xb + na + xa * ratio)
    big_c = xa + xb
    pa = (-big_b - math.sqrt(max(big_b * big_b - 4 * big_a * big_c, 0.0))) / (2 * big_a)
    pa = min(max(pa, 0.0), 1.0)
    return pa, min(ratio * pa, 1.0)


def _score_ratio(xa: float, na: float, xb: float, nb: float, ratio: float) -> float:
    pa, pb = _restricted_ratio(xa, na, xb, nb, ratio)
    var = (pb * (1 - pb) / nb + ratio * ratio * pa * (1 - pa) / na) * _mn_factor(na + nb)
    gap = xb / nb - ratio * xa / na
    if var <= 0:
        return math.copysign(math.inf, gap) if gap else 0.0
    return gap / math.sqrt(var)


def _invert(statistic, lo: float, hi: float, target: float) -> float:
    """The point of [lo, hi] where the decreasing ``statistic`` crosses ``target``."""
    return float(optimize.brentq(lambda x: statistic(x) - target, lo, hi, xtol=1e-12))


def score_test(a: ArmStats, b: ArmStats) -> tuple[float, float]:
    """Miettinen-Nurminen score statistic of pB - pA = 0 and its two-sided p-value."""
    z = _score_diff(a.sum_m, a.n, b.sum_m, b.n, 0.0)
    return z, float(2 * st.norm.sf(abs(z)))


def score_diff_interval(a: ArmStats, b: ArmStats, critical: float) -> tuple[float, float]:
    """Miettinen-Nurminen interval of pB - pA."""
    xa, na, xb, nb = a.sum_m, a.n, b.sum_m, b.n
    estimate, edge = xb / nb - xa / na, 1 - 1e-12

    def z(delta: float) -> float:
        return _score_diff(xa, na, xb, nb, delta)

    lo = -1.0 if z(-edge) <= critical else _invert(z, -edge, estimate, critical)
    hi = 1.0 if z(edge) >= -critical else _invert(z, estimate, edge, -critical)
    return lo, hi


def score_ratio_interval(a: ArmStats, b: ArmStats, critical: float) -> tuple[float, float]:
    """Miettinen-Nurminen interval of pB / pA - 1 (-100% below when the variant has no
    conversions, +inf above when the control has none)."""
    xa, na, xb, nb = a.sum_m, a.n, b.sum_m, b.n

    def z(log_ratio: float) -> float:
        return _score_ratio(xa, na, xb, nb, math.exp(log_ratio))

    return _crossing(z, critical, 0.0) - 1, _crossing(z, -critical, math.inf) - 1


def _crossing(z, target: float, beyond: float) -> float:
    """exp of the log ratio where the decreasing ``z`` crosses ``target``; ``beyond`` when it
    never does within ratios of e^-40 to e^40."""
    previous = (-40.0, z(-40.0))
    for step in range(-38, 41, 2):
        x1, v1 = float(step), z(float(step))
        x0, v0 = previous
        if v0 >= target >= v1 and v0 != v1:
            return math.exp(_invert(z, x0, x1, target))
        previous = (x1, v1)
    return beyond


def exact_chance_to_beat(a: ArmStats, b: ArmStats) -> float | None:
    """P(pB > pA) under independent Beta(1 + conversions, 1 + non-conversions) posteriors,
    exactly (Evan Miller's sum), when it takes at most EXACT_BETA_LIMIT terms."""
    aa, ba = 1 + a.sum_m, 1 + a.n - a.sum_m
    ab, bb = 1 + b.sum_m, 1 + b.n - b.sum_m
    if min(ab, aa) > EXACT_BETA_LIMIT:
        return None
    if ab > aa:  # sum over the smaller arm: P(pB > pA) = 1 - P(pA > pB)
        return 1 - _beta_sum(ab, bb, aa, ba)
    return _beta_sum(aa, ba, ab, bb)


def _beta_sum(aa: float, ba: float, ab: float, bb: float) -> float:
    total = 0.0
    for i in range(int(ab)):
        total += math.exp(
            betaln(aa + i, bb + ba) - math.log(bb + i) - betaln(1 + i, bb) - betaln(aa, ba)
        )
    return min(max(total, 0.0), 1.0)


def fisher_p(a: ArmStats, b: ArmStats) -> float:
    """Fisher's exact test, two-sided, of the 2x2 table of conversions."""
    table = [[int(b.sum_m), int(b.n - b.sum_m)], [int(a.sum_m), int(a.n - a.sum_m)]]
    return float(st.fisher_exact(table).pvalue)


def small_counts(a: ArmStats, b: ArmStats) -> bool:
    """A cell of the 2x2 table below 5, observed or expected under "no difference"
    (Cochran's rule): the normal approximation is rough there, so Fisher's exact p-value is
    shown beside the score test's."""
    pooled = (a.sum_m + b.sum_m) / (a.n + b.n)
    observed = min(a.sum_m, b.sum_m, a.n - a.sum_m, b.n - b.sum_m)
    return observed < 5 or min(a.n, b.n) * min(pooled, 1 - pooled) < 5


def proportions(a: ArmStats, b: ArmStats, alpha: float = 0.05) -> Lift:
    """The score test of two conversion rates, its intervals and the exact chance to beat
    (the normal approximation where the exact sum would be too long)."""
    critical = float(st.norm.ppf(1 - alpha / 2))
    z, p = score_test(a, b)
    diff = b.value - a.value
    se = math.sqrt(a.value * (1 - a.value) / a.n + b.value * (1 - b.value) / b.n)
    difference = Comparison(diff, se, math.inf, score_diff_interval(a, b, critical), p)
    rel_est = b.value / a.value - 1 if a.value else math.nan
    lo, hi = score_ratio_interval(a, b, critical)
    relative = Comparison(
        rel_est, _delta_se(a.value, a.variance, b.value, b.variance), math.inf, (lo, hi), p
    )
    exact = exact_chance_to_beat(a, b)
    if exact is None:
        exact = float(st.norm.sf(-diff / se)) if se > 0 else math.nan
    reason = "the control has no conversions" if a.sum_m == 0 else None
    return Lift(difference, relative, exact, SCORE, reason)


def compare_arms(a: ArmStats, b: ArmStats, alpha: float = 0.05, nonnegative: bool = True) -> Lift:
    """The test that fits the arms' kind: the score test for conversion rates, Welch's for
    means and ratios. Call ``untestable`` first."""
    if a.kind == PROPORTION:
        return proportions(a, b, alpha)
    return welch(a, b, alpha, nonnegative)


# -- sequential ---------------------------------------------------------------------------


def sequential(
    a: Moments, b: Moments, n_total: float, tuning: float, alpha: float, nonnegative: bool
) -> Lift:
    """Welch's comparison with a confidence sequence's boundary in place of the t quantile
    (gbstats' asymptotic sequences), valid however often the test is looked at. The
    p-value is the smallest alpha whose sequence leaves out 0."""
    var = a.variance + b.variance
    if not var > 0:
        return welch(a, b, alpha, nonnegative)
    se = math.sqrt(var)
    critical = sequential_halfwidth(se, n_total, tuning, alpha) / se
    lift = welch(a, b, alpha, nonnegative, dof=math.inf, critical=critical)
    p = _sequential_p(lift.difference.estimate, se, n_total, tuning, alpha)
    return Lift(
        _with_p(lift.difference, p),
        _with_p(lift.relative, p),
        lift.chance_to_beat,
        lift.method,
        lift.relative_reason,
    )


def _sequential_p(estimate: float, se: float, n: float, tuning: float, alpha: float) -> float:
    """The level at which the sequence's boundary touches 0, with its mixing held at the
    chosen alpha (as gbstats does), capped at 1."""
    r2 = rho2(tuning, alpha)
    nr = n * r2
    s2 = se * se * n
    exponent = -(estimate**2) * n * n * r2 / (2 * s2 * (nr + 1))
    return min(1.0, math.sqrt(nr + 1) * math.exp(exponent))


def _with_p(c: Comparison, p: float) -> Comparison:
    return Comparison(c.estimate, c.se, c.dof, c.ci, p)


# -- Bayesian summaries -------------------------------------------------------------------


def expected_loss(lift: Lift, control_value: float, higher_is_better: bool) -> float:
    """E[max(0, -improvement)] relative to the control's value, under the normal posterior
    of the difference: what choosing the variant costs on average if it is worse."""
    diff, se = lift.difference.estimate, lift.difference.se
    if not se > 0 or not control_value:
        return math.nan
    mu = diff if higher_is_better else -diff
    loss = se * st.norm.pdf(mu / se) - mu * st.norm.cdf(-mu / se)
    return float(loss / abs(control_value))
