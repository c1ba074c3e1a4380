"""The deployment recipe, tested: Debian's nginx with ``deploy/nginx.conf`` in front of two
app processes on one Postgres state database and one data folder. A browser uploads through
nginx and the other process sees the dataset; killing the process that served it loses no
stored data, and the browser's next session goes to the other process."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.e2e.cluster import NGINX, Cluster
from tests.e2e.test_browser import TINY, picker, upload, wait_for_text, workspace_token

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


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
    env = {"KPILAB_DATA_DIR": str(tmp_path / "data"), "KPILAB_ANONYMOUS": "1"}
    cluster = Cluster(url, tmp_path, 2, env=env)
    with cluster:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(cluster.url + "/")
        wait_for_text(page, "Breakdown")
        page.get_by_test_id("stSidebarNav").get_by_text("Data").click()
        upload(page, TINY)  # the upload and its session go through nginx to one process
        token = workspace_token(page)
        for server in cluster.servers:  # each process reads the same state and the same files
            assert "tiny_campaigns" in _datasets_on(browser, server.url, token)

        # the process that took the upload (its spool folder exists) holds the session
        (served,) = [s for s in cluster.servers if (tmp_path / f"spool-{s.port}").exists()]
        os.kill(served.proc.pid, signal.SIGKILL)
        served.proc.wait(timeout=30)
        page.reload()  # the next session: nginx sends it to the process still running
        wait_for_text(page, "Datasets")  # the Data page again, the workspace's dataset on it
        expect(picker(page)).to_have_value("tiny_campaigns")
        context.close()
