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
from datetime import datetime

from kpi_engine.store import Store

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
