"""Generated URL parameters on every page: a page or a clear message, never a traceback,
never another workspace's data."""

from __future__ import annotations

import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from kpi_engine.kpis.spec import default_spec
from kpi_engine.sharing.links import create_share
from kpi_engine.sharing.workspaces import create_workspace
from kpi_engine.store import Store
from tests.pages.conftest import APP

pytestmark = pytest.mark.slow  # hundreds of generated inputs: make test runs it

PAGES = [
    "pages/kpis.py",
    "pages/experiments.py",
    "pages/budget.py",
    "pages/data.py",
    "pages/sharing.py",
    "pages/alerts.py",
    "pages/shared.py",
]
HOSTILE = [
    "' OR '1'='1",
    "ds_x'; DROP TABLE datasets; --",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "%00",
    "\x00",
    "",
    " ",
    "😀" * 40,
    "A" * 32,
    "a" * 5000,
]


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """One workspace with the sample data and a share link; the app's database for the test."""
    from kpi_engine.samples import seed_samples

    path = str(tmp_path_factory.mktemp("urls") / "ws.sqlite")
    root = Store(path)
    store, token = create_workspace(root)
    seed_samples(store)
    dataset = store.datasets()[0]
    link = create_share(store, default_spec(dataset), title="fuzz")
    root.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPILAB_DB", path)
        mp.setenv("KPILAB_ANONYMOUS", "1")  # private workspaces reached by their links
        original = PagesManager.__init__

        def init(self, *args, **kwargs):  # as a server runs pages (see conftest.as_served)
            original(self, *args, **kwargs)
            PagesManager.uses_pages_directory = False

        mp.setattr(PagesManager, "__init__", init)
        st.cache_resource.clear()
        st.cache_data.clear()
        yield {"ws": token, "dataset": dataset.dataset_id, "token": link["token"]}
        st.cache_resource.clear()


_real = hs.sampled_from(["ws", "dataset", "token"])
values = hs.one_of(
    hs.sampled_from(HOSTILE),
    hs.text(max_size=40),
    _real.map(lambda k: ("real", k)),  # someone's real value, maybe under another key
    _real.map(lambda k: ("mutated", k)),
)


params = hs.dictionaries(
    hs.sampled_from(["ws", "dataset", "token", "page", "kpis", "x"]) | hs.text(max_size=8),
    values,
    max_size=4,
)


def _resolve(value, known: dict) -> str:
    if isinstance(value, tuple):
        how, key = value
        real = known[key]
        return real if how == "real" else real[:-1] + ("A" if real[-1] != "A" else "B")
    return value


@settings(max_examples=40, deadline=None)
@given(params, hs.sampled_from(PAGES))
def test_any_url_gets_a_page_or_a_message(known, raw, page):
    query = {key: _resolve(value, known) for key, value in raw.items()}
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, (query, at.exception)
    if any("link is not valid" in e.value for e in at.error):
        return  # a refusal, and no pages offered to switch to
    at.switch_page(page).run()
    assert not at.exception, (query, page, at.exception)
    workspace_token = (
        at.session_state["workspace_token"] if "workspace_token" in at.session_state else None
    )
    if query.get("ws") != known["ws"] and "token" not in query:
        assert workspace_token != known["ws"]  # only the exact link opens that workspace
