"""AppTest fixtures: each test gets its own workspace file and fresh Streamlit caches."""

from __future__ import annotations

import base64
import json
import re

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
    path = str(tmp_path / "workspace.sqlite")
    monkeypatch.setenv("KPILAB_DB", path)
    monkeypatch.setenv("KPILAB_SPOOL_DIR", str(tmp_path / "spool"))
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


def engine_store(at: AppTest) -> Store:
    """The workspace the AppTest session works in, on the app's own database connection."""
    from ui.resources import root_store

    return root_store().for_workspace(at.session_state["workspace"])


@pytest.fixture
def anonymous(workspace, monkeypatch) -> str:
    """A server that lets anyone in (KPILAB_ANONYMOUS=1): a private workspace per visitor."""
    monkeypatch.setenv("KPILAB_ANONYMOUS", "1")
    return workspace


def private_workspace() -> tuple[Store, str]:
    """A visitor's workspace with the samples, as their first change makes it; its token."""
    from kpi_engine.samples import seed_samples
    from kpi_engine.sharing.workspaces import create_workspace
    from ui.resources import root_store

    store, token = create_workspace(root_store())
    seed_samples(store)
    return store, token


def link_of(at: AppTest) -> str | None:
    """The session's private link (anonymous mode), or None (the local workspace)."""
    return at.session_state["workspace_token"] if "workspace_token" in at.session_state else None


def open_app(
    dataset_name: str | None = None, page: str | None = None, token: str | None = None
) -> AppTest:
    """A session on a dataset and a page: in the local workspace, or (anonymous mode) in the
    workspace ``token`` opens."""
    first = AppTest.from_file(APP, default_timeout=60)
    if token:
        first.query_params["ws"] = token
    first.run()
    assert not first.exception, first.exception
    at = AppTest.from_file(APP, default_timeout=60)
    if token or link_of(first):
        at.query_params["ws"] = token or link_of(first)
    if dataset_name:
        store = engine_store(first)
        at.query_params["dataset"] = next(
            d.dataset_id for d in store.datasets() if d.name == dataset_name
        )
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def shown(element) -> str:
    """An element's text as the reader sees it: Markdown escapes (``ui.text.plain``) undone."""
    return re.sub(r"\\(.)", r"\1", element.value)


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def values(array) -> list:
    """Plotly 7 sends numeric arrays as base64 {dtype, bdata}."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)
