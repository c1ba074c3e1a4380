"""Watches and the monitor: a webhook receiver on the loopback address and a local SMTP
server stand in for Slack and a mail server."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import update

from kpi_engine.alerts.evaluate import evaluate
from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.alerts.schedule import due_period
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch, list_watches, remove_watch, set_time_zone
from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpis.dashboard import Target, save_target
from kpi_engine.state.schema import watches

LAST = date(2026, 3, 31)


@pytest.fixture(autouse=True)
def private_webhooks(monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it is sent; ``down()`` closes it."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def up_again(self) -> None:
        port = self.server.server_port
        self.server = HTTPServer(("127.0.0.1", port), self.server.RequestHandlerClass)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.down()


def _campaign(tmp_path, spike: bool = True, days: int = 40):
    """Stable daily CTR of about 1%; on the last day clicks double (CTR 2%)."""
    rows = ["date,campaign,impressions,clicks,conversions,spend,revenue"]
    for d in range(days):
        day = LAST - timedelta(days=days - 1 - d)
        clicks = 100 + (d * 7) % 5
        if spike and day == LAST:
            clicks = 200
        rows.append(f"{day},Search,10000,{clicks},10,{50 + d % 3},{200 + d % 5}")
    path = tmp_path / "daily.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def dataset(store, tmp_path):
    return import_file(store, _campaign(tmp_path)).dataset


def _watch(store, dataset, rule, destination, **kwargs) -> Watch:
    return add_watch(
        store, Watch("", "", dataset.dataset_id, rule, destination, kpi="ctr", **kwargs)
    )


NOW = datetime(2026, 4, 1, 9, tzinfo=UTC)


def test_a_planted_anomaly_is_sent_once(store, dataset, receiver):
    _watch(store, dataset, "anomaly", receiver.url)
    result = run_monitor(store, NOW)
    assert [s.status for s in result.sent] == ["sent"] and not result.failed
    assert len(receiver.calls) == 1
    text = receiver.calls[0]["text"]
    assert "CTR" in text and "2026-03-31" in text and "2.00%" in text
    assert "/shared?token=" in text  # a link to a frozen view of these numbers
    assert receiver.calls[0]["fields"]["value"] == pytest.approx(0.02)
    # why: the day against the same weekday a week before (104 clicks then, 200 now)
    assert f"Why: CTR +{(200 / 104 - 1) * 100:.1f}%" in text
    assert receiver.calls[0]["fields"]["why"].startswith("CTR +92.3%")
    again = run_monitor(store, NOW + timedelta(hours=1))
    assert not again.sent and again.not_due == 1 and len(receiver.calls) == 1


def test_a_failed_delivery_is_retried_with_backoff_and_sent_once(store, dataset, receiver):
    _watch(store, dataset, "anomaly", receiver.url)
    receiver.down()
    first = run_monitor(store, NOW)
    assert not first.sent and "could not be reached" in first.failed[0].reason
    receiver.up_again()
    early = run_monitor(store, NOW + timedelta(minutes=1))  # still waiting (5 minutes)
    assert not early.sent and not receiver.calls
    late = run_monitor(store, NOW + timedelta(minutes=6))
    assert [s.status for s in late.sent] == ["sent"] and len(receiver.calls) == 1
    assert not run_monitor(store, NOW + timedelta(hours=2)).sent
    assert len(receiver.calls) == 1


def test_the_command_line_exits_3_when_a_delivery_fails(tmp_path, receiver, capsys):
    db = str(tmp_path / "m.duckdb")
    assert main(["import", str(_campaign(tmp_path)), "--db", db, "--name", "daily"]) == 0
    add = ["watch", "add", "daily", "--kpi", "ctr", "--rule", "anomaly", "--db", db]
    assert main([*add, "--webhook", receiver.url, "--json"]) == 0
    watch_id = json.loads(capsys.readouterr().out.splitlines()[-1])["watch_id"]
    receiver.down()
    assert main(["monitor", "--db", db, "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["sent"] == [] and doc["failed"][0]["watch_id"] == watch_id
    assert set(doc) == {"sent", "failed", "not_due"}
    assert main(["watch", "list", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["watches"][0]["watch_id"] == watch_id
    assert main(["watch", "remove", watch_id, "--db", db]) == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--kpi", "ctr", "--rule", "anomaly", "--webhook", "ftp://x/y"], "--webhook"),
        (["--kpi", "ctr", "--rule", "anomaly", "--webhook", "https://"], "--webhook"),
        (["--kpi", "nope", "--rule", "anomaly", "--email", "a@b.co"], "unknown KPI 'nope'"),
        (["--kpi", "ctr", "--rule", "sometimes", "--email", "a@b.co"], "--rule"),
        (["--kpi", "ctr", "--rule", "srm", "--email", "a@b.co"], "does not apply to a KPI"),
        (["--kpi", "ctr", "--rule", "anomaly", "--email", "nobody"], "--email"),
        (
            [
                "--kpi",
                "ctr",
                "--rule",
                "anomaly",
                "--email",
                "a@b.co",
                "--digest",
                "daily",
                "--hour",
                "25",
            ],
            "--hour",
        ),
        (
            ["--kpi", "ctr", "--rule", "anomaly", "--email", "a@b.co", "--time-zone", "Mars/X"],
            "--time-zone",
        ),
    ],
)
def test_bad_watches_get_one_clear_line(tmp_path, capsys, args, words):
    db = str(tmp_path / "m.duckdb")
    assert main(["import", str(_campaign(tmp_path)), "--db", db, "--name", "daily"]) == 0
    capsys.readouterr()
    assert main(["watch", "add", "daily", *args, "--db", db]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_a_webhook_to_a_private_address_is_refused(store, dataset, monkeypatch):
    monkeypatch.delenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS")
    for url in (
        "http://127.0.0.1/hook",
        "http://10.0.0.8/hook",
        "http://[::1]:8080/x",
        "http://169.254.169.254/latest/meta-data",
    ):
        with pytest.raises(KpiLabError) as err:
            _watch(store, dataset, "anomaly", url)
        assert err.value.field == "webhook" and "private or local" in str(err.value)


def test_range_change_and_pace_rules(store, dataset, receiver):
    _watch(store, dataset, "range::0.015", receiver.url)  # the last day's 2% is above
    _watch(store, dataset, "change:5", receiver.url)  # +14% on the week before
    spend = add_watch(store, Watch("", "", dataset.dataset_id, "pace", receiver.url, kpi="spend"))
    save_target(store, dataset, Target("spend", 10_000, date(2026, 3, 1), date(2026, 4, 30)))
    result = run_monitor(store, NOW)
    assert len(result.sent) == 3 and len(receiver.calls) == 3
    texts = " ".join(c["text"] for c in receiver.calls)
    assert "outside" in texts and "beyond the ±5%" in texts
    assert "Spend target" in texts and "behind" in texts
    assert any(c["fields"]["watch_id"] == spend.watch_id for c in receiver.calls)
    change = next(c for c in receiver.calls if c["fields"]["rule"] == "change:5")
    assert "Why: CTR +" in change["text"]  # the week's change, explained in the alert
    assert change["fields"]["why"].startswith("CTR +") and "CTR in Search +" in texts


def _experiment_watch(store, rule: str, url: str, **view) -> Watch:
    """A watch on the sample user-level experiment's saved view (conversion rate)."""
    from kpi_engine.samples import seed_samples

    seed_samples(store)
    dataset = store.dataset("Sample experiment (users)")
    view = {
        "page": "experiments",
        "version": 2,
        "variant_col": "variant",
        "control": "control",
        "kpis": ["conversion_rate"],
        **view,
    }
    watch = Watch("", "", dataset.dataset_id, rule, url, experiment=json.dumps(view))
    return add_watch(store, watch)


