"""What may be attached: only sources under the roots an operator configured.

Spark and DuckDB read whatever path or table they are given, so the server decides:
- ``KPILAB_ATTACH_ROOTS``: local folders and URL prefixes (``/lake,s3a://bucket/ads/``),
  separated by commas;
- ``KPILAB_ATTACH_TABLES``: catalog or schema prefixes (``main.ads,lake.marketing``).
Where neither is set, nothing can be attached.

A local path is resolved (symlinks, ``..``, a glob expanded to its files) and every file it
reaches must stay inside a root; a folder is walked so that a symlink inside it cannot lead
out. A URL must start with a configured prefix, on a ``/`` boundary, with no ``..``, user
name, query or fragment. A table name is plain dotted identifiers (no backticks, so no
``csv.`file```), under a configured prefix. The app's own files (its database, data folder
and upload spool, where other workspaces' rows live) are never attachable, whatever the
roots say.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kpi_engine.errors import KpiLabError

ROOTS_ENV = "KPILAB_ATTACH_ROOTS"
TABLES_ENV = "KPILAB_ATTACH_TABLES"
MAX_GLOB_FILES = 100_000
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_PART = r"[A-Za-z_][A-Za-z0-9_]*"
_TABLE = re.compile(rf"^{_PART}(\.{_PART}){{0,2}}$")
# Spark reads "FORMAT.`path`" as a file: a first part naming a data source is refused too
_SOURCES = {"csv", "json", "parquet", "orc", "avro", "text", "delta", "binaryfile", "jdbc"}
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Roots:
    folders: tuple[Path, ...]
    urls: tuple[str, ...]
    tables: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.folders or self.urls or self.tables)


def configured_roots() -> Roots:
    """The operator's roots, from the environment (read at each attach)."""
    folders, urls = [], []
    for item in _items(os.environ.get(ROOTS_ENV, "")):
        if _SCHEME.match(item):
            urls.append(_clean_url(item, configured=True).rstrip("/") + "/")
        else:
            folders.append(Path(os.path.realpath(os.path.expanduser(item))))
    tables = tuple(t.lower().rstrip(".") for t in _items(os.environ.get(TABLES_ENV, "")))
    return Roots(tuple(folders), tuple(urls), tables)


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def fenced_source(source: dict, forbidden: tuple[Path, ...], roots: Roots | None = None) -> dict:
    """``source`` ({"path" or "table", "format"}) if the operator's roots allow it, with a
    local path resolved; else a KpiLabError saying what the operator must configure.
    ``forbidden``: the app's own folders and files, never attachable."""
    roots = roots or configured_roots()
    if roots.empty:
        raise KpiLabError(
            "attaching is switched off on this server: its operator must name the folders,"
            f" URL prefixes or catalog schemas that may be attached ({ROOTS_ENV},"
            f" {TABLES_ENV})"
        )
    if source.get("table"):
        return {**source, "table": _fenced_table(source["table"], roots)}
    path = source["path"]
    if _SCHEME.match(path) or path.lower().startswith("dbfs:"):
        return {**source, "path": _fenced_url(path, roots)}
    return {**source, "path": _fenced_local(path, roots, forbidden)}


def _fenced_table(name: str, roots: Roots) -> str:
    name = name.strip()
    if not _TABLE.match(name) or name.split(".")[0].lower() in _SOURCES:
        raise KpiLabError(
            f"{name!r} is not a table name: write CATALOG.SCHEMA.TABLE with letters, digits"
            " and underscores",
            "table",
        )
    lowered = name.lower()
    if not any(lowered == p or lowered.startswith(p + ".") for p in roots.tables):
        raise KpiLabError(
            f"{name!r} is not under a catalog or schema this server allows ({_allowed(roots)}):"
            f" ask its operator to add it to {TABLES_ENV}",
            "table",
        )
    return name


