"""Team (admins, with sign-in): members and invitations, personal tokens for the command line,
who may open the team's links and where alerts may be e-mailed, and the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_engine.access.audit import entries
from kpi_engine.access.principal import ROLES
from kpi_engine.access.teams import (
    invite,
    members_of,
    remove_member,
    set_email_domains,
    set_link_policy,
    team_of,
)
from kpi_engine.access.tokens import issue_token, list_tokens, revoke_token
from kpi_engine.errors import KpiLabError
from kpi_engine.export import to_csv_bytes
from kpi_engine.store import Store
from ui.identity import can, current_store, refresh_memberships, server_mode
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.text import plain

LABELS = {"email": "E-mail address", "role": "Role", "domain": "Domain"}


def _members(store: Store) -> None:
    st.subheader("Members", anchor=False)
    people = members_of(store)
    st.dataframe(pd.DataFrame(people), hide_index=True)
    with st.form("invite", border=False):
        address, role, button = st.columns([3, 1, 1], vertical_alignment="bottom")
        email = address.text_input("E-mail address", placeholder="name@example.com")
        chosen = role.selectbox("Role", ROLES, index=0)
        if button.form_submit_button("Invite or change role", icon=":material/person_add:"):
            try:
                done = invite(store, email, chosen)
                st.success(
                    f"{plain(done['email'])} is now a {done['role']}."
                    if done["status"] == "member"
                    else f"Invited {plain(done['email'])} as a {done['role']}: they join when"
                    " they sign in with that address."
                )
                refresh_memberships()
            except KpiLabError as exc:
                show_error(exc, LABELS)
    with st.form("remove", border=False):
        who, button = st.columns([4, 1], vertical_alignment="bottom")
        email = who.selectbox("Remove", [p["email"] for p in people], index=None)
        if button.form_submit_button("Remove", icon=":material/person_remove:") and email:
            try:
                remove_member(store, email)
                refresh_memberships()
                st.rerun()
            except KpiLabError as exc:
                show_error(exc, LABELS)


def _tokens(store: Store) -> None:
    st.subheader("Personal tokens for the command line", anchor=False)
    st.caption(
        "A token lets scripts act as a member, with that member's role: `python -m kpi_engine"
        " … --token TOKEN`, or KPILAB_TOKEN. It is shown once; revoke it when it leaks."
    )
    members = [p["email"] for p in members_of(store) if p["status"] == "member"]
    with st.form("token", border=False):
        who, label, button = st.columns([3, 2, 1], vertical_alignment="bottom")
        email = who.selectbox("For", members)
        name = label.text_input("Label", value="command line", max_chars=120)
        if button.form_submit_button("Issue", icon=":material/key:") and email:
            try:
                made = issue_token(store, email, name)
                st.success("Copy it now: it is not shown again.")
                st.code(made["token"], language=None)
            except KpiLabError as exc:
                show_error(exc, LABELS)
    for token in list_tokens(store):
        left, right = st.columns([5, 1], vertical_alignment="center")
        used = token["last_used_at"] or "never"
        state = "revoked" if token["revoked"] else f"last used {used}"
        left.caption(f"{plain(token['email'])} · {plain(token['label'])} · {state}")
        if not token["revoked"] and right.button("Revoke", key=f"revoke_{token['token_id']}"):
            try:
                revoke_token(store, token["token_id"])
                st.rerun()
            except KpiLabError as exc:
                show_error(exc)


def _policies(store: Store) -> None:
    team = team_of(store)
    st.subheader("Read-only links and e-mail alerts", anchor=False)
    with st.form("policies", border=False):
        need = st.toggle("Links open only for people signed in", value=team.links_need_signin)
        domain = st.text_input(
            "… with an address at this domain (optional)", value=team.links_domain or ""
        )
        domains = st.text_input(
            "Alerts may also be e-mailed to these domains (comma-separated)",
            value=", ".join(team.email_domains),
            help="Besides members' addresses their sign-in provider confirmed.",
        )
        if st.form_submit_button("Save"):
            try:
                set_link_policy(store, need, domain)
                set_email_domains(store, domains.split(","))
                st.success("Saved.")
            except KpiLabError as exc:
                show_error(exc, LABELS)


def _audit(store: Store) -> None:
    st.subheader("Audit log", anchor=False)
    log = pd.DataFrame(entries(store))
    if log.empty:
        st.caption("Nothing yet.")
        return
    st.dataframe(log, hide_index=True)
    st.download_button(
        "Download the log (CSV)",
        to_csv_bytes(log),
        file_name="kpilab-audit.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


require_app_navigation()
store = current_store()
st.title("Team", anchor=False)
if server_mode() != "signin" or team_of(store) is None:
    st.info("Teams exist when people sign in: see README, Running KPI Lab for a team.")
    st.stop()
if not can("members"):
    st.info("Only the team's admins manage its members, tokens and policies.")
    st.stop()
_members(store)
_tokens(store)
_policies(store)
_audit(store)
