"""KPI Lab against real clusters started from pyspark's own scripts (``clusters``): the
parity suite on a standalone master with a worker and over Spark Connect, sessions that
heal after the master or the Connect server restarts, a deadline that cancels on the
cluster, a cluster without executors, and a wrong URL. The process's one session is
switched to each cluster and back to ``local[2]`` afterwards."""

from __future__ import annotations

import math
import threading
import time

import pyarrow.compute as pc
import pytest

from kpi_engine.compute import spark, spark_deadline
from kpi_engine.compute.spark_deadline import NoExecutors, SparkTimeout, within
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach import AttachOptions, attach, inspect_source
from kpi_engine.kpis.query import KpiQuery, run_kpis
from tests.engine_shapes import SHAPES
from tests.spark import clusters
from tests.spark.conftest import on
from tests.spark.frames import differences
from tests.spark.thin_client import thin_client_answers

# real clusters take 2-4 minutes on 2 cores: their own tier (make test-clusters, run by .ci/run)
pytestmark = [pytest.mark.slow, pytest.mark.cluster]

# 100 s of sleeping tasks; a sleep ends when its task is killed, as a scan of files does
# (a tight loop of arithmetic would hold its cores until it next checks)
SLOW_QUERY = (
    "SELECT reflect('java.lang.Thread', 'sleep', CAST(200 AS BIGINT)) AS n"
    " FROM range(0, 1000, 1, 2)"
)


def _totals(lake) -> tuple:
    local, remote = lake.pairs["campaigns"]
    query = KpiQuery(("spend", "roas", "cpa"), by=("channel",))
    return run_kpis(lake.store, local, query), lambda: run_kpis(lake.store, remote, query)


# one shape of each kind of analysis (test_parity runs every shape on local[2])
ON_CLUSTERS = (
    "one dimension, filtered, sorted and limited",
    "week trend, one line per campaign",
    "custom formula sum(revenue) * 2.5 - max(spend) + min(clicks) / count(clicks)",
    "experiment on users, one row each, with CUPED and a cap",
    "experiment on users with several rows, some in both variants",
    "budget window and plan",
)


def _shapes_agree(lake) -> int:
    count = 0
    for shape in (s for s in SHAPES if s.name in ON_CLUSTERS):
        local, remote = lake.pairs[shape.sample]
        on_duckdb = shape.queries(lake.store, local)
        on_spark = shape.queries(lake.store, remote)
        for (sql, _, duck), (_, _, other) in zip(on_duckdb, on_spark, strict=True):
            assert not differences(duck, other), (shape.name, sql, differences(duck, other))
            count += 1
    return count


def _restart_heals(lake, down, up, asked_while_down: bool = False) -> None:
    """With the session open, the cluster stops and starts again; the next query answers,
    with no restart here. Asked while it is down, a query says so in one line."""
    expected, on_spark = _totals(lake)
    assert not differences(expected, on_spark())
    down()
    if asked_while_down:
        with pytest.raises(KpiLabError, match="cannot reach Spark at sc://127.0.0.1") as err:
            on_spark()
        assert "\n" not in str(err.value)
    up()
    started = time.monotonic()
    assert not differences(expected, on_spark())
    print(f"\nanswered {time.monotonic() - started:.1f} s after the cluster was back")


def _deadline_cancels(session) -> None:
    with pytest.raises(SparkTimeout, match=r"within 2 s \(KPILAB_SPARK_TIMEOUT\)"):
        within(session, lambda: session.sql(SLOW_QUERY).toArrow(), 2)
    if not type(session).__module__.startswith("pyspark.sql.connect"):
        assert not session.sparkContext.statusTracker().getActiveJobsIds()  # not left running
    assert session.sql("SELECT 41 + 1 AS n").toArrow().to_pylist() == [{"n": 42}]


