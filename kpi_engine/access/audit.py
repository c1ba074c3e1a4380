"""The audit log: who uploaded, replaced, deleted, attached, shared, revoked, or added or
removed a member, a token or a watch, and when. An entry is written in the same transaction
as the change it records (``Store.log``); admins read them."""

from __future__ import annotations

from kpi_engine.access.principal import require
from kpi_engine.state import audit_log
from kpi_engine.store import Store


def entries(store: Store, limit: int = 500) -> list[dict]:
    """The workspace's log, newest first (admins only)."""
    require(store, "audit")
    with store.reading() as conn:
        return audit_log.read(conn, store.workspace, limit)
