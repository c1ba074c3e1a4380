"""Each analysis on the rows as stored since the state database (a Parquet file, read through
each process's cache) against the DuckDB table in a database file they were stored in
before.

    python benchmarks/storage.py               # 10M rows
    python benchmarks/storage.py --rows 1M     # other sizes

The campaign and user rows are ``spark.py``'s (seeded, in benchmarks/.data/). In a fresh
process both files are imported (Parquet in the data folder), every analysis of
``spark.py``'s list runs once with its queries recorded, and then each recorded query runs
three times on each storage: the Parquet file read directly ("file"), the same through the
engine once the version is in the process's cache ("kpilab"; the first queries of a version
read the file while it is copied), and a DuckDB database file holding the rows as a table
with the old store's settings ("table"): the medians, summed per analysis. The SQL is the
same text on all three; only the storage differs.
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
from ingest import parse_rows  # noqa: E402
from spark import _analyses, make_campaigns  # noqa: E402

RUNS = 3


def _median(work) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(rows: int) -> None:
    import duckdb

    from kpi_engine.analyses import run
    from kpi_engine.compute import local
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store
    from tests.engine_shapes import Recorder

    files = {"campaigns": make_campaigns(rows), "users": make_users(rows)}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "state.sqlite")
        datasets = {n: import_file(store, p, name=n).dataset for n, p in files.items()}
        table_db = duckdb.connect(str(Path(tmp) / "tables.duckdb"))
        table_db.execute("SET preserve_insertion_order = false")
        table_db.execute("SET memory_limit = '4GB'")
        file_db = duckdb.connect()
        for d in datasets.values():
            rows_of = f"SELECT * FROM read_parquet('{d.location}')"
            table_db.execute(f"CREATE TABLE {d.table} AS {rows_of}")
            file_db.execute(f"CREATE VIEW {d.table} AS {rows_of}")
            store.query(d, f"SELECT count(*) FROM {d.table}")  # its copy into the cache starts
        while len(local.cached_versions()) < len(datasets):
            time.sleep(0.1)
        for name, (dataset, spec) in _analyses(datasets["campaigns"], datasets["users"]).items():
            recorder = Recorder(store)
            run(recorder, dataset, spec)  # type: ignore[arg-type]
            times = {"file_s": 0.0, "kpilab_s": 0.0, "table_s": 0.0}
            for sql, params, _ in recorder.queries:
                times["file_s"] += _median(lambda s=sql, p=params: file_db.execute(s, p).df())
                times["kpilab_s"] += _median(
                    lambda s=sql, p=params, d=dataset: store.query(d, s, p)
                )
                times["table_s"] += _median(lambda s=sql, p=params: table_db.execute(s, p).df())
            out[name] = {"queries": len(recorder.queries), **times}
        store.close()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10M")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = parse_rows(args.rows)
    if args.worker:
        worker(rows)
        return
    make_campaigns(rows), make_users(rows)  # written once, outside the measured process
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" {rows:,} rows"
    )
    print("| analysis | queries | table s (before) | file s | kpilab s | kpilab / table |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in result.items():
        ratio = r["kpilab_s"] / r["table_s"] if r["table_s"] else float("nan")
        times = f"{r['table_s']:.3f} | {r['file_s']:.3f} | {r['kpilab_s']:.3f}"
        print(f"| {name} | {r['queries']} | {times} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
