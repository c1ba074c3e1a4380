"""Small files that stand for huge ones (issue 24's findings), and a fresh process that
imports one: for tests/test_upload_limits.py and benchmarks/bombs.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parents[1]
ROW = b"2026-03-01,Brand search,1200,34,56.70\n"


def gzip_bomb(path: Path, rows: int) -> Path:
    """``rows`` identical rows, compressed: 25M rows fit in a few MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = ROW * 100_000
    with open(path, "wb") as fh:
        fh.write(packer.compress(b"Day,Campaign,Impressions,Clicks,Cost\n"))
        for _ in range(rows // 100_000):
            fh.write(packer.compress(block))
        fh.write(packer.flush())
    return path


def parquet_bomb(path: Path, rows: int) -> Path:
    """``rows`` identical rows in a Parquet file of a few MB."""
    duckdb.sql(
        f"SELECT DATE '2026-03-01' AS day, 'Brand' AS campaign, 1.0 AS cost FROM range({rows})"
    ).write_parquet(str(path))
    return path


def workbook_bomb(path: Path, megabytes: int) -> Path:
    """A valid-looking workbook whose one shared string unpacks to ``megabytes`` MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook><sheets/></workbook>")
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(b'<sst count="1"><si><t>')
            for _ in range(megabytes):
                strings.write(b"A" * 2**20)
            strings.write(b"</t></si></sst>")
    return path


BOMBS = {  # issue 24: 2.6 MB gzip -> 25M rows; 1 MB Parquet -> 50M rows; a workbook cell
    "gzip": lambda folder: gzip_bomb(folder / "bomb.csv.gz", 25_000_000),
    "parquet": lambda folder: parquet_bomb(folder / "bomb.parquet", 50_000_000),
    "xlsx": lambda folder: workbook_bomb(folder / "bomb.xlsx", 200),
}

_REPORT_PEAK = """
import atexit, os, runpy, sys
def report():
    with open("/proc/self/status") as fh:
        peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(peak)
atexit.register(report)
sys.argv = ["kpi_engine", *sys.argv[1:]]
runpy.run_module("kpi_engine", run_name="__main__", alter_sys=True)
"""


def import_in_a_process(folder: Path, file: Path) -> tuple[int, str, float, float]:
    """(exit status, stderr, that process's own peak memory in MB, seconds) of ``import
    FILE`` under the default caps. The peak is the new process's own (VmHWM): a forked
    child's rusage also counts the memory of the process that forked it."""
    env = {**os.environ, "KPILAB_DB": str(folder / "ws.sqlite")}
    env.pop("KPILAB_MAX_IMPORT_ROWS", None)
    env.pop("KPILAB_MAX_IMPORT_MB", None)
    env["PEAK_FILE"] = str(folder / "peak.txt")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_PEAK, "import", str(file)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.perf_counter() - start
    peak = int((folder / "peak.txt").read_text()) / 1024
    return done.returncode, done.stderr, peak, seconds
