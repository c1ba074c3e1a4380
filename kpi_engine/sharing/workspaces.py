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
from urllib.parse import parse_qs, urlsplit

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier
from kpi_engine.samples import SEEDED_KEY, TEMPLATE
from kpi_engine.store import Store

DEFAULT_PRUNE_DAYS = 30
TOKEN_BYTES = 24  # 192 bits; token_urlsafe writes 32 characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_token() -> str:
    """192 random bits as 32 URL-safe characters, never starting with "-" (a command line
    would read that as a flag)."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN.match(token))


def token_of(link_or_token: str) -> str:
    """The token in a private link (``https://host/?ws=TOKEN``), or the text itself."""
    text = link_or_token.strip()
    if "ws=" in text:
        values = parse_qs(urlsplit(text).query).get("ws")
        return values[0] if values else ""
    return text


def create_workspace(store: Store) -> tuple[Store, str]:
    """A new, empty workspace and its private token."""
    token = new_token()
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
    target, preset or watch. Every visit without a link creates a workspace (~0.8 MB of sample
    copies), so a crawler or a busy public link grows the database without this. One query
    finds them all (the app runs this when it starts)."""
    if not older_than_days >= 0:
        raise KpiLabError("--older-than-days must be 0 or more")
    cutoff = datetime.now() - timedelta(days=older_than_days)
    with store.transaction() as cur:
        gone = [r[0] for r in cur.execute(_UNTOUCHED, [TEMPLATE, SEEDED_KEY, cutoff]).fetchall()]
        tables = cur.execute(
            "SELECT dataset_id FROM datasets WHERE list_contains(?, workspace)", [gone]
        ).fetchall()
        for (dataset_id,) in tables:
            cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(dataset_id)}")
        cur.execute("DELETE FROM datasets WHERE list_contains(?, workspace)", [gone])
        cur.execute("DELETE FROM meta WHERE list_contains(?, split_part(key, ':', 1))", [gone])
        cur.execute("DELETE FROM kpi_seen WHERE list_contains(?, workspace)", [gone])
        cur.execute("DELETE FROM workspaces WHERE list_contains(?, workspace_id)", [gone])
        kept = cur.execute("SELECT count(*) FROM workspaces").fetchone()[0]
    return {"removed": len(gone), "kept": kept}


# Old workspaces whose datasets are all unchanged copies of a sample (same name, file and rows
# as in the samples' template workspace) and that have nothing else of their own.
_UNTOUCHED = """
SELECT w.workspace_id FROM workspaces w
WHERE w.created_at < $3
  AND NOT EXISTS (
      SELECT 1 FROM datasets d
      WHERE d.workspace = w.workspace_id
        AND NOT EXISTS (
            SELECT 1 FROM datasets t
            WHERE t.workspace = $1 AND t.name = d.name AND t.rows = d.rows
              AND t.source_file IS NOT DISTINCT FROM d.source_file))
  AND NOT EXISTS (
      SELECT 1 FROM meta m
      WHERE split_part(m.key, ':', 1) = w.workspace_id
        AND m.key <> w.workspace_id || ':' || $2)
""" + "".join(
    f"  AND NOT EXISTS (SELECT 1 FROM {table} x WHERE x.workspace = w.workspace_id)\n"
    for table in ("views", "shares", "custom_kpis", "targets", "presets", "watches", "settings")
)
