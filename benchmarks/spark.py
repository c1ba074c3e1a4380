"""Each analysis on DuckDB (the rows imported) and on Spark ``local[2]`` (the same rows as a
Parquet file, attached): seconds per analysis, Spark's start, and peak memory.

    python benchmarks/spark.py                 # 1M and 10M rows
    python benchmarks/spark.py --rows 100k     # other sizes

Data (seeded, written by DuckDB into benchmarks/.data/, git-ignored): campaign rows (500
campaigns x 365 days x ad groups and devices, as ``ingest.py``'s export) and user rows (as
``experiment.py``'s). Each engine runs in a fresh process: it imports (DuckDB) or attaches
(Spark) both files, then runs each analysis three times; the table shows the median and the
first run (Spark compiles a query's plan on its first run). Import and attach times are not
in the analysis columns. Peak memory: the Python process's and, for Spark, the JVM's (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from experiment import make_users  # noqa: E402
from ingest import make_csv, parse_rows  # noqa: E402

from tests.e2e.server import status_mb  # noqa: E402

ENGINES = ("duckdb", "spark")
RUNS = 3


def make_campaigns(rows: int) -> Path:
    """``ingest.py``'s agency export as Parquet."""
    import duckdb

    path = HERE / ".data" / f"adgroups_{rows}.parquet"
    if not path.exists():
        csv = make_csv(rows)
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{path}' (FORMAT parquet)")
    return path


def _analyses(campaigns, users) -> dict:
    from kpi_engine.budget.spec import BudgetSpec
    from kpi_engine.experiments.spec import ExperimentSpec
    from kpi_engine.kpis.spec import KpiViewSpec

    kpis = ("spend", "revenue", "roas", "cpa", "ctr")
    return {
        "KPI totals": (campaigns, KpiViewSpec(campaigns.dataset_id, kpis)),
        "KPIs by campaign": (
            campaigns,
            KpiViewSpec(campaigns.dataset_id, kpis, by=("campaign",), sort="roas", limit=50),
        ),
        "weekly trend by channel": (
            campaigns,
            KpiViewSpec(campaigns.dataset_id, ("spend", "roas"), grain="week", lines_by="channel"),
        ),
        "experiment (users)": (
            users,
            ExperimentSpec(
                users.dataset_id, "variant", "control", ("conversion_rate", "revenue_per_user")
            ),
        ),
        "experiment + cap, CUPED, segments": (
            users,
            ExperimentSpec(
                users.dataset_id,
                "variant",
                "control",
                ("conversion_rate", "revenue_per_user"),
                caps=(("revenue_per_user", "p99"),),
                covariates=(("revenue_per_user", "pre_revenue"),),
                segment_col="device",
            ),
        ),
        "budget (200 draws)": (campaigns, BudgetSpec(campaigns.dataset_id, bootstrap=200)),
    }


def worker(engine: str, rows: int) -> None:
    os.environ.setdefault("KPILAB_SPARK_MASTER", "local[2]")
    from kpi_engine.analyses import run
    from kpi_engine.ingest import import_file
    from kpi_engine.ingest.attach import AttachOptions, attach
    from kpi_engine.store import Store

    files = {"campaigns": make_campaigns(rows), "users": make_users(rows)}
    out: dict = {"timings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.sqlite")
        start = time.perf_counter()
        if engine == "spark":
            from kpi_engine.compute import spark

            session = spark.session()
            out["start_s"] = time.perf_counter() - start
            datasets = {
                n: attach(store, AttachOptions(path=str(p))).dataset for n, p in files.items()
            }
        else:
            datasets = {n: import_file(store, p, name=n).dataset for n, p in files.items()}
        out["load_s"] = time.perf_counter() - start - out.get("start_s", 0.0)
        for name, (dataset, spec) in _analyses(datasets["campaigns"], datasets["users"]).items():
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                run(store, dataset, spec)
                times.append(time.perf_counter() - t)
            out["timings"][name] = times
        out["python_peak_mb"] = status_mb("self", "VmHWM")
        if engine == "spark":
            out["jvm_peak_mb"] = status_mb(session.sparkContext._gateway.proc.pid, "VmHWM")
        store.close()
    print(json.dumps(out))


def measure(engine: str, rows: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", engine, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="append", type=parse_rows)
    parser.add_argument("--worker", choices=ENGINES)
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 10_000_000]
    if args.worker:
        worker(args.worker, sizes[0])
        return
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| rows | engine | analysis | median s | first s |")
    print("|---:|---|---|---:|---:|")
    notes = []
    for rows in sizes:
        for engine in ENGINES:
            res = measure(engine, rows)
            for name, times in res["timings"].items():
                print(
                    f"| {rows:,} | {engine} | {name} | {statistics.median(times):.2f}"
                    f" | {times[0]:.2f} |"
                )
            memory = f"Python peak {res['python_peak_mb']:,.0f} MB"
            if engine == "spark":
                memory += f", JVM peak {res['jvm_peak_mb']:,.0f} MB"
                memory += f"; session start {res['start_s']:.1f} s, attach {res['load_s']:.1f} s"
            else:
                memory += f"; import {res['load_s']:.1f} s"
            notes.append(f"- {rows:,} rows, {engine}: {memory}")
    print("\n".join(["", *notes]))


if __name__ == "__main__":
    main()
