"""Apache Spark as the engine of attached datasets: one session per process, the dataset's
source read in place as a temporary view, and the analysis SQL translated from DuckDB's
dialect and run with positional parameters. Every workspace's views live in that one
session, so a view gets a random name nobody can type (128 bits): the analysis SQL names
the dataset's table, which the translation points at its view. Results come back
through Arrow with the types DuckDB gives (decimals as float64, dates as datetime64[us]).

The session heals: when a query finds it gone (a restarted master or Connect server, a
cluster whose executors went with it), a new one is started, the views are registered
again on their next use, and the query runs once more. Every query has a deadline
(``spark_deadline``). Where Spark runs and how it is reached: ``spark_cluster``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import warnings
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from kpi_engine.compute import spark_cluster as cluster
from kpi_engine.compute.dialects import translate
from kpi_engine.compute.spark_deadline import executors, within
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach_roots import fenced_source
from kpi_engine.ingest.delta_log import current_files, local
from kpi_engine.paths import own_paths

if TYPE_CHECKING:
    from kpi_engine.datasets import Dataset

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
CONNECT_RETRIES = 4  # gRPC retries of one call over Connect: about 3 s, where Spark waits 10 min

_lock = threading.RLock()
_state: dict = {"session": None, "views": {}}  # views: dataset id → (what it reads, its name)
VIEW_PREFIX = "kpilab_view_"


class SessionLost(KpiLabError):
    """The session died under a query: the cluster restarted or went away."""


def session():
    """The process's Spark session, started on first use (9-13 s locally, under a second
    over Connect), and started again if a classic context was stopped under it."""
    with _lock:
        current = _state["session"]
        if current is not None and _stopped(current):
            _discard()
            current = None
        if current is None:
            current = _state["session"] = _start(cluster.master())
        return current


def heal(failed=None) -> None:
    """Forget the session and every view: the next query starts a new session and
    registers the views it needs again. With ``failed``, only if that session is still the
    current one: another thread may have replaced it already, and its new one is fine."""
    with _lock:
        if failed is None or _state["session"] is failed:
            _discard()


def _discard() -> None:
    old, _state["session"] = _state["session"], None
    _state["views"].clear()
    _state["had_executors"] = False
    if old is None:
        return
    try:
        old.stop()
    except Exception:  # a session whose server has gone cannot say goodbye
        pass


def _stopped(spark) -> bool:
    try:
        return spark.sparkContext._jsc.sc().isStopped()
    except Exception:  # Connect has no context to ask: its calls say when it is gone
        return False


def _start(url: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise KpiLabError(
            "Spark is not installed here: pip install -r requirements-spark-connect.txt for a"
            " Spark Connect server (sc://), or -r requirements-spark.txt to run Spark in this"
            " process (it needs Java 17, e.g. Debian's openjdk-17-jre-headless)"
        ) from None
    cluster.reach(url)
    _quiet()
    builder = SparkSession.builder.appName("KPI Lab")
    if cluster.is_connect(url):
        builder = builder.remote(cluster.connect_url(url))
    else:
        _classic_here(url)
        builder = (
            builder.master(url)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")  # no stage bars on stderr
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG}")
        )
    try:
        spark = builder.create() if cluster.is_connect(url) else builder.getOrCreate()
        if cluster.is_connect(url):
            _short_retries(spark)
        spark.conf.set("spark.sql.session.timeZone", "UTC")  # days are days, wherever Spark runs
        # ${env:HOME} in a column name would be substituted inside quoted identifiers,
        # leaking the server's environment into an error
        spark.conf.set("spark.sql.variable.substitute", "false")
    except KpiLabError:
        raise
    except Exception as exc:  # the JVM's or the cluster's refusal, whatever its class
        raise KpiLabError(
            f"cannot start Spark at {cluster.shown(url)} ({cluster.MASTER_ENV}): {_first_line(exc)}"
        ) from None
    if not cluster.is_connect(url):
        spark.sparkContext.setLogLevel("FATAL")  # a refused query is our message, not a log
    return spark


def _classic_here(url: str) -> None:
    """Spark in this process: not with the thin client, and not in Connect mode, which one
    Connect session turns on for the whole process."""
    from pyspark.sql.utils import is_remote_only

    if is_remote_only():
        raise KpiLabError(
            f"only Spark Connect's client is installed here, which cannot run {url}: set"
            f" {cluster.MASTER_ENV}=sc://host:port (a Spark Connect server), or install"
            " requirements-spark.txt and Java 17 to run Spark in this process"
        )
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


def _short_retries(spark) -> None:
    """A Connect call retries for ten minutes by default before it says the server is
    gone; a few seconds is enough to ride out a blip, and the deadline covers the rest."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    spark.client.set_retry_policies(
        [DefaultPolicy(max_retries=CONNECT_RETRIES, max_backoff=2000, max_server_retry_delay=2000)]
    )


