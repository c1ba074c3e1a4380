"""The state on both kinds of database, SQLite (the embedded default) and Postgres (a team's
server): every kind of thing is kept and read back, and two writers at once never lose an
update (appends to one dataset; two monitors sending the same alerts)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.alerts.review import record_seen, stale_kpis
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch, list_watches, recent_deliveries, set_time_zone
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.custom import delete_custom, save_custom, saved_custom
from kpi_engine.kpis.dashboard import Target, delete_target, save_target, targets
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.spec import default_spec
from kpi_engine.samples import seed_samples
from kpi_engine.sharing.links import create_share, list_shares, open_share, revoke_share
from kpi_engine.sharing.views import save_view, saved_views
from kpi_engine.sharing.workspaces import create_workspace, open_workspace, prune_untouched
from kpi_engine.time_zone import time_zone as workspace_time_zone
from tests.conftest import FIXTURES
from tests.conftest import rows as stored_rows
from tests.test_alerts import NOW, Receiver, _campaign

TINY = FIXTURES / "tiny_campaigns.csv"


def _together(work, count: int) -> list[Exception]:
    gate, errors = threading.Barrier(count), []

    def run(i: int) -> None:
        try:
            gate.wait()
            work(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_everything_a_workspace_keeps(state_store):
    store, token = create_workspace(state_store)
    assert open_workspace(state_store, token).workspace == store.workspace
    dataset = import_file(store, TINY, name="Q1").dataset
    with pytest.raises(KpiLabError, match="already named"):
        other = import_file(store, TINY, name="Q2").dataset
        store.rename(other.dataset_id, "q1")
    store.save_preset("mine", {"Cost": "spend"})
    save_custom(store, make_kpi("net", "sum(revenue) - sum(spend)"))
    target = Target("spend", 100.0, date(2026, 3, 1), date(2026, 3, 31))
    save_target(store, dataset, target)
    save_view(store, "first", default_spec(dataset))
    link = create_share(store, default_spec(dataset), title="for the board")
    set_time_zone(store, "Europe/Madrid")
    record_seen(store, dataset.dataset_id, ("spend", "ctr"), datetime.now())
    assert store.presets() == {"mine": {"Cost": "spend"}}
    assert [k.id for k in saved_custom(store)] == ["net"]
    assert targets(store, dataset) == [target]
    assert [v["name"] for v in saved_views(store)] == ["first"]
    assert open_share(state_store, link["token"]).title == "for the board"
    assert workspace_time_zone(store) == "Europe/Madrid"
    assert stale_kpis(store, datetime.now()) == []
    revoke_share(store, link["share_id"])
    with pytest.raises(KpiLabError, match="revoked"):
        open_share(state_store, link["token"])
    assert list_shares(store)[0]["revoked"]
    delete_target(store, dataset, target)
    delete_custom(store, "net")
    assert targets(store, dataset) == [] and saved_custom(store) == ()
    store.delete("Q1")
    assert [d.name for d in store.datasets()] == ["Q2"]


def test_appends_from_many_writers_at_once_all_land(state_store, write_csv):
    dataset = import_file(state_store, TINY, name="base").dataset
    files = [
        write_csv(f"Day,Campaign,Cost\n2026-05-{i + 1:02d},Brand,{i + 1}\n", f"d{i}.csv")
        for i in range(5)
    ]

    def append(i: int) -> None:
        import_file(state_store, files[i], options=ImportOptions(append=dataset.dataset_id))

    assert _together(append, 5) == []
    now = state_store.dataset("base")
    assert now.rows == 10
    days = stored_rows(state_store, now, f"SELECT count(DISTINCT Day) FROM {now.table}")
    assert days == [(5 + 3,)]  # the five new days and the three of the first file


def test_two_monitors_at_once_send_each_alert_once(state_store, tmp_path, monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")
    receiver = Receiver()
    try:
        for i in range(4):  # four workspaces, each with an anomaly to report
            store, _ = create_workspace(state_store)
            dataset = import_file(store, _campaign(tmp_path), name=f"daily {i}").dataset
            add_watch(store, Watch("", "", dataset.dataset_id, "anomaly", receiver.url, kpi="ctr"))
        results = []
        errors = _together(lambda i: results.append(run_monitor(state_store, NOW)), 3)
        assert errors == []
        assert sum(len(r.sent) for r in results) == 4 and len(receiver.calls) == 4
        assert sum(len(r.failed) for r in results) == 0
        later = run_monitor(state_store, NOW + timedelta(hours=1))
        assert not later.sent and len(receiver.calls) == 4
    finally:
        receiver.down()


def test_a_failed_send_is_retried_by_one_monitor_only(state_store, tmp_path, monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")
    receiver = Receiver()
    try:
        dataset = import_file(state_store, _campaign(tmp_path), name="daily").dataset
        add_watch(
            state_store, Watch("", "", dataset.dataset_id, "anomaly", receiver.url, kpi="ctr")
        )
        receiver.down()
        assert run_monitor(state_store, NOW).failed
        receiver.up_again()
        results = []
        later = NOW + timedelta(minutes=6)
        assert _together(lambda i: results.append(run_monitor(state_store, later)), 3) == []
        assert sum(len(r.sent) for r in results) == 1 and len(receiver.calls) == 1
        (entry,) = recent_deliveries(state_store)
        assert entry.status == "sent" and entry.attempts == 2
    finally:
        receiver.down()


def test_untouched_workspaces_are_pruned(state_store):
    from sqlalchemy import update

    from kpi_engine.state.schema import workspaces

    idle, idle_token = create_workspace(state_store)
    seed_samples(idle)
    busy, busy_token = create_workspace(state_store)
    seed_samples(busy)
    save_view(busy, "mine", default_spec(busy.datasets()[0]))
    with state_store.transaction() as conn:
        conn.execute(update(workspaces).values(created_at=datetime.now() - timedelta(days=40)))
    assert prune_untouched(state_store, 30)["removed"] == 1
    assert open_workspace(state_store, idle_token) is None
    assert open_workspace(state_store, busy_token) is not None
    assert list_watches(busy) == [] and len(busy.datasets()) == 3


def test_samples_are_registered_not_copied(state_store):
    first, _ = create_workspace(state_store)
    second, _ = create_workspace(state_store)
    seed_samples(first)
    seed_samples(second)
    a, b = first.datasets(), second.datasets()
    assert [d.dataset_id for d in a] == [d.dataset_id for d in b]  # a link survives a refresh
    assert [d.location for d in a] == [d.location for d in b]  # one file, read by both
    first.delete(a[0].dataset_id)
    assert state_store.sweep(older_than=0) == []  # the other workspace and the template use it
    assert len(second.datasets()) == 3


def test_the_monitor_is_timed_in_utc_whatever_the_database(state_store):
    """Times are kept naive in UTC on both databases (Postgres would shift aware ones)."""
    assert run_monitor(state_store, datetime(2026, 4, 1, 9, tzinfo=UTC)).sent == ()
