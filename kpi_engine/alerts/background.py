"""The monitor inside the app's server process, for a deployment without cron:
``KPILAB_MONITOR_EVERY=15m`` (also ``30s``, ``1h``) runs a round that often on a daemon
thread. A failing round is logged and the next one runs as planned."""

from __future__ import annotations

import logging
import re
import threading

from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store

UNITS = {"s": 1, "m": 60, "h": 3600}
SHORTEST = 30  # seconds
log = logging.getLogger(__name__)


def parse_every(text: str) -> float:
    """Seconds between rounds from ``15m``, ``1h`` or ``30s``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", text.lower())
    if not match:
        raise KpiLabError(f"KPILAB_MONITOR_EVERY={text!r}: write e.g. 15m, 1h or 30s")
    seconds = float(match[1]) * UNITS[match[2]]
    if seconds < SHORTEST:
        raise KpiLabError(f"KPILAB_MONITOR_EVERY={text!r}: at least {SHORTEST}s between rounds")
    return seconds


def start(root: Store, every: float) -> threading.Event:
    """Run the monitor every ``every`` seconds until the returned event is set."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                result = run_monitor(root)
                log.info("monitor: %d sent, %d failed", len(result.sent), len(result.failed))
            except Exception:  # one bad round must not end the schedule
                log.exception("monitor round failed")

    threading.Thread(target=loop, name="kpilab-monitor", daemon=True).start()
    return stop
