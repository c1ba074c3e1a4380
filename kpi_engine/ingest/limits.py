"""How much one import may hold, checked after decompression and before the file is converted.

A small file can stand for a huge one: a 2.6 MB ``.csv.gz`` of 25M rows, a 1 MB Parquet
file of 50M rows, a 409 KB workbook whose one shared string is hundreds of megabytes. So the
limits are on what the file becomes, read from what costs little to read:
- text (plain or gzip): bytes and lines, counted while streaming (gzip in bounded chunks, so
  a bomb never sits in memory); a file shorter than the row limit in bytes cannot exceed it;
- Parquet: the row count and uncompressed size in its footer;
- ``.xlsx``: the sizes its zip directory declares (``zipfile`` never yields more than that),
  the shared strings part on its own, and the sheet's rows and cells while it is converted.

``KPILAB_MAX_IMPORT_ROWS`` (default 20 million) and ``KPILAB_MAX_IMPORT_MB`` (default 2048,
uncompressed) set them; ``KPILAB_MAX_UPLOAD_MB`` still limits the file as uploaded.
"""

from __future__ import annotations

import functools
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from kpi_engine.errors import KpiLabError

DEFAULT_MAX_ROWS = 20_000_000
DEFAULT_MAX_MB = 2048
XLSX_MAX_STRINGS_MB = 32  # openpyxl holds every shared string in memory
XLSX_MAX_PARTS = 10_000
EXCEL_MAX_CELL = 32_767  # Excel's own limit on a cell's characters
_CHUNK = 1 << 20
_OUT = 1 << 22  # decompressed bytes taken at once: a bomb's output arrives in bounded pieces


@dataclass(frozen=True)
class ImportLimits:
    max_rows: int
    max_bytes: int


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise KpiLabError(f"{name}={text!r} is not valid: write a positive number")
    return value


def import_limits() -> ImportLimits:
    return ImportLimits(
        int(_number("KPILAB_MAX_IMPORT_ROWS", DEFAULT_MAX_ROWS)),
        int(_number("KPILAB_MAX_IMPORT_MB", DEFAULT_MAX_MB) * 1024 * 1024),
    )


def _too_big(label: str, what: str, limits: ImportLimits) -> KpiLabError:
    return KpiLabError(
        f"{label} {what}, over this server's limit of {limits.max_rows:,} rows and"
        f" {limits.max_bytes / 2**20:,.0f} MB uncompressed per import: export a shorter date"
        " range or fewer columns, or split it and append the parts"
    )


def check_text(path: Path, label: str, compressed: bool, limits: ImportLimits) -> None:
    """Bytes and lines of a text file (as decompressed), without holding it in memory. An
    upload is inspected, then imported: the same file is counted once."""
    stat = path.stat()
    if not compressed and stat.st_size <= limits.max_rows:
        return  # fewer bytes than the row limit: fewer lines too
    problem = _text_problem(str(path), stat.st_size, stat.st_mtime_ns, compressed, limits)
    if problem:
        raise _too_big(label, problem, limits)


@functools.lru_cache(maxsize=64)
def _text_problem(
    path: str, size: int, mtime_ns: int, compressed: bool, limits: ImportLimits
) -> str | None:
    lines = total = 0
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed else None
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            pending = chunk
            while pending:
                if inflate is None:
                    out, pending = pending, b""
                else:
                    try:
                        out = inflate.decompress(pending, _OUT)
                    except zlib.error:
                        return None  # a broken gzip: the reader says so in its own words
                    pending = inflate.unconsumed_tail
                    if inflate.eof and inflate.unused_data:  # several gzip members
                        pending, inflate = (
                            inflate.unused_data,
                            zlib.decompressobj(16 + zlib.MAX_WBITS),
                        )
                total += len(out)
                lines += out.count(b"\n")
                if total > limits.max_bytes:
                    return "is larger"
                if lines > limits.max_rows + 1:
                    return f"has over {limits.max_rows:,} rows"
    return None


def check_parquet(path: Path, label: str, limits: ImportLimits) -> None:
    """The row count and uncompressed size from the file's footer, before any row is read."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception:  # pyarrow raises several types for a damaged footer
        raise KpiLabError(
            f"{label} is not a valid Parquet file (its footer cannot be read): write it again"
        ) from None
    if meta.num_rows > limits.max_rows:
        raise _too_big(label, f"has {meta.num_rows:,} rows", limits)
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.max_bytes:
        raise _too_big(label, f"holds {size / 2**20:,.0f} MB of values", limits)


def check_workbook(archive: zipfile.ZipFile, label: str, limits: ImportLimits) -> None:
    """What a workbook's parts declare they unpack to (zipfile reads no more than that)."""
    parts = archive.infolist()
    if len(parts) > XLSX_MAX_PARTS:
        raise KpiLabError(f"{label} has {len(parts):,} parts: it is not a report workbook")
    if sum(p.file_size for p in parts) > limits.max_bytes:
        raise _too_big(label, "unpacks larger", limits)
    strings = next((p for p in parts if p.filename.lower() == "xl/sharedstrings.xml"), None)
    if strings is not None and strings.file_size > XLSX_MAX_STRINGS_MB * 2**20:
        raise KpiLabError(
            f"{label} holds {strings.file_size / 2**20:,.0f} MB of text cells, over the"
            f" {XLSX_MAX_STRINGS_MB} MB limit for a workbook here: save the sheet as CSV and"
            " upload that"
        )


def check_cell(value: str, label: str) -> None:
    if len(value) > EXCEL_MAX_CELL:
        raise KpiLabError(
            f"{label} has a cell of {len(value):,} characters, more than Excel allows"
            f" ({EXCEL_MAX_CELL:,}): the workbook is damaged, or not an export"
        )
