"""Teams: each has one workspace (its data) and members with a role. People sign in with an
identity provider (OIDC, through the app); their e-mail decides which teams they are in.

- The first person to sign in on a server with no team becomes the admin of a new team.
- An admin invites an address with a role; the invitation becomes a membership when that
  person signs in.
- A team always keeps an admin: the last one cannot be removed or demoted.
- E-mail alerts go to members whose provider confirmed their address, or to the domains an
  admin allows (``set_email_domains``).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from kpi_engine.access.principal import ROLES, Principal, Role, require
from kpi_engine.errors import KpiLabError
from kpi_engine.samples import seed_samples
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import invites, members, settings, teams, workspaces
from kpi_engine.store import SYSTEM_SETTINGS, Store

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    workspace: str
    links_need_signin: bool
    links_domain: str | None
    email_domains: tuple[str, ...]


@dataclass(frozen=True)
class Membership:
    team: Team
    role: Role


def clean_email(text: str) -> str:
    address = str(text).strip().lower()
    if not _EMAIL.match(address):
        raise KpiLabError(f"{text!r} is not an e-mail address", "email")
    return address


def _role(role: str) -> Role:
    if role not in ROLES:
        raise KpiLabError(f"cannot be {role!r}: choose viewer, editor or admin", "role")
    return role  # type: ignore[return-value]


def _team(row) -> Team:  # noqa: ANN001 - a SQLAlchemy row
    return Team(
        row.team_id,
        row.name,
        row.workspace_id,
        bool(row.links_need_signin),
        row.links_domain,
        tuple(json.loads(row.email_domains or "[]")),
    )


def team_of(store: Store) -> Team | None:
    """The team whose workspace ``store`` is in (None outside teams)."""
    with store.reading() as conn:
        row = conn.execute(select(teams).where(teams.c.workspace_id == store.workspace)).first()
    return _team(row) if row else None


def create_team(store: Store, name: str, admin: str, verified: bool) -> Team:
    """A new team with its workspace (the samples in it) and ``admin`` as its admin."""
    name = " ".join(str(name).split())[:120] or "Our team"
    admin = clean_email(admin)
    team = Team("tm_" + secrets.token_hex(6), name, "ws_" + secrets.token_hex(8), False, None, ())
    now = datetime.now()
    with store.transaction() as conn:
        conn.execute(
            insert(workspaces).values(
                workspace_id=team.workspace, token_hash=None, created_at=now, kind="team"
            )
        )
        conn.execute(
            insert(teams).values(
                team_id=team.team_id, name=team.name, workspace_id=team.workspace, created_at=now
            )
        )
        _add_member(conn, team.team_id, admin, "admin", verified, admin)
    seed_samples(store.for_workspace(team.workspace))
    return team


def _add_member(conn: Connection, team_id: str, email: str, role: Role, verified: bool, by: str):
    row = {"team_id": team_id, "email": email, "role": role, "verified": verified}
    upsert(conn, members, {**row, "added_at": datetime.now(), "added_by": by}, ("team_id", "email"))


def sign_in(
    root: Store, email: str, verified: bool, team_name: str | None = None
) -> list[Membership]:
    """The teams of someone the identity provider just vouched for: their invitations are
    accepted; on a server with no team yet, the first person gets a team as its admin."""
    email = clean_email(email)
    with root.reading() as conn:
        teams_exist = conn.execute(select(func.count()).select_from(teams)).scalar_one() > 0
    if not teams_exist:
        _first_team(root, email, verified, team_name)
    with root.transaction() as conn:
        pending = conn.execute(select(invites).where(invites.c.email == email)).all()
        for invite in pending:
            _add_member(conn, invite.team_id, email, invite.role, verified, invite.invited_by)
            conn.execute(
                delete(invites).where(invites.c.team_id == invite.team_id, invites.c.email == email)
            )
            root.for_workspace(_workspace(conn, invite.team_id)).acting(
                Principal(email, invite.role, team=invite.team_id)
            ).log(conn, "join", email, f"invited by {invite.invited_by} as {invite.role}")
        if verified:  # the provider vouches for the address now
            conn.execute(update(members).where(members.c.email == email).values(verified=True))
    return memberships(root, email)


def _first_team(root: Store, email: str, verified: bool, team_name: str | None) -> None:
    """Exactly one first admin, however many people sign in at once on a new server: a row
    only the first can insert decides."""
    try:
        with root.transaction() as conn:
            if conn.execute(select(func.count()).select_from(teams)).scalar_one():
                return
            conn.execute(insert(settings).values(workspace=SYSTEM_SETTINGS, key="first_admin",
                                                 value=email))  # fmt: skip
    except KpiLabError:  # someone else's insert came first
        return
    domain = email.split("@", 1)[1]
    create_team(root, team_name or f"{domain} team", email, verified)


def _workspace(conn: Connection, team_id: str) -> str:
    return conn.execute(select(teams.c.workspace_id).where(teams.c.team_id == team_id)).scalar_one()


def memberships(root: Store, email: str) -> list[Membership]:
    with root.reading() as conn:
        rows = conn.execute(
            select(teams, members.c.role)
            .join(members, members.c.team_id == teams.c.team_id)
            .where(members.c.email == email.lower())
            .order_by(teams.c.name)
        ).all()
    return [Membership(_team(r), r.role) for r in rows]


def team_store(root: Store, membership: Membership, email: str) -> Store:
    """The team's workspace, acting as this member."""
    actor = Principal(email.lower(), membership.role, team=membership.team.team_id)
    return root.acting(actor, membership.team.workspace)


