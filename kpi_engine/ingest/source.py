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

DEFAULT_MAX_MB = 1024
HEAD_BYTES = 256 * 1024
_CP1252_ONLY = bytes(range(0x80, 0xA0))


def max_file_bytes() -> int:
    """The size limit: $KPILAB_MAX_UPLOAD_MB megabytes (the app's upload limit), 1024 by default."""
    try:
        return int(float(os.environ.get("KPILAB_MAX_UPLOAD_MB", DEFAULT_MAX_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_MB * 1024 * 1024


UPLOAD_DIR = Path(tempfile.gettempdir()) / "kpilab-uploads"
STALE_SECONDS = 24 * 3600


def spool_upload(data: bytes | memoryview, name: str) -> Path:
    """Write an upload's bytes to a temporary file DuckDB can read from disk.

    The caller deletes it after the import; files left by abandoned sessions are removed
    after a day, the next time anyone uploads.
    """
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in UPLOAD_DIR.iterdir():
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > STALE_SECONDS:
                old.unlink()
    suffix = re.sub(r"[^A-Za-z0-9.]", "", "".join(Path(name).suffixes[-2:]))[:16]
    fd, path = tempfile.mkstemp(dir=UPLOAD_DIR, suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(path)


@dataclass
class SourceFile:
    """A file DuckDB can read: ``path`` plus how to read it."""

    path: Path
    label: str  # the name the user knows the file by
    format: str  # "csv" or "parquet"
    encoding: str = "utf-8"  # for DuckDB's read_csv: utf-8, utf-16 or latin-1
    compressed: bool = False
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    size: int = 0
    head_text: str = ""  # the first decoded lines, for dialect detection
    notes: list[str] = field(default_factory=list)


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
    if not path.is_file():
        raise KpiLabError(f"{label}: no such file; check the path")
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
        return SourceFile(path, label, "parquet", size=size)
    if magic.startswith(b"PK\x03\x04"):
        return _workbook(path, label, size, sheet)
    compressed = magic.startswith(b"\x1f\x8b")
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


def _workbook(path: Path, label: str, size: int, sheet: str | None) -> SourceFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
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

    book = load_workbook(source.path, read_only=True, data_only=True)
    try:
        rows = book[source.sheet].iter_rows(values_only=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            wrote = False
            for row in rows:
                cells = ["" if v is None else _cell_text(v) for v in row]
                if any(cells):
                    writer.writerow(cells)
                    wrote = True
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
