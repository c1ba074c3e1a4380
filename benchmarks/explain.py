""" "Why did this change?" on a big dataset: the parts, and mix and rate across a column.

    python benchmarks/explain.py                     # 1,000,000 rows, 500 campaigns, 180 days
    python benchmarks/explain.py --rows 5000000

A synthetic campaign file is written and imported once; each line is the median of three
`run_explain` calls comparing the last 28 days with the 28 before (four aggregate queries,
eight with the days a revenue KPI's permutation needs), beside DuckDB's own scan of the stored
Parquet file for the two periods' sums (the floor).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _median(work, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    import duckdb

    from kpi_engine.compute import local
    from kpi_engine.explain.analysis import run_explain
    from kpi_engine.explain.spec import ExplainSpec, periods
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store

    local.caching(False)
    folder = Path(tempfile.mkdtemp())
    csv = folder / "big.csv"
    duckdb.sql(
        "COPY (SELECT DATE '2026-01-01' + (i % 180)::INT AS date, 'c' || (i % 500) AS campaign,"
        " 'ch' || (i % 6) AS channel, 1000 + i % 97 AS impressions, 50 + i % 13 AS clicks,"
        " i % 7 AS conversions, (20 + i % 11)::DOUBLE AS spend, (i % 7) * 61.5 AS revenue"
        f" FROM range({args.rows}) t(i)) TO '{csv}' (HEADER)"
    )
    store = Store(str(folder / "ws.sqlite"))
    dataset = import_file(store, csv).dataset
    period, vs = periods(store.date_range(dataset))
    floor = _median(
        lambda: duckdb.sql(
            f"SELECT date >= DATE '{period[0]}' AS now, sum(spend), sum(conversions)"
            f" FROM read_parquet('{Path(store.data.root) / dataset.location}')"
            f" WHERE date BETWEEN DATE '{vs[0]}' AND DATE '{period[1]}'"
            " GROUP BY 1"
        ).fetchall()
    )
    print(f"{args.rows:,} rows; floor (DuckDB's scan of the stored Parquet, the two periods'"
          f" sums): {floor:.3f} s")  # fmt: skip
    print("| KPI | split by | median s |\n|---|---|---|")
    for kpi, by in [
        ("cpa", None),
        ("cpa", "channel"),
        ("cpa", "campaign"),
        ("roas", "channel"),
        ("roas", "campaign"),
    ]:
        spec = ExplainSpec(dataset.dataset_id, kpi, period, vs, by)
        seconds = _median(lambda spec=spec: run_explain(store, dataset, spec))
        print(f"| {kpi} | {by or '-'} | {seconds:.3f} |")
    store.close()


if __name__ == "__main__":
    main()
