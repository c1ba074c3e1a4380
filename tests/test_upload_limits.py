"""Limits that hold after decompression: the bombs of issue 24 are refused with one sentence,
in a fresh process that stays under 500 MB, and pending uploads are fenced per session."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.limits import ImportLimits, check_text
from kpi_engine.ingest.source import drop_spool, spool_upload, sweep_spool
from tests.bombs import BOMBS, ROW, gzip_bomb, import_in_a_process

pytestmark = pytest.mark.slow  # real child processes, killed or capped: make test runs it


@pytest.mark.parametrize("kind", ["gzip", "parquet", "xlsx"])
def test_a_bomb_is_refused_in_one_sentence_and_little_memory(tmp_path, kind):
    bomb = BOMBS[kind](tmp_path)
    assert bomb.stat().st_size < 5e6
    code, err, peak_mb, _ = import_in_a_process(tmp_path, bomb)
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
    packed = gzip_bomb(tmp_path / "small.csv.gz", 200_000)
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


def test_sessions_uploading_while_others_import_never_fail(tmp_path, monkeypatch):
    """Counting the spool while other sessions empty their folders (CI's twenty-user load
    test found a FileNotFoundError with a server path in it)."""
    monkeypatch.setenv("KPILAB_SPOOL_DIR", str(tmp_path / "spool"))
    errors: list[str] = []

    def session(n: int) -> None:
        for i in range(150):
            owner = f"session{n:02d}-{i:04d}-xxxxxxxx"
            try:
                path = spool_upload(b"Day,Cost\n2026-01-01,5\n", "a.csv", owner)
                assert path.exists()
                drop_spool(owner)
            except Exception as exc:  # noqa: BLE001 - any failure is the defect
                errors.append(repr(exc))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
