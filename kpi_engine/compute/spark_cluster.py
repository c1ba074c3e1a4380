"""Where Spark runs and how KPI Lab reaches it: the master URL, the Connect token, the
query deadline, a quick reachability check, and telling a lost session from a refused query.

``KPILAB_SPARK_MASTER``: ``local[*]`` by default, a standalone ``spark://host:port``, or
``sc://host:port`` for Spark Connect (and Databricks Connect's endpoint).
``KPILAB_SPARK_TOKEN`` (or a file named by ``KPILAB_SPARK_TOKEN_FILE``): the bearer token a
remote Connect endpoint asks for; it is sent over TLS and never stored in the workspace
database, and never shown in a message. ``KPILAB_SPARK_TIMEOUT``: seconds any one query may
take (120 by default) before it is cancelled on the cluster.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from kpi_engine.errors import KpiLabError

MASTER_ENV = "KPILAB_SPARK_MASTER"
TOKEN_ENV = "KPILAB_SPARK_TOKEN"
TOKEN_FILE_ENV = "KPILAB_SPARK_TOKEN_FILE"
TIMEOUT_ENV = "KPILAB_SPARK_TIMEOUT"
DEFAULT_MASTER = "local[*]"
DEFAULT_TIMEOUT = 120.0
NO_EXECUTORS_AFTER = 30.0  # seconds a query may wait for a cluster without executors
REACH_SECONDS = 5.0  # per address, so a wrong URL fails well within 15 s
CONNECT_PORT = 15002  # Spark Connect's own default

# What a dead session says, on classic PySpark (Py4J) and over Connect (gRPC)
LOST = re.compile(
    r"NO_ACTIVE_SESSION|INVALID_HANDLE|SESSION_CLOSED|SESSION_NOT_FOUND|SESSION_CHANGED"
    r"|StatusCode\.UNAVAILABLE|failed to connect|Connection refused|Socket closed"
    r"|stopped SparkContext|SparkContext was shut down|SparkContext has been shutdown"
    r"|Answer from Java side is empty|Error while sending or receiving|Py4JNetworkError",
    re.IGNORECASE,
)


def master() -> str:
    return os.environ.get(MASTER_ENV, "").strip() or DEFAULT_MASTER


def is_connect(url: str) -> bool:
    return url.startswith("sc://")


def timeout() -> float:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86_400:
        raise KpiLabError(
            f"{TIMEOUT_ENV}={text!r} is not a number of seconds between 1 and 86400:"
            f" leave it unset for {DEFAULT_TIMEOUT:g} s"
        )
    return value


def token() -> str | None:
    """The Connect token, from the environment or the file it names (a mounted secret)."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    named = os.environ.get(TOKEN_FILE_ENV, "").strip()
    if not value and named:
        try:
            value = Path(named).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KpiLabError(
                f"cannot read the Spark token file named by {TOKEN_FILE_ENV}: {exc.strerror}"
            ) from None
    if value and not re.fullmatch(r"[\x21-\x7e]+", value):
        raise KpiLabError(f"the Spark token ({TOKEN_ENV}) holds spaces or unprintable characters")
    return value or None


def connect_url(url: str) -> str:
    """The sc:// URL with the token as Connect's ``token`` parameter (which also turns TLS
    on); a token already in the URL is kept."""
    secret = token()
    if not secret or ";token=" in url:
        return url
    return url.rstrip("/") + ("" if "/;" in url else "/") + f";token={secret}"


def shown(url: str) -> str:
    """The URL as a message may show it: no token, no user or password."""
    url = re.sub(r";token=[^;]*", ";token=…", url)
    return re.sub(r"//[^/@]*@", "//…@", url)


def addresses(url: str) -> list[tuple[str, int]]:
    """The (host, port) pairs a master URL names; none for local mode."""
    if is_connect(url):
        parts = urlsplit("http://" + url[len("sc://") :].split("/", 1)[0])
        return [(parts.hostname or "localhost", parts.port or CONNECT_PORT)]
    if url.startswith("spark://"):
        found = []
        for item in url[len("spark://") :].split(","):
            parts = urlsplit("http://" + item)
            found.append((parts.hostname or "localhost", parts.port or 7077))
        return found
    return []


def reach(url: str) -> None:
    """Refuse at once a master nobody listens at: Spark itself retries for a minute
    (standalone) or ten (Connect) before it says so."""
    tried = addresses(url)
    reasons = []
    for host, port in tried:
        try:
            with socket.create_connection((host, port), timeout=REACH_SECONDS):
                return
        except OSError as exc:
            reasons.append(f"{host}:{port} ({exc.strerror or type(exc).__name__})")
    if tried:
        raise KpiLabError(
            f"cannot reach Spark at {shown(url)} ({MASTER_ENV}): nothing answers at"
            f" {', '.join(reasons)}. Check the host and port, and that the cluster is up"
        )


def lost(exc: BaseException) -> bool:
    """Whether a failure means the session is gone (a restarted cluster), not the query."""
    return bool(LOST.search(f"{type(exc).__name__}: {exc}"))
