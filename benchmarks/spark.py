"""Each analysis on DuckDB (the rows imported) and on Spark (the same rows as a Parquet file,
attached) four ways: ``local[2]`` in the process, a standalone master with one 2-core worker,
Spark Connect from classic PySpark, and Spark Connect from the thin client alone
(``pyspark-client``, no JVM); seconds per analysis, session start, peak memory, and the time
to answer again after the standalone cluster and the Connect server restart.

    python benchmarks/spark.py                 # 1M and 5M rows
    python benchmarks/spark.py --rows 100k     # other sizes

The clusters are started from the installed pyspark's own scripts (``tests/spark/clusters``);
the thin client is the one ``make test`` installs in .venv/thin-client.

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
import shutil
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
from tests.spark import clusters  # noqa: E402

ENGINES = ("duckdb", "local[2]", "standalone", "connect", "connect (thin)")
RUNS = 3
THIN = Path(sys.prefix) / "thin-client"
# attaching from inside the project is refused (KPI Lab's own files): the lake is a copy
LAKE = Path(tempfile.gettempdir()) / "kpilab-bench-lake"


def in_lake(path: Path) -> Path:
    LAKE.mkdir(exist_ok=True)
    copy = LAKE / path.name
    if not copy.exists():
        shutil.copyfile(path, copy)
    return copy


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
    from kpi_engine.analyses import run
    from kpi_engine.ingest import import_file
    from kpi_engine.ingest.attach import AttachOptions, attach
    from kpi_engine.store import Store

    files = {"campaigns": in_lake(make_campaigns(rows)), "users": in_lake(make_users(rows))}
    out: dict = {"timings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.sqlite")
        start = time.perf_counter()
        if engine != "duckdb":
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
        if engine in ("local[2]", "standalone"):
            out["jvm_peak_mb"] = status_mb(session.sparkContext._gateway.proc.pid, "VmHWM")
        store.close()
    print(json.dumps(out))


def measure(engine: str, rows: int, masters: dict[str, str]) -> dict:
    env = {**os.environ, "KPILAB_SPARK_MASTER": masters.get(engine, "local[2]")}
    env["KPILAB_ATTACH_ROOTS"] = str(LAKE)
    if engine == "connect (thin)":
        env["PYTHONPATH"] = os.pathsep.join([str(THIN), str(HERE.parent)])
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", engine, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="append", type=parse_rows)
    parser.add_argument("--worker", choices=ENGINES)
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 5_000_000]
    if args.worker:
        worker(args.worker, sizes[0])
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        master = clusters.master(folder).start()
        url = f"spark://127.0.0.1:{master.port}"
        worker_ = clusters.worker(url, folder).start()
        server = clusters.connect_server(folder).start()
        masters = {"standalone": url, "connect": f"sc://127.0.0.1:{server.port}"}
        masters["connect (thin)"] = masters["connect"]
        try:
            report(sizes, masters)
            recovery(masters, (master, worker_), server)
        finally:
            for daemon in (server, worker_, master):
                daemon.stop()


def recovery(masters: dict[str, str], standalone, server) -> None:
    """Seconds from the cluster being back to the next answer, with this process's session
    open across the restart (the app's case), for a 100k-row campaign file."""
    from kpi_engine.compute import spark
    from kpi_engine.ingest.attach import AttachOptions, attach
    from kpi_engine.kpis.query import KpiQuery, run_kpis
    from kpi_engine.store import Store

    os.environ["KPILAB_ATTACH_ROOTS"] = str(LAKE)
    master, worker_ = standalone
    steps = {
        "standalone": (lambda: (worker_.stop(), master.stop()),
                       lambda: (master.start(), worker_.start())),
        "connect": (server.stop, server.start),
    }  # fmt: skip
    print("\n| restarted | answer again after it is back, s | restart itself, s |")
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.sqlite")
        for name, (down, up) in steps.items():
            os.environ["KPILAB_SPARK_MASTER"] = masters[name]
            spark.heal()
            source = in_lake(make_campaigns(100_000))
            dataset = attach(store, AttachOptions(path=str(source))).dataset
            query = KpiQuery(("spend", "roas"), by=("channel",))
            run_kpis(store, dataset, query)
            down()
            started = time.perf_counter()
            up()
            back = time.perf_counter()
            run_kpis(store, dataset, query)
            print(f"| {name} | {time.perf_counter() - back:.1f} | {back - started:.1f} |")
        spark.heal()
        store.close()


def report(sizes: list[int], masters: dict[str, str]) -> None:
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| rows | engine | analysis | median s | first s |")
    print("|---:|---|---|---:|---:|")
    notes = []
    for rows in sizes:
        for engine in ENGINES:
            res = measure(engine, rows, masters)
            for name, times in res["timings"].items():
                print(
                    f"| {rows:,} | {engine} | {name} | {statistics.median(times):.2f}"
                    f" | {times[0]:.2f} |"
                )
            memory = f"Python peak {res['python_peak_mb']:,.0f} MB"
            if "jvm_peak_mb" in res:
                memory += f", driver JVM peak {res['jvm_peak_mb']:,.0f} MB"
            if engine != "duckdb":
                memory += f"; session start {res['start_s']:.1f} s, attach {res['load_s']:.1f} s"
            else:
                memory += f"; import {res['load_s']:.1f} s"
            notes.append(f"- {rows:,} rows, {engine}: {memory}")
    print("\n".join(["", *notes]))


if __name__ == "__main__":
    main()
