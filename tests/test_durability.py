"""A killed process in the middle of a large import: the workspace opens afterwards, every
earlier dataset is as it was, and nothing of the half-finished import is left.

The import runs in the real command line in its own process; it is killed with SIGKILL (no
clean-up code runs) once DuckDB has started writing the new table into the database file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT

SAMPLE = str(PROJECT / "sample_data" / "campaigns.csv")
BIG_ROWS = 3_000_000  # ~110 MB: half a second of writing on a 2-core machine
COLUMNS = "date, campaign, channel, impressions, clicks, conversions, spend, revenue"


def _write_csv(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""COPY (SELECT DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS date,
                    'Campaign ' || (i % 500) AS campaign, 'Search' AS channel,
                    1000 + i % 5000 AS impressions, i % 97 AS clicks, i % 7 AS conversions,
                    round((i % 1000) / 7.0, 2) AS spend, round((i % 3000) / 7.0, 2) AS revenue
                FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )
    con.close()


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("durability") / "big.csv"
    _write_csv(path, BIG_ROWS)
    return path


def _cli(db: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "kpi_engine", *args, "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _state(db: Path) -> dict:
    """Every dataset's registry entry and its sums, as the command line reports them."""
    state = {}
    for d in _cli(db, "datasets")["datasets"]:
        sums = _cli(db, "kpis", d["dataset_id"], "--kpi", "spend", "--kpi", "clicks")["rows"]
        state[d["dataset_id"]] = (d["name"], d["rows"], d["columns"], sums)
    return state


def _kill_mid_import(db: Path, step: str, *args: str) -> None:
    """Start an import and SIGKILL it at ``step``: "writing" once DuckDB is writing the new
    table into the file, or as soon as the import reports that step ("Checking data quality":
    the table is built and registered, not yet committed)."""
    size = db.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpi_engine", "import", *args, "--db", str(db), "--progress"],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wanted = "Importing" if step == "writing" else step
        for line in proc.stderr:
            if wanted in line:
                break
        else:
            pytest.fail(f"the import ended before {step!r}")
        start = time.monotonic()
        while step == "writing" and db.stat().st_size < size + (1 << 20):
            assert proc.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() - start < 120
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("how", "step"),
    [
        ("new dataset", "writing"),
        ("new dataset", "Checking data quality"),
        ("append", "Checking data quality"),
    ],
)
def test_sigkill_during_an_import_leaves_the_workspace_as_it_was(tmp_path, big_csv, how, step):
    db = tmp_path / "ws.duckdb"
    _cli(db, "import", SAMPLE, "--name", "Sample")
    small = tmp_path / "base.csv"
    _write_csv(small, 1000)
    base = _cli(db, "import", str(small), "--name", "Base")
    before = _state(db)

    extra = ["--append", base["dataset_id"]] if how == "append" else ["--name", "Half"]
    _kill_mid_import(db, step, str(big_csv), *extra)

    assert _state(db) == before  # opens; every dataset has its rows and sums
    con = duckdb.connect(str(db), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    data_tables = {t for t in tables if t.startswith(("ds_", "stage_", "long_"))}
    assert data_tables == set(before)  # no half-written table left behind
    again = _cli(db, "import", SAMPLE, "--name", "After restart")  # and it takes new imports
    sample_rows = next(rows for name, rows, _, _ in before.values() if name == "Sample")
    assert again["rows"] == sample_rows
