"""Browser tests: a real Streamlit server and Debian's Chromium driven by Playwright.

They skip, saying why, where Chromium or Playwright is missing; `.ci/run` installs both and
sets KPILAB_REQUIRE_BROWSER=1, which turns a skip into a failure.
Environment: E2E_CHROMIUM (default /usr/bin/chromium), E2E_PORT (a fixed port for the
server under test; by default each server takes a free one, so tests can run on several
pytest-xdist workers at once).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.e2e.server import Server
from tests.postgres import free_port

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
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

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def app_port() -> int:
    """The port for the next server under test: E2E_PORT when set, else a free one."""
    return int(os.environ["E2E_PORT"]) if os.environ.get("E2E_PORT") else free_port()


def _skip_reason() -> str | None:
    reason = None
    if sync_playwright is None:
        reason = "playwright is not installed (pip install -r requirements-dev.txt)"
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)"
    if reason and os.environ.get("KPILAB_REQUIRE_BROWSER"):
        pytest.fail(f"KPILAB_REQUIRE_BROWSER is set but {reason}")
    return reason


def _running(tmp_path: Path, env: dict | None = None):
    srv = Server(tmp_path / "workspace.sqlite", tmp_path / "server.log", app_port(), env=env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(tmp_path):
    """A server for the browser tests (skipped without a browser)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    yield from _running(tmp_path)


@pytest.fixture
def anonymous_server(tmp_path):
    """A server that lets anyone in (KPILAB_ANONYMOUS=1): a private workspace per visitor,
    made at their first change, its link kept in a cookie."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    yield from _running(tmp_path, {"KPILAB_ANONYMOUS": "1"})


PEOPLE = {  # who the test provider knows, and whether it confirms their address
    "ada@example.com": True,
    "ed@example.com": True,
    "vi@example.com": False,
    "zed@rivals.org": True,
    "stranger@else.org": True,
}


@pytest.fixture
def signin_server(tmp_path):
    """A server that signs people in (an [auth] section) with a real OIDC provider."""
    from tests.e2e.oidc import Provider

    reason = _skip_reason()
    if reason is None and importlib.util.find_spec("oidc_provider_mock") is None:
        reason = "oidc-provider-mock is not installed (pip install -r requirements-dev.txt)"
        if os.environ.get("KPILAB_REQUIRE_BROWSER"):
            pytest.fail(f"KPILAB_REQUIRE_BROWSER is set but {reason}")
    if reason:
        pytest.skip(reason)
    provider = Provider(PEOPLE, tmp_path / "provider.log")
    port = app_port()
    secrets = provider.secrets(f"http://127.0.0.1:{port}", tmp_path / "secrets.toml")
    try:
        srv = Server(
            tmp_path / "workspace.sqlite",
            tmp_path / "server.log",
            port,
            args=["--secrets.files", str(secrets)],
        )
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        provider.stop()


@pytest.fixture
def app_server(tmp_path):
    """A server for tests that speak Streamlit's protocol themselves: no browser needed."""
    yield from _running(tmp_path)


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
