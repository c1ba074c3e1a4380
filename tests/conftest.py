"""Fixtures shared by the unit and page tests."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kpi_engine.store import Store

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _no_cache_copies():
    """Tests open hundreds of throwaway stores in one process: copying each version into
    the process's cache would only pile up work (test_compute_cache turns it on)."""
    from kpi_engine.compute import local

    local.caching(False)
    yield


FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = PROJECT.parent / "shared" / "data"
SAMPLE_CAMPAIGNS = PROJECT / "sample_data" / "campaigns.csv"


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements-spark.txt)"
    major = _java_major()
    if major is None or major < 17:
        return (
            f"Spark needs Java 17 or newer, found {major} (apt-get install openjdk-17-jre-headless)"
        )
    return None


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One ``local[2]`` Spark session for the whole run, allowed to attach what the tests
    write under pytest's temporary folder. Skips, saying why, where pyspark or Java 17 is
    missing; `.ci/run` installs both and sets KPILAB_REQUIRE_SPARK=1, which turns the skip
    into a failure."""
    reason = spark_missing()
    if reason and os.environ.get("KPILAB_REQUIRE_SPARK"):
        pytest.fail(f"KPILAB_REQUIRE_SPARK is set but {reason}")
    if reason:
        pytest.skip(reason)
    os.environ["KPILAB_SPARK_MASTER"] = "local[2]"
    os.environ["KPILAB_ATTACH_ROOTS"] = str(tmp_path_factory.getbasetemp())
    from kpi_engine.compute import spark

    return spark.session()


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway Postgres for the whole run (tests/postgres.py). Skips where Debian's
    postgresql is missing; `.ci/run` installs it and sets KPILAB_REQUIRE_POSTGRES=1, which
    turns the skip into a failure."""
    from tests.postgres import Cluster, binaries

    if binaries() is None:
        reason = "Postgres is not installed (apt-get install postgresql)"
        if os.environ.get("KPILAB_REQUIRE_POSTGRES"):
            pytest.fail(f"KPILAB_REQUIRE_POSTGRES is set but {reason}")
        pytest.skip(reason)
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def state_store(request, tmp_path, monkeypatch):
    """A store on each kind of state database: a SQLite file, and a Postgres database."""
    if request.param == "sqlite":
        target = str(tmp_path / "state.sqlite")
    else:
        target = request.getfixturevalue("postgres_cluster").new_database()
    monkeypatch.setenv("KPILAB_DATA_DIR", str(tmp_path / "data"))
    s = Store(target)
    yield s
    s.close()


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write text to a CSV file in tmp_path and return its path."""

    def write(text: str, name: str = "report.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return path

    return write


def rows(store: Store, dataset, sql: str) -> list[tuple]:
    """``sql`` (naming ``dataset.table``) on the dataset's stored rows, as tuples."""
    frame = store.query(dataset, sql)
    return [tuple(None if v != v else v for v in row) for row in frame.itertuples(index=False)]


def nothing_stored(store: Store) -> bool:
    """No registry entry and no file of rows: what a refused import must leave (a file an
    import published before it failed would be an orphan; none may be left)."""
    files = [p for p in Path(store.data.root).rglob("*.parquet") if ".tmp" not in p.parts]
    return store.datasets() == [] and files == []


def aged_workspace(root: Store, days_old: float) -> tuple[Store, str]:
    """A workspace seeded with the samples, dated ``days_old`` days back, and its token."""
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from kpi_engine.samples import seed_samples
    from kpi_engine.sharing.workspaces import create_workspace
    from kpi_engine.state.schema import workspaces

    store, token = create_workspace(root)
    seed_samples(store)
    with root.transaction() as conn:
        conn.execute(
            update(workspaces)
            .where(workspaces.c.workspace_id == store.workspace)
            .values(created_at=datetime.now() - timedelta(days=days_old))
        )
    return store, token
