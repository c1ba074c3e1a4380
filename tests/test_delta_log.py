"""Which Delta tables can be read from the files their log lists: written by delta-rs,
changed after writing, and protocols whose files alone would give wrong rows."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.ingest.delta_log import _check_protocol, current_files
from kpi_engine.ingest.source import open_source, readable
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store

deltalake = pytest.importorskip("deltalake")  # requirements-spark.txt


def test_the_current_files_are_those_of_the_latest_version(tmp_path):
    table = tmp_path / "t"
    rows = pa.table({"channel": ["a", "b"], "spend": [1.0, 2.0]})
    deltalake.write_deltalake(str(table), rows, partition_by=["channel"])
    deltalake.write_deltalake(str(table), rows, mode="overwrite", partition_by=["channel"])
    found = current_files(str(table))
    assert found.version == 1 and len(found.files) == 2
    assert len(list(table.rglob("*.parquet"))) == 4  # the overwritten files are still there
    assert set(found.files) == set(deltalake.DeltaTable(str(table)).file_uris())
    assert '"name":"channel","type":"string"' in found.schema_json


@pytest.mark.parametrize(
    ("version", "features", "says"),
    [
        (2, None, "column mapping"),
        (3, ["columnMapping"], "column mapping"),
        (3, ["deletionVectors", "timestampNtz"], "deletion vectors"),
        (3, ["variantType"], "needs variantType"),
        (4, None, "reader version 4"),
    ],
)
def test_protocols_the_files_alone_cannot_answer_are_refused(version, features, says):
    protocol = SimpleNamespace(min_reader_version=version, reader_features=features)
    with pytest.raises(KpiLabError, match=says):
        _check_protocol("/lake/t", protocol)


@pytest.mark.parametrize(("version", "features"), [(1, None), (3, ["timestampNtz"])])
def test_plain_protocols_are_read(version, features):
    _check_protocol(
        "/lake/t", SimpleNamespace(min_reader_version=version, reader_features=features)
    )


def test_a_folder_without_a_log_or_rows_is_one_sentence(tmp_path):
    with pytest.raises(KpiLabError, match="is not a readable Delta table"):
        current_files(str(tmp_path))
    empty = tmp_path / "empty"
    deltalake.write_deltalake(str(empty), pa.table({"spend": pa.array([], pa.float64())}))
    with pytest.raises(KpiLabError, match="has no rows"):
        current_files(str(empty))


@pytest.fixture
def changed_table(tmp_path):
    """Campaign rows as a Delta table partitioned by channel, with rows deleted and spend
    rewritten after writing: the folder keeps the files the log removed."""
    table = tmp_path / "campaigns_delta"
    rows = pa.table(
        {
            "date": ["2026-01-01", "2026-01-01", "2026-01-02", "2026-01-02"],
            "channel": ["Search", "Social", "Search", "Social"],
            "spend": [10.0, 20.0, 30.0, 40.0],
            "clicks": [1, 2, 3, 4],
        }
    )
    deltalake.write_deltalake(str(table), rows, partition_by=["channel"])
    deltalake.DeltaTable(str(table)).delete("date = '2026-01-01' AND channel = 'Search'")
    deltalake.DeltaTable(str(table)).update({"spend": "spend * 2"}, predicate="channel = 'Social'")
    return table


def test_importing_a_delta_folder_imports_its_current_version(changed_table, tmp_path):
    store = Store(str(tmp_path / "ws.sqlite"))
    dataset = import_file(store, changed_table).dataset
    assert dataset.rows == 3 and dataset.roles["channel"] == "channel"
    totals = run_kpis(store, dataset, KpiQuery(("spend",), by=("channel",)))
    assert dict(zip(totals["channel"], totals["spend"], strict=True)) == {
        "Search": 30.0,
        "Social": 120.0,
    }
    store.close()


def test_the_version_checked_is_the_version_imported(changed_table):
    """A commit landing between the size check and the write does not change what is
    written: the rows are those of the version whose size was checked."""
    checked = open_source(changed_table)
    more = pa.table(
        {"date": ["2026-01-03"], "channel": ["Search"], "spend": [1000.0], "clicks": [9]}
    )
    deltalake.write_deltalake(str(changed_table), more, mode="append")
    with readable(checked) as written:
        rows = pq.read_table(written.path)
    assert checked.delta.version == 2 and current_files(str(changed_table)).version == 3
    assert rows.num_rows == 3 and sum(rows.column("spend").to_pylist()) == 150.0


def test_one_file_of_a_delta_table_or_too_large_a_table_is_refused(
    changed_table, tmp_path, monkeypatch
):
    store = Store(str(tmp_path / "ws.sqlite"))
    one_file = next(changed_table.rglob("*.parquet"))
    with pytest.raises(KpiLabError, match="one file of the Delta table campaigns_delta"):
        import_file(store, one_file)
    monkeypatch.setenv("KPILAB_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(KpiLabError, match="MB limit"):
        import_file(store, changed_table)
    assert store.datasets() == []
    store.close()
