"""Budget reallocation for many campaigns: fit + optimise, and with the bootstrap band.

    python benchmarks/budget.py                      # 500 campaigns x 90 days
    python benchmarks/budget.py --campaigns 2000

Seeded power-law campaigns (random a, b) are written by DuckDB to a CSV and imported once;
the timings are `run_budget` on the stored dataset (one SQL query for the window, the curves,
the water-filling, the reasons), without and with 200 bootstrap draws.
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
    import duckdb

    DATA.mkdir(exist_ok=True)
    path = DATA / f"budget_{campaigns}x{days}.csv"
    if not path.exists():
        con = duckdb.connect()
        con.execute("SELECT setseed(0.3)")
        con.execute(f"""COPY (
            WITH c AS (SELECT i AS c, 5 + 50 * random() AS a, 0.3 + 0.6 * random() AS b,
                              50 + 900 * random() AS base FROM range({campaigns}) t(i)),
                 d AS (SELECT c.*, DATE '2026-01-01' + CAST(j AS INTEGER) AS date,
                              base * exp(0.3 * (random() + random() + random() - 1.5)) AS spend
                       FROM c, range({days}) t(j))
            SELECT date, 'Campaign ' || c AS campaign, round(spend, 2) AS spend,
                   round(a * pow(spend, b) * (0.8 + 0.4 * random()), 2) AS revenue,
                   CAST(a * pow(spend, b) / 50 AS INTEGER) AS conversions
            FROM d) TO '{path}' (HEADER)""")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    from kpi_engine.budget.analysis import run_budget
    from kpi_engine.budget.spec import BudgetSpec
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store

    path = make_campaigns(args.campaigns, args.days)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.duckdb")
        dataset = import_file(store, path).dataset
        print(f"{'campaigns':>10} {'days':>5} {'step':>24} {'seconds':>8}")
        for label, draws in (("fit + optimise", 0), ("fit + optimise + band", 200)):
            spec = BudgetSpec(
                dataset.dataset_id, lag_days=0, window_days=args.days, bootstrap=draws
            )
            run_budget(store, dataset, spec)  # warm-up: imports, caches
            start = time.perf_counter()
            result = run_budget(store, dataset, spec)
            seconds = time.perf_counter() - start
            print(f"{args.campaigns:>10} {args.days:>5} {label:>24} {seconds:>8.3f}")
        tiers = {t: sum(c.tier == t for c in result.campaigns) for t in ("fitted", "rule", "fixed")}
        print(
            f"tiers: {tiers}; uplift {result.portfolio.uplift_pct:.2%},"
            f" p10-p90 {result.portfolio.uplift_band}"
        )


if __name__ == "__main__":
    main()
