"""Limits that hold after decompression: the bombs of issue 24 are refused with one sentence,
in a fresh process that stays under 500 MB, and pending uploads are fenced per session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import duckdb
import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.limits import ImportLimits, check_text
from kpi_engine.ingest.source import drop_spool, spool_upload, sweep_spool
from tests.conftest import PROJECT

ROW = b"2026-03-01,Brand search,1200,34,56.70\n"


def _gzip_bomb(path: Path, rows: int) -> Path:
    """``rows`` identical rows, compressed: 25M rows fit in a few MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = ROW * 100_000
    with open(path, "wb") as fh:
        fh.write(packer.compress(b"Day,Campaign,Impressions,Clicks,Cost\n"))
        for _ in range(rows // 100_000):
            fh.write(packer.compress(block))
        fh.write(packer.flush())
    return path


def _workbook_bomb(path: Path, megabytes: int) -> Path:
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


def _import_in_a_process(tmp_path: Path, file: Path) -> tuple[int, str, float]:
    """(exit status, stderr, that process's own peak memory in MB) of ``import FILE``. The
    peak is the new process's own (VmHWM): a forked child's rusage also counts the memory
    of the process that forked it, here the test runner."""
    env = {**os.environ, "KPILAB_DB": str(tmp_path / "ws.sqlite")}
    env.pop("KPILAB_MAX_IMPORT_ROWS", None)
    env.pop("KPILAB_MAX_IMPORT_MB", None)
    env["PEAK_FILE"] = str(tmp_path / "peak.txt")
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_PEAK, "import", str(file)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stderr, int((tmp_path / "peak.txt").read_text()) / 1024


@pytest.mark.parametrize("kind", ["gzip", "parquet", "xlsx"])
def test_a_bomb_is_refused_in_one_sentence_and_little_memory(tmp_path, kind):
    if kind == "gzip":
        bomb = _gzip_bomb(tmp_path / "bomb.csv.gz", 25_000_000)
        assert bomb.stat().st_size < 5e6
    elif kind == "parquet":
        bomb = tmp_path / "bomb.parquet"
        duckdb.sql(
            "SELECT DATE '2026-03-01' AS day, 'Brand' AS campaign, 1.0 AS cost FROM range(21000000)"
        ).write_parquet(str(bomb))
        assert bomb.stat().st_size < 5e6
    else:
        bomb = _workbook_bomb(tmp_path / "bomb.xlsx", 200)
        assert bomb.stat().st_size < 1e6
    code, err, peak_mb = _import_in_a_process(tmp_path, bomb)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "limit" in err and bomb.name in err
    assert peak_mb < 500, f"{peak_mb:.0f} MB"


def test_text_limits_count_lines_and_bytes_as_decompressed(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"a,b\n" + ROW * 50)
    check_text(plain, "plain.csv", False, ImportLimits(max_rows=50, max_bytes=10**6))
    with pytest.raises(KpiLabError, match="over 40 rows"):
        check_text(plain, "plain.csv", False, ImportLimits(max_rows=40, max_bytes=10**6))
    with pytest.raises(KpiLabError, match="is larger"):
        check_text(plain, "plain.csv", False, ImportLimits(max_rows=10, max_bytes=100))
    packed = _gzip_bomb(tmp_path / "small.csv.gz", 200_000)
    with pytest.raises(KpiLabError, match="over 100,000 rows"):
        check_text(packed, "small.csv.gz", True, ImportLimits(max_rows=100_000, max_bytes=2**30))
    check_text(packed, "small.csv.gz", True, ImportLimits(max_rows=300_000, max_bytes=2**30))


def test_a_big_sheet_is_refused_row_by_row(tmp_path, monkeypatch, store):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Day", "Campaign", "Cost"])
    for i in range(30):
        sheet.append(["2026-03-01", f"c{i}", i])
    book.save(tmp_path / "rows.xlsx")
    monkeypatch.setenv("KPILAB_MAX_IMPORT_ROWS", "20")
    from kpi_engine.ingest import import_file

    with pytest.raises(KpiLabError, match="over 20 rows"):
        import_file(store, tmp_path / "rows.xlsx")
    assert store.datasets() == []


def test_each_session_keeps_one_pending_upload_in_its_own_spool(tmp_path, monkeypatch):
    monkeypatch.setenv("KPILAB_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("KPILAB_MAX_SPOOL_MB", "1")
    alice, bob = "a" * 24, "b" * 24
    first = spool_upload(b"x" * 1000, "one.csv", alice)
    second = spool_upload(b"y" * 1000, "two.csv.gz", alice)
    assert not first.exists() and second.exists() and second.suffix == ".gz"
    assert second.parent == tmp_path / "spool" / alice
    other = spool_upload(b"z" * 1000, "three.csv", bob)
    with pytest.raises(KpiLabError, match="too many uploads"):
        spool_upload(b"w" * 2**20, "big.csv", "c" * 24)
    drop_spool(alice)
    assert not second.parent.exists() and other.exists()
    with pytest.raises(KpiLabError):
        spool_upload(b"x", "evil.csv", "../../etc")
    old = time.time() - 7 * 3600
    os.utime(other.parent, (old, old))
    assert sweep_spool() == 1 and not other.exists()
