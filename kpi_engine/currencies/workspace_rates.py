"""A workspace's exchange rates, kept in the state database: one table per workspace,
replaced whole by each upload. Editors change it; everyone who reads the workspace's
numbers reads it."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

from sqlalchemy import delete, select

from kpi_engine.access.principal import require
from kpi_engine.currencies.rates import PICKS, RateTable, rate_table
from kpi_engine.errors import KpiLabError
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import exchange_rates, rate_sets
from kpi_engine.store import Store

_cache: dict[str, tuple[str, RateTable]] = {}  # workspace → (version, its table)
_lock = threading.Lock()


def save_rates(store: Store, table: RateTable) -> RateTable:
    """The workspace's rates become ``table`` (all of them: the old ones go)."""
    require(store, "edit")
    if table.pick not in PICKS:
        raise KpiLabError(f"{table.pick!r} is not a way to pick rates: use day or month", "pick")
    if not table.series:
        raise KpiLabError("holds no rates: it needs at least one currency's rate", "rates")
    rows = [
        {"workspace": store.workspace, "currency": code, "day": day, "rate": rate}
        for day, code, rate in table.rows()
    ]
    described = {
        "workspace": store.workspace,
        "source": table.source[:200],
        "base": table.base,
        "pick": table.pick,
        "version": secrets.token_hex(8),
        "created_by": store.actor.who,
        "created_at": datetime.now(),
    }
    with store.transaction() as conn:
        conn.execute(delete(exchange_rates).where(exchange_rates.c.workspace == store.workspace))
        for i in range(0, len(rows), 5000):
            conn.execute(exchange_rates.insert(), rows[i : i + 5000])
        upsert(conn, rate_sets, described, ("workspace",))
        store.log(conn, "rates", table.source[:200], f"{table.values} rates, by {table.pick}")
    return table


def set_pick(store: Store, pick: str) -> None:
    """Use the workspace's rates per day or per month from now on."""
    require(store, "edit")
    if pick not in PICKS:
        raise KpiLabError(f"{pick!r} is not a way to pick rates: use day or month", "pick")
    with store.transaction() as conn:
        done = conn.execute(
            rate_sets.update()
            .where(rate_sets.c.workspace == store.workspace)
            .values(pick=pick, version=secrets.token_hex(8))
        ).rowcount
        if done:
            store.log(conn, "rates", "pick", pick)
    if not done:
        raise KpiLabError("this workspace has no exchange rates yet: upload them first")


def clear_rates(store: Store) -> None:
    require(store, "edit")
    with store.transaction() as conn:
        conn.execute(delete(exchange_rates).where(exchange_rates.c.workspace == store.workspace))
        gone = conn.execute(delete(rate_sets).where(rate_sets.c.workspace == store.workspace))
        if gone.rowcount:
            store.log(conn, "delete rates", "exchange rates")


def rates_version(store: Store) -> str:
    """Changes with every upload of the workspace's rates (or a new way to pick them)."""
    with store.reading() as conn:
        found = conn.execute(
            select(rate_sets.c.version).where(rate_sets.c.workspace == store.workspace)
        ).scalar_one_or_none()
    return found or ""


def workspace_rates(store: Store) -> RateTable | None:
    """The workspace's rates, or None; read once per upload and process."""
    c = rate_sets.c
    with store.reading() as conn:
        found = conn.execute(
            select(c.version, c.source, c.base, c.pick).where(c.workspace == store.workspace)
        ).first()
    if found is None:
        return None
    version, source, base, pick = found
    with _lock:
        known = _cache.get(store.workspace)
    if known and known[0] == version:
        return known[1]
    r = exchange_rates.c
    with store.reading() as conn:
        rows = conn.execute(
            select(r.day, r.currency, r.rate).where(r.workspace == store.workspace)
        ).all()
    table = rate_table(source, [(d, code, rate) for d, code, rate in rows], base, pick)
    with _lock:
        _cache[store.workspace] = (version, table)
    return table


def rates_of(store: Store) -> RateTable | None:
    """The rates an analysis converts with: the command's file, else the workspace's."""
    return store.rates_file if store.rates_file is not None else workspace_rates(store)
