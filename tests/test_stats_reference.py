"""The statistics against ../shared/reference/stats_reference.json (gbstats, statsmodels, scipy),
to 1e-6 relative wherever the method is the same."""

from __future__ import annotations

import json
import math

import pytest

from kpi_engine.stats import compare
from kpi_engine.stats.multiple import benjamini_hochberg, holm
from kpi_engine.stats.power import days_needed, reachable_mde, sample_size_per_arm
from kpi_engine.stats.srm import srm_check
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO, ArmStats
from tests.conftest import PROJECT

REFERENCE = PROJECT.parent / "shared" / "reference" / "stats_reference.json"
pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is absent")
TOL = 1e-6


@pytest.fixture(scope="module")
def ref():
    cases = json.loads(REFERENCE.read_text())["cases"]
    return {c["id"]: c for c in cases}


def out(ref, case, label):
    return next(r["output"] for r in ref[case]["results"] if r["label"].startswith(label))


def close(a, b):
    return a == pytest.approx(b, rel=TOL, abs=1e-12)


A = ArmStats(PROPORTION, 10000, 500, 500)
B = ArmStats(PROPORTION, 10000, 560, 560)


def test_proportions(ref):
    z, p = compare.pooled_z(A, B)
    pooled = out(ref, "two_proportions", "pooled two-proportion")
    assert close(z, pooled["z"]) and close(p, pooled["p_value"])
    assert close(
        list(compare.wald_ci(A, B)), out(ref, "two_proportions", "95% CI of pB-pA, Wald")["ci"]
    )
    assert close(
        list(compare.newcombe_ci(A, B)),
        out(ref, "two_proportions", "95% CI of pB-pA, Newcombe")["ci"],
    )
    assert close(
        list(compare.log_ratio_ci(A, B)),
        out(ref, "two_proportions", "95% CI of pB/pA")["rel_lift_ci"],
    )
    assert close(compare.fisher_p(A, B), out(ref, "two_proportions", "Fisher")["p_value"])


@pytest.mark.parametrize(
    "kind, label",
    [("relative", "gbstats frequentist, relative"), ("absolute", "gbstats frequentist, absolute")],
)
def test_proportions_like_gbstats(ref, kind, label):
    result = getattr(compare, kind)(A, B)
    expected = out(ref, "two_proportions", label)
    assert close(result.estimate, expected["expected"])
    assert close(result.se, expected["uplift"]["stddev"])
    assert close(list(result.ci), expected["ci"]) and close(result.p_value, expected["p_value"])


def test_welch_means(ref):
    a = ArmStats(MEAN, 5000, 52000.0, 2300000.0)
    b = ArmStats(MEAN, 5000, 55500.0, 2500000.0)
    result = compare.absolute(a, b)
    expected = out(ref, "revenue_per_user_mean", "Welch t-test + 95%")
    assert close(result.p_value, expected["p_value"]) and close(list(result.ci), expected["ci"])
    assert close(result.dof, expected["dof"])
    rel = compare.relative(a, b)
    expected = out(ref, "revenue_per_user_mean", "gbstats relative")
    assert close(list(rel.ci), expected["ci"]) and close(rel.p_value, expected["p_value"])


@pytest.mark.parametrize("metric", ["RPC", "ROAS", "CPA", "CTR"])
def test_ratio_metrics_over_days(ref, metric):
    suff = out(ref, "ratio_metrics_daily_units", f"{metric}: sufficient")
    a, b = (
        ArmStats(RATIO, s["n"], s["sum_m"], s["sumsq_m"], s["sum_d"], s["sumsq_d"], s["sum_md"])
        for s in suff
    )
    for kind, label in (("relative", "(relative)"), ("absolute", "(absolute)")):
        result = getattr(compare, kind)(a, b)
        expected = out(
            ref,
            "ratio_metrics_daily_units",
            f"{metric}: gbstats RatioStatistic TwoSidedTTest {label}",
        )
        assert close(result.estimate, expected["expected"])
        assert close(list(result.ci), expected["ci"]) and close(result.p_value, expected["p_value"])
    delta = out(ref, "ratio_metrics_daily_units", f"{metric}: delta-method")
    assert close(math.sqrt(a.variance + b.variance), delta["abs_se"])


def test_bayesian(ref):
    exact = out(ref, "bayesian_proportions", "exact P(pB > pA)")
    assert close(compare.beta_chance_to_beat(A, B), exact)
    mc = out(ref, "bayesian_proportions", "Monte Carlo")
    absolute = compare.absolute(A, B)
    # normal approximation vs 2M Beta draws: agree to Monte Carlo precision
    assert compare.chance_to_beat(absolute.estimate, absolute.se) == pytest.approx(
        mc["p_b_beats_a"], abs=5e-4
    )
    assert compare.expected_loss(absolute.estimate, absolute.se) == pytest.approx(
        mc["loss_choose_b"], rel=0.01
    )


@pytest.mark.parametrize("tuning", [5000, 20000, 100000])
def test_sequential(ref, tuning):
    result = compare.sequential(compare.relative(A, B), 20000, tuning)
    expected = out(ref, "sequential_gbstats", f"sequential, tuning parameter {tuning}")
    assert close(list(result.ci), expected["ci"]) and close(result.p_value, expected["p_value"])


def test_srm(ref):
    inputs = ref["srm_chi_square"]["inputs"]
    two = srm_check(inputs["two_arm"]["users"], inputs["two_arm"]["weights"])
    assert close(two.p_value, out(ref, "srm_chi_square", "2 arms")["p_value"]) and not two.flag
    three = srm_check(inputs["three_arm"]["users"], inputs["three_arm"]["weights"])
    assert close(three.p_value, out(ref, "srm_chi_square", "3 arms, 50/25/25")["p_value"])
    cats = srm_check(inputs["cookie_cats"]["users"])
    assert close(cats.p_value, out(ref, "srm_chi_square", "Cookie Cats")["p_value"])


@pytest.mark.parametrize("name", ["list1", "list2"])
def test_multiple_testing(ref, name):
    p = ref["multiple_testing"]["inputs"][name]
    short = "p1" if name == "list1" else "p2"
    assert close(holm(p), out(ref, "multiple_testing", f"holm on {short}")["p_adjusted"])
    assert close(
        benjamini_hochberg(p), out(ref, "multiple_testing", f"fdr_bh on {short}")["p_adjusted"]
    )


def test_power(ref):
    unpooled = out(ref, "sample_size_proportions", "n per arm, unpooled")
    assert close(sample_size_per_arm(0.05, 0.10), unpooled["n_per_arm"])
    assert math.ceil(sample_size_per_arm(0.05, 0.10)) == 31231
    # statsmodels solves with Cohen's h (arcsine); our unpooled inverse agrees to 0.1%
    arcsine = out(ref, "sample_size_proportions", "relative MDE at 10,000")["relative_mde"]
    assert reachable_mde(0.05, 10000) == pytest.approx(arcsine, rel=1e-3)


def test_days_needed_counts_the_missing_users_at_the_daily_rate():
    assert days_needed(10_000, 4_000, 500) == 12
    assert days_needed(10_000, 12_000, 500) == 0
    assert days_needed(10_000, 4_000, 0) == math.inf
