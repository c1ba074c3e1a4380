"""Spark tests: every dataset of ``engine_shapes`` both imported into DuckDB and, written as
Parquet, attached on Spark (the session: ``spark_session`` in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kpi_engine.ingest import import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.store import Dataset, Store
from tests.engine_shapes import write_datasets


@dataclass(frozen=True)
class Lake:
    store: Store
    folder: Path
    csv: dict[str, Path]
    pairs: dict[str, tuple[Dataset, Dataset]]  # name → (imported, attached)


def write_parquet(store: Store, dataset: Dataset, path: Path) -> Path:
    with store.cursor() as cur:
        cur.execute(f"COPY (SELECT * FROM {dataset.table}) TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="session")
def lake(spark_session, tmp_path_factory) -> Lake:
    folder = tmp_path_factory.mktemp("lake")
    store = Store(str(folder / "ws.duckdb"))
    csv = write_datasets(folder)
    pairs = {}
    for name, path in csv.items():
        local = import_file(store, path, name=name).dataset
        parquet = write_parquet(store, local, folder / f"{name}.parquet")
        remote = attach(store, AttachOptions(path=str(parquet), name=f"lake {name}")).dataset
        pairs[name] = (local, remote)
    yield Lake(store, folder, csv, pairs)
    store.close()
