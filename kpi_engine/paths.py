"""Where KPI Lab keeps its own files: one definition each, read from the environment.

These are never attachable as a lake table (``ingest.attach_roots``): they hold every
workspace's rows and pending uploads, and the project folder holds the code and secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOME_DIR = PROJECT_DIR / "workspace"  # git-ignored; the embedded default for everything below
DEFAULT_DB = HOME_DIR / "kpilab.duckdb"


def database_path() -> str:
    """The workspace database: ``$KPILAB_DB`` or ``workspace/kpilab.duckdb``."""
    return os.environ.get("KPILAB_DB") or str(DEFAULT_DB)


def spool_dir() -> Path:
    """Uploads waiting for their mapping to be confirmed: ``$KPILAB_SPOOL_DIR`` or
    ``workspace/spool``, a folder per browser session inside it."""
    return Path(os.environ.get("KPILAB_SPOOL_DIR") or HOME_DIR / "spool")


def own_paths(*more: str | Path) -> tuple[Path, ...]:
    """KPI Lab's own files and folders (plus ``more``, e.g. an open database file)."""
    found = [PROJECT_DIR, HOME_DIR, spool_dir()]
    db = database_path()
    if db != ":memory:":
        found += [Path(db), Path(db + ".wal")]
    found += [Path(m) for m in more if str(m) != ":memory:"]
    return tuple(found)
