"""Whether alerts go out at all. A watch sends nothing unless a monitor runs (cron, a systemd
timer, or ``KPILAB_MONITOR_EVERY`` in the server), so every round leaves its time in the state
database, and the Alerts page says when the monitor last ran, when it should run next, and
when it seems to have stopped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kpi_engine.store import SYSTEM_SETTINGS, Store

ROUNDS_SETTING = "monitor_rounds"
LATE = timedelta(minutes=5)  # slack before a round counts as missed


@dataclass(frozen=True)
class MonitorStatus:
    last: datetime | None  # the last round's start (UTC)
    previous: datetime | None  # the one before
    every: timedelta | None  # the server's KPILAB_MONITOR_EVERY, else the last gap seen

    @property
    def next_round(self) -> datetime | None:
        return self.last + self.every if self.last and self.every else None

    def stopped(self, now: datetime) -> bool:
        """No round for two intervals: the monitor (or its cron line) has stopped."""
        return bool(self.next_round and now > self.last + 2 * self.every + LATE)  # type: ignore[operator]


def record_round(root: Store, started: datetime) -> None:
    """Note a round that started at ``started`` (the one before it is kept, for the gap)."""
    system = root.for_workspace(SYSTEM_SETTINGS)
    before = _rounds(system)
    value = {"last": _utc(started).isoformat(), "previous": before.get("last")}
    with system.transaction() as conn:
        system.set_setting(conn, ROUNDS_SETTING, json.dumps(value))


def monitor_status(store: Store, every_seconds: float | None = None) -> MonitorStatus:
    """What the rounds recorded say; ``every_seconds`` is the in-server schedule, if any."""
    seen = _rounds(store.for_workspace(SYSTEM_SETTINGS))
    last, previous = (_parsed(seen.get(k)) for k in ("last", "previous"))
    every = timedelta(seconds=every_seconds) if every_seconds else None
    if every is None and last and previous and last > previous:
        every = last - previous
    return MonitorStatus(last, previous, every)


def _rounds(system: Store) -> dict:
    text = system.setting(ROUNDS_SETTING)
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _parsed(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
