"""Alerts cannot be turned against the server or each other (issue 24): a destination that
answers garbage, drips its answer or resolves to two addresses fails alone, with a reason,
and every other workspace's alert is still delivered."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from kpi_engine.alerts import destinations
from kpi_engine.alerts.destinations import DeliveryError, refused_address, send_webhook
from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.errors import KpiLabError
from tests.test_alerts import NOW, Receiver, _campaign, _watch


class Raw:
    """A TCP server on 127.0.0.1 that answers each connection with ``reply``, one byte every
    ``drip`` seconds when drip is set."""

    def __init__(self, reply: bytes, drip: float = 0.0) -> None:
        self.reply, self.drip, self.stop = reply, drip, threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if not self.drip:
                    conn.sendall(self.reply)
                    return
                for byte in self.reply:
                    if self.stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.drip)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture(autouse=True)
def private_webhooks(monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")


@pytest.fixture
def two_workspaces(store, tmp_path):
    """The same data in two workspaces of one database."""
    from kpi_engine.ingest import import_file

    other = store.for_workspace("someone-else")
    return (
        (store, import_file(store, _campaign(tmp_path)).dataset),
        (other, import_file(other, _campaign(tmp_path)).dataset),
    )


@pytest.mark.parametrize(
    ("reply", "drip", "reason"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", 0.0, "could not be reached"),  # not HTTP at all
        (b"\x00\x01\x02garbage", 0.0, "could not be reached"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"x" * 40, 0.3, "within 2 seconds"),
    ],
)
def test_a_hostile_destination_fails_alone(two_workspaces, monkeypatch, reply, drip, reason):
    monkeypatch.setattr(destinations, "SEND_SECONDS", 2)
    (mine, mine_data), (theirs, their_data) = two_workspaces
    bad, good = Raw(reply, drip), Receiver()
    try:
        _watch(mine, mine_data, "anomaly", bad.url)
        _watch(theirs, their_data, "anomaly", good.url)
        result = run_monitor(mine, NOW)
    finally:
        bad.close()
        good.down()
    assert [s.destination for s in result.sent] == [good.url] and len(good.calls) == 1
    assert [f.destination for f in result.failed] == [bad.url]
    assert reason in result.failed[0].reason and "Traceback" not in result.failed[0].reason


def test_the_monitor_command_exits_3_not_with_a_traceback(store, tmp_path, capsys):
    from kpi_engine.cli import main

    db = str(tmp_path / "ws.sqlite")
    bad = Raw(b"not http\r\n")
    try:
        assert main(["import", str(_campaign(tmp_path)), "--name", "daily", "--db", db]) == 0
        add = ["watch", "add", "daily", "--kpi", "ctr", "--rule", "anomaly", "--db", db]
        assert main([*add, "--webhook", bad.url]) == 0
        capsys.readouterr()
        assert main(["monitor", "--db", db, "--json"]) == 3
    finally:
        bad.close()
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and '"failed"' in captured.out


def test_a_watch_that_raises_stops_no_other(two_workspaces, monkeypatch):
    from kpi_engine.alerts import monitor

    (mine, mine_data), (theirs, their_data) = two_workspaces
    good = Receiver()
    real = monitor.evaluate

    def evaluate(store, watch, memo):
        if store.workspace == mine.workspace:
            raise ZeroDivisionError("a bug")
        return real(store, watch, memo)

    monkeypatch.setattr(monitor, "evaluate", evaluate)
    try:
        _watch(mine, mine_data, "anomaly", good.url)
        _watch(theirs, their_data, "anomaly", good.url)
        result = run_monitor(mine, NOW)
    finally:
        good.down()
    assert len(result.sent) == 1 and len(good.calls) == 1
    assert "internal error (ZeroDivisionError)" in result.failed[0].reason


def test_the_name_is_resolved_once_and_the_checked_address_is_used(monkeypatch):
    """DNS rebinding: the first answer is public, the next one loopback. The send resolves
    once and connects to the address it checked, never to the second answer."""
    monkeypatch.delenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS")
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    lookups, connected = [], []

    def getaddrinfo(host, port, *args, **kwargs):
        address = next(answers)
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def create_connection(address, *args, **kwargs):
        connected.append(address[0])
        raise ConnectionRefusedError("refused in this test")

    monkeypatch.setattr(destinations.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(destinations.socket, "create_connection", create_connection)
    with pytest.raises(DeliveryError, match="could not be reached"):
        send_webhook("http://rebind.example/hook", "hi", {})
    assert lookups == ["93.184.216.34"] and connected == ["93.184.216.34"]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:8",  # NAT64 of 10.0.0.8
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "127.0.0.1",
        "169.254.169.254",
        "fe80::1",
    ],
)
def test_addresses_that_lead_inside_are_refused(monkeypatch, address):
    monkeypatch.delenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS")
    assert refused_address(address)


def test_public_addresses_pass(monkeypatch):
    monkeypatch.delenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS")
    assert refused_address("93.184.216.34") is None
    assert refused_address("2606:2800:220:1:248:1893:25c8:1946") is None


def test_watches_per_workspace_are_capped(store, tmp_path, monkeypatch):
    from kpi_engine.ingest import import_file

    monkeypatch.setenv("KPILAB_MAX_WATCHES", "2")
    dataset = import_file(store, _campaign(tmp_path)).dataset
    receiver = Receiver()
    try:
        _watch(store, dataset, "anomaly", receiver.url)
        _watch(store, dataset, "change:5", receiver.url)
        with pytest.raises(KpiLabError, match="at most 2 watches"):
            _watch(store, dataset, "change:10", receiver.url)
    finally:
        receiver.down()
