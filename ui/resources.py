"""The database (one per path for the whole server process) and this session's workspace."""

from __future__ import annotations

import os

import streamlit as st

from kpi_engine.store import Store
from ui.state import Keys


@st.cache_resource(show_spinner=False)
def _open_root(path: str | None) -> Store:
    return Store(path)


def root_store() -> Store:
    """The database at ``$KPILAB_DB`` (or the default file), not limited to a workspace."""
    return _open_root(os.environ.get("KPILAB_DB"))


def get_store() -> Store:
    """This session's workspace (app.py opens or creates it before any page runs)."""
    return root_store().for_workspace(st.session_state[Keys.WORKSPACE])
