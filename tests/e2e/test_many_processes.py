"""Many processes, one truth (issue 25): on one Postgres state database and one data folder,
at the same time for 30 s, the command line imports into a browser workspace, two monitors
run rounds, and two app processes serve 10 simulated users each. Afterwards every import is
there exactly once, every alert was delivered exactly once, and no process saw an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch
from kpi_engine.ingest import import_file
from kpi_engine.sharing.workspaces import create_workspace, open_workspace
from kpi_engine.store import Store
from tests.conftest import FIXTURES, PROJECT
from tests.e2e.load import run_load
from tests.e2e.server import Server
from tests.postgres import free_port
from tests.test_alerts import Receiver, _campaign

pytestmark = pytest.mark.slow
SECONDS = 30
WATCHED = 6  # workspaces, each with an anomaly to report


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpi_engine", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_monitors_and_two_app_processes_at_once(postgres_cluster, tmp_path, monkeypatch):
    url = postgres_cluster.new_database()
    data = tmp_path / "data"
    env = {**os.environ, "KPILAB_DATABASE_URL": url, "KPILAB_DATA_DIR": str(data)}
    env["KPILAB_ALLOW_PRIVATE_WEBHOOKS"] = "1"
    env["KPILAB_ANONYMOUS"] = "1"  # each simulated user a visitor with a workspace of their own
    env["KPILAB_MAX_NEW_WORKSPACES"] = "1000"
    env.pop("KPILAB_DB", None)
    monkeypatch.setenv("KPILAB_DATA_DIR", str(data))
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")
    receiver = Receiver()
    root = Store(url)
    scripted, token = create_workspace(root)
    for i in range(WATCHED):
        store, _ = create_workspace(root)
        dataset = import_file(store, _campaign(tmp_path), name=f"daily {i}").dataset
        add_watch(store, Watch("", "", dataset.dataset_id, "anomaly", receiver.url, kpi="ctr"))

    servers = [
        Server(url, tmp_path / f"server{n}.log", free_port(), home=tmp_path, env=env)
        for n in range(2)
    ]
    for server in servers:
        server.start()
    deadline = time.monotonic() + SECONDS
    imports, monitors, reports, problems = [], [], [], []

    def scripting() -> None:
        n = 0
        while time.monotonic() < deadline:
            name = f"script import {n}"
            done = _cli(env, "import", str(FIXTURES / "tiny_campaigns.csv"), "--name", name,
                        "--workspace", token, "--json")  # fmt: skip
            (imports if done.returncode == 0 else problems).append(name if not done.returncode
                                                                   else done.stderr)  # fmt: skip
            n += 1

    def monitoring() -> None:
        while time.monotonic() < deadline:
            done = _cli(env, "monitor", "--json")
            if done.returncode != 0:
                problems.append(f"monitor exit {done.returncode}: {done.stderr[-500:]}")
            else:
                monitors.append(json.loads(done.stdout))

    def users(server: Server) -> None:
        reports.append(run_load(server.url, 10, SECONDS, server.proc.pid, pause=0.5))

    workers = [threading.Thread(target=scripting)]
    workers += [threading.Thread(target=monitoring) for _ in range(2)]
    workers += [threading.Thread(target=users, args=(s,)) for s in servers]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        for server in servers:
            server.stop()
        receiver.down()

    assert problems == []
    for report in reports:
        print(report.table())
        assert report.errors == []
    for server in servers:
        assert "Traceback" not in server.log_path.read_text()
    names = Counter(d.name for d in open_workspace(root, token).datasets())
    assert imports and names == Counter(imports)  # each import there, exactly once
    assert scripted.workspace == open_workspace(root, token).workspace
    sent = Counter(
        (call["fields"]["watch_id"], call["fields"]["period"]) for call in receiver.calls
    )
    assert len(sent) == WATCHED and set(sent.values()) == {1}  # each alert delivered once
    assert sum(len(m["sent"]) for m in monitors) == WATCHED and len(monitors) >= 2
    root.close()
