"""Watches as the workspace keeps them, the workspace's time zone, and the delivery log."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kpi_engine.alerts.destinations import check_destination
from kpi_engine.alerts.watch import Watch
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store

DEFAULT_TIME_ZONE = "UTC"
DEFAULT_MAX_WATCHES = 50
_FIELDS = (
    "watch_id, workspace, dataset_id, rule, destination, kpi, experiment, digest, hour,"
    " channel_type, created_at"
)


def add_watch(store: Store, watch: Watch) -> Watch:
    """Save a watch in the store's workspace (its dataset must be there, its destination
    must be valid); a new id."""
    store.dataset(watch.dataset_id)
    check_destination(watch.destination)
    saved = replace(
        watch,
        watch_id="w_" + secrets.token_hex(5),
        workspace=store.workspace,
        created_at=datetime.now(),
    )
    cap = max_watches()
    with store.transaction() as cur:
        held = cur.execute(
            "SELECT count(*) FROM watches WHERE workspace = ?", [store.workspace]
        ).fetchone()[0]
        if held >= cap:
            raise KpiLabError(
                f"a workspace can have at most {cap} watches: remove one you no longer read"
            )
        cur.execute(
            f"INSERT INTO watches ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                saved.watch_id,
                saved.workspace,
                saved.dataset_id,
                saved.rule,
                saved.destination,
                saved.kpi,
                saved.experiment,
                saved.digest,
                saved.hour,
                saved.channel_type,
                saved.created_at,
            ],
        )
    return saved


def max_watches() -> int:
    """``$KPILAB_MAX_WATCHES`` (50): each watch is evaluated, and may send, every round."""
    try:
        return max(1, int(os.environ.get("KPILAB_MAX_WATCHES") or DEFAULT_MAX_WATCHES))
    except ValueError:
        return DEFAULT_MAX_WATCHES


def _watches(store: Store, where: str, params: list) -> list[Watch]:
    with store.cursor() as cur:
        rows = cur.execute(
            f"SELECT {_FIELDS} FROM watches{where} ORDER BY created_at, watch_id", params
        ).fetchall()
    return [Watch(*row) for row in rows]


def list_watches(store: Store) -> list[Watch]:
    return _watches(store, " WHERE workspace = ?", [store.workspace])


def all_watches(store: Store) -> list[Watch]:
    """Every watch of every workspace in the database (what the monitor evaluates)."""
    return _watches(store, "", [])


def remove_watch(store: Store, watch_id: str) -> None:
    with store.transaction() as cur:
        found = cur.execute(
            "SELECT count(*) FROM watches WHERE workspace = ? AND watch_id = ?",
            [store.workspace, watch_id],
        ).fetchone()[0]
        if not found:
            raise KpiLabError(f"{watch_id!r} is not a watch of this workspace", "watch_id")
        cur.execute(
            "DELETE FROM watches WHERE workspace = ? AND watch_id = ?",
            [store.workspace, watch_id],
        )


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiLabError(
            f"{name!r} is not a time zone: write a name such as Europe/Berlin or UTC", "time_zone"
        ) from None


def time_zone(store: Store) -> str:
    with store.cursor() as cur:
        row = cur.execute(
            "SELECT value FROM settings WHERE workspace = ? AND key = 'time_zone'",
            [store.workspace],
        ).fetchone()
    return row[0] if row else DEFAULT_TIME_ZONE


def set_time_zone(store: Store, name: str) -> None:
    check_time_zone(name)
    with store.transaction() as cur:
        cur.execute(
            "DELETE FROM settings WHERE workspace = ? AND key = 'time_zone'", [store.workspace]
        )
        cur.execute("INSERT INTO settings VALUES (?, 'time_zone', ?)", [store.workspace, name])


@dataclass(frozen=True)
class Delivery:
    """One alert or digest to one destination, as the log keeps it."""

    workspace: str
    watch_id: str
    period: str
    destination: str
    fingerprint: str
    status: str  # sent or failed
    attempts: int
    reason: str | None
    message: str  # the JSON of what is sent: resent as it was on a retry
    first_try: datetime
    last_try: datetime
    next_try: datetime | None


_DELIVERY = (
    "workspace, watch_id, period, destination, fingerprint, status, attempts, reason, message,"
    " first_try, last_try, next_try"
)


def delivery(store: Store, workspace: str, watch_id: str, period: str, destination: str):
    """The log entry of one alert (a watch's period to a destination), or None."""
    with store.cursor() as cur:
        row = cur.execute(
            f"SELECT {_DELIVERY} FROM deliveries WHERE workspace = ? AND watch_id = ?"
            " AND period = ? AND destination = ?",
            [workspace, watch_id, period, destination],
        ).fetchone()
    return Delivery(*row) if row else None


def record(store: Store, entry: Delivery) -> None:
    with store.transaction() as cur:
        cur.execute(
            "DELETE FROM deliveries WHERE workspace = ? AND watch_id = ? AND period = ?"
            " AND destination = ?",
            [entry.workspace, entry.watch_id, entry.period, entry.destination],
        )
        cur.execute(
            f"INSERT INTO deliveries ({_DELIVERY}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                entry.workspace,
                entry.watch_id,
                entry.period,
                entry.destination,
                entry.fingerprint,
                entry.status,
                entry.attempts,
                entry.reason,
                entry.message,
                entry.first_try,
                entry.last_try,
                entry.next_try,
            ],
        )


def recent_deliveries(store: Store, limit: int = 50) -> list[Delivery]:
    with store.cursor() as cur:
        rows = cur.execute(
            f"SELECT {_DELIVERY} FROM deliveries WHERE workspace = ?"
            " ORDER BY last_try DESC LIMIT ?",
            [store.workspace, limit],
        ).fetchall()
    return [Delivery(*row) for row in rows]


def last_sent(store: Store) -> dict[str, datetime]:
    """Per watch of the workspace, when something of it was last delivered."""
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT watch_id, max(last_try) FROM deliveries WHERE workspace = ?"
            " AND status = 'sent' GROUP BY watch_id",
            [store.workspace],
        ).fetchall()
    return dict(rows)