def test_an_experiment_watch_raises_the_sample_ratio_alarm(store, receiver, tmp_path):
    _experiment_watch(store, "srm", receiver.url, split=[70, 30])
    result = run_monitor(store, NOW)
    assert len(result.sent) == 1
    assert "Sample ratio mismatch" in receiver.calls[0]["text"]


def test_a_weekly_digest_goes_out_once_a_week_across_a_dst_change(store, dataset, receiver):
    set_time_zone(store, "Europe/Berlin")
    for rule in ("anomaly", "change:50"):
        _watch(store, dataset, rule, receiver.url, digest="weekly", hour=8)
    created = datetime(2026, 10, 13)  # after Monday 12 October's digest hour
    with store.transaction() as conn:
        conn.execute(update(watches).values(created_at=created))
    sends = []
    # every 15 minutes for three weeks around the end of summer time (25 October 2026)
    moment = datetime(2026, 10, 18, 0, tzinfo=UTC)
    while moment < datetime(2026, 11, 8, tzinfo=UTC):
        result = run_monitor(store, moment)
        sends += [moment] * len(result.sent)
        moment += timedelta(minutes=15)
    # Mondays 19 and 26 October and 2 November at 08:00 Berlin (06:00 UTC in summer time,
    # 07:00 UTC in winter time)
    assert sends == [
        datetime(2026, 10, 19, 6, tzinfo=UTC),
        datetime(2026, 10, 26, 7, tzinfo=UTC),
        datetime(2026, 11, 2, 7, tzinfo=UTC),
    ]
    digest = receiver.calls[0]
    assert digest["text"].startswith("Weekly KPI digest (2026-W43)")
    assert len(digest["fields"]["watches"]) == 2  # every watched KPI


