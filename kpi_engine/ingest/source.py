"""What kind of file an upload is, and a path DuckDB can read it from.

DuckDB reads CSV (plain or gzip, UTF-8 or UTF-16 or Latin-1) and Parquet straight from the
user's file. Only two cases are rewritten to a temporary UTF-8 CSV first: Excel workbooks
(DuckDB's excel extension is not available here; openpyxl streams the sheet) and Windows-1252
text that uses the bytes Latin-1 lacks (€, curly quotes).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.delta_log import (
    DeltaFiles,
    current_files,
    is_delta_table,
    size_of,
    table_holding,
    write_version,
)
from kpi_engine.ingest.limits import (
    check_cell,
    check_parquet,
    check_text,
    check_workbook,
    import_limits,
)
from kpi_engine.paths import spool_dir

DEFAULT_MAX_MB = 1024
HEAD_BYTES = 256 * 1024
_CP1252_ONLY = bytes(range(0x80, 0xA0))


def max_file_bytes() -> int:
    """The size limit: $KPILAB_MAX_UPLOAD_MB megabytes (the app's upload limit), 1024 by default."""
    try:
        return int(float(os.environ.get("KPILAB_MAX_UPLOAD_MB", DEFAULT_MAX_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_MB * 1024 * 1024


DEFAULT_MAX_SPOOL_MB = 4096
STALE_SECONDS = 6 * 3600
_OWNER = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _spool_folder(owner: str) -> Path:
    if not _OWNER.match(owner):
        raise KpiLabError("an upload needs a session to belong to")
    return spool_dir() / owner


def _spool_bytes() -> int:
    """What all sessions' pending uploads hold. Other sessions empty their folders while this
    counts, so a folder or file that has just gone counts as nothing (``Path.glob`` raised)."""
    total = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(spool_dir()) as folders:
        for folder in folders:
            with contextlib.suppress(OSError), os.scandir(folder.path) as files:
                for entry in files:
                    with contextlib.suppress(OSError):
                        total += entry.stat(follow_symlinks=False).st_size
    return total


def spool_upload(data: bytes | memoryview, name: str, owner: str) -> Path:
    """Write an upload's bytes to a file DuckDB can read from disk, in the folder of the
    session that uploaded it (``owner``): one pending upload per session, so a new upload
    replaces the one before. All sessions' pending uploads together stay under
    ``$KPILAB_MAX_SPOOL_MB`` (4096)."""
    folder = _spool_folder(owner)
    drop_spool(owner)
    limit = int(float(os.environ.get("KPILAB_MAX_SPOOL_MB") or DEFAULT_MAX_SPOOL_MB) * 2**20)
    if _spool_bytes() + len(data) > limit:
        raise KpiLabError(
            "the server holds too many uploads waiting to be imported: try again in a few minutes"
        )
    folder.mkdir(parents=True, exist_ok=True)
    suffix = re.sub(r"[^A-Za-z0-9.]", "", "".join(Path(name).suffixes[-2:]))[:16]
    fd, path = tempfile.mkstemp(dir=folder, suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(path)


def drop_spool(owner: str) -> None:
    """Empty a session's spool: its upload was imported or cancelled, or the session ended."""
    shutil.rmtree(_spool_folder(owner), ignore_errors=True)


def sweep_spool(older_than_seconds: float = STALE_SECONDS) -> int:
    """Remove spool folders untouched for ``older_than_seconds`` (sessions that ended without
    saying so: a server killed, a crash). Returns how many went."""
    gone, now = 0, time.time()
    for folder in spool_dir().glob("*"):
        with contextlib.suppress(OSError):
            if now - folder.stat().st_mtime > older_than_seconds:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
    return gone


@dataclass
class SourceFile:
    """A file DuckDB can read: ``path`` plus how to read it."""

    path: Path
    label: str  # the name the user knows the file by
    format: str  # "csv", "parquet", "xlsx" or "delta" (a folder)
    encoding: str = "utf-8"  # for DuckDB's read_csv: utf-8, utf-16 or latin-1
    compressed: bool = False
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    size: int = 0
    head_text: str = ""  # the first decoded lines, for dialect detection
    notes: list[str] = field(default_factory=list)
    delta: DeltaFiles | None = None  # the Delta version whose size was checked


def _read_head(path: Path, compressed: bool, label: str) -> bytes:
    try:
        if compressed:
            with gzip.open(path) as fh:
                return fh.read(HEAD_BYTES)
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        raise KpiLabError(
            f"{label} is not a valid gzip file: compress it again or upload the plain CSV"
        ) from None


def _decode(head: bytes, label: str) -> tuple[str, str, bool]:
    """(encoding for DuckDB, decoded head, needs transcoding from cp1252)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", head.decode("utf-16", errors="ignore"), False
    if b"\x00" in head:
        raise KpiLabError(
            f"{label} contains NUL bytes, so it is not a text CSV (it may be a binary file or"
            " UTF-16 without a byte-order mark): export the report as CSV UTF-8"
        )
    body = head.removeprefix(codecs.BOM_UTF8)  # positions in an error count from here
    try:
        return "utf-8", body.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 4:  # a character cut by the end of the sample
            return "utf-8", body[: exc.start].decode("utf-8"), False
    if any(b in _CP1252_ONLY for b in head):
        return "latin-1", head.decode("cp1252", errors="replace"), True
    return "latin-1", head.decode("latin-1"), False


def _looks_binary(head: bytes) -> bool:
    signatures = (b"\x89PNG", b"%PDF", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"MZ", b"BM")
    return head.startswith(signatures)


def open_source(path: str | Path, label: str | None = None, sheet: str | None = None) -> SourceFile:
    """Inspect ``path``; raise a ``KpiLabError`` naming the problem for anything unreadable."""
    path = Path(path)
    label = label or path.name
    if path.is_dir() and is_delta_table(path):
        return _delta(path, label)
    if not path.is_file():
        raise KpiLabError(f"{label}: no such file; check the path")
    table = table_holding(path.resolve())
    if table is not None:
        raise KpiLabError(
            f"{label} is one file of the Delta table {table.name}, which may be a file the"
            " table has removed: import the table's folder instead"
        )
    size = path.stat().st_size
    if size == 0:
        raise KpiLabError(f"{label} is empty: export the report again with at least one row")
    if size > max_file_bytes():
        raise KpiLabError(
            f"{label} is {size / 1e6:,.0f} MB, over the {max_file_bytes() / 1024 / 1024:,.0f} MB"
            " limit: export a shorter date range or fewer columns, or compress it with gzip"
        )
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PAR1"):
        check_parquet(path, label, import_limits())
        return SourceFile(path, label, "parquet", size=size)
    if magic.startswith(b"PK\x03\x04"):
        return _workbook(path, label, size, sheet)
    compressed = magic.startswith(b"\x1f\x8b")
    check_text(path, label, compressed, import_limits())
    head = _read_head(path, compressed, label)
    if _looks_binary(head):
        raise KpiLabError(
            f"{label} is not a text CSV (it looks like an image, PDF or program):"
            " export the report as CSV and upload that"
        )
    encoding, text, transcode = _decode(head, label)
    source = SourceFile(path, label, "csv", encoding, compressed, size=size, head_text=text)
    if transcode:
        source.notes.append("read as Windows-1252 text")
    return source


def _delta(path: Path, label: str) -> SourceFile:
    """A Delta table's folder: its current version, within the size limit of one file."""
    table = current_files(str(path))
    size = size_of(table)
    if size > max_file_bytes():
        raise KpiLabError(
            f"{label} is {size / 1e6:,.0f} MB of Parquet files, over the"
            f" {max_file_bytes() / 1024 / 1024:,.0f} MB limit: import a shorter date range,"
            " or attach the table to read it where it lives"
        )
    return SourceFile(path, label, "delta", size=size, delta=table)


def _workbook(path: Path, label: str, size: int, sheet: str | None) -> SourceFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            check_workbook(archive, label, import_limits())
    except zipfile.BadZipFile:
        raise KpiLabError(f"{label} is a damaged zip or Excel file: save it again") from None
    if "xl/workbook.xml" not in names:
        raise KpiLabError(
            f"{label} is a zip archive, not an Excel workbook: unzip it and upload the CSV inside"
        )
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise KpiLabError(
            f"{label} is not a valid Excel workbook ({type(exc).__name__}):"
            " open it in Excel and save it again as .xlsx"
        ) from None
    sheets = list(book.sheetnames)
    book.close()
    if sheet is not None and sheet not in sheets:
        raise KpiLabError(f"{label} has no sheet {sheet!r}: choose one of {', '.join(sheets)}")
    return SourceFile(path, label, "xlsx", sheets=sheets, sheet=sheet or sheets[0], size=size)


@contextmanager
def readable(source: SourceFile):
    """Yield a SourceFile DuckDB can read directly, converting a workbook or cp1252 text first."""
    if source.format == "xlsx":
        with tempfile.TemporaryDirectory(prefix="kpilab-") as tmp:
            out = Path(tmp) / "sheet.csv"
            _sheet_to_csv(source, out)
            converted = open_source(out, source.label)
            converted.sheets, converted.sheet = source.sheets, source.sheet
            yield converted
        return
    if source.format == "delta":
        with tempfile.TemporaryDirectory(prefix="kpilab-") as tmp:
            out = Path(tmp) / "delta.parquet"
            write_version(source.delta, out)
            yield open_source(out, source.label)
        return
    if "read as Windows-1252 text" in source.notes:
        with tempfile.TemporaryDirectory(prefix="kpilab-") as tmp:
            out = Path(tmp) / "utf8.csv"
            opener = gzip.open if source.compressed else open
            with opener(source.path, "rb") as raw, open(out, "w", encoding="utf-8") as dst:
                reader = codecs.getreader("cp1252")(raw, errors="replace")
                while chunk := reader.read(1 << 20):
                    dst.write(chunk)
            converted = open_source(out, source.label)
            converted.notes = source.notes
            yield converted
        return
    yield source


def _sheet_to_csv(source: SourceFile, out: Path) -> None:
    from openpyxl import load_workbook

    limits = import_limits()
    book = load_workbook(source.path, read_only=True, data_only=True)
    try:
        rows = book[source.sheet].iter_rows(values_only=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            wrote = 0
            for row in rows:
                cells = ["" if v is None else _cell_text(v) for v in row]
                if any(cells):
                    for cell in cells:
                        check_cell(cell, source.label)
                    writer.writerow(cells)
                    wrote += 1
                    if wrote > limits.max_rows + 1:
                        raise KpiLabError(
                            f"sheet {source.sheet!r} of {source.label} has over"
                            f" {limits.max_rows:,} rows, over this server's limit per import:"
                            " export a shorter date range"
                        )
    finally:
        book.close()
    if not wrote:
        raise KpiLabError(
            f"sheet {source.sheet!r} of {source.label} is empty: choose another sheet"
        )


def _cell_text(value: object) -> str:
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@contextmanager
def open_text(source: SourceFile) -> Iterator[TextIO]:
    """The file's lines as text, decoded as DuckDB reads it (for a slow look at one problem)."""
    opener = gzip.open if source.compressed else open
    with opener(source.path, "rt", encoding=source.encoding, errors="replace", newline="") as fh:
        yield fh
