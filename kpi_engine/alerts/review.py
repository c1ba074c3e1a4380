"""The review cycle: what was set up to be followed but nobody has looked at for 90 days.

A KPI counts as looked at when the KPIs page showed it; it is followed when it has a target
or a watch. A watch counts as alive when something of it was sent (a digest's watches with
their digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import last_sent, list_watches
from kpi_engine.store import Store

REVIEW_DAYS = 90


def record_seen(store: Store, dataset_id: str, kpis: tuple[str, ...], now: datetime) -> None:
    """The KPIs page showed these KPIs of the dataset now."""
    with store.transaction() as cur:
        cur.execute(
            "DELETE FROM kpi_seen WHERE workspace = ? AND dataset_id = ? AND list_contains(?, kpi)",
            [store.workspace, dataset_id, list(kpis)],
        )
        cur.executemany(
            "INSERT INTO kpi_seen VALUES (?, ?, ?, ?)",
            [[store.workspace, dataset_id, kpi, now] for kpi in kpis],
        )


@dataclass(frozen=True)
class StaleKpi:
    dataset_id: str
    kpi: str
    last_seen: datetime | None  # None: never shown since it was set up


def stale_kpis(store: Store, now: datetime) -> list[StaleKpi]:
    """KPIs with a target or a watch, set up more than 90 days ago, not shown for 90 days."""
    cutoff = now - timedelta(days=REVIEW_DAYS)
    with store.cursor() as cur:
        followed = cur.execute(
            "SELECT dataset_id, kpi, min(since) FROM ("
            " SELECT dataset_id, kpi, CAST(start_date AS TIMESTAMP) AS since FROM targets"
            "  WHERE workspace = ?"
            " UNION ALL SELECT dataset_id, kpi, created_at FROM watches"
            "  WHERE workspace = ? AND kpi IS NOT NULL) f GROUP BY dataset_id, kpi"
            " ORDER BY dataset_id, kpi",
            [store.workspace, store.workspace],
        ).fetchall()
        seen = dict(
            ((d, k), t)
            for d, k, t in cur.execute(
                "SELECT dataset_id, kpi, max(seen_at) FROM kpi_seen WHERE workspace = ?"
                " GROUP BY dataset_id, kpi",
                [store.workspace],
            ).fetchall()
        )
    out = []
    for dataset_id, kpi, since in followed:
        last = seen.get((dataset_id, kpi))
        if since < cutoff and (last is None or last < cutoff):
            out.append(StaleKpi(dataset_id, kpi, last))
    return out


def silent_watches(store: Store, now: datetime) -> list[Watch]:
    """Watches older than 90 days that sent nothing in the last 90 days."""
    cutoff = now - timedelta(days=REVIEW_DAYS)
    sent = last_sent(store)
    out = []
    for w in list_watches(store):
        last = sent.get(f"digest-{w.digest}" if w.digest else w.watch_id)
        if w.created_at is not None and w.created_at < cutoff and (last is None or last < cutoff):
            out.append(w)
    return out
