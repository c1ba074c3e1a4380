"""Principals and roles. A store acts for one principal (``Store.actor``): a team member with
a role, the local owner of a one-person install, an anonymous visitor of a server that lets
anyone in, or the system itself (the monitor). Each action needs a role, and a few are
closed to anonymous visitors whatever their role.

- viewer: read every page, open links;
- editor: also upload, append, replace, rename; save views, presets, custom KPIs and
  targets; make and revoke links; add and remove watches;
- admin: also delete datasets, attach lake tables, manage members, invitations and tokens,
  set where alerts may go and who may open links, read the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kpi_engine.errors import KpiLabError

if TYPE_CHECKING:
    from kpi_engine.store import Store

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")
Kind = Literal["member", "local", "anonymous", "system"]

# what each action needs
ACTIONS: dict[str, Role] = {
    "read": "viewer",
    "edit": "editor",  # upload, append, replace, rename, presets, views, custom KPIs, targets
    "share": "editor",  # make and revoke read-only links
    "watch": "editor",  # add and remove watches
    "email": "editor",  # alerts by e-mail, to confirmed members or allowed domains only
    "delete": "admin",
    "attach": "admin",
    "members": "admin",  # members, invitations, personal tokens, team settings
    "audit": "admin",
}
CLOSED_TO_ANONYMOUS = ("attach", "email", "members", "audit")


@dataclass(frozen=True)
class Principal:
    who: str  # an e-mail address, or what the principal is ("the local owner")
    role: Role
    kind: Kind = "member"
    team: str | None = None  # a member's team

    def may(self, action: str) -> bool:
        if self.kind == "anonymous" and action in CLOSED_TO_ANONYMOUS:
            return False
        needed = ACTIONS.get(action, "admin")
        return ROLES.index(self.role) >= ROLES.index(needed)


LOCAL_OWNER = Principal("the local owner", "admin", "local")
SYSTEM = Principal("KPI Lab", "admin", "system")
ANONYMOUS = Principal("an anonymous visitor", "editor", "anonymous")

_REFUSED = {
    "edit": "change this workspace's data",
    "share": "make or revoke read-only links",
    "watch": "add or remove watches",
    "delete": "delete datasets",
    "attach": "attach lake tables",
    "members": "manage the team's members, invitations and tokens",
    "audit": "read the audit log",
    "email": "send alerts by e-mail",
}


def require(store: Store, action: str) -> Principal:
    """The store's principal, if it may do ``action``; else a message saying who may."""
    actor = store.actor
    if actor.may(action):
        return actor
    what = _REFUSED.get(action, action)
    if actor.kind == "anonymous":
        raise KpiLabError(
            f"visitors without an account cannot {what} on this server: ask its operator"
            " for an account"
        )
    needed = ACTIONS.get(action, "admin")
    upgrade = "an admin" if needed == "admin" else f"{_article(needed)} {needed} or an admin"
    raise KpiLabError(
        f"{actor.who} is {_article(actor.role)} {actor.role} of this team and cannot {what}:"
        f" a team admin can make you {upgrade}"
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
