"""The monitor inside the app's server process, for a deployment without cron:
``KPILAB_MONITOR_EVERY=15m`` (also ``30s``, ``1h``) runs a round that often on a daemon
thread (``kpi_engine.repeat``)."""

from __future__ import annotations

import os
import re
import threading

from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.errors import KpiLabError
from kpi_engine.repeat import every as repeat
from kpi_engine.store import Store

UNITS = {"s": 1, "m": 60, "h": 3600}
SHORTEST = 30  # seconds


def parse_every(text: str) -> float:
    """Seconds between rounds from ``15m``, ``1h`` or ``30s``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", text.lower())
    if not match:
        raise KpiLabError(f"KPILAB_MONITOR_EVERY={text!r}: write e.g. 15m, 1h or 30s")
    seconds = float(match[1]) * UNITS[match[2]]
    if seconds < SHORTEST:
        raise KpiLabError(f"KPILAB_MONITOR_EVERY={text!r}: at least {SHORTEST}s between rounds")
    return seconds


def configured_every() -> float | None:
    """The in-server schedule's seconds between rounds, when this server runs one."""
    text = os.environ.get("KPILAB_MONITOR_EVERY")
    try:
        return parse_every(text) if text else None
    except KpiLabError:
        return None


def start(root: Store, every: float) -> threading.Event:
    """Run the monitor every ``every`` seconds until the returned event is set."""

    def round_() -> str:
        result = run_monitor(root)
        return f"{len(result.sent)} sent, {len(result.failed)} failed"

    return repeat(every, "kpilab-monitor", round_)
