"""Workspace links and the stakeholder's shared page in AppTest."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from kpi_engine.kpis.spec import default_spec
from kpi_engine.sharing.links import create_share, revoke_share
from tests.pages.conftest import APP, engine_store, link_of, open_app, shown


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


def test_a_visitor_gets_a_private_workspace_at_their_first_change(anonymous, write_csv):
    """A visit changes nothing on the server; the first change makes the visitor's own
    workspace; its private link brings it back, and never stays in the address bar."""
    from sqlalchemy import func, select

    from kpi_engine.state.schema import workspaces
    from ui.resources import root_store

    def made() -> int:
        with root_store().reading() as conn:
            return conn.execute(select(func.count()).select_from(workspaces)).scalar_one()

    a, b = open_app(), open_app()
    assert a.session_state["workspace"] == "__pending__" and made() == 0
    assert [d.name for d in engine_store(a).datasets()][0] == "Sample campaigns"
    for visitor in (a, b):  # the first change: a saved column preset
        visitor.switch_page("pages/data.py").run()
        _by_label(visitor.text_input, "Save its mapping as a preset").set_value("mine")
        next(b for b in visitor.button if b.label == "Save preset").click().run()
        assert not visitor.exception, visitor.exception
    assert made() == 2 and a.session_state["workspace"] != b.session_state["workspace"]
    token = a.session_state["workspace_token"]
    assert len(token) == 32 and "ws" not in a.query_params
    assert any("kpilab_ws=" in h.proto.body for h in a.get("html"))  # the cookie
    again = open_app(token=token)
    assert again.session_state["workspace"] == a.session_state["workspace"]
    assert "ws" not in again.query_params  # taken out of the address bar at once


@pytest.mark.parametrize("token", ["bad", "A" * 32, "x' OR '1'='1"])
def test_invalid_workspace_link_shows_a_message_and_no_data(anonymous, token):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = token
    at.run()
    assert not at.exception
    assert "workspace link is not valid" in shown(at.error[0])
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
    assert message in shown(at.error[0])
    assert not at.metric and not at.dataframe and not at.get("download_button")


def _shown(at: AppTest) -> dict[str, list]:
    """What a page shows of a result: sentences, alerts, cards, tables and charts."""
    return {
        "markdown": [m.value for m in at.markdown],
        "alerts": [(kind, e.value) for kind in ("error", "warning", "success", "info")
                   for e in getattr(at, kind)],
        "metrics": [(m.label, m.value, m.delta) for m in at.metric],
        "tables": [d.value.to_json() for d in at.dataframe],
        "charts": [json.dumps(json.loads(c.proto.spec)["data"]) for c in at.get("plotly_chart")],
    }  # fmt: skip


def _share_and_compare(at: AppTest, page: str) -> tuple[dict, dict]:
    """Create the page's link, open it as a stakeholder: everything the link shows is on the
    owner's page as well, the same way."""
    next(b for b in at.button if b.label == "Create read-only link").click().run()
    assert not at.exception, at.exception
    token = at.session_state[f"last_share_{page}"]["token"]
    shared = _shared(token)
    assert not shared.button and not shared.file_uploader and not shared.text_input
    owner, stakeholder = _shown(at), _shown(shared)
    for kind, items in stakeholder.items():
        missing = [item for item in items if item not in owner[kind]]
        assert not missing, (kind, missing[:2])
    return owner, stakeholder


def _by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_a_shared_experiment_shows_the_split_alarm_and_guardrails_its_owner_saw(workspace):
    at = open_app("Sample experiment (users)", "pages/experiments.py")
    _by_label(at.text_input, "Intended split, control first").set_value("70,30").run()
    _by_label(at.multiselect, "Guardrail KPIs").set_value(["revenue_per_user"]).run()
    _by_label(at.number_input, "Significance level (alpha)").set_value(0.1).run()
    assert "Sample ratio mismatch" in shown(at.error[0])
    _, seen = _share_and_compare(at, "experiments")
    assert any("Sample ratio mismatch" in text for kind, text in seen["alerts"])
    text = " ".join(seen["markdown"]).replace("\\", "")
    assert "Guardrail Revenue per user" in text and "90% CI" in text
    assert len(seen["charts"]) == 3  # forest, cumulative lift, daily values


