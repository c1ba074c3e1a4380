"""Import and KPI-query speed and memory: KPI Lab next to DuckDB's own read_csv and pandas.

    python benchmarks/ingest.py                  # 1M, 5M and 10M rows (about 95 MB a million)
    python benchmarks/ingest.py --rows 100k      # other sizes (k and M suffixes work)

Each measurement runs in a fresh process, three times (--repeat): the table shows medians.
"peak RSS" is the process's own peak (interpreter
and libraries included); "+MB" is the peak over the RSS just before the import started, the
memory the import itself needed. The same generated CSV feeds every path:

  kpilab        Store(file) + import_file (sniff, role detection, staging, the rows written
                as a Parquet file and published, the registry entry, data-quality report) +
                run_kpis(spend, revenue, roas, cpa, ctr by campaign) on that file
  duckdb-parquet  DuckDB's own COPY (SELECT * FROM read_csv(path)) TO a Parquet file + the
                same five KPIs by campaign written in SQL over read_parquet: the floor for
                KPI Lab's storage; "vs floor" compares every path with this one
  duckdb        CREATE TABLE AS SELECT * FROM read_csv(path) into a database file with the
                app's settings (preserve_insertion_order = false) + the five KPIs in SQL
                (how KPI Lab stored rows before the state database)
  duckdb-default  the same with DuckDB's default settings (insertion order kept)
  pandas        pandas.read_csv(path) + groupby(campaign).sum() + the same five ratios;
                nothing is stored
  pandas+store  pandas.read_csv(path), then the frame stored in a DuckDB database file with
                the app's settings (CREATE TABLE AS SELECT * FROM frame): what "pandas
                first" costs end to end
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.e2e.server import status_mb  # noqa: E402  (stdlib only: no effect on the RSS)

DATA = HERE / ".data"
METHODS = ("kpilab", "duckdb-parquet", "duckdb", "duckdb-default", "pandas", "pandas+store")
FLOOR = "duckdb-parquet"
APP_SETTINGS = "SET preserve_insertion_order = false"  # as kpi_engine.store.Store sets it
KPIS = ("spend", "revenue", "roas", "cpa", "ctr")


def parse_rows(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def make_csv(rows: int) -> Path:
    """A seeded agency export of ad group x device x day rows, about 100 bytes a row:
    500 campaigns, 5 channels, 40 ad groups, 3 devices, 365 days; written by DuckDB."""
    import duckdb

    DATA.mkdir(exist_ok=True)
    path = DATA / f"adgroups_{rows}.csv"
    if path.exists():
        return path
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""COPY (
            SELECT DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS date,
                   'Campaign ' || (i // 365 % 500) || ' | Prospecting' AS campaign,
                   'Ad group ' || lpad(CAST(i // 182500 % 40 AS VARCHAR), 3, '0') AS ad_group,
                   ['Mobile', 'Desktop', 'Tablet'][1 + i // 7 % 3] AS device,
                   ['Google Ads', 'Meta Ads', 'TikTok', 'LinkedIn', 'Microsoft Ads'][1 + i % 5]
                       AS channel,
                   CAST(1000 + random() * 50000 AS BIGINT) AS impressions,
                   CAST(10 + random() * 900 AS BIGINT) AS clicks,
                   CAST(random() * 40 AS BIGINT) AS conversions,
                   round(5 + random() * 800, 2) AS spend,
                   round(random() * 3000, 2) AS revenue
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')"""
    )
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _result(before: float, start: float, imported: float, done: float, groups: int) -> dict:
    return {
        "import_s": imported - start,
        "query_s": done - imported,
        "groups": groups,
        "before_mb": before,
    }


def run_kpilab(csv: Path, db: Path) -> dict:
    from kpi_engine.ingest import import_file
    from kpi_engine.kpis.query import KpiQuery, run_kpis
    from kpi_engine.store import Store

    store = Store(db)
    before = status_mb("self")
    start = time.perf_counter()
    dataset = import_file(store, csv).dataset
    imported = time.perf_counter()
    table = run_kpis(store, dataset, KpiQuery(KPIS, ("campaign",)))
    done = time.perf_counter()
    return _result(before, start, imported, done, len(table))


