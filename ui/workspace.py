"""Which workspace this browser session works in: the one its private link (?ws=) opens, or a
new one seeded with the sample data. The link is kept in the URL so a refresh, a bookmark or a
new tab comes back to it."""

from __future__ import annotations

import streamlit as st

from kpi_engine.samples import seed_samples
from kpi_engine.sharing.workspaces import create_workspace, open_workspace
from ui.resources import root_store
from ui.state import Keys

PARAM = "ws"


def ensure_workspace() -> bool:
    """Set this session's workspace; False (with a message shown) when the link is not valid."""
    if Keys.WORKSPACE not in st.session_state:
        root = root_store()
        token = st.query_params.get(PARAM)
        if token is not None:
            store = open_workspace(root, token)
            if store is None:
                st.error(
                    "This workspace link is not valid: check that it was copied whole."
                    " You can also start a new workspace.",
                    icon=":material/link_off:",
                )
                if st.button("Start a new workspace", type="primary"):
                    st.query_params.clear()
                    st.rerun()
                return False
        else:
            store, token = create_workspace(root)
            seed_samples(store)
        st.session_state[Keys.WORKSPACE] = store.workspace
        st.session_state[Keys.WORKSPACE_TOKEN] = token
    st.query_params[PARAM] = st.session_state[Keys.WORKSPACE_TOKEN]
    return True
