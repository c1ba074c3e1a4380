"""Watches as the workspace keeps them, the workspace's time zone, and the delivery log."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kpi_engine.access.principal import require
from kpi_engine.access.teams import email_allowed
from kpi_engine.alerts.destinations import check_destination
from kpi_engine.alerts.watch import Watch
from kpi_engine.errors import KpiLabError
from kpi_engine.state.schema import deliveries, watches
from kpi_engine.store import Store
from kpi_engine.time_zone import TIME_ZONE

DEFAULT_MAX_WATCHES = 50
_FIELDS = (
    "watch_id",
    "workspace",
    "dataset_id",
    "rule",
    "destination",
    "kpi",
    "experiment",
    "digest",
    "hour",
    "channel_type",
    "created_at",
)


def add_watch(store: Store, watch: Watch) -> Watch:
    """Save a watch in the store's workspace (its dataset must be there, its destination
    must be valid, and an e-mail address one the team allows); a new id."""
    require(store, "watch")
    store.dataset(watch.dataset_id)
    check_destination(watch.destination)
    if watch.kind == "email":
        check_email_allowed(store, watch.destination)
    saved = replace(
        watch,
        watch_id="w_" + secrets.token_hex(5),
        workspace=store.workspace,
        created_at=datetime.now(),
    )
    cap = max_watches()
    with store.transaction() as conn:
        held = conn.execute(
            select(func.count()).select_from(watches).where(watches.c.workspace == store.workspace)
        ).scalar_one()
        if held >= cap:
            raise KpiLabError(
                f"a workspace can have at most {cap} watches: remove one you no longer read"
            )
        conn.execute(insert(watches).values(**{f: getattr(saved, f) for f in _FIELDS}))
        store.log(conn, "add watch", saved.subject(), f"{saved.rule} to {saved.destination}")
    return saved


def check_email_allowed(store: Store, address: str) -> None:
    """Alerts go by e-mail only to addresses the team allows (a member's confirmed address
    or an allowed domain): anyone who may add a watch could otherwise make the server mail
    any text to anyone."""
    require(store, "email")
    if not email_allowed(store, address):
        raise KpiLabError(
            f"{address!r} is neither a team member's confirmed address nor at a domain the"
            " team's admins allow: ask an admin to allow its domain on the Team page",
            "email",
        )


def max_watches() -> int:
    """``$KPILAB_MAX_WATCHES`` (50): each watch is evaluated, and may send, every round."""
    try:
        return max(1, int(os.environ.get("KPILAB_MAX_WATCHES") or DEFAULT_MAX_WATCHES))
    except ValueError:
        return DEFAULT_MAX_WATCHES


def _watches(store: Store, *where) -> list[Watch]:
    columns = [watches.c[f] for f in _FIELDS]
    with store.reading() as conn:
        rows = conn.execute(
            select(*columns).where(*where).order_by(watches.c.created_at, watches.c.watch_id)
        ).all()
    return [Watch(*row) for row in rows]


def list_watches(store: Store) -> list[Watch]:
    return _watches(store, watches.c.workspace == store.workspace)


def all_watches(store: Store) -> list[Watch]:
    """Every watch of every workspace in the database (what the monitor evaluates)."""
    return _watches(store)


def remove_watch(store: Store, watch_id: str) -> None:
    require(store, "watch")
    mine = (watches.c.workspace == store.workspace, watches.c.watch_id == watch_id)
    with store.transaction() as conn:
        if conn.execute(delete(watches).where(*mine)).rowcount == 0:
            raise KpiLabError(f"{watch_id!r} is not a watch of this workspace", "watch_id")
        store.log(conn, "remove watch", watch_id)


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiLabError(
            f"{name!r} is not a time zone: write a name such as Europe/Berlin or UTC", "time_zone"
        ) from None


def set_time_zone(store: Store, name: str) -> None:
    require(store, "edit")
    check_time_zone(name)
    with store.transaction() as conn:
        store.set_setting(conn, TIME_ZONE, name)


@dataclass(frozen=True)
class Delivery:
    """One alert or digest to one destination, as the log keeps it."""

    workspace: str
    watch_id: str
    period: str
    destination: str
    fingerprint: str
    status: str  # sending (a monitor holds it), sent or failed
    attempts: int
    reason: str | None
    message: str  # the JSON of what is sent: resent as it was on a retry
    first_try: datetime
    last_try: datetime
    next_try: datetime | None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.workspace, self.watch_id, self.period, self.destination)


_DELIVERY = (
    "workspace",
    "watch_id",
    "period",
    "destination",
    "fingerprint",
    "status",
    "attempts",
    "reason",
    "message",
    "first_try",
    "last_try",
    "next_try",
)
_KEY = ("workspace", "watch_id", "period", "destination")


def _where_key(key: tuple[str, str, str, str]) -> tuple:
    return tuple(deliveries.c[name] == value for name, value in zip(_KEY, key, strict=True))


def _deliveries(conn, *where, order=(), limit: int | None = None) -> list[Delivery]:  # noqa: ANN001
    query = select(*(deliveries.c[f] for f in _DELIVERY)).where(*where).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [Delivery(*row) for row in conn.execute(query)]


def delivery(store: Store, workspace: str, watch_id: str, period: str, destination: str):
    """The log entry of one alert (a watch's period to a destination), or None."""
    with store.reading() as conn:
        found = _deliveries(conn, *_where_key((workspace, watch_id, period, destination)))
    return found[0] if found else None


def claim_new(
    store: Store, key: tuple[str, str, str, str], now: datetime, lease: timedelta
) -> bool:
    """Take a new alert for sending: True for exactly one of several monitors that try at
    once (a unique key decides), False when it was taken or sent before."""
    try:
        with store.state.write() as conn:
            conn.execute(
                insert(deliveries).values(
                    **dict(zip(_KEY, key, strict=True)),
                    fingerprint="",
                    status="sending",
                    attempts=0,
                    reason=None,
                    message="",
                    first_try=now,
                    last_try=now,
                    next_try=None,
                    claimed_until=now + lease,
                )
            )
    except IntegrityError:
        return False
    return True


def claim_retry(store: Store, key: tuple[str, str, str, str], now: datetime, lease: timedelta):
    """Take a failed alert whose wait is over, or one a monitor that stopped mid-send left
    ``sending`` past its lease: its entry for exactly one monitor, else None."""
    due = (deliveries.c.status == "failed") & (deliveries.c.next_try <= now)
    abandoned = (deliveries.c.status == "sending") & (deliveries.c.claimed_until < now)
    with store.state.write() as conn:
        found = _deliveries(conn, *_where_key(key), due | abandoned)
        if not found:
            return None
        taken = conn.execute(
            update(deliveries)
            .where(*_where_key(key), due | abandoned)
            .values(status="sending", claimed_until=now + lease)
        )
        if taken.rowcount != 1:
            return None
        if not found[0].message:  # stopped before its message was written: evaluate it anew
            conn.execute(delete(deliveries).where(*_where_key(key)))
            return None
    return found[0]


def due_retries(store: Store, now: datetime) -> list[tuple[str, str, str, str]]:
    """Keys of alerts to try again now: failed ones whose wait is over, abandoned sends."""
    c = deliveries.c
    with store.reading() as conn:
        rows = conn.execute(
            select(*(c[k] for k in _KEY)).where(
                ((c.status == "failed") & (c.next_try <= now))
                | ((c.status == "sending") & (c.claimed_until < now))
            )
        ).all()
    return [tuple(r) for r in rows]


def record(store: Store, entry: Delivery, claimed_until: datetime | None = None) -> None:
    """The outcome of a send, or (``sending``, held until ``claimed_until``) the message
    about to be sent: a monitor stopped mid-send leaves it to be resent as it was."""
    values = {f: getattr(entry, f) for f in _DELIVERY if f not in _KEY}
    values["claimed_until"] = claimed_until
    with store.state.write() as conn:
        conn.execute(update(deliveries).where(*_where_key(entry.key)).values(**values))


def recent_deliveries(store: Store, limit: int = 50) -> list[Delivery]:
    with store.reading() as conn:
        return _deliveries(
            conn,
            deliveries.c.workspace == store.workspace,
            deliveries.c.status != "sending",
            order=(deliveries.c.last_try.desc(),),
            limit=limit,
        )


def last_sent(store: Store) -> dict[str, datetime]:
    """Per watch of the workspace, when something of it was last delivered."""
    c = deliveries.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.watch_id, func.max(c.last_try))
            .where(c.workspace == store.workspace, c.status == "sent")
            .group_by(c.watch_id)
        ).all()
    return dict(rows)