def test_a_shared_budget_and_kpis_view_match_their_pages(workspace):
    from kpi_engine.kpis.custom import save_custom
    from kpi_engine.kpis.definition import make_kpi

    at = open_app("Sample campaigns", "pages/budget.py")
    _by_label(at.selectbox, "Question").set_value("roas").run()
    _by_label(at.multiselect, "Locked campaigns").set_value(["Search - Brand"]).run()
    _, shown = _share_and_compare(at, "budget")
    assert {m[0] for m in shown["metrics"]} >= {"Spend a day", "Revenue a day"}
    assert len(shown["charts"]) == 2 and any(" a day " in m for m in shown["markdown"])

    save_custom(
        engine_store(at),
        make_kpi("net_margin", "(sum(revenue) - sum(spend)) / sum(revenue)", "percent", "higher"),
    )
    at = open_app("Sample campaigns")
    _by_label(at.multiselect, "KPIs").set_value(["spend", "roas", "net_margin"]).run()
    _by_label(at.multiselect, "Channel").set_value(["Meta Ads", "TikTok"]).run()
    _by_label(at.selectbox, "Break down by").set_value("channel").run()
    _by_label(at.button_group, "Grain").set_value("week").run()
    _, shown = _share_and_compare(at, "kpis")
    assert [m[0] for m in shown["metrics"]] == ["Spend", "ROAS", "net_margin"]
    assert len(shown["charts"]) == 1 and shown["tables"]


def test_a_saved_view_opens_on_its_page_as_it_was_saved(workspace):
    """Saved views open from the Sharing page: the page's widgets take the view's settings,
    and it shows what the view's link shows."""
    from kpi_engine.experiments.spec import ExperimentSpec
    from kpi_engine.sharing.views import save_view, saved_views

    owner = open_app()
    store = engine_store(owner)
    ab = store.dataset("Sample experiment (users)")
    spec = ExperimentSpec(
        ab.dataset_id, "variant", "control", ("conversion_rate",), split=(70.0, 30.0),
        alpha=0.1, guardrails=(("revenue_per_user", 0.02),), correction="none",
    )  # fmt: skip
    save_view(store, "skewed", spec)
    campaigns = store.dataset("Sample campaigns")
    kpis = replace(
        default_spec(campaigns), kpis=("spend", "cpa"), by=("channel",), sort="spend",
        filters=(("channel", ("TikTok", "LinkedIn")),), grain="week",
    )  # fmt: skip
    save_view(store, "tiktok and linkedin", kpis)
    for name, saved, page, title in (
        ("skewed", spec, "experiments", "Experiments"),
        ("tiktok and linkedin", kpis, "kpis", "KPIs"),
    ):
        at = open_app(token=link_of(owner), page="pages/sharing.py")
        view_id = next(v for v in saved_views(store) if v["name"] == name)["view_id"]
        at.button(key=f"open_{view_id}").click().run()
        assert not at.exception, at.exception
        assert at.title[0].value == title  # the view's page, on the view's data
        at.switch_page(f"pages/{page}.py").run()  # AppTest stays there as a browser would
        assert at.session_state["dataset"] == saved.dataset_id
        _, shown = _share_and_compare(at, page)
        link = create_share(store, saved)
        assert _shown(_shared(link["token"])) == shown  # the page's link = the saved view's link


@pytest.mark.parametrize("page", ["kpis", "experiments", "budget"])
def test_opening_a_link_runs_no_dataset_query(workspace, monkeypatch, page):
    """A link is its frozen result: drawing it reads no rows (a store that records every
    query it is asked to run sees none)."""
    from kpi_engine.store import Store

    name = "Sample experiment (users)" if page == "experiments" else "Sample campaigns"
    owner = open_app(name, f"pages/{page}.py")
    next(b for b in owner.button if b.label == "Create read-only link").click().run()
    token = owner.session_state[f"last_share_{page}"]["token"]
    asked: list[str] = []
    real = Store.query

    def recording(self, dataset, *args, **kwargs):
        asked.append(dataset.name)
        return real(self, dataset, *args, **kwargs)

    shared = AppTest.from_file(APP, default_timeout=60)
    shared.query_params["token"] = token
    shared.run()  # AppTest starts on the default page; a browser opens /shared directly
    monkeypatch.setattr(Store, "query", recording)
    shared.switch_page("pages/shared.py").run()
    assert not shared.exception, shared.exception
    assert shared.get("plotly_chart") or shared.metric  # the result is drawn ...
    assert asked == []  # ... from the link alone