# -- what admins do --------------------------------------------------------------------------


def members_of(store: Store) -> list[dict]:
    team = _own_team(store)
    with store.reading() as conn:
        rows = conn.execute(
            select(members).where(members.c.team_id == team.team_id).order_by(members.c.email)
        ).all()
        pending = conn.execute(
            select(invites).where(invites.c.team_id == team.team_id).order_by(invites.c.email)
        ).all()
    out = [
        {"email": r.email, "role": r.role, "verified": bool(r.verified), "status": "member"}
        for r in rows
    ]
    out += [
        {"email": r.email, "role": r.role, "verified": False, "status": "invited"} for r in pending
    ]
    return out


def _own_team(store: Store) -> Team:
    team = team_of(store)
    if team is None:
        raise KpiLabError("this workspace belongs to no team: members exist only with sign-in")
    return team


def invite(store: Store, email: str, role: str) -> dict:
    """Invite an address (an admin): it joins with ``role`` when that person signs in; a
    member already there gets the role now."""
    require(store, "members")
    team, email, role = _own_team(store), clean_email(email), _role(role)
    with store.transaction() as conn:
        known = conn.execute(
            select(members.c.role).where(
                members.c.team_id == team.team_id, members.c.email == email
            )
        ).scalar_one_or_none()
        if known is not None:
            _keep_an_admin(conn, team.team_id, email, role)
            conn.execute(
                update(members)
                .where(members.c.team_id == team.team_id, members.c.email == email)
                .values(role=role)
            )
            store.log(conn, "change role", email, f"{known} -> {role}")
            return {"email": email, "role": role, "status": "member"}
        row = {"team_id": team.team_id, "email": email, "role": role}
        upsert(conn, invites, {**row, "invited_by": store.actor.who, "invited_at": datetime.now()},
               ("team_id", "email"))  # fmt: skip
        store.log(conn, "invite", email, role)
    return {"email": email, "role": role, "status": "invited"}


def remove_member(store: Store, email: str) -> None:
    """Remove a member or an invitation (an admin); their tokens stop working."""
    from kpi_engine.access.tokens import revoke_all

    require(store, "members")
    team, email = _own_team(store), clean_email(email)
    with store.transaction() as conn:
        _keep_an_admin(conn, team.team_id, email, None)
        gone = conn.execute(
            delete(members).where(members.c.team_id == team.team_id, members.c.email == email)
        ).rowcount
        gone += conn.execute(
            delete(invites).where(invites.c.team_id == team.team_id, invites.c.email == email)
        ).rowcount
        if not gone:
            raise KpiLabError(f"{email} is not a member of this team", "email")
        revoke_all(conn, team.team_id, email)
        store.log(conn, "remove member", email)


def _keep_an_admin(conn: Connection, team_id: str, email: str, new_role: Role | None) -> None:
    if new_role == "admin":
        return
    admins = set(
        conn.execute(
            select(members.c.email).where(members.c.team_id == team_id, members.c.role == "admin")
        ).scalars()
    )
    if admins == {email}:
        raise KpiLabError(
            f"{email} is the team's last admin: make someone else an admin first", "email"
        )


def set_link_policy(store: Store, need_signin: bool, domain: str | None) -> Team:
    """Whether the team's read-only links open only for people signed in (optionally with an
    address at ``domain``)."""
    require(store, "members")
    team = _own_team(store)
    domain = (domain or "").strip().lower().lstrip("@") or None
    if domain and not _DOMAIN.match(domain):
        raise KpiLabError(f"{domain!r} is not a domain: write e.g. example.com", "domain")
    with store.transaction() as conn:
        conn.execute(
            update(teams)
            .where(teams.c.team_id == team.team_id)
            .values(
                links_need_signin=bool(need_signin), links_domain=domain if need_signin else None
            )
        )
        store.log(conn, "link policy", team.name, f"sign-in {'on' if need_signin else 'off'}"
                  + (f", {domain}" if need_signin and domain else ""))  # fmt: skip
    return _own_team(store)


def set_email_domains(store: Store, domains: list[str]) -> Team:
    """The domains alerts may be e-mailed to besides members' confirmed addresses."""
    require(store, "members")
    team = _own_team(store)
    clean = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    for domain in clean:
        if not _DOMAIN.match(domain):
            raise KpiLabError(f"{domain!r} is not a domain: write e.g. example.com", "domain")
    with store.transaction() as conn:
        conn.execute(
            update(teams)
            .where(teams.c.team_id == team.team_id)
            .values(email_domains=json.dumps(clean))
        )
        store.log(conn, "alert domains", team.name, ", ".join(clean) or "none")
    return _own_team(store)


def email_allowed(store: Store, address: str) -> bool:
    """May alerts of this workspace go to ``address``? Outside a team (the local install)
    any address may; in a team, a member's confirmed address or an allowed domain."""
    team = team_of(store)
    if team is None:
        return store.actor.kind != "anonymous"
    address = address.strip().lower()
    if address.split("@", 1)[-1] in team.email_domains:
        return True
    with store.reading() as conn:
        return bool(
            conn.execute(
                select(members.c.verified).where(
                    members.c.team_id == team.team_id, members.c.email == address
                )
            ).scalar_one_or_none()
        )


def link_opens_for(team: Team | None, email: str | None) -> bool:
    """May a person (``email``: signed in, or None) open this team's read-only links?"""
    if team is None or not team.links_need_signin:
        return True
    if not email:
        return False
    return team.links_domain is None or email.lower().endswith("@" + team.links_domain)
