"""Each process copies the versions it queries into a cache of DuckDB tables (reading a
Parquet file is 3-5x slower for a group-by): the answers are the same before, during and
after the copy, and the least recently used copies go past the budget."""

from __future__ import annotations

import time

import pytest
from pandas.testing import assert_frame_equal

from kpi_engine.compute import local
from kpi_engine.ingest import import_file
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.samples import SAMPLE_DIR

QUERY = KpiQuery(("spend", "roas", "ctr"), ("campaign",))


@pytest.fixture(autouse=True)
def copying():
    local.caching(True)
    yield
    local.caching(False)


def _wait_cached(name: str, present: bool = True) -> None:
    deadline = time.monotonic() + 30
    while (name in local.cached_versions()) != present:
        assert time.monotonic() < deadline, local.cached_versions()
        time.sleep(0.02)


def _same(a, b) -> None:
    """The same rows and values; sums to 1e-12 (DuckDB adds floats on several threads, in an
    order that differs between a table and a file)."""
    assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_a_queried_version_is_copied_and_answers_the_same(store):
    dataset = import_file(store, SAMPLE_DIR / "campaigns.csv").dataset
    from_file = run_kpis(store, dataset, QUERY)  # starts the copy
    _wait_cached(dataset.table_name)
    _same(run_kpis(store, dataset, QUERY), from_file)


def test_past_the_budget_the_oldest_copy_goes_and_its_file_is_read(store, monkeypatch):
    first = import_file(store, SAMPLE_DIR / "campaigns.csv", name="first").dataset
    second = import_file(store, SAMPLE_DIR / "campaigns.csv", name="second").dataset
    size = max(local._size(d.location) for d in (first, second))
    monkeypatch.setenv("KPILAB_CACHE_MB", str(1.5 * size / 2**20))  # room for one
    before = run_kpis(store, first, QUERY)
    _wait_cached(first.table_name)
    run_kpis(store, second, QUERY)
    _wait_cached(second.table_name)
    _wait_cached(first.table_name, present=False)
    _same(run_kpis(store, first, QUERY), before)  # from its file again


def test_a_dataset_larger_than_the_budget_is_read_from_its_file(store, monkeypatch):
    monkeypatch.setenv("KPILAB_CACHE_MB", "0.001")
    dataset = import_file(store, SAMPLE_DIR / "campaigns.csv").dataset
    run_kpis(store, dataset, QUERY)
    time.sleep(0.2)
    assert dataset.table_name not in local.cached_versions()


def test_a_process_that_ends_while_copying_exits_cleanly(tmp_path):
    """A thread left inside DuckDB when the interpreter ended aborted the process (SIGABRT,
    found by benchmarks/ingest.py): the copy is interrupted and waited for at exit."""
    import subprocess
    import sys

    from tests.conftest import PROJECT

    code = (
        "from kpi_engine.store import Store\n"
        "from kpi_engine.ingest import import_file\n"
        "from kpi_engine.kpis.query import KpiQuery, run_kpis\n"
        f"s = Store({str(tmp_path / 'state.sqlite')!r})\n"
        f"d = import_file(s, {str(SAMPLE_DIR / 'campaigns.csv')!r}).dataset\n"
        "run_kpis(s, d, KpiQuery(('spend',)))\n"  # starts the copy, then the process ends
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True)
    assert done.returncode == 0, done.stderr[-500:]
