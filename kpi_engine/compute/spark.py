"""Apache Spark as the engine of attached datasets: one session per process, the dataset's
source read in place as a temporary view, and the analysis SQL translated from DuckDB's
dialect and run with positional parameters. Every workspace's views live in that one
session, so a view gets a random name nobody can type (128 bits): the analysis SQL names
the dataset's table, which the translation points at its view. Results come back
through Arrow with the types DuckDB gives (decimals as float64, dates as datetime64[us]).

``KPILAB_SPARK_MASTER``: ``local[*]`` by default, any Spark master URL, or ``sc://host:port``
for Spark Connect. No credentials are kept here: the cluster's own configuration holds them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from kpi_engine.compute.dialects import translate
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach_roots import fenced_source
from kpi_engine.paths import own_paths

if TYPE_CHECKING:
    from kpi_engine.datasets import Dataset

MASTER_ENV = "KPILAB_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

_lock = threading.Lock()
_state: dict = {"session": None, "views": {}}  # views: dataset id → (what it reads, its name)
VIEW_PREFIX = "kpilab_view_"


def master() -> str:
    return os.environ.get(MASTER_ENV, "").strip() or DEFAULT_MASTER


def session():
    """The process's Spark session, started on first use (9-13 s locally)."""
    with _lock:
        if _state["session"] is None:
            _state["session"] = _start(master())
        return _state["session"]


def _start(url: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise KpiLabError(
            "Spark is not installed here: pip install -r requirements-spark.txt (it also needs"
            " Java 17, e.g. Debian's openjdk-17-jre-headless)"
        ) from None
    _quiet()
    builder = SparkSession.builder.appName("KPI Lab")
    if url.startswith("sc://"):
        builder = builder.remote(url)
    else:
        builder = (
            builder.master(url)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")  # no stage bars on stderr
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG}")
        )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM's or the cluster's refusal, whatever its class
        raise KpiLabError(
            f"cannot start Spark at {url} ({MASTER_ENV}): {_first_line(exc)}"
        ) from None
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # days are days, wherever Spark runs
    # ${env:HOME} in a column name would be substituted inside quoted identifiers, leaking the
    # server's environment into an error
    spark.conf.set("spark.sql.variable.substitute", "false")
    if not url.startswith("sc://"):
        spark.sparkContext.setLogLevel("FATAL")  # a refused query is our message, not a log
    return spark


def _quiet() -> None:
    """A refused query is told in our own one line: PySpark would also log it, with the
    JVM's stack, to stderr."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)


def read(source: dict):
    """A Spark DataFrame over an attached source: a catalog table, or a path in a format.
    The operator's roots are checked again here, at every read: a source attached before a
    root was removed is read no more."""
    source = fenced_source(source, own_paths())
    spark = session()
    try:
        if source.get("table"):
            return spark.table(source["table"])
        reader = spark.read.format(source["format"])
        if source["format"] == "csv":
            reader = reader.option("header", True).option("inferSchema", True)
        return reader.load(source["path"])
    except Exception as exc:
        where = source.get("table") or source.get("path")
        raise KpiLabError(f"Spark cannot read {where}: {_first_line(exc)}") from None


def _view(dataset: Dataset) -> str:
    """The name of a temporary view of the dataset's source, its date column as days;
    registered again (under a new name) when the source or the columns change."""
    fingerprint = json.dumps([dataset.source, [c.name for c in dataset.columns]])
    with _lock:
        known = _state["views"].get(dataset.dataset_id)
        if known and known[0] == fingerprint:
            return known[1]
    frame = read(dataset.source or {})
    if dataset.date_column:
        day = "`" + dataset.date_column.replace("`", "``") + "`"
        frame = frame.withColumn(dataset.date_column, frame[day].cast("date"))
    name = VIEW_PREFIX + secrets.token_hex(16)
    frame.createOrReplaceTempView(name)
    with _lock:
        _state["views"][dataset.dataset_id] = (fingerprint, name)
    if known:
        _drop(known[1])
    return name


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
    text = translate(sql, "spark", {dataset.table_name: _view(dataset)})
    try:
        table = session().sql(text, args=list(params)).toArrow()
    except Exception as exc:
        reason = _first_line(exc)
        if "ARITHMETIC_OVERFLOW" in reason:
            reason = (
                "a sum of a whole-number column passed the largest 64-bit integer, which Spark"
                " refuses (DuckDB widens it): store that column as a double or a decimal"
            )
        raise KpiLabError(
            f"Spark could not run this analysis of {dataset.name!r}: {reason}"
        ) from None
    return typed(table)


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


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