def _quiet() -> None:
    """A refused query is told in our own one line: PySpark would also log it, with the
    JVM's stack, to stderr."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    # a Connect call that gave up says so in its error too, which is ours to tell
    warnings.filterwarnings("ignore", r"\[RETRIES_EXCEEDED\]", UserWarning)


def read(source: dict, spark=None):
    """A Spark DataFrame over an attached source, checked now (Connect would check it only
    at the first query): a catalog table, or a path in a format. The operator's roots are
    checked again here, at every read: a source attached before a root was removed is read
    no more."""
    source = fenced_source(source, own_paths())
    if spark is None:
        return _attempt(lambda spark: read(source, spark))
    try:
        if source.get("table"):
            frame = spark.table(source["table"])
        elif source["format"] == "delta" and local(source["path"]):
            frame = _delta(spark, source["path"], source.get("version"))
        else:
            reader = spark.read.format(source["format"])
            if source["format"] == "csv":
                reader = reader.option("header", True).option("inferSchema", True)
            frame = reader.load(source["path"])
        frame.schema  # noqa: B018 - over Connect, the source is checked here
        return frame
    except KpiLabError:
        raise
    except Exception as exc:
        if cluster.lost(exc):
            raise
        where = source.get("table") or source.get("path")
        raise KpiLabError(f"Spark cannot read {where}: {_first_line(exc)}") from None


def _delta(spark, path: str, version: int | None):
    """A local Delta table as exactly the files of one version (its log read by delta-rs,
    so no Delta Lake is needed on the cluster), typed by the table's schema."""
    from pyspark.sql.types import StructType

    table = current_files(path, version)
    schema = StructType.fromJson(json.loads(table.schema_json))
    return spark.read.schema(schema).option("basePath", table.folder).parquet(*table.files)


def first_rows(frame, rows: int) -> pd.DataFrame:
    """A frame's first rows, typed, within the query deadline."""
    return _attempt(lambda _: typed(frame.limit(rows).toArrow()), heal_lost=False)


def _view(dataset: Dataset, spark) -> str:
    """The name of a temporary view of the dataset's source, its date column as days;
    registered again (under a new name) when the source or the columns change."""
    fingerprint = json.dumps([dataset.source, [c.name for c in dataset.columns]])
    with _lock:
        known = _state["views"].get(dataset.dataset_id)
        if known and known[0] == fingerprint:
            return known[1]
    frame = _dated(read(dataset.source or {}, spark), dataset)
    name = VIEW_PREFIX + secrets.token_hex(16)
    frame.createOrReplaceTempView(name)
    with _lock:
        _state["views"][dataset.dataset_id] = (fingerprint, name)
    if known:
        _drop(known[1])
    return name


