"""20 users at once on one real server: every user gets every page, on its own data, with
zero errors; nobody sees another user's data; the server's memory stays bounded. Nothing
here is timed (a busy machine is only slower): benchmarks/load.py reports the latencies."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_port
from tests.e2e.load import run_load
from tests.e2e.server import Server

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it

USERS = 20
SECONDS = 20
MAX_GROWTH_MB = 1024  # 20 workspaces with their uploads, caches and sessions: ~350 MB measured


def test_twenty_users_at_once(tmp_path):
    """Each simulated user is a visitor of a server that lets anyone in: a private workspace
    of their own, made when they upload."""
    env = {"KPILAB_ANONYMOUS": "1", "KPILAB_MAX_NEW_WORKSPACES": "1000"}
    with Server(tmp_path / "ws.sqlite", tmp_path / "server.log", app_port(), env=env) as app_server:
        _load(app_server)


def _load(app_server: Server) -> None:
    report = run_load(app_server.url, USERS, SECONDS, app_server.proc.pid)
    print(report.table())
    assert report.errors == []
    for action in ("open", "upload", "import", "kpis", "experiments", "budget"):
        assert len(report.latencies.get(action, [])) >= USERS  # each user, each page
    assert max(report.rss_mb) - report.baseline_mb < MAX_GROWTH_MB
    assert "Traceback" not in app_server.log_path.read_text()
