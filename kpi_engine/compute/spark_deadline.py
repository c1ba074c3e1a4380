"""One Spark action with a deadline: it runs on its own thread under a tag, and when the
deadline passes, or a cluster has had no executor for 30 s, the tagged work is cancelled on
the cluster (job tags on classic PySpark, interrupt tags over Connect) and the caller gets
one sentence instead of a wait without end."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kpi_engine.compute.spark_cluster import NO_EXECUTORS_AFTER, TIMEOUT_ENV
from kpi_engine.errors import KpiLabError

T = TypeVar("T")
GRACE = 10.0  # seconds a cancelled action gets to end before the caller moves on


class SparkTimeout(KpiLabError):
    """The query passed its deadline and was cancelled."""


class NoExecutors(KpiLabError):
    """The cluster has no executor to run the query on."""


def is_classic(spark) -> bool:
    return not type(spark).__module__.startswith("pyspark.sql.connect")


def executors(spark) -> int | None:
    """Executors a classic cluster holds now (the driver not counted); None where that
    cannot be known (local mode runs tasks in the driver; Connect does not say)."""
    if not is_classic(spark):
        return None
    try:
        context = spark.sparkContext
        if context.master.startswith("local"):
            return None
        return max(0, len(list(context._jsc.sc().statusTracker().getExecutorInfos())) - 1)
    except Exception:  # a context that has gone: the query's own error will say so
        return None


def _tag(spark, tag: str, on: bool) -> None:
    if is_classic(spark):  # the job tags of this thread's JVM thread (pinned threads)
        context = spark.sparkContext
        context.addJobTag(tag) if on else context.removeJobTag(tag)
    else:
        spark.addTag(tag) if on else spark.removeTag(tag)


def cancel(spark, tag: str) -> None:
    try:
        if is_classic(spark):
            spark.sparkContext.cancelJobsWithTag(tag)
        else:
            spark.interruptTag(tag)
    except Exception:  # a session already gone has nothing left to cancel
        pass


def _cancel_until_ended(spark, tag: str, thread: threading.Thread) -> None:
    """Cancel again and again: a query still being planned submits its job after the first
    cancel, which only reaches jobs already running."""
    ends = time.monotonic() + GRACE
    while thread.is_alive() and time.monotonic() < ends:
        cancel(spark, tag)
        thread.join(0.25)


def within(spark, action: Callable[[], T], seconds: float) -> T:
    """``action()``'s value, or its exception, or ``SparkTimeout`` / ``NoExecutors`` after
    cancelling what it started."""
    tag = "kpilab-" + secrets.token_hex(8)
    box: dict = {}

    def work() -> None:
        try:
            _tag(spark, tag, True)
            box["value"] = action()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            try:
                _tag(spark, tag, False)
            except Exception:
                pass

    thread = threading.Thread(target=work, name="kpilab-spark-query", daemon=True)
    started = time.monotonic()
    thread.start()
    idle_since = started
    while thread.is_alive():
        thread.join(0.5)
        if not thread.is_alive():
            break
        now = time.monotonic()
        if executors(spark) != 0:
            idle_since = now
        if now - idle_since >= min(NO_EXECUTORS_AFTER, seconds):
            _cancel_until_ended(spark, tag, thread)
            raise NoExecutors(
                f"the Spark cluster has had no executor for {now - idle_since:.0f} s, so the"
                " query was cancelled: start a worker, or free cores held by other"
                " applications, then try again"
            )
        if now - started >= seconds:
            _cancel_until_ended(spark, tag, thread)
            raise SparkTimeout(
                f"Spark did not answer within {seconds:g} s ({TIMEOUT_ENV}), so the query was"
                " cancelled on the cluster: try a shorter period or fewer groups, or ask the"
                " operator to raise the limit"
            )
    if "error" in box:
        raise box["error"]
    return box["value"]