def _dated(frame, dataset: Dataset):
    """The date column as days, by the rule an import follows: a timestamp's day is its
    wall-clock date, an instant's (tz-aware) in the workspace's time zone recorded at attach;
    that wall-clock time is kept in the time column the registry lists beside it."""
    if not dataset.date_column:
        return frame
    from pyspark.sql import functions as F

    column = frame["`" + dataset.date_column.replace("`", "``") + "`"]
    kind = frame.schema[dataset.date_column].dataType.typeName()
    wall = column
    if kind == "timestamp":  # Spark's session is in UTC; the day is the workspace's
        zone = (dataset.source or {}).get("zone", "UTC")
        wall = F.from_utc_timestamp(column, zone).cast("timestamp_ntz")
    if kind.startswith("timestamp"):
        for kept in dataset.columns:
            if kept.type == "TIMESTAMP" and kept.role is None and kept.name not in frame.columns:
                frame = frame.withColumn(kept.name, wall)
    return frame.withColumn(dataset.date_column, wall.cast("date"))


def _drop(view: str) -> None:
    try:
        session().catalog.dropTempView(view)
    except Exception:  # a view of a session that has gone: nothing to drop
        pass


def forget(dataset_id: str) -> None:
    """Read the dataset's source afresh on its next query (new files in a lake folder)."""
    with _lock:
        known = _state["views"].pop(dataset_id, None)
    if known:
        _drop(known[1])


def run(dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """One analysis query on Spark, with DuckDB's result types."""

    def query(spark) -> pa.Table:
        text = translate(sql, "spark", {dataset.table_name: _view(dataset, spark)})
        try:
            return spark.sql(text, args=list(params)).toArrow()
        except Exception as exc:
            if cluster.lost(exc):
                raise
            reason = _first_line(exc)
            if "ARITHMETIC_OVERFLOW" in reason:
                reason = (
                    "a sum of a whole-number column passed the largest 64-bit integer, which"
                    " Spark refuses (DuckDB widens it): store that column as a double or a"
                    " decimal"
                )
            raise KpiLabError(
                f"Spark could not run this analysis of {dataset.name!r}: {reason}"
            ) from None

    return typed(_attempt(query))


def _attempt(action, heal_lost: bool = True):
    """``action(session)`` within the deadline; when the session turns out to be gone (a
    restarted cluster), once more on a new one. Its views are registered again as the
    action asks for them."""
    for attempt in (1, 2):
        spark = session()
        if attempt == 1 and _executors_gone(spark):
            heal(spark)
            spark = session()
        try:
            value = within(spark, partial(action, spark), cluster.timeout())
        except KpiLabError:  # a refused query, a deadline, no executors: said already
            raise
        except Exception as exc:
            if not cluster.lost(exc):
                raise KpiLabError(f"Spark failed: {_first_line(exc)}") from None
            heal(spark)
            if heal_lost and attempt == 1:
                continue
            raise SessionLost(
                f"lost the Spark session at {cluster.shown(cluster.master())}:"
                f" {_first_line(exc)}. The cluster may be restarting: try again in a minute;"
                " nothing needs restarting here"
            ) from None
        _state["had_executors"] = _state.get("had_executors") or _executors(spark) > 0
        return value
    raise AssertionError("unreachable")


def _executors(spark) -> int:
    return executors(spark) or 0


def _executors_gone(spark) -> bool:
    """A classic cluster session that had executors and has none now: its master or its
    workers restarted and forgot this application, which would wait for them for ever."""
    if not _state.get("had_executors") or _executors(spark) > 0:
        return False
    _state["had_executors"] = False
    return spark.sparkContext.getConf().get("spark.dynamicAllocation.enabled", "false") != "true"


def typed(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as DuckDB's ``.df()`` gives it: decimals as float64, dates and times
    as datetime64[us]; integers stay integers unless they hold nulls."""
    fields = []
    for f in table.schema:
        if pa.types.is_decimal(f.type):
            fields.append(pa.field(f.name, pa.float64()))
        elif pa.types.is_date(f.type) or pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us")))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields)).to_pandas()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0][:300] if text else type(exc).__name__
    secret = cluster.token()
    return line.replace(secret, "…") if secret else line
