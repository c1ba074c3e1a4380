"""Workspaces: each browser session works in its own, reached again through a private link.

A workspace's link carries an unguessable token (192 bits from ``secrets``). Only the token's
SHA-256 is stored, and it is compared in constant time; a token that does not have the right
form is refused before it reaches the database, where it is only ever a bound parameter.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, insert, select, update

from kpi_engine.access.principal import require
from kpi_engine.errors import KpiLabError
from kpi_engine.samples import SEEDED_KEY, TEMPLATE
from kpi_engine.sharing.tokens import (
    new_token,
    token_hash,
    well_formed,
)
from kpi_engine.state.schema import WORKSPACE_TABLES, datasets, kpi_seen, settings, workspaces
from kpi_engine.store import Store


def create_workspace(store: Store) -> tuple[Store, str]:
    """A new, empty workspace and its private token."""
    token = new_token()
    workspace_id = "ws_" + secrets.token_hex(8)
    with store.state.write() as conn:  # not store.transaction(): a visitor's store is pending
        conn.execute(
            insert(workspaces).values(
                workspace_id=workspace_id,
                token_hash=token_hash(token),
                created_at=datetime.now(),
                kind="anonymous",
            )
        )
    return store.for_workspace(workspace_id), token


def rotate_token(store: Store) -> str:
    """A new private link for the store's workspace; the old one opens nothing from now on."""
    require(store, "edit")
    token = new_token()
    with store.transaction() as conn:
        done = conn.execute(
            update(workspaces)
            .where(
                workspaces.c.workspace_id == store.workspace, workspaces.c.token_hash.is_not(None)
            )
            .values(token_hash=token_hash(token))
        ).rowcount
        if not done:
            raise KpiLabError("this workspace has no private link to change")
        store.log(conn, "new private link", store.workspace)
    return token


def open_workspace(store: Store, token: object) -> Store | None:
    """The workspace a token opens, or None (malformed or unknown token: no hint which)."""
    if not well_formed(token):
        return None
    wanted = token_hash(token)
    with store.reading() as conn:
        row = conn.execute(
            select(workspaces.c.workspace_id, workspaces.c.token_hash).where(
                workspaces.c.token_hash == wanted
            )
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return store.for_workspace(row.workspace_id)


def prune_untouched(store: Store, older_than_days: float) -> dict:
    """Remove visitors' workspaces that hold nothing of anyone's: created more than
    ``older_than_days`` ago and still only their samples, with no upload, saved view, link,
    custom KPI, target, preset, watch or setting of their own. A team's workspace stays,
    however empty. One query finds them all (the app runs this when it starts and every
    hour); their samples' files stay, the template names them."""
    if not older_than_days >= 0:
        raise KpiLabError("--older-than-days must be 0 or more")
    cutoff = datetime.now() - timedelta(days=older_than_days)
    with store.transaction() as conn:
        gone = list(conn.execute(_untouched(cutoff)).scalars())
        for table in (*WORKSPACE_TABLES, kpi_seen):
            conn.execute(delete(table).where(table.c.workspace.in_(gone)))
        conn.execute(delete(workspaces).where(workspaces.c.workspace_id.in_(gone)))
        kept = conn.execute(select(func.count()).select_from(workspaces)).scalar_one()
    return {"removed": len(gone), "kept": kept}


def _untouched(cutoff: datetime):
    """Workspaces older than ``cutoff`` whose datasets are all unchanged samples (the same
    rows as the template's: the same file) and that have nothing else of their own."""
    w = workspaces.c.workspace_id
    template = datasets.alias("template")
    own_dataset = exists().where(
        datasets.c.workspace == w,
        ~exists().where(
            template.c.workspace == TEMPLATE,
            template.c.dataset_id == datasets.c.dataset_id,
            template.c.location == datasets.c.location,
            template.c.name == datasets.c.name,
        ),
    )
    conditions = [workspaces.c.kind == "anonymous", workspaces.c.created_at < cutoff, ~own_dataset]
    conditions.append(
        ~exists().where(and_(settings.c.workspace == w, settings.c.key != SEEDED_KEY))
    )
    for table in WORKSPACE_TABLES:
        if table is not datasets and table is not settings:
            conditions.append(~exists().where(table.c.workspace == w))
    return select(w).where(*conditions)
