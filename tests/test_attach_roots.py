"""Attach is fenced: only sources under the operator's roots, resolved, never KPI Lab's own
files. Each case is an attack that worked before the fence (issue 24)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach_roots import ROOTS_ENV, TABLES_ENV, configured_roots, fenced_source
from kpi_engine.paths import own_paths, spool_dir


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Path:
    """A root with one Parquet-like file; the operator allows it and one catalog schema."""
    root = tmp_path / "lake"
    (root / "ads").mkdir(parents=True)
    (root / "ads" / "part-0.parquet").write_bytes(b"PAR1")
    monkeypatch.setenv(ROOTS_ENV, f"{root}, s3a://bucket/ads/")
    monkeypatch.setenv(TABLES_ENV, "main.marketing")
    return root


def _refused(source: dict, *words: str) -> str:
    with pytest.raises(KpiLabError) as caught:
        fenced_source(source, own_paths())
    message = str(caught.value)
    for word in words:
        assert word in message
    return message


def test_nothing_is_attachable_where_no_root_is_configured(tmp_path, monkeypatch):
    monkeypatch.delenv(ROOTS_ENV, raising=False)
    monkeypatch.delenv(TABLES_ENV, raising=False)
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    _refused({"path": str(tmp_path / "x.parquet"), "format": "parquet"}, "switched off")
    _refused({"table": "main.marketing.ads", "format": "parquet"}, "switched off")


def test_files_under_a_root_are_allowed_and_resolved(lake):
    inside = fenced_source({"path": str(lake / "ads"), "format": "parquet"}, own_paths())
    assert inside["path"] == os.path.realpath(lake / "ads")
    roundabout = str(lake / "ads" / ".." / "ads" / "part-0.parquet")
    assert fenced_source({"path": roundabout, "format": "parquet"}, own_paths())["path"] == str(
        Path(os.path.realpath(lake / "ads" / "part-0.parquet"))
    )
    glob = fenced_source({"path": str(lake / "ads" / "*.parquet"), "format": "parquet"}, ())
    assert glob["path"].endswith("ads/*.parquet")
    remote = fenced_source({"path": "s3a://bucket/ads/2026/", "format": "parquet"}, ())
    assert remote["path"] == "s3a://bucket/ads/2026/"
    table = fenced_source({"table": "main.marketing.daily_ads", "format": "parquet"}, ())
    assert table["table"] == "main.marketing.daily_ads"


def test_system_files_and_escapes_from_a_root_are_refused(lake, tmp_path):
    _refused({"path": "/etc/passwd", "format": "csv"}, "not inside a folder this server allows")
    _refused({"path": str(lake / ".." / ".." / "etc"), "format": "csv"}, "not inside")
    _refused({"path": str(lake / "ads" / ".." / ".."), "format": "csv"}, "not inside")
    _refused({"path": "/no/such/file.csv", "format": "csv"}, "not inside")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    (lake / "ads" / "link.csv").symlink_to(tmp_path / "secret.csv")
    _refused({"path": str(lake / "ads" / "link.csv"), "format": "csv"}, "not inside")
    # a folder under the root that holds a symlink leading out is refused as a whole
    _refused({"path": str(lake / "ads"), "format": "csv"}, "not inside")
    _refused({"path": str(lake / "ads" / "*.csv"), "format": "csv"}, "not inside")
    _refused({"path": "ads/part-0.parquet", "format": "parquet"}, "not an absolute path")


def test_kpi_labs_own_files_are_never_attachable(tmp_path, monkeypatch):
    """Even when an operator allows a root that contains them: the database file, the upload
    spool with other people's pending uploads, the project (code and secrets)."""
    spool = tmp_path / "spool"
    (spool / "session-b").mkdir(parents=True)
    (spool / "session-b" / "upload.csv").write_text("Day,Cost\n2026-01-01,5\n")
    db = tmp_path / "kpilab.duckdb"
    db.write_bytes(b"DUCK")
    monkeypatch.setenv("KPILAB_SPOOL_DIR", str(spool))
    monkeypatch.setenv("KPILAB_DB", str(db))
    monkeypatch.setenv(ROOTS_ENV, f"{tmp_path},{own_paths()[0]}")
    assert spool_dir() == spool
    for path in (spool / "*" / "*.csv", spool / "session-b", db, tmp_path, own_paths()[0]):
        _refused({"path": str(path), "format": "csv"}, "KPI Lab's own files")
    readme = own_paths()[0] / "README.md"
    _refused({"path": str(readme), "format": "csv"}, "KPI Lab's own files")


@pytest.mark.parametrize(
    "url",
    [
        "hdfs://127.0.0.1:9000/data",
        "webhdfs://127.0.0.1:50070/data",
        "ftp://127.0.0.1/data.csv",
        "s3a://bucket/other/",
        "s3a://bucket/ads/../secrets/",
        "s3a://user:pw@bucket/ads/x",
        "s3a://bucket/adsx/",
        "file:///etc/passwd",
    ],
)
def test_urls_outside_the_configured_prefixes_are_refused(lake, url):
    with pytest.raises(KpiLabError):
        fenced_source({"path": url, "format": "parquet"}, own_paths())


@pytest.mark.parametrize(
    "table",
    [
        "csv.`README.md`",
        "parquet.`/etc/passwd`",
        "csv.main.marketing",
        "ds_0123456789ab",  # another workspace's dataset, as its view was named before
        "kpilab_view_00112233445566778899aabbccddeeff",
        "main.finance.salaries",
        "main.marketingx.ads",
        "main.marketing.ads; DROP TABLE x",
    ],
)
def test_tables_outside_the_configured_schemas_are_refused(lake, table):
    with pytest.raises(KpiLabError):
        fenced_source({"table": table, "format": "parquet"}, own_paths())


def test_roots_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ROOTS_ENV, f" {tmp_path} ,S3A://Bucket/Ads ")
    monkeypatch.setenv(TABLES_ENV, "Main.Marketing.")
    roots = configured_roots()
    assert roots.folders == (Path(os.path.realpath(tmp_path)),)
    assert roots.urls == ("s3a://bucket/Ads/",)
    assert roots.tables == ("main.marketing",)
