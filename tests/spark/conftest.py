"""Spark tests: one ``local[2]`` session for the whole run, and every dataset of
``engine_shapes`` both imported into DuckDB and, written as Parquet, attached on Spark.

They skip, saying why, where pyspark or Java 17 is missing; `.ci/run` installs both and sets
KPILAB_REQUIRE_SPARK=1, which turns a skip into a failure."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kpi_engine.ingest import import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.store import Dataset, Store
from tests.engine_shapes import write_datasets


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements-spark.txt)"
    major = _java_major()
    if major is None or major < 17:
        return (
            f"Spark needs Java 17 or newer, found {major} (apt-get install openjdk-17-jre-headless)"
        )
    return None


@pytest.fixture(scope="session")
def spark_session():
    reason = _missing()
    if reason and os.environ.get("KPILAB_REQUIRE_SPARK"):
        pytest.fail(f"KPILAB_REQUIRE_SPARK is set but {reason}")
    if reason:
        pytest.skip(reason)
    os.environ["KPILAB_SPARK_MASTER"] = "local[2]"
    from kpi_engine.compute import spark

    return spark.session()


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
