"""A/A false-positive rates of the experiment tests at alpha 0.05, on the engine's own path
from sums (the data of tests/aa_data.py, seeded), with 2,000 runs a cell: a calibrated test
lies within binomial noise of 5% (3.5% to 6.5%). The last row is heavier than the tests'
revenue, to show where Welch's test turns conservative.

    python benchmarks/calibration.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from tests.aa_data import (  # noqa: E402
    KINDS,
    RUNS,
    false_positive_rate,
    proportion_arms,
    rare_big_orders,
)

SIZES = (100, 500, 5000)


def main() -> None:
    rows = {
        **KINDS,
        "proportions at 2% (rare events)": lambda rng, n: proportion_arms(rng, n, 0.02),
        "means, 5% buy, lognormal σ 1.5 orders": rare_big_orders,
    }
    print(f"A/A false-positive rate at alpha 0.05, {RUNS:,} runs a cell\n")
    print("| data | " + " | ".join(f"{n:,} a variant" for n in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    for k, (name, make) in enumerate(rows.items()):
        rates = [
            false_positive_rate(make(np.random.default_rng([100 + k, n]), n), 0.05) for n in SIZES
        ]
        print(f"| {name} | " + " | ".join(f"{r:.1%}" for r in rates) + " |")


if __name__ == "__main__":
    main()
