"""AppTest fixtures: each test gets its own workspace file and fresh Streamlit caches."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from kpi_engine.store import Store
from tests.conftest import PROJECT

APP = str(PROJECT / "app.py")


@pytest.fixture
def as_served(monkeypatch) -> None:
    """Run pages as the server does after its first visit: under app.py's st.navigation.

    AppTest rebuilds Streamlit's legacy "pages/ folder" flag on every run, so each run would
    start in legacy mode and ``require_app_navigation`` would rerun it, dropping button
    clicks. A server sets the flag once per process; this fixture does the same.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def workspace(tmp_path, monkeypatch, as_served) -> str:
    path = str(tmp_path / "workspace.duckdb")
    monkeypatch.setenv("KPILAB_DB", path)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield path
    st.cache_resource.clear()  # closes nothing by itself: the Store goes with the cache entry


@pytest.fixture
def app(workspace) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def engine_store() -> Store:
    """The same Store object the app uses (one per database path, cached by the app)."""
    from ui.resources import get_store

    return get_store()


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def values(array) -> list:
    """Plotly 7 sends numeric arrays as base64 {dtype, bdata}."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)
