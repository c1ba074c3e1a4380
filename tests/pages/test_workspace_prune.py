"""At start the app removes workspaces left with only the sample data for KPILAB_PRUNE_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

from streamlit.testing.v1 import AppTest

from kpi_engine.ingest import import_file
from kpi_engine.samples import seed_samples
from kpi_engine.store import Store
from kpi_engine.workspaces import create_workspace
from tests.conftest import FIXTURES
from tests.pages.conftest import APP


def _old_workspace(root: Store) -> tuple[Store, str]:
    store, token = create_workspace(root)
    seed_samples(store)
    with root.transaction() as cur:
        cur.execute(
            "UPDATE workspaces SET created_at = ? WHERE workspace_id = ?",
            [datetime.now() - timedelta(days=45), store.workspace],
        )
    return store, token


def _visit(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_app_prunes_untouched_workspaces_when_it_starts(workspace, monkeypatch):
    root = Store(workspace)
    _, idle = _old_workspace(root)
    used_store, used = _old_workspace(root)
    import_file(used_store, FIXTURES / "tiny_campaigns.csv")
    root.close()
    monkeypatch.setenv("KPILAB_PRUNE_DAYS", "30")
    assert "workspace link is not valid" in _visit(idle).error[0].value
    assert not _visit(used).error


def test_a_wrong_setting_is_a_message(workspace, monkeypatch):
    monkeypatch.setenv("KPILAB_PRUNE_DAYS", "soon")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "KPILAB_PRUNE_DAYS='soon' is not valid" in at.error[0].value
