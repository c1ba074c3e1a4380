"""A team's server on one machine: N app processes on one state database and one data
folder, with Debian's nginx and ``deploy/nginx.conf`` in front (for the deployment test and
the benchmarks that measure several processes)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import PROJECT
from tests.e2e.server import Server
from tests.postgres import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_conf(folder: Path, port: int, backends: list[int]) -> Path:
    """deploy/nginx.conf as shipped, with these ports, inside a main configuration of its own
    (pid, logs and temporary folders in ``folder``)."""
    site = (PROJECT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=15s;\n" for p in backends)
    site = re.sub(r"(?m)^    server 127\.0\.0\.1:\d+.*\n", "", site)
    hashing = "    hash $kpilab_route consistent;\n"
    site = site.replace(hashing, hashing + servers)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "".join(f"{kind}_temp_path {folder / kind};\n" for kind in kinds)
    # workers as the test's own user: its temporary folders are closed to nginx's "nobody",
    # and a request body past 16 KB is buffered in a file there
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "worker_processes 1;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\naccess_log off;\n{temp}{site}\n}}\n"
    )
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        try:
            with opener.open(url + "/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers at {url}")


class Cluster:
    """``processes`` app servers on ``db`` (a URL) with nginx in front at ``url``."""

    def __init__(self, db: str, folder: Path, processes: int, env: dict | None = None) -> None:
        self.folder = folder
        self.servers = [
            Server(db, folder / f"app{n}.log", free_port(), home=folder, env=env)
            for n in range(processes)
        ]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.nginx: subprocess.Popen | None = None

    def start(self) -> Cluster:
        for server in self.servers:
            server.start()
        conf = nginx_conf(self.folder, self.port, [s.port for s in self.servers])
        self.nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.DEVNULL
        )
        wait_until_up(self.url)
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.send_signal(signal.SIGQUIT)
            self.nginx.wait(timeout=30)
            self.nginx = None
        for server in self.servers:
            server.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
