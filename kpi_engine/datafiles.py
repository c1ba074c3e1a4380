"""Rows as immutable Parquet files in the data folder (``KPILAB_DATA_DIR``).

An import, append or replace writes a new file under a temporary name and publishes it
(renamed into place, or uploaded whole to object storage) before the state database's
registry names it: a crash at any point leaves the old version or the new one, never half
of one. Files are never changed; a new version is a new file. A file that no registry row
names (a crash before the commit, a version replaced) is swept once it is older than
``KPILAB_SWEEP_AFTER_SECONDS`` (an hour): a process may still be reading a version another
process has just replaced.

The folder is local by default; an fsspec URL (``s3://bucket/prefix``, with ``s3fs``) lets
processes on several hosts share it, and DuckDB reads it through the same filesystem.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_SWEEP_AFTER = 3600.0
TMP = ".tmp"
_SCHEME = "://"


class DataDir:
    """The data folder: where each dataset version's Parquet file lives."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = str(root).rstrip("/")
        self.remote = _SCHEME in self.root and not self.root.startswith("file://")
        if self.remote:
            import fsspec

            self.fs = fsspec.filesystem(self.root.split(_SCHEME, 1)[0])
        else:
            self.root = str(Path(self.root.removeprefix("file://")).resolve())
            Path(self.root, TMP).mkdir(parents=True, exist_ok=True)
            self.fs = None

    def path(self, location: str) -> str:
        """Where DuckDB or Spark reads ``location`` (relative to the folder)."""
        return f"{self.root}/{location}"

    @staticmethod
    def new_location(workspace: str, dataset_id: str) -> tuple[str, str]:
        """(version, location) of a new version of a dataset's rows."""
        version = secrets.token_hex(8)
        return version, f"{workspace}/{dataset_id}/{version}.parquet"

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private local folder for an import's work (its staging database, the Parquet
        file before it is published), removed afterwards whatever happens."""
        base = Path(self.root, TMP) if not self.remote else None
        folder = Path(tempfile.mkdtemp(prefix="import-", dir=base))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def publish(self, written: Path, location: str) -> None:
        """Put a finished file at ``location``, whole: a rename on the same filesystem, or
        one upload (an object appears complete or not at all)."""
        if self.remote:
            self.fs.put_file(str(written), self.path(location))
            return
        target = Path(self.path(location))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(written, target)

    def remove(self, location: str) -> None:
        try:
            if self.remote:
                self.fs.rm_file(self.path(location))
            else:
                Path(self.path(location)).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def sweep(self, referenced: set[str], older_than: float | None = None) -> list[str]:
        """Remove files no registry row names and left scratch folders, once older than
        ``older_than`` seconds (default ``KPILAB_SWEEP_AFTER_SECONDS``). Returns the
        locations removed."""
        wait = sweep_after() if older_than is None else older_than
        now, gone = time.time(), []
        for location, mtime in self._files():
            if location not in referenced and now - mtime >= wait:
                self.remove(location)
                gone.append(location)
        if not self.remote:
            for folder in Path(self.root, TMP).glob("*"):
                try:
                    if now - folder.stat().st_mtime >= wait:
                        shutil.rmtree(folder, ignore_errors=True)
                except OSError:
                    continue
        return gone

    def _files(self) -> Iterator[tuple[str, float]]:
        if self.remote:
            prefix = self.root.split(_SCHEME, 1)[1].rstrip("/") + "/"
            for path, info in self.fs.find(self.root, detail=True).items():
                if path.endswith(".parquet"):
                    stamp = info.get("LastModified") or info.get("mtime") or 0
                    mtime = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
                    yield path.removeprefix(prefix), mtime
            return
        root = Path(self.root)
        for path in root.rglob("*.parquet"):
            if TMP in path.relative_to(root).parts:
                continue
            try:
                yield str(path.relative_to(root)), path.stat().st_mtime
            except OSError:
                continue


def sweep_after() -> float:
    try:
        return float(os.environ.get("KPILAB_SWEEP_AFTER_SECONDS") or DEFAULT_SWEEP_AFTER)
    except ValueError:
        return DEFAULT_SWEEP_AFTER
