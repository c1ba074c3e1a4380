"""Fixtures shared by the unit and page tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_engine.store import SYSTEM_TABLES, Store

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = PROJECT.parent / "shared" / "data"


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


def nothing_stored(store: Store) -> bool:
    """No dataset table and no registry entry: what a refused import must leave."""
    with store.cursor() as cur:
        tables = cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT list_contains(?, table_name)",
            [list(SYSTEM_TABLES)],
        ).fetchone()[0]
    return tables == 0 and store.datasets() == []


def aged_workspace(root: Store, days_old: float) -> tuple[Store, str]:
    """A workspace seeded with the samples, dated ``days_old`` days back, and its token."""
    from datetime import datetime, timedelta

    from kpi_engine.samples import seed_samples
    from kpi_engine.sharing.workspaces import create_workspace

    store, token = create_workspace(root)
    seed_samples(store)
    with root.transaction() as cur:
        cur.execute(
            "UPDATE workspaces SET created_at = ? WHERE workspace_id = ?",
            [datetime.now() - timedelta(days=days_old), store.workspace],
        )
    return store, token