def _clean_url(url: str, configured: bool = False) -> str:
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if (
        parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or ".." in segments
        or "\\" in url
        or any(ord(ch) < 33 for ch in url)
    ):
        what = f"{ROOTS_ENV} holds {url!r}, which" if configured else f"{url!r}"
        raise KpiLabError(
            f"{what} is not a plain location: no user name, '..', query or fragment", "path"
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def _fenced_url(url: str, roots: Roots) -> str:
    if url.lower().startswith("dbfs:") and not url.lower().startswith("dbfs://"):
        url = "dbfs://" + url[5:].lstrip("/")
    clean = _clean_url(url)
    if not any(clean == root.rstrip("/") or clean.startswith(root) for root in roots.urls):
        raise KpiLabError(
            f"{url} is not under a location this server allows ({_allowed(roots)}): ask its"
            f" operator to add it to {ROOTS_ENV}",
            "path",
        )
    return clean


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _fenced_local(text: str, roots: Roots, forbidden: tuple[Path, ...]) -> str:
    raw = text.removeprefix("file://")
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        raise KpiLabError(f"{text} is not an absolute path: write it from the root, /…", "path")
    if _GLOB.search(expanded):
        # Spark expands the pattern again: its folder must be inside a root as written
        _check_one(Path(os.path.realpath(_fixed_prefix(expanded))), text, roots, forbidden)
        matches = glob.glob(expanded, recursive=False)[: MAX_GLOB_FILES + 1]
        if not matches:
            raise KpiLabError(f"{text} matches no file: check the pattern", "path")
        if len(matches) > MAX_GLOB_FILES:
            raise KpiLabError(f"{text} matches over {MAX_GLOB_FILES:,} files: narrow it", "path")
        for match in matches:
            _check_reach(Path(match), text, roots, forbidden)
        return os.path.normpath(expanded)
    path = Path(expanded)
    # inside a root first: whether a file outside the roots exists is nobody's business
    _check_one(Path(os.path.realpath(path)), text, roots, forbidden)
    if not path.exists():
        raise KpiLabError(f"{text} does not exist: give a file, a folder or a glob", "path")
    return str(_check_reach(path, text, roots, forbidden))


def _fixed_prefix(pattern: str) -> str:
    """The folder a glob pattern starts from (the part before its first wildcard)."""
    head = _GLOB.split(pattern, maxsplit=1)[0]
    return head if head.endswith("/") else os.path.dirname(head) or "/"


def _check_reach(path: Path, text: str, roots: Roots, forbidden: tuple[Path, ...]) -> Path:
    """``path`` resolved; every file it leads to (a folder's too) inside a root and outside
    the app's own folders."""
    resolved = Path(os.path.realpath(path))
    _check_one(resolved, text, roots, forbidden)
    if resolved.is_dir():
        for folder, dirs, files in os.walk(resolved, followlinks=False):
            for name in dirs + files:
                entry = Path(folder) / name
                if entry.is_symlink():
                    _check_one(Path(os.path.realpath(entry)), text, roots, forbidden)
    return resolved


def _check_one(resolved: Path, text: str, roots: Roots, forbidden: tuple[Path, ...]) -> None:
    for own in forbidden:
        own = Path(os.path.realpath(own))
        if _inside(resolved, own) or _inside(own, resolved):
            raise KpiLabError(
                f"{text} holds KPI Lab's own files (workspaces, uploads): it cannot be attached",
                "path",
            )
    if not any(_inside(resolved, root) for root in roots.folders):
        raise KpiLabError(
            f"{text} is not inside a folder this server allows ({_allowed(roots)}): ask its"
            f" operator to add it to {ROOTS_ENV}",
            "path",
        )


def _allowed(roots: Roots) -> str:
    """The roots, for a message to the person attaching (an admin: they may see them)."""
    names = [str(f) for f in roots.folders] + list(roots.urls) + list(roots.tables)
    return ", ".join(names) or "none"
