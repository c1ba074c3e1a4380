"""Spark tests: every dataset of ``engine_shapes`` imported (its rows a Parquet file in the
data folder), and read on Spark two ways: the very file the import wrote, and a copy of it
attached as a lake table (the session: ``spark_session`` in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pytest

from kpi_engine.datasets import Dataset
from kpi_engine.ingest import import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.store import Store
from tests.engine_shapes import write_datasets
from tests.spark import clusters


@dataclass(frozen=True)
class Lake:
    store: Store
    folder: Path
    csv: dict[str, Path]
    pairs: dict[str, tuple[Dataset, Dataset]]  # name → (imported, its own file on Spark)
    attached: dict[str, tuple[Dataset, Dataset]]  # name → (imported, a copy attached)


def write_parquet(store: Store, dataset: Dataset, path: Path) -> Path:
    """A copy of an imported dataset's rows, as a lake would hold them."""
    shutil.copyfile(dataset.location, path)
    return path


def on_spark(dataset: Dataset) -> Dataset:
    """The same rows, the same file, read by Spark instead of this process's DuckDB."""
    return replace(dataset, engine="spark", source={"path": dataset.location, "format": "parquet"})


@pytest.fixture(scope="session")
def lake(spark_session, tmp_path_factory) -> Lake:
    folder = tmp_path_factory.mktemp("lake")
    store = Store(str(folder / "ws.sqlite"))
    csv = write_datasets(folder)
    pairs, attached = {}, {}
    for name, path in csv.items():
        local = import_file(store, path, name=name).dataset
        pairs[name] = (local, on_spark(local))
        parquet = write_parquet(store, local, folder / f"{name}.parquet")
        remote = attach(store, AttachOptions(path=str(parquet), name=f"lake {name}")).dataset
        attached[name] = (local, remote)
    yield Lake(store, folder, csv, pairs, attached)
    store.close()


@pytest.fixture(scope="session")
def delta_table(lake) -> Path:
    """The campaigns as a Delta table partitioned by channel, then changed twice (rows
    deleted, one channel's spend rewritten): its folder keeps the files the log removed."""
    from deltalake import DeltaTable, write_deltalake

    table = lake.folder / "campaigns_delta"
    rows = duckdb.sql(f"SELECT * FROM '{lake.folder / 'campaigns.parquet'}'").to_arrow_table()
    write_deltalake(str(table), rows, partition_by=["channel"])
    DeltaTable(str(table)).delete("campaign = 'Search - Brand'")
    DeltaTable(str(table)).update({"spend": "spend * 2"}, predicate="channel = 'Meta Ads'")
    return table


@pytest.fixture(scope="session")
def standalone(spark_session, tmp_path_factory):
    folder = tmp_path_factory.mktemp("standalone")
    master = clusters.master(folder).start()
    url = f"spark://127.0.0.1:{master.port}"
    worker = clusters.worker(url, folder).start()
    yield url, master, worker
    worker.stop()
    master.stop()


@pytest.fixture(scope="session")
def connect(spark_session, tmp_path_factory):
    server = clusters.connect_server(tmp_path_factory.mktemp("connect")).start()
    yield f"sc://127.0.0.1:{server.port}", server
    server.stop()


@contextmanager
def on(url: str, **env: str):
    """The process's session on another master (and other settings) for a while."""
    from kpi_engine.compute import spark

    before = {k: os.environ.get(k) for k in ("KPILAB_SPARK_MASTER", *env)}
    os.environ.update({"KPILAB_SPARK_MASTER": url, **env})
    spark.heal()
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        spark.heal()
