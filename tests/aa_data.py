"""Seeded A/A data for the calibration tests and benchmarks/calibration.py: arms drawn from
one distribution, summarised to the sums the engine's tests read (``Pair``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kpi_engine.experiments.pairs import Pair
from kpi_engine.stats.cuped import CovariateSums
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO, ArmStats

RUNS = 2000


def revenue(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Revenue per user: 10% buy, order values Pareto-tailed (index 2.5) from $50."""
    return (rng.random(shape) < 0.1) * (rng.pareto(2.5, shape) + 1) * 50


def mean_arms(rng: np.random.Generator, n: int) -> list[Pair]:
    pairs = []
    for _ in range(RUNS // 200):
        a, b = revenue(rng, (200, n)), revenue(rng, (200, n))
        pairs += [Pair(mean_arm(x), mean_arm(y)) for x, y in zip(a, b, strict=True)]
    return pairs


def mean_arm(y: np.ndarray) -> ArmStats:
    return ArmStats(MEAN, len(y), float(y.sum()), float((y * y).sum()))


def ratio_arms(rng: np.random.Generator, n: int) -> list[Pair]:
    """Revenue per click over users: clicks 1 + Poisson(2), revenue heavy-tailed per click."""
    pairs = []
    for _ in range(RUNS // 200):
        arms = []
        for _ in range(2):
            clicks = 1 + rng.poisson(2, (200, n)).astype(float)
            sales = revenue(rng, (200, n)) * clicks
            arms.append([ratio_arm(m, d) for m, d in zip(sales, clicks, strict=True)])
        pairs += [Pair(a, b) for a, b in zip(*arms, strict=True)]
    return pairs


def ratio_arm(m: np.ndarray, d: np.ndarray) -> ArmStats:
    return ArmStats(RATIO, len(m), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum())


def cuped_arms(rng: np.random.Generator, n: int) -> list[Pair]:
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
                    (mean_arm(y), CovariateSums(x.sum(), (x * x).sum(), (x * y).sum()))
                    for y, x in zip(after, before, strict=True)
                ]
            )
        pairs += [Pair(a[0], b[0], a[1], b[1]) for a, b in zip(*arms, strict=True)]
    return pairs


def proportion_arms(rng: np.random.Generator, n: int, rate: float = 0.05) -> list[Pair]:
    a, b = rng.binomial(n, rate, RUNS), rng.binomial(n, rate, RUNS)
    return [
        Pair(ArmStats(PROPORTION, n, x, x), ArmStats(PROPORTION, n, y, y))
        for x, y in zip(a, b, strict=True)
    ]


KINDS: dict[str, Callable[[np.random.Generator, int], list[Pair]]] = {
    "proportions": proportion_arms,
    "heavy-tailed means": mean_arms,
    "heavy-tailed ratios": ratio_arms,
    "CUPED on heavy tails": cuped_arms,
}


def rare_big_orders(rng: np.random.Generator, n: int) -> list[Pair]:
    """Harder than the tests' revenue: 5% buy, order values lognormal with sigma 1.5."""
    pairs = []
    for _ in range(RUNS // 200):
        a, b = ((rng.random((200, n)) < 0.05) * rng.lognormal(3, 1.5, (200, n)) for _ in range(2))
        pairs += [Pair(mean_arm(x), mean_arm(y)) for x, y in zip(a, b, strict=True)]
    return pairs


def false_positive_rate(pairs: list[Pair], alpha: float) -> float:
    """The share of A/A pairs whose headline test (``Pair.lift``) rejects at ``alpha``."""
    return sum(pair.lift(alpha).difference.p_value < alpha for pair in pairs) / len(pairs)