def test_due_periods():
    created = datetime(2026, 3, 1)
    tz = "America/New_York"
    # daily at 8 in New York: before 8 the day before is the latest due digest
    before = datetime(2026, 3, 10, 11, 59, tzinfo=UTC)  # 07:59 EDT
    after = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert due_period(before, tz, "daily", 8, created) == "2026-03-09"
    assert due_period(after, tz, "daily", 8, created) == "2026-03-10"
    # the day summer time starts (8 March 2026) still has its 8 o'clock, at 12:00 UTC
    assert due_period(datetime(2026, 3, 8, 12, tzinfo=UTC), tz, "daily", 8, created) == (
        "2026-03-08"
    )
    # nothing is due before the first occurrence after the watch was created
    assert due_period(datetime(2026, 3, 1, 6, tzinfo=UTC), tz, "daily", 8, created) is None


def test_an_email_alert_through_a_local_smtp_server(store, dataset, monkeypatch):
    from aiosmtpd.controller import Controller

    messages = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("KPILAB_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("KPILAB_SMTP_PORT", str(port))
        monkeypatch.setenv("KPILAB_SMTP_TLS", "none")
        _watch(store, dataset, "anomaly", "analyst@example.com")
        result = run_monitor(store, NOW)
    finally:
        controller.stop()
    assert [s.status for s in result.sent] == ["sent"]
    body = messages[0].content.decode()
    assert messages[0].rcpt_tos == ["analyst@example.com"]
    assert "Subject: KPI Lab: ctr (anomaly)" in body and "text/html" in body


def test_an_email_without_smtp_settings_fails_with_a_reason(store, dataset, monkeypatch):
    monkeypatch.delenv("KPILAB_SMTP_HOST", raising=False)
    _watch(store, dataset, "anomaly", "analyst@example.com")
    result = run_monitor(store, NOW)
    assert "KPILAB_SMTP_HOST" in result.failed[0].reason


def test_watches_belong_to_their_workspace(store, dataset, receiver):
    watch = _watch(store, dataset, "anomaly", receiver.url)
    other = store.for_workspace("someone-else")
    assert list_watches(other) == []
    with pytest.raises(KpiLabError):
        remove_watch(other, watch.watch_id)
    remove_watch(store, watch.watch_id)
    assert list_watches(store) == []


def test_the_in_process_schedule(store, dataset, receiver):
    from kpi_engine.alerts import background

    assert background.parse_every("15m") == 900 and background.parse_every("1h") == 3600
    for bad in ("15", "5s", "every day", "-1m"):
        with pytest.raises(KpiLabError):
            background.parse_every(bad)
    _watch(store, dataset, "anomaly", receiver.url)
    stop = background.start(store, 0.2)
    try:
        for _ in range(50):
            if receiver.calls:
                break
            threading.Event().wait(0.1)
    finally:
        stop.set()
    assert len(receiver.calls) == 1


def test_cards_and_the_catalog_carry_typical_ranges(store, tmp_path):
    from kpi_engine.kpis.analysis import run_kpi_view
    from kpi_engine.kpis.spec import KpiViewSpec
    from kpi_engine.kpis.typical import RANGES, typical_for

    for r in RANGES:
        assert r.source and 2015 <= r.year <= 2026 and r.low < r.high
    path = tmp_path / "google.csv"
    path.write_text(
        "Campaign,Day,Currency code,Impr.,Clicks,Cost,Conversions\n"
        "Brand,2026-03-01,USD,1000,50,100.0,5\nBrand,2026-03-02,USD,1000,40,90.0,4\n"
    )
    dataset = import_file(store, path).dataset
    assert dataset.platform == "google_ads"
    result = run_kpi_view(store, dataset, KpiViewSpec(dataset.dataset_id, ("ctr", "cpc", "spend")))
    typical = {c.kpi: c.typical for c in result.cards}
    assert typical == {
        "ctr": "typical for search: 3.52%–6.42%",
        "cpc": "typical for search: $2.69–$4.66",
        "spend": None,
    }
    assert typical_for("cpc", "search", "EUR") is None  # a money range only in its currency


def test_the_review_cycle_names_what_nobody_looked_at(store, dataset, receiver):
    from kpi_engine.alerts.review import record_seen, silent_watches, stale_kpis

    old = datetime(2025, 12, 1)
    save_target(store, dataset, Target("spend", 10_000, date(2025, 12, 1), date(2026, 6, 30)))
    watch = _watch(store, dataset, "range:0:1", receiver.url)  # never fires: CTR is below 1
    with store.transaction() as conn:
        conn.execute(update(watches).values(created_at=old))
    now = datetime(2026, 4, 1)
    assert [w.watch_id for w in silent_watches(store, now)] == [watch.watch_id]
    assert {(s.kpi, s.last_seen) for s in stale_kpis(store, now)} == {
        ("spend", None),
        ("ctr", None),
    }
    record_seen(store, dataset.dataset_id, ("spend", "ctr"), now - timedelta(days=3))
    assert stale_kpis(store, now) == []
    assert stale_kpis(store, now + timedelta(days=100))[0].last_seen == now - timedelta(days=3)


def test_a_decision_watch_reads_a_peeking_safe_test(store, receiver):
    watch = _experiment_watch(store, "decision", receiver.url)
    finding = evaluate(store, watch)[0]
    assert finding.fired and finding.spec.sequential  # the saved view was fixed-horizon
    assert "sequential" in finding.result.results[0].method
    run_monitor(store, NOW)
    assert "peeking-safe" in receiver.calls[0]["text"]


def test_each_round_is_noted_so_the_page_can_tell_a_stopped_monitor(store, dataset, receiver):
    from kpi_engine.alerts.heartbeat import monitor_status

    assert monitor_status(store).last is None
    run_monitor(store, NOW)
    run_monitor(store, NOW + timedelta(minutes=15))
    status = monitor_status(store)
    assert status.last == NOW + timedelta(minutes=15) and status.every == timedelta(minutes=15)
    assert not status.stopped(NOW + timedelta(minutes=40))
    assert status.stopped(NOW + timedelta(minutes=51))
    assert monitor_status(store, every_seconds=3600).next_round == NOW + timedelta(minutes=75)
    run_monitor(store, NOW + timedelta(hours=1), dry_run=True)  # a dry run is not a round
    assert monitor_status(store).last == NOW + timedelta(minutes=15)


def test_a_digest_lists_the_notes_on_its_week(store, dataset, receiver):
    from kpi_engine.annotations.notes import add_note

    _watch(store, dataset, "anomaly", receiver.url, digest="daily", hour=8)
    with store.transaction() as conn:
        conn.execute(update(watches).values(created_at=datetime(2026, 3, 30)))
    add_note(store, dataset, LAST - timedelta(days=1), LAST, "Tracking outage")
    add_note(store, dataset, LAST - timedelta(days=30), LAST - timedelta(days=29), "Old sale")
    run_monitor(store, datetime(2026, 4, 1, 9, tzinfo=UTC))
    (digest,) = receiver.calls
    assert "Note on daily: 2026-03-30 to 2026-03-31 · Tracking outage" in digest["text"]
    assert "Old sale" not in digest["text"]  # only the notes on the week it covers
