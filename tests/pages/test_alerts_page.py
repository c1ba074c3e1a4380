"""Alerts page in AppTest."""

from sqlalchemy import func, select

from kpi_engine.alerts.watches import list_watches
from kpi_engine.state.schema import kpi_seen
from tests.pages.conftest import engine_store, open_app, shown


def _open():
    return open_app("Sample campaigns", "pages/alerts.py")


def _fill(at, destination: str, rule: str = "anomaly"):
    form = at.get("form")
    next(s for s in at.selectbox if s.label == "KPI").set_value("ctr")
    next(s for s in at.selectbox if s.label == "Rule").set_value(rule)
    next(t for t in at.text_input if t.label == "Send to").set_value(destination)
    assert form
    next(b for b in at.button if b.label == "Add watch").click().run()


def test_a_watch_is_added_listed_and_removed(workspace, monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")
    at = _open()
    assert "Be told instead of checking" in at.caption[0].value
    _fill(at, "http://127.0.0.1:9/hook")
    assert not at.exception and not at.error
    store = engine_store(at)
    assert [w.kpi for w in list_watches(store)] == ["ctr"]
    texts = " ".join(m.value for m in at.markdown)
    assert "a day outside its expected band" in texts
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith("Now: CTR on 2026-08-28 was") for c in captions)
    next(b for b in at.button if b.label == "Remove").click().run()
    assert list_watches(store) == []


def test_a_bad_destination_names_its_field(workspace, monkeypatch):
    monkeypatch.delenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    at = _open()
    _fill(at, "http://127.0.0.1:9/hook")
    assert shown(at.error[0]).startswith("Send to '127.0.0.1' is a private or local address")
    _fill(at, "not an address")
    assert shown(at.error[0]).startswith("Send to 'not an address' is not an e-mail address")
    assert list_watches(engine_store(at)) == []


def test_the_kpis_page_records_what_it_showed_once(workspace):
    at = open_app("Sample campaigns")
    store = engine_store(at)

    def rows():
        with store.reading() as conn:
            return conn.execute(
                select(func.count())
                .select_from(kpi_seen)
                .where(kpi_seen.c.workspace == store.workspace)
            ).scalar_one()

    shown = rows()
    assert shown >= 3  # the page's default KPIs
    at.run()
    assert rows() == shown


def test_the_page_says_whether_a_monitor_runs_and_suggests_an_outcome(workspace, monkeypatch):
    """A marketer could add a watch that never sends: nothing said whether a monitor runs.
    The first watch was suggested on Impressions, a vanity metric."""
    from datetime import UTC, datetime, timedelta

    from kpi_engine.alerts.heartbeat import record_round

    monkeypatch.delenv("KPILAB_MONITOR_EVERY", raising=False)
    at = _open()
    assert "No monitor has run on this server yet" in at.warning[0].value
    assert next(s for s in at.selectbox if s.label == "KPI").value == "cpa"
    store = engine_store(at)
    now = datetime.now(UTC)
    record_round(store, now - timedelta(minutes=30))
    record_round(store, now - timedelta(minutes=15))
    at.run()
    notes = " ".join(i.value for i in at.info).replace("\\", "")
    assert "The monitor last ran" in notes and "(15 min ago); next round about" in notes
    record_round(store, now - timedelta(hours=3, minutes=15))  # a monitor every 15 minutes
    record_round(store, now - timedelta(hours=3))  # then nothing for hours: it stopped
    at.run()
    assert "has missed its rounds since" in at.warning[0].value
