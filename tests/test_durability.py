"""A killed process in the middle of a large import: the workspace opens afterwards, every
earlier dataset is as it was, the registry and the files agree, and what the killed import
left (its scratch folder, a published file it never registered) is swept at the next start.

The import runs in the real command line in its own process; it is killed with SIGKILL (no
clean-up code runs) at each step: while it stages the rows, after its Parquet file is
written, after that file is published under its final name, and before the registry commit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store
from tests.conftest import PROJECT

pytestmark = pytest.mark.slow  # real child processes, killed or capped: make test runs it

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


def _state(db: Path) -> dict:
    """Every dataset's registry entry and its sums, read by a fresh store as a new process
    would read them."""
    store = Store(db)
    try:
        state = {}
        for d in store.datasets():
            sums = run_kpis(store, d, KpiQuery(("spend", "clicks"))).to_dict("records")
            state[d.dataset_id] = (d.name, d.rows, d.columns, d.version, sums)
        return state
    finally:
        store.close()


def _content(state: dict) -> dict:
    """A state without its ids and version stamps: which rows each dataset (by name) holds."""
    return {name: (rows, columns, sums) for name, rows, columns, _, sums in state.values()}


def _finished(db: Path, big_csv: Path, how: str, base) -> dict:
    """The state the interrupted import makes when nothing stops it."""
    store = Store(db)
    try:
        options = ImportOptions(append=base.dataset_id) if how == "append" else None
        import_file(store, str(big_csv), name=None if options else "Half", options=options)
    finally:
        store.close()
    return _state(db)


def _files(data: Path) -> set[Path]:
    return {p for p in data.rglob("*") if p.is_file()}


def _kill_mid_import(db: Path, step: str, *args: str) -> None:
    """Start an import and SIGKILL it as soon as it reports ``step`` (for "Staging": once its
    scratch database has grown, so DuckDB is writing the staged rows)."""
    scratch = db.with_name(db.stem + "-data") / ".tmp"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpi_engine", "import", *args, "--db", str(db), "--progress"],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wanted = "Importing" if step == "Staging" else step
        for line in proc.stderr:
            if wanted in line:
                break
        else:
            pytest.fail(f"the import ended before {step!r}")
        start = time.monotonic()
        while step == "Staging" and sum(f.stat().st_size for f in _files(scratch)) < 1 << 20:
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
        ("new dataset", "Staging"),
        ("new dataset", "Publishing the rows"),  # the Parquet file written, not yet renamed
        ("new dataset", "Saving"),  # published under its final name, not yet registered
        ("append", "Publishing the rows"),
        ("append", "Saving"),
    ],
)
def test_sigkill_during_an_import_leaves_the_workspace_as_it_was(tmp_path, big_csv, how, step):
    db = tmp_path / "ws.sqlite"
    data = tmp_path / "ws-data"
    small = tmp_path / "base.csv"
    _write_csv(small, 1000)
    store = Store(db)
    import_file(store, SAMPLE, name="Sample")
    base = import_file(store, small, name="Base").dataset
    store.close()
    before, files = _state(db), _files(data)

    extra = ["--append", base.dataset_id] if how == "append" else ["--name", "Half"]
    reference = tmp_path / "reference"  # the same workspace, for the import run to its end
    shutil.copytree(data, reference / data.name)
    for part in tmp_path.glob(db.name + "*"):  # the database and its WAL, if any
        shutil.copy(part, reference / part.name)
    _kill_mid_import(db, step, str(big_csv), *extra)

    after = _state(db)  # opens; every dataset has its rows and sums
    landed = after != before
    if landed:  # "Saving" reported, then the short commit won the race with the kill
        assert step == "Saving"
        assert _content(after) == _content(_finished(reference / db.name, big_csv, how, base))
    assert _files(data) - files  # the killed import's scratch folder, or the file it published
    restarted = Store(db)
    restarted.sweep(older_than=0)  # what the app does when it starts (after an hour's grace)
    if not landed:
        assert _files(data) == files  # the registry and the files agree again
    again = import_file(restarted, SAMPLE, name="After restart")  # and it takes new imports
    restarted.close()
    assert again.dataset.rows == next(
        rows for name, rows, *_ in before.values() if name == "Sample"
    )
