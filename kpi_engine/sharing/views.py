"""Saved views: a page's spec under a name, in the workspace (view JSON, version 2)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import insert, select

from kpi_engine.access.principal import require
from kpi_engine.analyses import Spec, spec_from_view
from kpi_engine.datasets import clean_name
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.state.schema import views
from kpi_engine.store import Store


def save_view(store: Store, name: str, spec: Spec) -> dict:
    require(store, "edit")
    store.dataset(spec.dataset_id)  # the dataset must be in this workspace
    view = {"view_id": "vw_" + secrets.token_hex(6), "name": clean_name(name)}
    with store.transaction() as conn:
        conn.execute(
            insert(views).values(
                view_id=view["view_id"],
                workspace=store.workspace,
                name=view["name"],
                state=json.dumps(spec.to_view()),
                created_at=datetime.now(),
            )
        )
    return view


def saved_views(store: Store) -> list[dict]:
    """``{"view_id", "name", "page", "spec", "problem", "created_at"}``: views saved before
    versions existed are read (migrated) the same way."""
    with store.reading() as conn:
        rows = conn.execute(
            select(views.c.view_id, views.c.name, views.c.state, views.c.created_at)
            .where(views.c.workspace == store.workspace)
            .order_by(views.c.created_at)
        ).all()
    custom = saved_custom(store)
    out = []
    for view_id, name, state, created in rows:
        view = json.loads(state)
        try:
            spec, problem = spec_from_view(view, custom), None
        except KpiLabError as exc:  # a view that no longer reads is listed with the reason
            spec, problem = None, str(exc)
        out.append(
            {
                "view_id": view_id,
                "name": name,
                "page": view.get("page"),
                "spec": spec,
                "problem": problem,
                "created_at": created.isoformat(),
            }
        )
    return out
