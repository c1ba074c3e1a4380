"""Read-only share links: a link freezes the spec and the result its owner saw.

Sharing stores the view's spec and its result as JSON (kilobytes), not a copy of the rows:
later uploads, appends, deletions or edits of a custom KPI do not change what the
stakeholder sees, and sharing a 10M-row dataset ten times costs ten small documents. The
link carries an unguessable token; only its hash is stored, and a revoked, expired, unknown
or malformed token opens nothing. (Links made before results were frozen kept a copy of the
rows; moving an old workspace database over computes their results: ``kpi_engine.legacy``.)
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from kpi_engine.access.principal import require
from kpi_engine.access.teams import link_opens_for, team_of
from kpi_engine.analyses import Result, Spec, result_from_dict, run, spec_from_view
from kpi_engine.datasets import Dataset, clean_name
from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.tokens import new_token, token_hash, well_formed
from kpi_engine.state.schema import shares
from kpi_engine.store import Store

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
    opens: int = field(default=0, compare=False)  # times opened, this time included

    @property
    def page(self) -> str:
        return self.spec.PAGE


class SignInNeeded(KpiLabError):
    """The link's team opens its links to people signed in only."""


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
    require(store, "share")
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
    with store.transaction() as conn:
        conn.execute(
            insert(shares).values(
                share_id=share_id,
                token_hash=token_hash(token),
                workspace=store.workspace,
                title=title,
                state=json.dumps(spec.to_view()),
                dataset=json.dumps(frozen_dataset(dataset)),
                result=json.dumps(result.to_dict()),
                created_at=now,
                expires_at=expires,
                revoked_at=None,
            )
        )
        store.log(conn, "share", title, f"{spec.PAGE} of {dataset.name}")
    return {
        "token": token,
        "url_path": f"{SHARED_PATH}?token={token}",
        "url": public_url(token),
        "share_id": share_id,
        "title": title,
        "created_at": now.isoformat(timespec="seconds"),
        "expires_at": expires.isoformat(timespec="seconds") if expires else None,
    }


def frozen_dataset(dataset: Dataset) -> dict:
    return {"name": dataset.name, "rows": dataset.rows, "dataset_id": dataset.dataset_id}


def _row(store: Store, token: object):
    if not well_formed(token):
        raise KpiLabError(INVALID)
    wanted = token_hash(token)
    with store.reading() as conn:
        row = conn.execute(select(shares).where(shares.c.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        raise KpiLabError(INVALID)
    return row


def open_share(
    store: Store, token: object, now: datetime | None = None, signed_in: str | None = None
) -> Shared:
    """What a link shows, counted as one more opening. ``signed_in``: the e-mail of the
    person opening it, when signed in (a team may open its links to them only)."""
    row = _row(store, token)
    if row.revoked_at is not None:
        raise KpiLabError("This link was revoked by its owner: ask them for a new one.")
    if row.expires_at is not None and (now or datetime.now()) > row.expires_at:
        raise KpiLabError(
            f"This link expired on {row.expires_at:%Y-%m-%d %H:%M}: ask its owner for a new one."
        )
    team = team_of(store.for_workspace(row.workspace))
    if not link_opens_for(team, signed_in):
        at = f" with an address at {team.links_domain}" if team.links_domain else ""
        raise SignInNeeded(f"This link opens for people signed in{at} only: sign in to see it.")
    with store.state.write() as conn:
        conn.execute(
            update(shares)
            .where(shares.c.share_id == row.share_id)
            .values(opens=shares.c.opens + 1, last_opened_at=datetime.now())
        )
    view = json.loads(row.state)
    meta = json.loads(row.dataset)
    return Shared(
        row.share_id,
        row.title,
        spec_from_view(view),
        result_from_dict(view["page"], json.loads(row.result)),
        meta["name"],
        int(meta["rows"]),
        row.created_at,
        row.expires_at,
        row.opens + 1,
    )


def list_shares(store: Store) -> list[dict]:
    c = shares.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.share_id, c.title, c.created_at, c.expires_at, c.revoked_at, c.opens)
            .where(c.workspace == store.workspace)
            .order_by(c.created_at)
        ).all()
    return [
        {
            "share_id": s,
            "title": t,
            "created_at": c.isoformat(timespec="seconds"),
            "expires_at": e.isoformat(timespec="seconds") if e else None,
            "revoked": r is not None,
            "opens": n,
        }
        for s, t, c, e, r, n in rows
    ]


def revoke_share(store: Store, token_or_id: str) -> dict:
    """Revoke by token, or by share id (the owner's list shows ids, never tokens)."""
    require(store, "share")
    c = shares.c
    which = (
        c.token_hash == token_hash(token_or_id)
        if well_formed(token_or_id)
        else c.share_id == str(token_or_id)
    )
    with store.transaction() as conn:
        share_id = conn.execute(
            select(c.share_id).where(which, c.workspace == store.workspace)
        ).scalar_one_or_none()
        if share_id is None:
            raise KpiLabError(INVALID)
        conn.execute(update(shares).where(c.share_id == share_id).values(revoked_at=datetime.now()))
        store.log(conn, "revoke", share_id)
    return {"share_id": share_id, "revoked": True}
