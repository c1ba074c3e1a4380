"""Personal tokens: the command line and scripts act as a named member of a team, with that
member's role, never more. An admin issues a token for a member and can revoke it; it is
shown once, and only its SHA-256 is kept. Removing a member revokes their tokens; a token
whose member has since lost a role acts with the role they have now."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from kpi_engine.access.principal import Principal, require
from kpi_engine.access.teams import _own_team, clean_email
from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.tokens import token_hash
from kpi_engine.state.schema import members, teams, tokens
from kpi_engine.store import Store

PREFIX = "kpl_"  # a personal token, told apart from a workspace's private link at a glance


def issue_token(store: Store, email: str, label: str = "command line") -> dict:
    """A new token for a member of the store's team (admins only); the token itself only
    in the answer, never again."""
    require(store, "members")
    team, email = _own_team(store), clean_email(email)
    token = PREFIX + secrets.token_urlsafe(24)
    token_id = "tk_" + secrets.token_hex(5)
    label = " ".join(str(label).split())[:120] or "command line"
    with store.transaction() as conn:
        member = conn.execute(
            select(members.c.role).where(
                members.c.team_id == team.team_id, members.c.email == email
            )
        ).scalar_one_or_none()
        if member is None:
            raise KpiLabError(f"{email} is not a member of this team: invite them first", "email")
        conn.execute(
            insert(tokens).values(
                token_id=token_id,
                token_hash=token_hash(token),
                team_id=team.team_id,
                email=email,
                label=label,
                created_at=datetime.now(),
                created_by=store.actor.who,
            )
        )
        store.log(conn, "issue token", email, label)
    return {"token_id": token_id, "token": token, "email": email, "label": label}


def list_tokens(store: Store) -> list[dict]:
    require(store, "members")
    team = _own_team(store)
    with store.reading() as conn:
        rows = conn.execute(
            select(tokens).where(tokens.c.team_id == team.team_id).order_by(tokens.c.created_at)
        ).all()
    return [
        {
            "token_id": r.token_id,
            "email": r.email,
            "label": r.label,
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "last_used_at": r.last_used_at.isoformat(timespec="seconds")
            if r.last_used_at
            else None,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def revoke_token(store: Store, token_id: str) -> dict:
    require(store, "members")
    team = _own_team(store)
    with store.transaction() as conn:
        done = conn.execute(
            update(tokens)
            .where(
                tokens.c.team_id == team.team_id,
                tokens.c.token_id == str(token_id),
                tokens.c.revoked_at.is_(None),
            )  # fmt: skip
            .values(revoked_at=datetime.now())
        ).rowcount
        if not done:
            raise KpiLabError(f"{token_id!r} is not a live token of this team", "token_id")
        store.log(conn, "revoke token", str(token_id))
    return {"token_id": token_id, "revoked": True}


def revoke_all(conn: Connection, team_id: str, email: str) -> None:
    conn.execute(
        update(tokens)
        .where(tokens.c.team_id == team_id, tokens.c.email == email, tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now())
    )


def acting_by_token(root: Store, token: str) -> Store | None:
    """The team's workspace acting as the token's member (with the role they have now), or
    None: malformed, unknown or revoked, or the member was removed."""
    token = str(token).strip()
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    wanted = token_hash(token)
    with root.reading() as conn:
        row = conn.execute(
            select(
                tokens.c.token_id,
                tokens.c.token_hash,
                tokens.c.email,
                tokens.c.revoked_at,
                members.c.role,
                teams.c.team_id,
                teams.c.workspace_id,
            )  # fmt: skip
            .join(
                members,
                (members.c.team_id == tokens.c.team_id) & (members.c.email == tokens.c.email),
            )
            .join(teams, teams.c.team_id == tokens.c.team_id)
            .where(tokens.c.token_hash == wanted)
        ).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    with root.transaction() as conn:
        conn.execute(
            update(tokens)
            .where(tokens.c.token_id == row.token_id)
            .values(last_used_at=datetime.now())
        )
    return root.acting(Principal(row.email, row.role, team=row.team_id), row.workspace_id)
