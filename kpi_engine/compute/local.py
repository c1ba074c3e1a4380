"""DuckDB in this process, over the Parquet files of imported datasets.

One DuckDB per process, shared by its threads through a cursor each (a DuckDB connection is
not thread-safe). Each dataset version is a view named like its table in the analysis SQL
(``Dataset.table_name``: id and version), so a query never mixes versions. The SQL runs as
written, with bound parameters.

Reading Parquet costs more than reading DuckDB's own compressed tables (3-5x for a group-by
on campaign names at 10M rows, ``benchmarks/storage.py``), so a version that is queried is
also copied, in the background, into a table of this process's cache: a DuckDB file in a
local temporary folder (compressed; memory bounded by ``KPILAB_MEMORY_LIMIT``). Until the
copy is done its queries read the Parquet file; then the view reads the table. The cache
holds up to ``KPILAB_CACHE_MB`` (2048) of Parquet files, the least recently used dropped
first; a larger dataset is always read from its file.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import duckdb
import pandas as pd

from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier

DEFAULT_MEMORY_LIMIT = "4GB"
DEFAULT_CACHE_MB = 2048
MAX_TABLES = 200  # versions kept at once, however small
_LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_ddl = threading.Lock()  # DuckDB refuses two catalog changes at once (a write-write conflict)
_state: dict = {
    "con": None,
    "folder": None,
    "views": set(),  # versions with a view
    "cached": OrderedDict(),  # version -> (its file's bytes, the file's SELECT), by last use
    "loading": set(),
    "loaders": [],  # the threads copying versions into the cache
    "filesystems": set(),
    "caching": True,
}


def memory_limit() -> str:
    return os.environ.get("KPILAB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def caching(on: bool) -> None:
    """Whether this process copies the versions it queries into its cache: yes for the app
    (long-lived), no for a command-line call (it ends before a copy would pay off)."""
    _state["caching"] = on


def cache_bytes() -> int:
    try:
        return int(float(os.environ.get("KPILAB_CACHE_MB") or DEFAULT_CACHE_MB) * 2**20)
    except ValueError:
        return DEFAULT_CACHE_MB * 2**20


def _cache_folder() -> Path:
    """This process's cache folder; folders of processes that ended without removing theirs
    are removed first."""
    base = Path(tempfile.gettempdir(), "kpilab-cache")
    base.mkdir(exist_ok=True)
    for old in base.glob("*-*"):
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def connection() -> duckdb.DuckDBPyConnection:
    """This process's DuckDB (opened on first use)."""
    with _lock:
        if _state["con"] is None:
            folder = _cache_folder()
            con = duckdb.connect(str(folder / "cache.duckdb"))
            try:
                con.execute("SET memory_limit = ?", [memory_limit()])
            except duckdb.Error:
                raise KpiLabError(
                    f"memory limit {memory_limit()!r} is not valid: write e.g. 4GB"
                ) from None
            con.execute("SET temp_directory = ?", [str(folder / "spill")])
            _state["con"], _state["folder"] = con, folder
            atexit.register(_stop_loading)
        return _state["con"]


def _stop_loading() -> None:
    """At exit, interrupt the copies under way and wait for them: a thread left inside
    DuckDB when the interpreter ends aborts the process."""
    con = _state["con"]
    if con is None:
        return
    if _state["loading"]:
        con.interrupt()
    for thread in list(_state["loaders"]):
        thread.join(timeout=10)
    con.close()


def register_filesystem(protocol: str) -> None:
    """Let DuckDB read (and write) ``protocol://`` paths through fsspec (s3fs for s3)."""
    with _lock:
        if protocol in _state["filesystems"]:
            return
    import fsspec

    connection().register_filesystem(fsspec.filesystem(protocol))
    with _lock:
        _state["filesystems"].add(protocol)


def _parquet(dataset: Dataset) -> str:
    path = dataset.location.replace("'", "''")  # our own file name, never user text
    return f"SELECT * FROM read_parquet('{path}')"


def _cached_name(name: str) -> str:
    return quote_identifier(name + "#cached")


def _ddl_run(sql: str) -> None:
    with _ddl, connection().cursor() as cur:
        cur.execute(sql)


def _view(dataset: Dataset) -> None:
    """The version's view exists; its copy into the cache is started (or marked used)."""
    if dataset.location is None:
        raise KpiLabError(f"dataset {dataset.name!r} has no rows stored: import it again")
    name = dataset.table_name
    if name not in _state["views"]:
        if "://" in dataset.location:
            register_filesystem(dataset.location.split("://", 1)[0])
        with _ddl:
            if name not in _state["views"]:
                with connection().cursor() as cur:
                    cur.execute(
                        f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {_parquet(dataset)}"
                    )
                _state["views"].add(name)
    with _lock:
        if name in _state["cached"]:
            _state["cached"].move_to_end(name)
            return
        if name in _state["loading"]:
            return
        size = _size(dataset.location)
        if not _state["caching"] or size is None or size > cache_bytes():
            return
        _state["loading"].add(name)
        loader = threading.Thread(target=_load, args=(dataset, size), daemon=True)
        _state["loaders"] = [t for t in _state["loaders"] if t.is_alive()] + [loader]
    loader.start()


def _size(location: str) -> int | None:
    if "://" in location:
        return None  # remote files: read where they are
    try:
        return Path(location).stat().st_size
    except OSError:
        return None


def _load(dataset: Dataset, size: int) -> None:
    """Copy a version into the cache, point its view at the copy, then drop the least
    recently used copies past the budget (their views back on their files first)."""
    name = dataset.table_name
    try:
        with connection().cursor() as cur:
            cur.execute(f"CREATE TABLE {_cached_name(name)} AS {_parquet(dataset)}")
        copy = f"SELECT * FROM {_cached_name(name)}"
        _ddl_run(f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {copy}")
        with _lock:
            _state["cached"][name] = (size, _parquet(dataset))
            over = []
            cached = _state["cached"]
            while sum(s for s, _ in cached.values()) > cache_bytes() or len(cached) > MAX_TABLES:
                over.append(cached.popitem(last=False))
        for old, (_, source) in over:
            _ddl_run(f"CREATE OR REPLACE VIEW {quote_identifier(old)} AS {source}")
            _ddl_run(f"DROP TABLE IF EXISTS {_cached_name(old)}")
    except duckdb.Error:  # the file went away, or memory ran short: keep reading the file
        _LOG.warning("could not cache %s", name, exc_info=True)
        _ddl_run(f"DROP TABLE IF EXISTS {_cached_name(name)}")
    finally:
        with _lock:
            _state["loading"].discard(name)


def cached_versions() -> list[str]:
    """The versions whose rows this process reads from its cache, oldest use first."""
    with _lock:
        return list(_state["cached"])


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
