"""KPIs users define: a formula in the catalog's grammar, saved in the workspace.

The formula is parsed by ``kpi_engine.kpis.formula`` and compiled with quoted identifiers; its text
never reaches SQL. A wrong formula gets a message that points at the problem.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from kpi_engine.access.principal import require
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import custom_kpis
from kpi_engine.store import Store


def save_custom(store: Store, kpi: Kpi) -> None:
    require(store, "edit")
    row = {
        "workspace": store.workspace,
        "kpi_id": kpi.id,
        "formula": kpi.formula,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "created_at": datetime.now(),
    }
    with store.transaction() as conn:
        upsert(conn, custom_kpis, row, ("workspace", "kpi_id"))


def saved_custom(store: Store) -> tuple[Kpi, ...]:
    c = custom_kpis.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.kpi_id, c.formula, c.unit, c.direction)
            .where(c.workspace == store.workspace)
            .order_by(c.created_at)
        ).all()
    return tuple(make_kpi(*row) for row in rows)


def delete_custom(store: Store, kpi_id: str) -> None:
    """Forget a custom KPI; views and links that used it keep their own copy of it."""
    require(store, "edit")
    with store.transaction() as conn:
        conn.execute(_one(store, kpi_id))


def _one(store: Store, kpi_id: str):
    return delete(custom_kpis).where(
        custom_kpis.c.workspace == store.workspace, custom_kpis.c.kpi_id == kpi_id
    )
