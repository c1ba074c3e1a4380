"""The workspace store, one per database path for the whole server process."""

from __future__ import annotations

import os

import streamlit as st

from kpi_engine.samples import seed_samples
from kpi_engine.store import Store


@st.cache_resource(show_spinner=False)
def _open_store(path: str | None) -> Store:
    store = Store(path)
    seed_samples(store)
    return store


def get_store() -> Store:
    """The workspace at ``$KPILAB_DB`` (or the default file), seeded with the sample data."""
    return _open_store(os.environ.get("KPILAB_DB"))
