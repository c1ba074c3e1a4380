"""Sharing: this workspace's private link, its saved views and its share links."""

from __future__ import annotations

import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import list_shares, revoke_share
from kpi_engine.sharing.views import saved_views
from kpi_engine.sharing.workspaces import rotate_token
from ui.identity import can, current_store, remember, server_mode, writable_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.open_view import open_view
from ui.share_controls import absolute
from ui.state import Keys
from ui.text import plain


def _private_link() -> None:
    """A visitor's private workspace comes back in this browser by itself (a cookie); its
    link opens it elsewhere, and a new one makes the old one useless."""
    token = st.session_state.get(Keys.WORKSPACE_TOKEN)
    if not token:
        st.caption("Your workspace is made with your first change (an upload, a saved view).")
        return
    st.markdown(
        "**Your workspace's private link.** This browser comes back to your workspace by"
        " itself; open this link in another browser to work there too. Anyone with it can"
        " see and change this workspace, so keep it to yourself."
    )
    st.code(absolute(f"?ws={token}"), language=None)
    if st.button("Make a new private link", icon=":material/autorenew:"):
        try:
            remember(rotate_token(writable_store()))
        except KpiLabError as exc:
            show_error(exc)
        st.rerun()


require_app_navigation()
store = current_store()
st.title("Sharing", anchor=False)
mode = server_mode()
if mode == "anonymous":
    _private_link()
elif mode == "signin":
    st.caption(
        "Your team's workspace: its members reach it by signing in (admins invite them on the"
        " Team page). Stakeholders get read-only links."
    )
else:
    st.caption("Your local workspace on this machine. Stakeholders get read-only links.")

st.subheader("Shared links", anchor=False)
shares = list_shares(store)
if not shares:
    st.caption(
        "No links yet: use **Save or share this view**, then **Create read-only link**, on the"
        " KPIs, Experiments or Budget page."
    )
for share in shares:
    cols = st.columns([4, 2, 2, 1])
    cols[0].markdown(f"**{plain(share['title'])}**")
    opened = f" · opened {share['opens']}x" if share["opens"] else ""
    cols[1].caption(f"created {share['created_at'].replace('T', ' ')}{opened}")
    if share["revoked"]:
        cols[2].caption("revoked")
    else:
        cols[2].caption(f"expires {share['expires_at'] or 'never'}".replace("T", " "))
        if can("share") and cols[3].button("Revoke", key=f"revoke_{share['share_id']}"):
            try:
                revoke_share(writable_store(), share["share_id"])
            except KpiLabError as exc:
                show_error(exc)
            st.rerun()

st.subheader("Saved views", anchor=False)
views = saved_views(store)
if not views:
    st.caption("No saved views yet: use **Save or share this view**, then **Save view**.")
datasets = {d.dataset_id for d in store.datasets()}
for view in views:
    cols = st.columns([4, 2, 2, 1])
    cols[0].markdown(f"**{plain(view['name'])}** · {view['page']}")
    cols[1].caption(f"saved {view['created_at'][:16].replace('T', ' ')}")
    if view["spec"] is None:
        cols[2].caption(plain(view["problem"]))
    elif view["spec"].dataset_id not in datasets:
        cols[2].caption("its dataset was deleted")
    elif cols[3].button("Open", key=f"open_{view['view_id']}"):
        open_view(store, view["spec"])