def _worker_lost_mid_query(session, worker, monkeypatch) -> None:
    """The only worker is killed while a query runs: the query is cancelled with a sentence
    once the cluster has had no executor for a while (30 s; 3 s here), instead of waiting at
    (0 + 0) tasks for a worker; with a worker again, the same session answers."""
    monkeypatch.setattr(spark_deadline, "NO_EXECUTORS_AFTER", 3)
    killer = threading.Timer(4, worker.stop, kwargs={"hard": True})
    killer.start()
    try:
        with pytest.raises(NoExecutors, match="no executor for"):
            within(session, lambda: session.sql(SLOW_QUERY).toArrow(), 90)
    finally:
        killer.join()
    assert not session.sparkContext.statusTracker().getActiveJobsIds()
    worker.start()
    assert session.sql("SELECT 41 + 1 AS n").toArrow().to_pylist() == [{"n": 42}]


# Each cluster is used by one test only, so that the two test workers never start the same
# cluster twice (pytest-xdist's loadgroup does not group tests under pytest 9).


def test_a_standalone_cluster_answers_as_duckdb_and_heals_after_a_restart(
    lake, standalone, monkeypatch
):
    """Parity on a master with one worker; a worker lost mid-query. Then the master and its
    worker stop and start again: this process's application is forgotten there and would
    wait for executors for ever; the next query starts a new application and answers."""
    url, master, worker = standalone
    with on(url):
        assert spark.session().sparkContext.master == url
        assert _shapes_agree(lake) > 10
        _worker_lost_mid_query(spark.session(), worker, monkeypatch)

        def down() -> None:
            worker.stop()
            master.stop()

        def up() -> None:
            master.start()
            worker.start()

        _restart_heals(lake, down, up)


def _delta_reads_its_current_version(lake, table) -> None:
    """A Delta table over Connect: its log is read here, its files there; no Delta Lake."""
    from deltalake import DeltaTable

    expected = pc.sum(DeltaTable(str(table)).to_pyarrow_table()["spend"]).as_py()
    options = AttachOptions(path=str(table), format="delta", name="delta over connect")
    dataset = attach(lake.store, options).dataset
    got = run_kpis(lake.store, dataset, KpiQuery(("spend",)))["spend"].iloc[0]
    assert math.isclose(got, expected, rel_tol=1e-9)


def test_spark_connect_answers_as_duckdb_cancels_checks_and_heals(
    lake, connect, delta_table, tmp_path
):
    url, server = connect
    with on(url):
        assert type(spark.session()).__module__.startswith("pyspark.sql.connect")
        assert _shapes_agree(lake) > 10
        _delta_reads_its_current_version(lake, delta_table)
        _deadline_cancels(spark.session())
        # Connect checks a source lazily, at its first query: attach asks for the schema at
        # once, so a file Spark cannot read is one line with its cause (exit 2 on the
        # command line), not a traceback from the profile query
        broken = tmp_path / "broken.parquet"
        broken.write_text("date,spend\n2026-01-01,3\n")
        with pytest.raises(KpiLabError, match="Spark cannot read .*broken.parquet: .+") as bad:
            inspect_source(lake.store, AttachOptions(path=str(broken)))
        assert "\n" not in str(bad.value)
        _restart_heals(lake, server.stop, server.start, asked_while_down=True)
    thin_client_answers(lake, url, tmp_path)


def test_a_query_past_its_deadline_is_cancelled_on_a_local_spark(spark_session):
    with on("local[2]"):
        _deadline_cancels(spark.session())


def test_a_master_without_workers_says_so(lake, spark_session, tmp_path):
    lonely = clusters.master(tmp_path).start()
    try:
        with on(f"spark://127.0.0.1:{lonely.port}", KPILAB_SPARK_TIMEOUT="5"):
            with pytest.raises(NoExecutors, match="no executor for 5 s"):
                _totals(lake)[1]()
    finally:
        lonely.stop()


@pytest.mark.parametrize("scheme", ["spark", "sc"])
def test_a_wrong_master_url_fails_fast(lake, scheme):
    url = f"{scheme}://127.0.0.1:{clusters.free_port()}"
    started = time.monotonic()
    with on(url), pytest.raises(KpiLabError, match="nothing answers at 127.0.0.1:") as wrong:
        _totals(lake)[1]()
    assert time.monotonic() - started < 15  # the bound; Spark's own wait is 1-10 min
    assert "KPILAB_SPARK_MASTER" in str(wrong.value)
