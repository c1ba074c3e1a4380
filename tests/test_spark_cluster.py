"""How KPI Lab reaches Spark, without a cluster: the deadline setting, the Connect token
(from the environment or a mounted file, never shown), the addresses a master URL names,
the reachability check, and which failures mean a lost session."""

from __future__ import annotations

import socket
import time

import pytest

from kpi_engine.compute import spark_cluster as cluster
from kpi_engine.errors import KpiLabError


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in (cluster.TOKEN_ENV, cluster.TOKEN_FILE_ENV, cluster.TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_deadline_is_120_seconds_unless_set(monkeypatch):
    assert cluster.timeout() == 120
    monkeypatch.setenv(cluster.TIMEOUT_ENV, "7.5")
    assert cluster.timeout() == 7.5
    for wrong in ("soon", "0", "-3", "1e9"):
        monkeypatch.setenv(cluster.TIMEOUT_ENV, wrong)
        with pytest.raises(KpiLabError, match="KPILAB_SPARK_TIMEOUT=.* between 1 and 86400"):
            cluster.timeout()


def test_the_token_goes_into_the_connect_url_and_never_into_a_message(monkeypatch, tmp_path):
    assert cluster.connect_url("sc://spark.example:443") == "sc://spark.example:443"
    monkeypatch.setenv(cluster.TOKEN_ENV, "dapi-s3cret")
    url = cluster.connect_url("sc://spark.example:443")
    assert url == "sc://spark.example:443/;token=dapi-s3cret"
    assert (
        cluster.connect_url("sc://h:443/;use_ssl=true")
        == "sc://h:443/;use_ssl=true;token=dapi-s3cret"
    )
    assert cluster.connect_url("sc://h:443/;token=own") == "sc://h:443/;token=own"
    assert "s3cret" not in cluster.shown(url)
    assert (
        cluster.shown("sc://user:pw@h:1/;token=x;use_ssl=true")
        == "sc://…@h:1/;token=…;use_ssl=true"
    )

    monkeypatch.delenv(cluster.TOKEN_ENV)
    secret = tmp_path / "spark-token"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv(cluster.TOKEN_FILE_ENV, str(secret))
    assert cluster.token() == "from-a-file"
    monkeypatch.setenv(cluster.TOKEN_FILE_ENV, str(tmp_path / "absent"))
    with pytest.raises(KpiLabError, match="cannot read the Spark token file named by") as err:
        cluster.token()
    assert str(tmp_path) not in str(err.value)
    monkeypatch.setenv(cluster.TOKEN_ENV, "two words")
    with pytest.raises(KpiLabError, match="spaces or unprintable"):
        cluster.token()


def test_a_master_url_names_its_addresses():
    assert cluster.addresses("local[*]") == []
    assert cluster.addresses("sc://spark.example") == [("spark.example", 15002)]
    assert cluster.addresses("sc://10.0.0.5:443/;token=x") == [("10.0.0.5", 443)]
    assert cluster.addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    assert cluster.addresses("spark://[::1]:7077") == [("::1", 7077)]


def test_nobody_listening_is_refused_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        started = time.monotonic()
        with pytest.raises(KpiLabError, match=f"nothing answers at 127.0.0.1:{port}"):
            cluster.reach(f"spark://127.0.0.1:{port}")
        assert time.monotonic() - started < 15
        s.listen()
        cluster.reach(f"sc://127.0.0.1:{port}")  # something answers: no error
    cluster.reach("local[2]")


@pytest.mark.parametrize(
    "message",
    [
        "[NO_ACTIVE_SESSION] No active Spark session found",
        "(org.apache.spark.SparkSQLException) [INVALID_HANDLE.SESSION_NOT_FOUND] The handle",
        "<_MultiThreadedRendezvous of RPC that terminated with: status = StatusCode.UNAVAILABLE",
        "Cannot call methods on a stopped SparkContext.",
    ],
)
def test_a_lost_session_is_told_from_a_refused_query(message):
    assert cluster.lost(RuntimeError(message))


def test_a_refused_query_is_not_a_lost_session():
    assert not cluster.lost(RuntimeError("[UNRESOLVED_COLUMN.WITH_SUGGESTION] `spend_x`"))
    assert not cluster.lost(RuntimeError("[PATH_NOT_FOUND] Path does not exist"))


def test_a_session_replaced_by_another_thread_is_not_discarded_again(monkeypatch):
    """Two queries fail on the same dead session: the first heals it, and the second's
    heal must leave the first's new session alone."""
    from kpi_engine.compute import spark

    class Fake:
        stopped = False

        def stop(self):
            self.stopped = True

    dead, fresh = Fake(), Fake()
    monkeypatch.setattr(spark, "_state", {"session": dead, "views": {"d": ("x", "v")}})
    spark.heal(dead)
    assert dead.stopped and spark._state["session"] is None and not spark._state["views"]
    spark._state["session"] = fresh
    spark.heal(dead)  # the second failure of the old session
    assert spark._state["session"] is fresh and not fresh.stopped
