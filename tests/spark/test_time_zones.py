"""One day rule on both engines: a timestamp used as the date gives its day in the
workspace's time zone (UTC unless set) on DuckDB (import) and on Spark (attach), whatever
the server's own TZ; the registry says DATE and the rows hold dates; the time of day is
kept beside, in "<date> time"."""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pytest

from kpi_engine.alerts.watches import set_time_zone
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it

# three instants: 00:30Z and 23:30Z on 1 March, 01:00Z on 2 March
ROWS = """
    (TIMESTAMPTZ '2025-03-01 00:30:00+00', 'A', 10.0),
    (TIMESTAMPTZ '2025-03-01 23:30:00+00', 'B', 5.0),
    (TIMESTAMPTZ '2025-03-02 01:00:00+00', 'A', 7.0)
"""
# spend on 1 March: in UTC the first two; in Los Angeles (UTC-8) the last two
EXPECTED = {"UTC": 15.0, "America/Los_Angeles": 12.0}


@pytest.fixture
def server_elsewhere(monkeypatch):
    """The server's own zone is neither of the workspace zones tried."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_a_timestamp_date_gives_the_same_day_on_both_engines(
    spark_session, tmp_path, server_elsewhere, zone
):
    path = tmp_path / "events.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES {ROWS}) t(event_at, campaign, spend)) TO '{path}'"
        " (FORMAT parquet)"
    )
    store = Store(str(tmp_path / "ws.sqlite"))
    set_time_zone(store, zone)
    mapping = {"event_at": "date"}
    local = import_file(store, path, options=ImportOptions(name="imported", mapping=mapping))
    local = local.dataset
    remote = attach(store, AttachOptions(path=str(path), name="attached", mapping=mapping))
    remote = remote.dataset
    for dataset in (local, remote):
        types = {c.name: c.type for c in dataset.columns}
        assert types["event_at"] == "DATE" and types["event_at time"] == "TIMESTAMP"
    one_day = KpiQuery(("spend",), start=date(2025, 3, 1), end=date(2025, 3, 1))
    for dataset in (local, remote):
        total = run_kpis(store, dataset, one_day)["spend"].iloc[0]
        assert total == pytest.approx(EXPECTED[zone]), (dataset.engine, zone)
    for dataset in (local, remote):  # what is stored is what the registry says
        rows = store.query(
            dataset, f'SELECT * FROM "{dataset.table_name}" ORDER BY "event_at time"'
        )
        assert str(rows["event_at"].iloc[0].date()) == (
            "2025-03-01" if zone == "UTC" else "2025-02-28"
        )
        assert rows["event_at time"].iloc[0].strftime("%H:%M") == (
            "00:30" if zone == "UTC" else "16:30"
        )
    store.close()
