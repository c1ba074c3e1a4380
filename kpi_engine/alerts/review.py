"""The review cycle: what was set up to be followed but nobody has looked at for 90 days.

A KPI counts as looked at when the KPIs page showed it; it is followed when it has a target
or a watch. A watch counts as alive when something of it was sent (a digest's watches with
their digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import last_sent, list_watches
from kpi_engine.kpis.catalog import CATALOG
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import kpi_seen, targets, watches
from kpi_engine.store import Store

REVIEW_DAYS = 90
FIRST_WATCH = ("cpa", "roas", "conversions", "revenue", "cvr")  # outcomes worth an alert


def suggested_kpi(kpi_ids: list[str]) -> int:
    """Where a new watch's KPI list starts: an outcome (CPA, ROAS...), never a vanity volume
    such as impressions."""
    for kpi in FIRST_WATCH:
        if kpi in kpi_ids:
            return kpi_ids.index(kpi)
    outcome = (i for i, k in enumerate(kpi_ids) if not (k in CATALOG and CATALOG[k].vanity))
    return next(outcome, 0)


def record_seen(store: Store, dataset_id: str, kpis: tuple[str, ...], now: datetime) -> None:
    """The KPIs page showed these KPIs of the dataset now."""
    if not kpis or store.pending:  # a visitor with no workspace yet follows nothing
        return
    rows = [
        {"workspace": store.workspace, "dataset_id": dataset_id, "kpi": k, "seen_at": now}
        for k in dict.fromkeys(kpis)
    ]
    with store.transaction() as conn:
        upsert(conn, kpi_seen, rows, ("workspace", "dataset_id", "kpi"))


@dataclass(frozen=True)
class StaleKpi:
    dataset_id: str
    kpi: str
    last_seen: datetime | None  # None: never shown since it was set up


def stale_kpis(store: Store, now: datetime) -> list[StaleKpi]:
    """KPIs with a target or a watch, set up more than 90 days ago, not shown for 90 days."""
    cutoff = now - timedelta(days=REVIEW_DAYS)
    ws = store.workspace
    with store.reading() as conn:
        rows = conn.execute(
            select(targets.c.dataset_id, targets.c.kpi, targets.c.start_date).where(
                targets.c.workspace == ws
            )
        ).all()
        rows += conn.execute(
            select(watches.c.dataset_id, watches.c.kpi, watches.c.created_at).where(
                watches.c.workspace == ws, watches.c.kpi.is_not(None)
            )
        ).all()
        seen = {
            (d, k): t
            for d, k, t in conn.execute(
                select(kpi_seen.c.dataset_id, kpi_seen.c.kpi, kpi_seen.c.seen_at).where(
                    kpi_seen.c.workspace == ws
                )
            )
        }
    followed: dict[tuple[str, str], datetime] = {}
    for dataset_id, kpi, since in rows:
        since = since if isinstance(since, datetime) else datetime.combine(since, time())
        key = (dataset_id, kpi)
        followed[key] = min(followed.get(key, since), since)
    out = []
    for (dataset_id, kpi), since in sorted(followed.items()):
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
