"""How honest the budget plan's band is: over seeded known-truth portfolios (power and Hill
curves, with and without carryover, demand that moves spend and revenue together), how often
the p10-p90 band of the claimed daily uplift covers the true uplift, and how far the claim is
from the truth.

    python benchmarks/budget_coverage.py              # 40 scenarios
    python benchmarks/budget_coverage.py --scenarios 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from tests.budget_truth import score_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scored = [score_scenario(seed, Path(tmp)) for seed in range(args.scenarios)]
    print("| seed | campaigns | carryover | S-curve | claimed a day | p10 | p90 | true | covered |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in scored:
        print(
            f"| {s.seed} | {s.campaigns} | {'yes' if s.carryover else 'no'} |"
            f" {'yes' if s.s_curve else 'no'} | {s.claimed:,.1f} | {s.low:,.1f} | {s.high:,.1f} |"
            f" {s.truth:,.1f} | {'yes' if s.covered else 'no'} |"
        )
    covered = sum(s.covered for s in scored) / len(scored)
    error = statistics.median(s.error for s in scored)
    print(f"\ncoverage of the p10-p90 band: {covered:.0%} of {len(scored)} (aim: about 80%)")
    print(f"median error of the claimed uplift: {error:.0%}")
    for name, part in (
        ("with carryover", [s for s in scored if s.carryover]),
        ("without carryover", [s for s in scored if not s.carryover]),
        ("with an S-curve", [s for s in scored if s.s_curve]),
    ):
        if part:
            print(
                f"  {name}: coverage {sum(s.covered for s in part) / len(part):.0%} of {len(part)}"
            )


if __name__ == "__main__":
    main()
