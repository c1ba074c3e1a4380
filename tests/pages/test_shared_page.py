"""Workspace links and the stakeholder's shared page in AppTest."""

from dataclasses import replace
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from kpi_engine.kpis.spec import default_spec
from kpi_engine.sharing.links import create_share, revoke_share
from tests.pages.conftest import APP, engine_store, open_app


def _shared(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["token"] = token
    at.run()
    at.switch_page("pages/shared.py").run()
    assert not at.exception, at.exception
    return at


def _make_link(**kwargs) -> tuple[AppTest, dict]:
    owner = open_app()
    store = engine_store(owner)
    dataset = store.dataset("Sample campaigns")
    spec = replace(default_spec(dataset), by=("channel",))
    return owner, create_share(store, spec, title="Q2 review", **kwargs)


def test_each_session_gets_its_own_workspace_and_its_link_brings_it_back(workspace):
    a, b = open_app(), open_app()
    assert a.session_state["workspace"] != b.session_state["workspace"]
    again = open_app(token=a.session_state["workspace_token"])
    assert again.session_state["workspace"] == a.session_state["workspace"]
    assert len(a.session_state["workspace_token"]) == 32


@pytest.mark.parametrize("token", ["bad", "A" * 32, "x' OR '1'='1"])
def test_invalid_workspace_link_shows_a_message_and_no_data(workspace, token):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = token
    at.run()
    assert not at.exception
    assert "workspace link is not valid" in at.error[0].value
    assert not at.dataframe and not at.metric and "workspace" not in at.session_state


def test_stakeholder_sees_the_view_without_controls(workspace):
    _, link = _make_link()
    at = _shared(link["token"])
    assert at.title[0].value == "Q2 review"
    assert {m.label for m in at.metric} == {"Spend", "Revenue", "ROAS", "CPA", "CTR"}
    assert "channel" in at.dataframe[0].value.columns
    assert not at.file_uploader and not at.text_input and not at.button and not at.sidebar.selectbox
    assert "Download report (HTML)" in [d.label for d in at.get("download_button")]


@pytest.mark.parametrize(
    "case, message",
    [
        ("revoked", "revoked by its owner"),
        ("expired", "expired on"),
        ("unknown", "not valid"),
        ("malformed", "not valid"),
    ],
)
def test_unusable_links_show_a_message_and_no_data(workspace, case, message, monkeypatch):
    owner, link = _make_link(expires_days=1)
    token = link["token"]
    if case == "revoked":
        revoke_share(engine_store(owner), token)
    elif case == "expired":
        import kpi_engine.sharing.links as share

        real = share.datetime

        class Later(real):
            @classmethod
            def now(cls, tz=None):
                return real.now(tz) + timedelta(days=2)

        monkeypatch.setattr(share, "datetime", Later)
    elif case == "unknown":
        token = "Q" * 32
    else:
        token = "<script>alert(1)</script>"
    at = _shared(token)
    assert message in at.error[0].value
    assert not at.metric and not at.dataframe and not at.get("download_button")


def test_experiment_and_budget_views_are_shared_from_their_pages(workspace):
    for page, name, marker in (
        ("pages/experiments.py", "Sample A/B test (campaign)", "chance B is better"),
        ("pages/budget.py", "Sample campaigns", "Move "),
    ):
        at = open_app(name, page)
        next(b for b in at.button if b.label == "Create read-only link").click().run()
        assert not at.exception, at.exception
        token = at.session_state[f"last_share_{page.split('/')[1].removesuffix('.py')}"]["token"]
        shared = _shared(token)
        text = " ".join(m.value for m in shared.markdown)
        assert marker in text.replace("\\", "")
        assert not shared.button and not shared.file_uploader
