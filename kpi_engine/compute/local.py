"""DuckDB in this process, over the Parquet files of imported datasets.

One in-memory DuckDB per process, shared by its threads through a cursor each (a DuckDB
connection is not thread-safe). Each dataset version is a view named like its table in the
analysis SQL (``Dataset.table_name``: id and version), over ``read_parquet`` of its file:
a new version is a new view, so a query never mixes versions. The SQL runs as written,
with bound parameters.
"""

from __future__ import annotations

import os
import threading

import duckdb
import pandas as pd

from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier

DEFAULT_MEMORY_LIMIT = "4GB"
_lock = threading.Lock()
_creating = threading.Lock()  # DuckDB refuses two views created at once (a catalog conflict)
_state: dict = {"con": None, "views": set(), "filesystems": set()}


def memory_limit() -> str:
    return os.environ.get("KPILAB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def connection() -> duckdb.DuckDBPyConnection:
    """This process's DuckDB (opened on first use)."""
    with _lock:
        if _state["con"] is None:
            con = duckdb.connect(":memory:")
            try:
                con.execute("SET memory_limit = ?", [memory_limit()])
            except duckdb.Error:
                raise KpiLabError(
                    f"memory limit {memory_limit()!r} is not valid: write e.g. 4GB"
                ) from None
            _state["con"] = con
        return _state["con"]


def register_filesystem(protocol: str) -> None:
    """Let DuckDB read (and write) ``protocol://`` paths through fsspec (s3fs for s3)."""
    with _lock:
        if protocol in _state["filesystems"]:
            return
    import fsspec

    connection().register_filesystem(fsspec.filesystem(protocol))
    with _lock:
        _state["filesystems"].add(protocol)


def _view(dataset: Dataset) -> None:
    if dataset.location is None:
        raise KpiLabError(f"dataset {dataset.name!r} has no rows stored: import it again")
    name = dataset.table_name
    if name in _state["views"]:
        return
    if "://" in dataset.location:
        register_filesystem(dataset.location.split("://", 1)[0])
    path = dataset.location.replace("'", "''")  # our own file name, never user text
    with _creating:
        if name in _state["views"]:
            return
        with connection().cursor() as cur:
            cur.execute(
                f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS"
                f" SELECT * FROM read_parquet('{path}')"
            )
        _state["views"].add(name)


def run(dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """One analysis query on an imported dataset's current version."""
    _view(dataset)
    with connection().cursor() as cur:
        try:
            return cur.execute(sql, list(params)).df()
        except duckdb.IOException:
            raise KpiLabError(
                f"the rows of {dataset.name!r} cannot be read (their file is missing): import"
                " the file again"
            ) from None
