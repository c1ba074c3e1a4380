"""Sharing: this workspace's private link, its saved views and its share links."""

from __future__ import annotations

import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import list_shares, revoke_share
from kpi_engine.sharing.views import saved_views
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.open_view import open_view
from ui.resources import get_store
from ui.share_controls import absolute
from ui.state import Keys
from ui.text import plain

require_app_navigation()
store = get_store()
st.title("Sharing", anchor=False)
st.markdown(
    "**Your workspace's private link.** Bookmark it to come back after a refresh, in a"
    " new tab or on another day; anyone with it can see and change this workspace."
)
st.code(absolute(f"?ws={st.session_state[Keys.WORKSPACE_TOKEN]}"), language=None)

st.subheader("Shared links", anchor=False)
shares = list_shares(store)
if not shares:
    st.caption("No links yet: use **Share** on the KPIs page to send a read-only view.")
for share in shares:
    cols = st.columns([4, 2, 2, 1])
    cols[0].markdown(f"**{plain(share['title'])}**")
    cols[1].caption(f"created {share['created_at'].replace('T', ' ')}")
    if share["revoked"]:
        cols[2].caption("revoked")
    else:
        cols[2].caption(f"expires {share['expires_at'] or 'never'}".replace("T", " "))
        if cols[3].button("Revoke", key=f"revoke_{share['share_id']}"):
            try:
                revoke_share(store, share["share_id"])
            except KpiLabError as exc:
                show_error(exc)
            st.rerun()

st.subheader("Saved views", anchor=False)
views = saved_views(store)
if not views:
    st.caption("No saved views yet: use **Save view** next to **Share** on a page.")
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
