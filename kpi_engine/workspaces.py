"""Workspaces: each browser session works in its own, reached again through a private link.

A workspace's link carries an unguessable token (192 bits from ``secrets``). Only the token's
SHA-256 is stored, and it is compared in constant time; a token that does not have the right
form is refused before it reaches the database, where it is only ever a bound parameter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from kpi_engine.errors import KpiLabError
from kpi_engine.formula import quote_identifier
from kpi_engine.samples import sample_signatures
from kpi_engine.store import Store

DEFAULT_PRUNE_DAYS = 30
TOKEN_BYTES = 24  # 192 bits; token_urlsafe writes 32 characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN.match(token))


def create_workspace(store: Store) -> tuple[Store, str]:
    """A new, empty workspace and its private token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    workspace_id = "ws_" + secrets.token_hex(8)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO workspaces VALUES (?, ?, ?)",
            [workspace_id, token_hash(token), datetime.now()],
        )
    return store.for_workspace(workspace_id), token


def open_workspace(store: Store, token: object) -> Store | None:
    """The workspace a token opens, or None (malformed or unknown token: no hint which)."""
    if not well_formed(token):
        return None
    wanted = token_hash(token)
    with store.cursor() as cur:
        row = cur.execute(
            "SELECT workspace_id, token_hash FROM workspaces WHERE token_hash = ?", [wanted]
        ).fetchone()
    if row is None or not hmac.compare_digest(row[1], wanted):
        return None
    return store.for_workspace(row[0])


def prune_untouched(store: Store, older_than_days: float) -> dict:
    """Remove workspaces that hold nothing of anyone's: created more than ``older_than_days``
    ago and still only their sample copies, with no upload, saved view, link, custom KPI,
    target or preset. Every visit without a link creates a workspace (~0.8 MB of sample
    copies), so a crawler or a busy public link grows the database without this."""
    if not older_than_days >= 0:
        raise KpiLabError("--older-than-days must be 0 or more")
    cutoff = datetime.now() - timedelta(days=older_than_days)
    samples = sample_signatures(store)
    removed = []
    with store.transaction() as cur:
        old = cur.execute(
            "SELECT workspace_id FROM workspaces WHERE created_at < ?", [cutoff]
        ).fetchall()
        for (workspace,) in old:
            if _untouched(cur, workspace, samples):
                _remove(cur, workspace)
                removed.append(workspace)
        total = cur.execute("SELECT count(*) FROM workspaces").fetchone()[0]
    return {"removed": len(removed), "kept": total}


def _untouched(cur, workspace: str, samples: set[tuple]) -> bool:
    datasets = cur.execute(
        "SELECT name, source_file, rows FROM datasets WHERE workspace = ?", [workspace]
    ).fetchall()
    if not set(datasets) <= samples:
        return False
    for table in ("views", "shares", "custom_kpis", "targets", "presets"):
        if cur.execute(f"SELECT count(*) FROM {table} WHERE workspace = ?", [workspace]).fetchone()[
            0
        ]:
            return False
    keys = cur.execute(
        "SELECT key FROM meta WHERE starts_with(key, ?)", [workspace + ":"]
    ).fetchall()
    return {k[0].split(":", 1)[1] for k in keys} <= {"samples_seeded"}


def _remove(cur, workspace: str) -> None:
    tables = cur.execute("SELECT dataset_id FROM datasets WHERE workspace = ?", [workspace])
    for (dataset_id,) in tables.fetchall():
        cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(dataset_id)}")
    cur.execute("DELETE FROM datasets WHERE workspace = ?", [workspace])
    cur.execute("DELETE FROM meta WHERE starts_with(key, ?)", [workspace + ":"])
    cur.execute("DELETE FROM workspaces WHERE workspace_id = ?", [workspace])