def run_duckdb(csv: Path, db: Path, app_settings: bool = True) -> dict:
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    if app_settings:
        con.execute(APP_SETTINGS)
    before = status_mb("self")
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
    imported = time.perf_counter()
    table = con.execute(_DUCKDB_KPIS).fetchall()
    done = time.perf_counter()
    return _result(before, start, imported, done, len(table))


_DUCKDB_KPIS = (
    "SELECT campaign, sum(spend), sum(revenue), sum(revenue) / nullif(sum(spend), 0),"
    " sum(spend) / nullif(sum(conversions), 0), sum(clicks) / nullif(sum(impressions), 0)"
    " FROM t GROUP BY campaign"
)


def run_duckdb_parquet(csv: Path, db: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    out = str(db.with_suffix(".parquet"))
    before = status_mb("self")
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv(?)) TO '{out}' (FORMAT parquet)", [str(csv)])
    imported = time.perf_counter()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}')")
    table = con.execute(_DUCKDB_KPIS).fetchall()
    done = time.perf_counter()
    return _result(before, start, imported, done, len(table))


def run_pandas_store(csv: Path, db: Path) -> dict:
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    con.execute(APP_SETTINGS)
    before = status_mb("self")
    start = time.perf_counter()
    frame = pd.read_csv(csv)
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    con.unregister("frame")
    del frame
    imported = time.perf_counter()
    table = con.execute(_DUCKDB_KPIS).fetchall()
    done = time.perf_counter()
    return _result(before, start, imported, done, len(table))


def run_pandas(csv: Path, db: Path) -> dict:
    import pandas as pd

    before = status_mb("self")
    start = time.perf_counter()
    frame = pd.read_csv(csv)
    imported = time.perf_counter()
    sums = frame.groupby("campaign")[
        ["spend", "revenue", "conversions", "clicks", "impressions"]
    ].sum()
    table = pd.DataFrame(
        {
            "spend": sums["spend"],
            "revenue": sums["revenue"],
            "roas": sums["revenue"] / sums["spend"].where(sums["spend"] != 0),
            "cpa": sums["spend"] / sums["conversions"].where(sums["conversions"] != 0),
            "ctr": sums["clicks"] / sums["impressions"].where(sums["impressions"] != 0),
        }
    )
    done = time.perf_counter()
    return _result(before, start, imported, done, len(table))


def worker(method: str, csv: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = {
            "kpilab": run_kpilab,
            "duckdb-parquet": run_duckdb_parquet,
            "duckdb": run_duckdb,
            "duckdb-default": lambda csv, db: run_duckdb(csv, db, app_settings=False),
            "pandas": run_pandas,
            "pandas+store": run_pandas_store,
        }[method]
        result = run(csv, Path(tmp) / "bench.db")
    result["peak_mb"] = _peak_mb()
    print(json.dumps(result))


def measure(method: str, csv: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, str(csv)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs) -> dict:
    """Each figure's median over the runs (the machine is shared: single runs vary ~20%)."""
    runs = list(runs)
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", action="append", default=[], help="a size, e.g. 10M (repeat)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (median shown)")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    sizes = [parse_rows(r) for r in args.rows] or [1_000_000, 5_000_000, 10_000_000]
    print(
        f"# {platform.processor() or platform.machine()}, {platform.python_version()},"
        f" {__import__('os').cpu_count()} cores"
    )
    header = (
        f"{'rows':>11} {'file MB':>8} {'method':>15} {'import s':>9} {'MB/s':>7}"
        f" {'vs floor':>9} {'KPI query s':>12} {'peak RSS MB':>12} {'+MB':>6} {'x file':>6}"
    )
    print(header)
    print("-" * len(header))
    for rows in sizes:
        csv = make_csv(rows)
        size_mb = csv.stat().st_size / 1e6
        results = {
            method: _median(measure(method, csv) for _ in range(args.repeat)) for method in METHODS
        }
        reference = results[FLOOR]["import_s"]
        for method, r in results.items():
            extra = r["peak_mb"] - r["before_mb"]
            print(
                f"{rows:>11,} {size_mb:>8.1f} {method:>15} {r['import_s']:>9.2f}"
                f" {size_mb / r['import_s']:>7.1f} {reference / r['import_s']:>8.0%}"
                f" {r['query_s']:>12.3f} {r['peak_mb']:>12.0f} {extra:>6.0f}"
                f" {extra / size_mb:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
