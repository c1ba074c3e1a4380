"""A/A calibration: at α = 0.05 each KPI type's test rejects about 5% of the time when the two
arms come from one distribution, on the engine's own path from sums (``Pair.lift``, as the
headline results use it). 2,000 seeded runs put binomial noise at ±1 point, so a calibrated
test lies in [3.5%, 6.5%]. Heavy tails are zero-inflated Pareto revenue (tail index 2.5: a
finite variance, an infinite fourth moment), uncapped. Where Welch's test is conservative on
more extreme data is measured in benchmarks/calibration.py, not hidden here."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from kpi_engine.experiments import wording
from kpi_engine.experiments.analysis import compare_pair
from kpi_engine.experiments.pairs import Pair
from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.experiments.spec import DEFAULT_TUNING, ExperimentSpec
from kpi_engine.kpis.catalog import get_kpi
from kpi_engine.stats import lifts
from kpi_engine.stats.cuped import CovariateSums
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO, ArmStats

RUNS = 2000
SIZES = (100, 500, 5000)
ALPHA = 0.05


def _revenue(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Revenue per user: 10% buy, order values Pareto-tailed (index 2.5) from $50."""
    return (rng.random(shape) < 0.1) * (rng.pareto(2.5, shape) + 1) * 50


def _mean_arms(rng: np.random.Generator, n: int) -> list[Pair]:
    pairs = []
    for _ in range(RUNS // 200):
        a, b = _revenue(rng, (200, n)), _revenue(rng, (200, n))
        pairs += [Pair(_mean(x), _mean(y)) for x, y in zip(a, b, strict=True)]
    return pairs


def _mean(y: np.ndarray) -> ArmStats:
    return ArmStats(MEAN, len(y), float(y.sum()), float((y * y).sum()))


def _ratio_arms(rng: np.random.Generator, n: int) -> list[Pair]:
    """Revenue per click over users: clicks 1 + Poisson(2), revenue heavy-tailed per click."""
    pairs = []
    for _ in range(RUNS // 200):
        arms = []
        for _ in range(2):
            clicks = 1 + rng.poisson(2, (200, n)).astype(float)
            revenue = _revenue(rng, (200, n)) * clicks
            arms.append([_ratio(m, d) for m, d in zip(revenue, clicks, strict=True)])
        pairs += [Pair(a, b) for a, b in zip(*arms, strict=True)]
    return pairs


def _ratio(m: np.ndarray, d: np.ndarray) -> ArmStats:
    return ArmStats(RATIO, len(m), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum())


def _cuped_arms(rng: np.random.Generator, n: int) -> list[Pair]:
    """Heavy-tailed revenue whose buyers' size carries over from a pre-test period."""
    pairs = []
    for _ in range(RUNS // 200):
        arms = []
        for _ in range(2):
            size = (rng.pareto(2.5, (200, n)) + 1) * 50
            before = (rng.random((200, n)) < 0.3) * size
            after = (rng.random((200, n)) < 0.3) * size * rng.lognormal(0, 0.3, (200, n))
            arms.append(
                [
                    (_mean(y), CovariateSums(x.sum(), (x * x).sum(), (x * y).sum()))
                    for y, x in zip(after, before, strict=True)
                ]
            )
        pairs += [Pair(a[0], b[0], a[1], b[1]) for a, b in zip(*arms, strict=True)]
    return pairs


def _proportion_arms(rng: np.random.Generator, n: int, rate: float = 0.05) -> list[Pair]:
    a, b = rng.binomial(n, rate, RUNS), rng.binomial(n, rate, RUNS)
    return [
        Pair(ArmStats(PROPORTION, n, x, x), ArmStats(PROPORTION, n, y, y))
        for x, y in zip(a, b, strict=True)
    ]


KINDS: dict[str, Callable[[np.random.Generator, int], list[Pair]]] = {
    "proportions": _proportion_arms,
    "heavy-tailed means": _mean_arms,
    "heavy-tailed ratios": _ratio_arms,
    "CUPED on heavy tails": _cuped_arms,
}


def _false_positive_rate(pairs: list[Pair]) -> float:
    rejected = 0
    for pair in pairs:
        lift = pair.lift(ALPHA)
        rejected += lift.difference.p_value < ALPHA
    return rejected / len(pairs)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_aa_false_positive_rate_is_five_percent(kind, n):
    rng = np.random.default_rng([SIZES.index(n), list(KINDS).index(kind)])
    rate = _false_positive_rate(KINDS[kind](rng, n))
    assert 0.035 <= rate <= 0.065, f"{kind} at {n} per arm: {rate:.2%}"


def _coherent(pair: Pair) -> None:
    """The p-value and both intervals come from one test: they agree on significance."""
    lift = pair.lift(ALPHA)
    p, (lo, hi), (rlo, rhi) = lift.difference.p_value, lift.difference.ci, lift.relative.ci
    significant = p < ALPHA
    assert significant == (lo > 0 or hi < 0)
    if not math.isnan(rlo):
        assert significant == (rlo > 0 or rhi < 0)
        assert rlo >= -1  # a KPI that cannot be negative cannot fall by more than 100%


def test_p_value_and_intervals_agree_on_every_run():
    rng = np.random.default_rng(5)
    for make in KINDS.values():
        for pair in make(rng, 100)[:300]:
            _coherent(pair)


# -- rare events and the edges: a p-value or a stated reason, never a crash ------------------

SPEC = ExperimentSpec("aa", "variant", "A", ("conversion_rate",), correction="none")


def _judge(pair: Pair, kpi_id: str = "conversion_rate", kind: str = PROPORTION):
    kpi = get_kpi(kpi_id)
    shape = KpiShape(kind, "conversions", None)
    result = compare_pair(kpi, shape, pair, "B", SPEC, "users", 14)
    text = wording.verdict(result, kpi.name, SPEC.alpha, SPEC.correction, SPEC.mde)
    return result, text


def test_rare_events_never_crash_and_always_say_something():
    rng = np.random.default_rng(2)
    untested = 0
    for pair in _proportion_arms(rng, 100, rate=0.02):
        result, text = _judge(pair)
        assert text
        if result.p_value is None:
            untested += 1
            assert "no conversions" in result.method
        else:
            assert 0 <= result.p_value <= 1
            assert result.ci_rel[0] is None or result.ci_rel[0] >= -1
    assert 0 < untested < 50  # both arms at 0 conversions: about 1.8% of runs


def test_twenty_looks_at_a_sequential_test_keep_the_error_rate():
    """What a decision watch does: look after each of 20 equal batches and stop at the first
    significant look. The fixed-horizon test fires far above 5%; the sequence does not."""
    rng = np.random.default_rng(20)
    runs, looks, batch = 1000, 20, 250
    a = rng.binomial(batch, 0.05, (runs, looks)).cumsum(1)
    b = rng.binomial(batch, 0.05, (runs, looks)).cumsum(1)
    fixed = sequential = 0
    for xa, xb in zip(a, b, strict=True):
        pairs = [
            Pair(ArmStats(PROPORTION, n, x, x), ArmStats(PROPORTION, n, y, y))
            for n, x, y in zip(batch * np.arange(1, looks + 1), xa, xb, strict=True)
        ]
        fixed += any(lifts.score_test(p.control, p.treated)[1] < ALPHA for p in pairs)
        sequential += any(
            p.lift(ALPHA, sequence=(2 * p.control.n, DEFAULT_TUNING)).difference.p_value < ALPHA
            for p in pairs
        )
    assert fixed / runs > 0.15
    assert sequential / runs <= 0.05
