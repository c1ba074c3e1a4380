"""Budget plans for many campaigns with carryover: fit + optimise, the band, a plan ahead.

    python benchmarks/budget.py                      # 500 campaigns x 180 days
    python benchmarks/budget.py --campaigns 2000 --days 90

Seeded campaigns with true power curves (one in ten an S-curve) and carryover (θ from 0 to
0.6, simulated day by day by the tests' `budget_truth.py`) are written to a CSV and imported
once; the timings are `run_budget` on the stored dataset (one SQL query for the window, the
carryover profile, the curves and S-curves, the water-filling, the reasons), without and with
200 draws of every curve, a 28-day plan with its weekly outcome, and the spend test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DATA = HERE / ".data"


def make_campaigns(campaigns: int, days: int) -> Path:
    import numpy as np

    from tests.budget_truth import TrueCampaign, simulate, write_csv

    DATA.mkdir(exist_ok=True)
    path = DATA / f"budget_shapes_{campaigns}x{days}.csv"
    if not path.exists():
        rng = np.random.default_rng(3)
        truth = []
        for i in range(campaigns):
            base = float(rng.uniform(50, 950))
            theta = float(rng.choice([0.0, 0.0, 0.2, 0.4, 0.6]))
            if i % 10 == 9:  # one campaign in ten on an S-curve around its spend
                truth.append(TrueCampaign(f"Campaign {i}", 8 * base, 3.0, theta, base, half=base))
                continue
            a, b = float(rng.uniform(5, 55)), float(rng.uniform(0.3, 0.9))
            truth.append(TrueCampaign(f"Campaign {i}", a, b, theta, base))
        write_csv(path, simulate(truth, days, 0.3, seed=4)[0])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()
    from kpi_engine.budget.analysis import run_budget
    from kpi_engine.budget.spec import BudgetSpec
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store

    path = make_campaigns(args.campaigns, args.days)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.sqlite")
        dataset = import_file(store, path).dataset
        print(f"{'campaigns':>10} {'days':>5} {'step':>24} {'seconds':>8}")
        steps = (
            ("fit + optimise", {"bootstrap": 0}),
            ("fit + optimise + band", {"bootstrap": 200}),
            ("28-day plan + band", {"bootstrap": 200, "plan_days": 28}),
            ("spend test", {"bootstrap": 200, "suggest_test": True}),
        )
        for label, settings in steps:
            spec = BudgetSpec(dataset.dataset_id, lag_days=0, window_days=args.days, **settings)
            run_budget(store, dataset, spec)  # warm-up: imports, caches
            start = time.perf_counter()
            result = run_budget(store, dataset, spec)
            seconds = time.perf_counter() - start
            print(f"{args.campaigns:>10} {args.days:>5} {label:>24} {seconds:>8.3f}")
        tiers = {t: sum(c.tier == t for c in result.campaigns) for t in ("fitted", "rule", "fixed")}
        shapes = sum(c.curve.shape == "S-curve" for c in result.campaigns)
        print(
            f"tiers: {tiers}; S-curves found: {shapes}; uplift {result.portfolio.uplift_pct:.2%},"
            f" p10-p90 {result.portfolio.uplift_band}"
        )


if __name__ == "__main__":
    main()
