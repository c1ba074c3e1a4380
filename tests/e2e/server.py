"""`streamlit run app.py` on 127.0.0.1 with a workspace file of its own: for the browser and
protocol tests, and for the benchmarks that measure a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def status_mb(pid: int | str, field: str = "VmRSS") -> float:
    """A process's memory from /proc: VmRSS now, VmHWM its peak."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """One app process. ``db``: a SQLite file (its folder holds the spool and is an attach
    root), or a database URL shared with other processes (``home`` holds its spool)."""

    def __init__(
        self,
        db: Path | str,
        log: Path,
        port: int,
        home: Path | None = None,
        env: dict | None = None,
        args: list[str] | None = None,
        script: str = "app.py",
    ) -> None:
        """``script``: what ``streamlit run`` runs, from the project folder (the benchmarks'
        bare page is their floor)."""
        self.db, self.log_path, self.port, self.proc = db, log, port, None
        self.script = script
        self.args = args or []
        self.home = home or Path(db).parent
        self.extra = env or {}
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is in use (a stale server?)")
        shared = "://" in str(self.db)
        env = {
            **os.environ,
            ("KPILAB_DATABASE_URL" if shared else "KPILAB_DB"): str(self.db),
            "KPILAB_SPOOL_DIR": str(self.home / f"spool-{self.port}"),
            "KPILAB_ATTACH_ROOTS": str(self.home),  # a test writes its lake files there
            **self.extra,
        }
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--server.runOnSave",
            "false",
            "--client.showErrorDetails",
            "full",
            *self.args,
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

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
