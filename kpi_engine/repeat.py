"""Work a server process repeats on a daemon thread (the monitor, the housekeeping): a
failing round is logged and the next one runs as planned."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def every(seconds: float, name: str, work: Callable[[], object]) -> threading.Event:
    """Run ``work`` every ``seconds`` until the returned event is set."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            try:
                log.info("%s: %s", name, work())
            except Exception:  # one bad round must not end the schedule
                log.exception("%s round failed", name)

    threading.Thread(target=loop, name=name, daemon=True).start()
    return stop
