"""Where KPI Lab keeps its own things: one definition each, read from the environment.

- the state database: ``KPILAB_DATABASE_URL`` (any SQLAlchemy URL, e.g.
  ``postgresql+psycopg://…``), else a SQLite file: ``--db`` or ``KPILAB_DB`` or
  ``workspace/kpilab.sqlite``;
- the data folder of Parquet files: ``KPILAB_DATA_DIR`` (a folder or an fsspec URL), else
  ``<database file>-data`` beside a SQLite file, else ``workspace/data``;
- the upload spool: ``KPILAB_SPOOL_DIR``, else ``workspace/spool``.

None of these is ever attachable as a lake table (``ingest.attach_roots``): they hold every
workspace's rows and pending uploads, and the project folder holds the code and secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOME_DIR = PROJECT_DIR / "workspace"  # git-ignored; the embedded default for everything
DEFAULT_DB = HOME_DIR / "kpilab.sqlite"
LEGACY_DB = HOME_DIR / "kpilab.duckdb"  # where versions before the state database kept all
DUCKDB_MAGIC = b"DUCK"  # at byte 8 of a DuckDB database file


def is_duckdb_file(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:
        return False


def database_target(db: str | os.PathLike | None = None) -> str:
    """The state database as a path (SQLite) or a URL. A path to a DuckDB file written by an
    earlier version names the SQLite file beside it (``X.duckdb`` → ``X.sqlite``), which is
    filled from it on first use."""
    if db is None and os.environ.get("KPILAB_DATABASE_URL"):
        return os.environ["KPILAB_DATABASE_URL"]
    target = str(db or os.environ.get("KPILAB_DB") or DEFAULT_DB)
    if target == ":memory:" or "://" in target:
        return target
    if is_duckdb_file(target):
        return str(Path(target).with_suffix(".sqlite"))
    return target


def legacy_source(db: str | os.PathLike | None = None) -> Path | None:
    """A DuckDB workspace file of an earlier version to move into a new state database: the
    one ``db`` names, or the old default when no database was named."""
    if db is None and os.environ.get("KPILAB_DATABASE_URL"):
        return None
    named = db or os.environ.get("KPILAB_DB")
    candidate = Path(named) if named else LEGACY_DB
    return candidate if str(named) != ":memory:" and is_duckdb_file(candidate) else None


def data_dir(target: str) -> str:
    """The data folder that goes with the state database ``target``."""
    if os.environ.get("KPILAB_DATA_DIR"):
        return os.environ["KPILAB_DATA_DIR"]
    if target == ":memory:" or "://" in target:
        return str(HOME_DIR / "data")
    path = Path(target)
    return str(path.with_name(path.stem + "-data"))


def spool_dir() -> Path:
    """Uploads waiting for their mapping to be confirmed: ``$KPILAB_SPOOL_DIR`` or
    ``workspace/spool``, a folder per browser session inside it."""
    return Path(os.environ.get("KPILAB_SPOOL_DIR") or HOME_DIR / "spool")


def own_paths(*more: str | Path) -> tuple[Path, ...]:
    """KPI Lab's own files and folders (plus ``more``: an open database's files)."""
    found = [PROJECT_DIR, HOME_DIR, spool_dir()]
    target = database_target()
    if target != ":memory:" and "://" not in target:
        found += [Path(target), Path(data_dir(target))]
    if os.environ.get("KPILAB_DATA_DIR") and "://" not in os.environ["KPILAB_DATA_DIR"]:
        found.append(Path(os.environ["KPILAB_DATA_DIR"]))
    found += [Path(m) for m in more if m and str(m) != ":memory:" and "://" not in str(m)]
    return tuple(found)
