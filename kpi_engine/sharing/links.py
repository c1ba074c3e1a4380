"""Read-only share links: a link freezes the spec and the result its owner saw.

Sharing stores the view's spec and its result as JSON (kilobytes), not a copy of the rows:
later uploads, appends, deletions or edits of a custom KPI do not change what the
stakeholder sees, and sharing a 10M-row dataset ten times costs ten small documents. The
link carries an unguessable token; only its hash is stored, and a revoked, expired, unknown
or malformed token opens nothing.

Links made before results were frozen pointed at a snapshot table of the rows. They are
migrated once (``migrate_links``, and on first opening): the result is computed from the
snapshot, stored, and the snapshot dropped.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kpi_engine.analyses import ANALYSES, Result, Spec, result_from_dict, run, spec_from_view
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.sharing.workspaces import new_token, token_hash, well_formed
from kpi_engine.store import Column, Dataset, Store, clean_name

SHARED_PATH = "shared"
DEFAULT_PUBLIC_URL = "http://localhost:8501"
INVALID = "This link is not valid: check that it was copied whole, or ask its owner for a new one."


@dataclass(frozen=True)
class Shared:
    share_id: str
    title: str
    spec: Spec
    result: Result
    dataset_name: str
    rows: int
    created_at: datetime
    expires_at: datetime | None

    @property
    def page(self) -> str:
        return self.spec.PAGE


def public_url(token: str) -> str:
    """The link as a stakeholder opens it: ``$KPILAB_PUBLIC_URL`` (the app's address as people
    reach it) + ``/shared?token=...``."""
    base = os.environ.get("KPILAB_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/")
    return f"{base}/{SHARED_PATH}?token={token}"


def create_share(
    store: Store,
    spec: Spec,
    result: Result | None = None,
    title: str | None = None,
    expires_days: float | None = None,
) -> dict:
    """Freeze ``spec`` and the ``result`` it gave (computed here when not given) behind a new
    link; the token is returned once and never stored."""
    dataset = store.dataset(spec.dataset_id)
    if expires_days is not None and not expires_days > 0:
        raise KpiLabError("must be a positive number of days", "expires_days")
    if result is None:
        result = run(store, dataset, spec)
    token = new_token()
    share_id = "sh_" + secrets.token_hex(6)
    now = datetime.now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    title = clean_name(title or f"{dataset.name}: {spec.PAGE}")
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO shares (share_id, token_hash, workspace, title, state, snapshot,"
            " dataset, created_at, expires_at, revoked_at, result)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?)",
            [
                share_id,
                token_hash(token),
                store.workspace,
                title,
                json.dumps(spec.to_view()),
                json.dumps(_frozen_dataset(dataset)),
                now,
                expires,
                json.dumps(result.to_dict()),
            ],
        )
    return {
        "token": token,
        "url_path": f"{SHARED_PATH}?token={token}",
        "url": public_url(token),
        "share_id": share_id,
        "title": title,
        "created_at": now.isoformat(timespec="seconds"),
        "expires_at": expires.isoformat(timespec="seconds") if expires else None,
    }


def _frozen_dataset(dataset: Dataset) -> dict:
    return {"name": dataset.name, "rows": dataset.rows, "dataset_id": dataset.dataset_id}


_FIELDS = (
    "share_id, token_hash, workspace, title, state, snapshot, dataset, created_at, expires_at,"
    " revoked_at, result"
)


def _row(store: Store, token: object) -> tuple:
    if not well_formed(token):
        raise KpiLabError(INVALID)
    wanted = token_hash(token)
    with store.cursor() as cur:
        row = cur.execute(f"SELECT {_FIELDS} FROM shares WHERE token_hash = ?", [wanted]).fetchone()
    if row is None or not hmac.compare_digest(row[1], wanted):
        raise KpiLabError(INVALID)
    return row


def open_share(store: Store, token: object, now: datetime | None = None) -> Shared:
    row = _row(store, token)
    share_id, _, _, title, state, snapshot, frozen, created, expires, revoked, result = row
    if revoked is not None:
        raise KpiLabError("This link was revoked by its owner: ask them for a new one.")
    if expires is not None and (now or datetime.now()) > expires:
        raise KpiLabError(
            f"This link expired on {expires:%Y-%m-%d %H:%M}: ask its owner for a new one."
        )
    if result is None:
        _migrate(store, row)
        row = _row(store, token)
        state, frozen, result = row[4], row[6], row[10]
        if result is None:
            raise KpiLabError(INVALID)
    view = json.loads(state)
    meta = json.loads(frozen)
    return Shared(
        share_id,
        title,
        spec_from_view(view),
        result_from_dict(view["page"], json.loads(result)),
        meta["name"],
        int(meta["rows"]),
        created,
        expires,
    )


def list_shares(store: Store) -> list[dict]:
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT share_id, title, created_at, expires_at, revoked_at FROM shares"
            " WHERE workspace = ? ORDER BY created_at",
            [store.workspace],
        ).fetchall()
    return [
        {
            "share_id": s,
            "title": t,
            "created_at": c.isoformat(timespec="seconds"),
            "expires_at": e.isoformat(timespec="seconds") if e else None,
            "revoked": r is not None,
        }
        for s, t, c, e, r in rows
    ]


def revoke_share(store: Store, token_or_id: str) -> dict:
    """Revoke by token, or by share id (the owner's list shows ids, never tokens)."""
    with store.cursor() as cur:
        if well_formed(token_or_id):
            row = cur.execute(
                "SELECT share_id, snapshot FROM shares WHERE token_hash = ? AND workspace = ?",
                [token_hash(token_or_id), store.workspace],
            ).fetchone()
        else:
            row = cur.execute(
                "SELECT share_id, snapshot FROM shares WHERE share_id = ? AND workspace = ?",
                [str(token_or_id), store.workspace],
            ).fetchone()
    if row is None:
        raise KpiLabError(INVALID)
    with store.transaction() as cur:
        cur.execute(
            "UPDATE shares SET revoked_at = ?, snapshot = NULL WHERE share_id = ?",
            [datetime.now(), row[0]],
        )
        if row[1]:  # a link of the old kind: its copy of the rows is no longer needed
            cur.execute(f"DROP TABLE IF EXISTS {q(row[1])}")
    return {"share_id": row[0], "revoked": True}


# -- links made before results were frozen ---------------------------------------------------


def migrate_links(store: Store) -> int:
    """Give every link of the old kind its frozen result and drop its copy of the rows.
    Returns how many were migrated. A link whose view no longer computes keeps its copy and
    says why when opened."""
    with store.cursor() as cur:
        rows = cur.execute(
            f"SELECT {_FIELDS} FROM shares WHERE result IS NULL AND snapshot IS NOT NULL"
        ).fetchall()
    done = 0
    for row in rows:
        try:
            _migrate(store, row)
            done += 1
        except KpiLabError:
            continue
    return done


def _migrate(store: Store, row: tuple) -> None:
    share_id, _, workspace, _, state, snapshot, frozen, created, _, revoked, _ = row
    if revoked is not None or not snapshot:
        return
    meta = json.loads(frozen)
    owner = store.for_workspace(workspace)
    view = json.loads(state)
    spec = spec_from_view(view, saved_custom(owner))
    dataset = Dataset(
        snapshot,
        meta["name"],
        meta.get("source_file"),
        int(meta["rows"]),
        tuple(Column(*c) for c in meta["columns"]),
        created,
        meta.get("kind", "campaign"),
        meta.get("platform", "generic"),
        tuple(meta.get("currencies", [])),
    )
    try:
        result = ANALYSES[spec.PAGE].run(owner, dataset, spec)
    except KpiLabError as exc:
        raise KpiLabError(f"This link could not be opened: {exc}") from None
    with store.transaction() as cur:
        cur.execute(
            "UPDATE shares SET result = ?, state = ?, dataset = ?, snapshot = NULL"
            " WHERE share_id = ?",
            [
                json.dumps(result.to_dict()),
                json.dumps(spec.to_view()),
                json.dumps(_frozen_dataset(replace(dataset, dataset_id=spec.dataset_id))),
                share_id,
            ],
        )
        cur.execute(f"DROP TABLE IF EXISTS {q(snapshot)}")
