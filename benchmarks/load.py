"""Many users on one real server: throughput, latency and the server's memory per session.

    python benchmarks/load.py                          # 20 users for 60 s, no pause
    python benchmarks/load.py --pause 5                # each user reads a page for 5 s
    python benchmarks/load.py --users 40 --seconds 120
    python benchmarks/load.py --processes 2            # 2 app processes on Postgres, nginx

A `streamlit run app.py` is started on a fresh workspace file; simulated users speak
Streamlit's websocket protocol (tests/e2e/st_protocol.py), as a browser tab does, without
rendering anything. Three phases:

  warm-up  one user visits every page, so that imports and first-use caches are counted
           in the baseline and not in the first session
  idle     N sessions open the app (each gets a workspace with the sample data) and stay
           connected doing nothing: the server's RSS growth / N is the memory of an idle
           session
  active   N users upload their own file, import it and visit the KPIs, Experiments and
           Budget pages in a loop with no pause (tests/e2e/load.py checks every page):
           latency per action, page runs per second, errors, peak RSS over the idle phase
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.e2e.load import run_load  # noqa: E402
from tests.e2e.server import Server, status_mb  # noqa: E402
from tests.e2e.st_protocol import Session  # noqa: E402

PORT = 8596
# each simulated user a visitor with a private workspace, made when they upload
VISITORS = {"KPILAB_ANONYMOUS": "1", "KPILAB_MAX_NEW_WORKSPACES": "100000"}


def _settled_rss(pid: int, seconds: float = 3.0) -> float:
    time.sleep(seconds)
    return status_mb(pid)


@contextlib.contextmanager
def _profiled(pid: int, out: Path | None, seconds: float):
    """py-spy recording ``pid`` (all its threads, 50 samples a second) while the body runs."""
    if out is None:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    procs = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--nonblocking",
                "--rate",
                "50",
                "--duration",
                str(int(seconds)),
                "--format",
                fmt,
                "--output",
                str(out.with_suffix(suffix)),
            ],
            stdout=subprocess.DEVNULL,
        )
        for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt"))
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.wait(timeout=seconds + 120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds before each visit")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="more than 1: that many app processes on a throwaway Postgres, behind nginx"
        " (deploy/nginx.conf); only the active phase is run",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="record the server with py-spy during the active phase: FILE.svg (a flame"
        " graph) and FILE.txt (collapsed stacks, one line per stack with its sample count)",
    )
    args = parser.parse_args()
    if args.processes > 1:
        several(args)
        return
    print(
        f"# {platform.processor() or platform.machine()}, Python {platform.python_version()},"
        f" {__import__('os').cpu_count()} cores; {args.users} users, {args.seconds:.0f} s,"
        f" {args.pause:g} s pause"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(Path(tmp) / "ws.sqlite", Path(tmp) / "server.log", PORT, env=VISITORS) as server,
    ):
        pid = server.proc.pid
        warm = Session(server.url)
        for page in ("", "experiments", "budget", "data", "sharing"):
            warm.run(page=page)
        warm.close()
        start_rss = _settled_rss(pid)
        idle = [Session(server.url) for _ in range(args.users)]
        for session in idle:
            session.run()
        idle_rss = _settled_rss(pid)
        with _profiled(pid, args.profile, args.seconds):
            report = run_load(server.url, args.users, args.seconds, pid, args.pause)
        for session in idle:
            session.close()
        end_rss = _settled_rss(pid, 5.0)
        print(report.table())
        for error in report.errors[:10]:
            print("ERROR", error)
        per_idle = (idle_rss - start_rss) / args.users
        per_active = (max(report.rss_mb) - idle_rss) / args.users
        print()
        print(f"{'server RSS':>34} {'MB':>8}")
        print(f"{'after warm-up (baseline)':>34} {start_rss:>8.0f}")
        print(f"{f'with {args.users} idle sessions':>34} {idle_rss:>8.0f}")
        print(f"{'peak with the active users too':>34} {max(report.rss_mb):>8.0f}")
        print(f"{'all disconnected, 5 s later':>34} {end_rss:>8.0f}")
        print(f"{'per idle session':>34} {per_idle:>8.1f}")
        print(f"{'per active session':>34} {per_active:>8.1f}")


def several(args: argparse.Namespace) -> None:
    """The active phase through nginx in front of ``args.processes`` app processes."""
    from tests.e2e.cluster import Cluster
    from tests.postgres import Cluster as Postgres

    print(f"# {args.processes} app processes on Postgres, behind nginx")
    postgres = Postgres().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"KPILAB_DATA_DIR": str(Path(tmp) / "data"), **VISITORS}
            with Cluster(postgres.new_database(), Path(tmp), args.processes, env=env) as cluster:
                for server in cluster.servers:
                    warm = Session(server.url)
                    for page in ("", "experiments", "budget", "data"):
                        warm.run(page=page)
                    warm.close()
                pid = cluster.servers[0].proc.pid
                report = run_load(cluster.url, args.users, args.seconds, pid, args.pause)
        print(report.table())
        for error in report.errors[:10]:
            print("ERROR", error)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
