"""Who this browser session is, and in which workspace it works.

The server runs in one of three modes:

- **local** (the default, no sign-in configured): one person on their own machine. The app
  answers only on this machine and works in the one local workspace, with every power.
- **signin** (an ``[auth]`` section in ``.streamlit/secrets.toml``): people sign in with an
  OIDC provider (``st.login``) and work in their team's workspace with their role.
- **anonymous** (``KPILAB_ANONYMOUS=1``, no sign-in): anyone who reaches the server gets a
  private workspace, made at their first change (until then they see the samples). Its
  private link lives in a cookie, not in the address bar; attaching and e-mail are off.

The engine checks every change against the principal this module puts in the session; the
pages only hide what the principal may not do.
"""

from __future__ import annotations

import ipaddress
import os

import streamlit as st

from kpi_engine.access.principal import ANONYMOUS, LOCAL_OWNER, Principal
from kpi_engine.access.rates import allow
from kpi_engine.access.teams import sign_in, team_store
from kpi_engine.errors import KpiLabError
from kpi_engine.samples import seed_samples
from kpi_engine.sharing.tokens import token_of
from kpi_engine.sharing.workspaces import create_workspace, open_workspace
from kpi_engine.store import DEFAULT_WORKSPACE, PENDING, Store
from ui.mode import server_mode
from ui.resources import root_store
from ui.state import Keys
from ui.text import plain

NOBODY = Principal("no one yet", "viewer", "anonymous")
COOKIE = "kpilab_ws"
COOKIE_DAYS = 180
DEFAULT_NEW_PER_HOUR = 20


def session_store() -> Store | None:
    """This session's store (its principal and workspace), or None when the page should
    stop: a sign-in page, or a refusal, was drawn instead."""
    mode = server_mode()
    if mode == "local":
        return _local()
    if mode == "anonymous":
        return _anonymous()
    return _signed_in()


def _actor() -> Principal:
    """This session's principal; before app.py has worked it out, no more than a viewer."""
    if Keys.ACTOR in st.session_state:
        return st.session_state[Keys.ACTOR]
    return LOCAL_OWNER if server_mode() == "local" else NOBODY


def current_store() -> Store:
    """The store of this session (app.py set it up before any page runs)."""
    return root_store().acting(_actor(), st.session_state.get(Keys.WORKSPACE, PENDING))


def can(action: str) -> bool:
    return _actor().may(action)


# -- local ------------------------------------------------------------------------------


