"""The deployment recipe, tested: Debian's nginx with ``deploy/nginx.conf`` in front of two
app processes on one Postgres state database and one data folder. A browser uploads through
nginx and the other process sees the dataset; killing the process that served it loses no
stored data, and the browser's next session goes to the other process."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.e2e.server import Server
from tests.e2e.test_browser import TINY, picker, upload, wait_for_text, workspace_token
from tests.postgres import free_port

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _nginx_conf(folder: Path, port: int, backends: list[int]) -> Path:
    """deploy/nginx.conf as shipped, with the test's ports, inside a main configuration of
    its own (pid, logs and temporary folders in ``folder``)."""
    site = (PROJECT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=15s;\n" for p in backends)
    site = re.sub(r"(?m)^    server 127\.0\.0\.1:\d+.*\n", "", site)
    site = site.replace(
        "    hash $kpilab_route consistent;\n", "    hash $kpilab_route consistent;\n" + servers
    )
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = "".join(
        f"{kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = (
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        f"http {{\naccess_log {folder / 'access.log'};\n{temp}{site}\n}}\n"
    )
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


def _started(url: str) -> None:
    deadline = time.monotonic() + 30
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        try:
            with opener.open(url + "/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answers at {url}")


def _datasets_on(browser, server_url: str, token: str) -> list[str]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server_url}/?ws={token}")
        wait_for_text(page, "Breakdown")
        picker(page).click()
        names = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        return names
    finally:
        context.close()


def test_two_app_processes_behind_nginx(postgres_cluster, browser, tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    url = postgres_cluster.new_database()
    env = {"KPILAB_DATA_DIR": str(tmp_path / "data")}
    servers = [
        Server(url, tmp_path / f"app{n}.log", free_port(), home=tmp_path, env=env) for n in range(2)
    ]
    proxy_port = free_port()
    conf = _nginx_conf(tmp_path, proxy_port, [s.port for s in servers])
    for server in servers:
        server.start()
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE)
    proxy = f"http://127.0.0.1:{proxy_port}"
    try:
        _started(proxy)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(proxy + "/")
        wait_for_text(page, "Breakdown")
        page.get_by_test_id("stSidebarNav").get_by_text("Data").click()
        upload(page, TINY)  # the upload and its session go through nginx to one process
        token = workspace_token(page)
        for server in servers:  # each process reads the same state and the same files
            assert "tiny_campaigns" in _datasets_on(browser, server.url, token)

        # the process that took the upload (its spool folder exists) holds the session
        (served,) = [s for s in servers if (tmp_path / f"spool-{s.port}").exists()]
        os.kill(served.proc.pid, signal.SIGKILL)
        served.proc.wait(timeout=30)
        page.reload()  # the next session: nginx sends it to the process still running
        wait_for_text(page, "Datasets")  # the Data page again, the workspace's dataset on it
        expect(picker(page)).to_have_value("tiny_campaigns")
        context.close()
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)
        for server in servers:
            server.stop()
