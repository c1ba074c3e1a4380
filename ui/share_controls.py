"""Save the current view of a page, or share it as a read-only link that freezes the spec
and the result the owner sees."""

from __future__ import annotations

import streamlit as st

from kpi_engine.analyses import Result, Spec
from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import SHARED_PATH, create_share
from kpi_engine.sharing.views import save_view
from kpi_engine.store import Store
from ui.identity import can, writable_store
from ui.messages import show_error
from ui.state import Keys

LABELS = {"expires_days": "Link expires after"}


def absolute(path: str) -> str:
    """``path`` on the address this browser uses to reach the app."""
    url = getattr(st.context, "url", None) or ""
    base = url.split("?")[0].rstrip("/")
    base = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{base}/{path}" if base else f"/{path}"


def share_controls(store: Store, spec: Spec, result: Result, default_title: str) -> None:
    """The popover that saves the view or makes a link: for those who may (editors)."""
    if not (can("edit") and can("share")):
        return
    with st.popover("Save or share this view", icon=":material/share:"):
        title = st.text_input("Title", value=default_title, max_chars=120, key="share_title")
        days = st.number_input(
            "Link expires after (days, 0 = never)", 0, 3650, 30, key="share_days"
        )
        save_col, share_col = st.columns(2)
        key = f"{Keys.LAST_SHARE}_{spec.PAGE}"
        try:
            if save_col.button("Save view", icon=":material/bookmark:"):
                save_view(writable_store(), title, spec)
                st.success("Saved: see it on the Sharing page.")
            if share_col.button("Create read-only link", type="primary", icon=":material/link:"):
                made = create_share(writable_store(), spec, result, title, days or None)
                st.session_state[key] = made
        except KpiLabError as exc:
            show_error(exc, LABELS)
        link = st.session_state.get(key)
        if link:
            st.markdown("Anyone with this link sees this view as it is now, read-only:")
            st.code(absolute(link["url_path"]), language=None)
            st.page_link(
                f"pages/{SHARED_PATH}.py",
                label="Open the shared view",
                query_params={"token": link["token"]},
                icon=":material/open_in_new:",
            )