def _from_elsewhere() -> bool:
    """The request did not come from this machine (directly, or through a local proxy)."""
    headers = st.context.headers or {}
    ip = st.context.ip_address
    addresses = [ip if isinstance(ip, str) else "127.0.0.1"]  # no network client: a test
    addresses += [a.strip() for a in headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    addresses += [headers.get("X-Real-Ip", "")] if headers.get("X-Real-Ip") else []
    for address in addresses:
        try:
            if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
                return True
        except ValueError:
            return True
    return False


def _local() -> Store | None:
    if _from_elsewhere():
        st.error(
            "This KPI Lab serves only the machine it runs on. To let a team in, its operator"
            " sets up sign-in (an [auth] section in .streamlit/secrets.toml) or lets anyone in"
            " with KPILAB_ANONYMOUS=1.",
            icon=":material/lock:",
        )
        return None
    root = root_store()
    if Keys.WORKSPACE not in st.session_state:
        seed_samples(root.for_workspace(DEFAULT_WORKSPACE))
    st.session_state[Keys.WORKSPACE] = DEFAULT_WORKSPACE
    st.session_state[Keys.ACTOR] = LOCAL_OWNER
    return current_store()


# -- anonymous --------------------------------------------------------------------------


def _anonymous() -> Store | None:
    root = root_store()
    st.session_state[Keys.ACTOR] = ANONYMOUS
    link = st.query_params.get("ws")
    if link is not None:  # a private link opened: keep it in the cookie, not in the address bar
        st.query_params.pop("ws")
        opened = open_workspace(root, token_of(link))
        if opened is None:
            st.error(
                "This workspace link is not valid: check that it was copied whole.",
                icon=":material/link_off:",
            )
            return None
        _keep(opened.workspace, token_of(link))
    if Keys.WORKSPACE not in st.session_state:
        token = st.context.cookies.get(COOKIE)
        opened = open_workspace(root, token) if token else None
        if opened is not None:
            st.session_state[Keys.WORKSPACE] = opened.workspace
            st.session_state[Keys.WORKSPACE_TOKEN] = token
        else:
            st.session_state[Keys.WORKSPACE] = PENDING
    _write_cookie()
    return current_store()


def _keep(workspace: str, token: str) -> None:
    st.session_state[Keys.WORKSPACE] = workspace
    remember(token)


def remember(token: str) -> None:
    """This session's private link, and this browser's cookie: written now and again on the
    next run (a run that ends in a rerun may not reach the browser)."""
    st.session_state[Keys.WORKSPACE_TOKEN] = token
    st.session_state[Keys.COOKIE_PENDING] = token
    _write_cookie(keep=True)


def _write_cookie(keep: bool = False) -> None:
    """The private link's token into a cookie of this site (the browser sends it back with
    every visit); a fixed-form token, never user text, is all the script holds."""
    token = st.session_state.get(Keys.COOKIE_PENDING)
    if not keep:
        st.session_state.pop(Keys.COOKIE_PENDING, None)
    if not token:
        return
    age = COOKIE_DAYS * 86400
    st.html(
        f"<script>document.cookie = '{COOKIE}={token}; Path=/; Max-Age={age}; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def writable_store() -> Store:
    """This session's store, ready for a change: a visitor with no workspace yet gets one
    now (at most ``KPILAB_MAX_NEW_WORKSPACES`` an hour from one address)."""
    store = current_store()
    if not store.pending:
        return store
    root = root_store()
    limit = int(os.environ.get("KPILAB_MAX_NEW_WORKSPACES") or DEFAULT_NEW_PER_HOUR)
    ip = st.context.ip_address
    if not allow(root, f"new-ws:{ip if isinstance(ip, str) else 'unknown'}", limit):
        raise KpiLabError(
            "too many new workspaces from your address this hour: try again later, or open"
            " your private link"
        )
    made, token = create_workspace(root)
    seed_samples(made)
    _keep(made.workspace, token)
    return current_store()


# -- sign-in ----------------------------------------------------------------------------


def _signed_in() -> Store | None:
    if not st.user.is_logged_in:
        _sign_in_page()
        return None
    email = str(st.user.get("email") or "")
    if Keys.MEMBERSHIPS not in st.session_state:
        try:
            found = sign_in(root_store(), email, bool(st.user.get("email_verified")))
        except KpiLabError:
            found = []
        st.session_state[Keys.MEMBERSHIPS] = found
    found = st.session_state[Keys.MEMBERSHIPS]
    if not found:
        st.warning(
            f"You are signed in as {plain(email or 'someone without an e-mail address')}, but"
            " no team has invited this address yet: ask a team admin to invite it.",
            icon=":material/group_off:",
        )
        st.button("Sign out", on_click=st.logout)
        return None
    names = {m.team.team_id: m for m in found}
    chosen = st.session_state.get(Keys.TEAM)
    if chosen not in names:
        chosen = found[0].team.team_id
    if len(found) > 1:
        chosen = st.sidebar.selectbox(
            "Team",
            list(names),
            index=list(names).index(chosen),
            format_func=lambda t: f"{names[t].team.name} ({names[t].role})",
        )
    st.session_state[Keys.TEAM] = chosen
    store = team_store(root_store(), names[chosen], email)
    st.session_state[Keys.WORKSPACE] = store.workspace
    st.session_state[Keys.ACTOR] = store.actor
    return store


def _sign_in_page() -> None:
    st.title("KPI Lab", anchor=False)
    st.markdown("Sign in to see your team's campaigns, experiments and budgets.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)


def refresh_memberships() -> None:
    """After a change of members: read them again on the next run."""
    st.session_state.pop(Keys.MEMBERSHIPS, None)


def who_is_here(store: Store) -> None:
    """The sidebar line: who works in which workspace, and how to leave."""
    actor: Principal = store.actor
    mode = server_mode()
    if mode == "signin":
        names = {m.team.team_id: m.team.name for m in st.session_state.get(Keys.MEMBERSHIPS, [])}
        team = names.get(st.session_state.get(Keys.TEAM), "")
        st.sidebar.caption(f"{plain(actor.who)} · {plain(team)} · {actor.role}")
        st.sidebar.button("Sign out", on_click=st.logout, key="sign_out")
    elif mode == "anonymous":
        st.sidebar.caption(
            "Your private workspace: nothing saved yet."
            if store.pending
            else "Your private workspace (its link is on the Sharing page)."
        )
    else:
        st.sidebar.caption("Local workspace on this machine.")
