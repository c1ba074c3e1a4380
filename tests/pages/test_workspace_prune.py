"""At start the app removes workspaces left with only the sample data for KPILAB_PRUNE_DAYS."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from kpi_engine.ingest import import_file
from kpi_engine.store import Store
from tests.conftest import FIXTURES, aged_workspace
from tests.pages.conftest import APP, shown


def _visit(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_app_prunes_untouched_workspaces_when_it_starts(anonymous, monkeypatch):
    root = Store(anonymous)
    _, idle = aged_workspace(root, 45)
    used_store, used = aged_workspace(root, 45)
    import_file(used_store, FIXTURES / "tiny_campaigns.csv")
    root.close()
    monkeypatch.setenv("KPILAB_PRUNE_DAYS", "30")
    assert "workspace link is not valid" in shown(_visit(idle).error[0])
    assert not _visit(used).error


def test_a_wrong_setting_is_a_message(workspace, monkeypatch):
    monkeypatch.setenv("KPILAB_PRUNE_DAYS", "soon")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "KPILAB_PRUNE_DAYS='soon' is not valid" in shown(at.error[0])
