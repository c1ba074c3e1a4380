"""Which Parquet files make up a Delta table now, read from its log with delta-rs
(``deltalake``, no JVM). A Delta folder also holds files its log has removed (older
versions, rewritten rows), so its rows are only ever read from this list: stale files
never count. Features that change what a file's rows mean (deletion vectors, column
mapping) are refused with a sentence, since reading the files alone would be wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kpi_engine.errors import KpiLabError

# reader features whose tables read right from the files the log lists
_READABLE_FEATURES = {"timestampNtz", "v2Checkpoint", "vacuumProtocolCheck", "typeWidening"}


@dataclass(frozen=True)
class DeltaFiles:
    """A Delta table's current version: its data files, and its schema as Spark's
    StructType JSON (Delta keeps it in that form), which also types the columns held in
    the files' folder names (``name=value``)."""

    folder: str
    version: int
    files: tuple[str, ...]
    schema_json: str


def is_delta_table(folder: Path) -> bool:
    return (folder / "_delta_log").is_dir()


def local(path: str) -> bool:
    """A path this process reads itself (a lake URL's Delta table is Spark's to read)."""
    return "://" not in path or path.startswith("file://")


def pinned(source: dict) -> dict:
    """An attached source with a local Delta table pinned to the table's latest version,
    so every process reads the same rows until the dataset is read again."""
    if source.get("format") != "delta" or not local(source.get("path") or "://"):
        return source
    return {**source, "version": current_files(source["path"]).version}


def current_files(path: str, version: int | None = None) -> DeltaFiles:
    """The files of the table at ``path`` (a local folder) in ``version``, else its latest."""
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise KpiLabError(
            "reading a Delta table needs the deltalake package on this server: install"
            " requirements-delta.txt (pip install -r requirements-delta.txt)"
        ) from None
    folder = Path(path.removeprefix("file://")).resolve()
    try:
        table = DeltaTable(str(folder), version=version)
    except Exception as exc:  # delta-rs raises its own types for a broken or missing log
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if version is not None:
            raise KpiLabError(
                f"{path} no longer has version {version} of its Delta table ({first}): read"
                " the dataset again to use its latest version"
            ) from None
        raise KpiLabError(f"{path} is not a readable Delta table: {first}") from None
    _check_protocol(path, table.protocol())
    files = tuple(table.file_uris())
    for file in files:
        if not Path(file.removeprefix("file://")).resolve().is_relative_to(folder):
            raise KpiLabError(
                f"{path}: its Delta log lists a file outside the table's folder; KPI Lab only"
                " reads files inside it. Use a copy of the table (a deep clone) instead"
            )
    if not files:
        raise KpiLabError(f"{path} has no rows: use a table that holds data")
    if version is not None and not all(Path(f.removeprefix("file://")).is_file() for f in files):
        raise KpiLabError(
            f"{path}: the files of version {version} of its Delta table were removed (VACUUM):"
            " read the dataset again to use its latest version"
        )
    return DeltaFiles(str(folder), table.version(), files, table.schema().to_json())


def _check_protocol(path: str, protocol) -> None:
    features = set(protocol.reader_features or ())
    if protocol.min_reader_version == 2 or "columnMapping" in features:
        raise KpiLabError(
            f"{path} is a Delta table with column mapping: its files name columns by id, so"
            " KPI Lab cannot read them. Use a Parquet snapshot of the table instead"
        )
    if "deletionVectors" in features:
        raise KpiLabError(
            f"{path} is a Delta table with deletion vectors: reading its files would count rows"
            " it has deleted. Purge them first (REORG TABLE … APPLY (PURGE)), or use a"
            " Parquet snapshot of the table"
        )
    unknown = features - _READABLE_FEATURES
    if protocol.min_reader_version > 3 or unknown:
        named = ", ".join(sorted(unknown)) or f"reader version {protocol.min_reader_version}"
        raise KpiLabError(
            f"{path} is a Delta table that needs {named} to read, which KPI Lab does not"
            " support: use a Parquet snapshot of the table instead"
        )


def table_holding(path: Path, looked_in: Callable[[Path], bool] = lambda _: True) -> Path | None:
    """The Delta table a folder or data file lies in: that folder (a file's own) or one of
    the three above it (a table's partition folders), among those ``looked_in`` allows."""
    folder = path if path.is_dir() else path.parent
    near = (folder, *list(folder.parents)[:3])
    return next((f for f in near if looked_in(f) and is_delta_table(f)), None)


def size_of(table: DeltaFiles) -> int:
    """Bytes of the version's files."""
    return sum(Path(f.removeprefix("file://")).stat().st_size for f in table.files)


def write_version(table: DeltaFiles, out: Path) -> None:
    """The rows of ``table``'s version as one Parquet file, streamed batch by batch from
    delta-rs (memory stays bounded). The version is the one whose size was checked, even
    if the table has moved on since."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    current_files(table.folder, table.version)  # says so if VACUUM removed its files
    rows = DeltaTable(table.folder, version=table.version).to_pyarrow_dataset()
    with pq.ParquetWriter(out, rows.schema) as writer:
        for batch in rows.to_batches():
            writer.write_batch(batch)
