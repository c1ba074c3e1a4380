"""Real Spark clusters for the tests, started from the installed pyspark's own scripts on
free ports: a standalone master, a worker, and a Spark Connect server. Each runs in its own
process group, logs to a file, and can be stopped and started again on the same port (the
restart tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_SECONDS = 120.0


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Daemon:
    """One Spark daemon: its command, the port that says it is up, its log."""

    name: str
    argv: list[str]
    port: int
    folder: Path
    ready: str = ""  # a line of its log that says it is ready, beyond the open port
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> Daemon:
        home = spark_home()
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOG_DIR": str(self.folder),
            "SPARK_PID_DIR": str(self.folder),
            "SPARK_WORKER_DIR": str(self.folder / "work"),
            "SPARK_LOCAL_DIRS": str(self.folder / "local"),
            "SPARK_NO_DAEMONIZE": "1",
            "SPARK_DAEMON_MEMORY": "512m",
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        }
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} ended at start:\n{self.log.read_text()[-3000:]}")
            if listening(self.port) and (not self.ready or self.ready in self.log.read_text()):
                return self
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self, hard: bool = False) -> None:
        """Stopped (SIGTERM), or killed with what it started (SIGKILL: a lost machine)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        deadline = time.monotonic() + 20
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)


def master(folder: Path) -> Daemon:
    port = free_port()
    return Daemon(
        "master",
        [str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
         "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())],
        port,
        folder,
        ready="I have been elected leader",
    )  # fmt: skip


def worker(master_url: str, folder: Path) -> Daemon:
    port = free_port()
    return Daemon(
        "worker",
        [str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker",
         master_url, "--host", "127.0.0.1", "--port", str(port), "--cores", "2",
         "--memory", "1g", "--work-dir", str(folder / "work"),
         "--webui-port", str(free_port())],
        port,
        folder,
        ready="Successfully registered with master",
    )  # fmt: skip


def connect_server(folder: Path) -> Daemon:
    port = free_port()
    return Daemon(
        "connect",
        [str(spark_home() / "sbin" / "start-connect-server.sh"), "--wait",
         "--master", "local[2]",
         "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", "spark.ui.enabled=false",
         "--conf", f"spark.local.dir={folder / 'local'}",
         "--driver-memory", "1g"],
        port,
        folder,
        ready="Spark Connect server started",
    )  # fmt: skip
