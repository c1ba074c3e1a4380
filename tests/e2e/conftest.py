"""Browser tests: a real Streamlit server and Debian's Chromium driven by Playwright.

They skip, saying why, where Chromium or Playwright is missing; `.ci/run` installs both and
sets KPILAB_REQUIRE_BROWSER=1, which turns a skip into a failure.
Environment: E2E_CHROMIUM (default /usr/bin/chromium), E2E_PORT (default 8599).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
PORT = int(os.environ.get("E2E_PORT", "8599"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _skip_reason() -> str | None:
    reason = None
    if sync_playwright is None:
        reason = "playwright is not installed (pip install -r requirements-dev.txt)"
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)"
    if reason and os.environ.get("KPILAB_REQUIRE_BROWSER"):
        pytest.fail(f"KPILAB_REQUIRE_BROWSER is set but {reason}")
    return reason


class Server:
    """`streamlit run app.py` on 127.0.0.1, on a workspace file of its own."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db, self.log_path, self.proc = db, log, None
        self.url = f"http://127.0.0.1:{PORT}"

    def start(self) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", PORT)) == 0:
                pytest.fail(f"port {PORT} is in use (a stale server?): set E2E_PORT")
        env = {**os.environ, "KPILAB_DB": str(self.db)}
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(PORT),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--server.runOnSave",
            "false",
            "--client.showErrorDetails",
            "full",
        ]
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            cmd, cwd=PROJECT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited:\n{self.log_path.read_text()}")
            try:
                with _NO_PROXY.open(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit not healthy after 60 s:\n{self.log_path.read_text()}"
                )
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.log.close()


@pytest.fixture
def server(tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    srv = Server(tmp_path / "workspace.duckdb", tmp_path / "server.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        out = PROJECT / "test-results"
        out.mkdir(exist_ok=True)
        pg.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
