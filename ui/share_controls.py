"""Save the current view of a page, or share it as a read-only link to a frozen snapshot."""

from __future__ import annotations

import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import SHARED_PATH, create_share, save_view
from kpi_engine.store import Store
from ui.state import Keys


def _absolute(path: str) -> str:
    url = getattr(st.context, "url", None) or ""
    base = url.split("?")[0].rstrip("/")
    base = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{base}/{path}" if base else f"/{path}"


def share_controls(store: Store, view: dict, default_title: str) -> None:
    with st.popover("Save or share this view", icon=":material/share:"):
        title = st.text_input("Title", value=default_title, max_chars=120, key="share_title")
        days = st.number_input(
            "Link expires after (days, 0 = never)", 0, 3650, 30, key="share_days"
        )
        save_col, share_col = st.columns(2)
        try:
            if save_col.button("Save view", icon=":material/bookmark:"):
                save_view(store, title, view)
                st.success("Saved: see it on the Sharing page.")
            if share_col.button("Create read-only link", type="primary", icon=":material/link:"):
                link = create_share(store, view, title, days or None)
                st.session_state[f"{Keys.LAST_SHARE}_{view['page']}"] = link
        except KpiLabError as exc:
            st.error(str(exc))
        link = st.session_state.get(f"{Keys.LAST_SHARE}_{view['page']}")
        if link:
            st.markdown("Anyone with this link sees this view as it is now, read-only:")
            st.code(_absolute(link["url_path"]), language=None)
            st.page_link(
                f"pages/{SHARED_PATH}.py",
                label="Open the shared view",
                query_params={"token": link["token"]},
                icon=":material/open_in_new:",
            )
