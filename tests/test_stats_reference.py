"""The statistics against ../shared/reference/stats_reference.json (gbstats, statsmodels, scipy)
and against statsmodels and scipy called here, on the same inputs. Each check names what it
holds to: the same method to 1e-9 (or 1e-6 where the reference printed fewer digits)."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats as st
from statsmodels.stats import proportion as sm_proportion

from kpi_engine.stats import lifts
from kpi_engine.stats.compare import sequential_halfwidth
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


def test_proportions_are_one_score_family(ref):
    lift = lifts.proportions(A, B)
    score = sm_proportion.test_proportions_2indep(
        560, 10000, 500, 10000, method="score", compare="diff"
    )
    assert lift.difference.p_value == pytest.approx(score.pvalue, rel=1e-9)
    assert lift.relative.p_value == lift.difference.p_value  # one test for both intervals
    ratio = sm_proportion.confint_proportions_2indep(
        560, 10000, 500, 10000, method="score", compare="ratio"
    )
    assert list(lift.relative.ci) == pytest.approx([ratio[0] - 1, ratio[1] - 1], rel=1e-6)
    # the reference's pooled z and Fisher: close to the score test here, as they should be
    assert lift.difference.p_value == pytest.approx(
        out(ref, "two_proportions", "pooled two-proportion")["p_value"], rel=2e-3
    )
    assert close(lifts.fisher_p(A, B), out(ref, "two_proportions", "Fisher")["p_value"])
    assert close(lift.chance_to_beat, out(ref, "bayesian_proportions", "exact P(pB > pA)"))


def test_welch_means(ref):
    a = ArmStats(MEAN, 5000, 52000.0, 2300000.0)
    b = ArmStats(MEAN, 5000, 55500.0, 2500000.0)
    lift = lifts.welch(a, b)
    expected = out(ref, "revenue_per_user_mean", "Welch t-test + 95%")
    assert close(lift.difference.p_value, expected["p_value"])
    assert close(list(lift.difference.ci), expected["ci"])
    assert close(lift.difference.dof, expected["dof"])
    assert lift.relative.p_value == lift.difference.p_value
    _assert_fieller(a, b, lift)


def _assert_fieller(a: ArmStats, b: ArmStats, lift: lifts.Lift) -> None:
    """Fieller's interval by its definition: at each end r, (B - rA) / sqrt(vB + r² vA) is
    exactly the t quantile, and the estimate lies between."""
    t = st.t.ppf(0.975, lift.difference.dof)
    for end in lift.relative.ci:
        r = end + 1
        statistic = (b.value - r * a.value) / math.sqrt(b.variance + r * r * a.variance)
        assert abs(statistic) == pytest.approx(t, rel=1e-9)
    assert lift.relative.ci[0] < b.value / a.value - 1 < lift.relative.ci[1]


@pytest.mark.parametrize("metric", ["RPC", "ROAS", "CPA", "CTR"])
def test_ratio_metrics_over_days(ref, metric):
    suff = out(ref, "ratio_metrics_daily_units", f"{metric}: sufficient")
    a, b = (
        ArmStats(RATIO, s["n"], s["sum_m"], s["sumsq_m"], s["sum_d"], s["sumsq_d"], s["sum_md"])
        for s in suff
    )
    lift = lifts.welch(a, b)
    label = f"{metric}: gbstats RatioStatistic TwoSidedTTest (absolute)"
    expected = out(ref, "ratio_metrics_daily_units", label)
    assert close(lift.difference.estimate, expected["expected"])
    assert close(list(lift.difference.ci), expected["ci"])
    assert close(lift.difference.p_value, expected["p_value"])
    delta = out(ref, "ratio_metrics_daily_units", f"{metric}: delta-method")
    assert close(lift.difference.se, delta["abs_se"])
    _assert_fieller(a, b, lift)


def test_expected_loss_and_chance_like_monte_carlo(ref):
    mc = out(ref, "bayesian_proportions", "Monte Carlo")
    lift = lifts.proportions(A, B)
    assert lift.chance_to_beat == pytest.approx(mc["p_b_beats_a"], abs=5e-4)
    # relative to the control's 5%: the normal posterior's loss against 2M Beta draws
    loss = lifts.expected_loss(lift, A.value, higher_is_better=True) * A.value
    assert loss == pytest.approx(mc["loss_choose_b"], rel=0.01)


@pytest.mark.parametrize("tuning", [5000, 20000, 100000])
def test_sequential_boundary_is_gbstats(ref, tuning):
    """gbstats' relative interval is its delta-method lift ± the sequence's half-width; the
    same half-width function on its standard error gives the same interval."""
    expected = out(ref, "sequential_gbstats", f"sequential, tuning parameter {tuning}")
    rel, se = expected["expected"], expected["uplift"]["stddev"]
    half = sequential_halfwidth(se, 20000, tuning, 0.05)
    assert close([rel - half, rel + half], expected["ci"])
    lift = lifts.sequential(A, B, 20000, tuning, 0.05, nonnegative=True)
    fixed = lifts.welch(A, B)
    assert lift.difference.ci[0] < fixed.difference.ci[0]  # wider than the fixed horizon
    assert (lift.difference.p_value < 0.05) == (lift.difference.ci[0] > 0)


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
