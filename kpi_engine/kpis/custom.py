"""KPIs users define: a formula in the catalog's grammar, saved in the workspace.

The formula is parsed by ``kpi_engine.kpis.formula`` and compiled with quoted identifiers; its text
never reaches SQL. A wrong formula gets a message that points at the problem.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, select

from kpi_engine.access.principal import require
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import CATALOG, DIRECTIONS, UNITS, Kpi
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import custom_kpis
from kpi_engine.store import Store

FAMILY = "Custom"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


def make_kpi(name: str, formula: str, unit: str = "ratio", direction: str = "neutral") -> Kpi:
    """A KPI from a user's formula, or a ``KpiLabError`` that says what is wrong."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise KpiLabError(
            f"custom KPI name {name!r}: use letters, digits and _ (e.g."
            " profit_per_click), starting with a letter, at most 40 characters"
        )
    if name in CATALOG:
        raise KpiLabError(f"{name!r} is already a catalog KPI: pick another name")
    if unit not in UNITS or direction not in DIRECTIONS:
        raise KpiLabError(
            f"unit must be one of {', '.join(UNITS)} and direction one of {', '.join(DIRECTIONS)}"
        )
    fx.parse(formula)
    return Kpi(
        name,
        name,
        FAMILY,
        formula,
        unit,
        direction,
        f"Custom KPI: {formula}",
        "Defined by a user of this workspace.",
    )


def parse_custom(pairs: list[str]) -> tuple[Kpi, ...]:
    """``["NAME=FORMULA", ...]`` from the command line."""
    kpis = []
    for pair in pairs:
        name, sep, formula = pair.partition("=")
        if not sep:
            raise KpiLabError(
                f"--custom {pair!r} needs the form NAME=FORMULA,"
                " e.g. margin=(sum(revenue) - sum(spend)) / sum(revenue)"
            )
        kpis.append(make_kpi(name, formula))
    return tuple(kpis)


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
