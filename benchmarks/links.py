"""Stakeholders opening one read-only link: many at once, through nginx, in front of 1, 2 or 4
app processes on one Postgres state database.

    python benchmarks/links.py                                   # 200 within 10 s; 1, 2, 4
    python benchmarks/links.py --stakeholders 400 --within 5 --processes 2

Each stakeholder is a new browser tab (tests/e2e/st_protocol.py: Streamlit's websocket
protocol, no rendering) that opens ``/shared?token=...`` once, at a moment drawn uniformly in
the window; the time is from its first request until the page's run has ended. Before that,
every process draws the link once (warm-up: imports and caches are not counted). The
simulated stakeholders run in this process, on the same machine as the servers: on 2 cores
they take some of the CPU the servers would have.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.e2e.cluster import Cluster  # noqa: E402
from tests.e2e.load import percentile  # noqa: E402
from tests.e2e.st_protocol import Session  # noqa: E402
from tests.postgres import Cluster as Postgres  # noqa: E402


def make_link(url: str, data: Path) -> str:
    from kpi_engine.kpis.spec import default_spec
    from kpi_engine.samples import seed_samples
    from kpi_engine.sharing.links import create_share
    from kpi_engine.store import Store

    os.environ["KPILAB_DATA_DIR"] = str(data)
    store = Store(url)
    seed_samples(store)
    spec = default_spec(store.dataset("Sample campaigns"))
    token = create_share(store, spec, title="Q2 for the board")["token"]
    store.close()
    return token


def open_link(base: str, token: str) -> float:
    """One stakeholder: a new tab on the link; seconds until the page is drawn."""
    start = time.perf_counter()
    session = Session(base)
    try:
        run = session.run(page="shared", params={"token": token})
        if run.errors or not run.of("metric"):
            raise RuntimeError(f"the link page came without its cards: {run.errors[:1]}")
    finally:
        session.close()
    return time.perf_counter() - start


def crowd(base: str, token: str, people: int, within: float) -> tuple[list[float], list[str]]:
    times, errors, lock = [], [], threading.Lock()
    rng = random.Random(7)
    start = time.monotonic() + 0.5
    moments = sorted(rng.uniform(0, within) for _ in range(people))

    def one(at: float) -> None:
        time.sleep(max(0.0, start + at - time.monotonic()))
        try:
            seconds = open_link(base, token)
            with lock:
                times.append(seconds)
        except Exception as exc:  # counted, never stops the others
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=one, args=(m,)) for m in moments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def measure(
    processes: int, people: int, within: float, postgres: Postgres
) -> tuple[list[float], list[str]]:
    """Each stakeholder's seconds, and the errors, with ``processes`` behind nginx."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = postgres.new_database()
        token = make_link(url, folder / "data")
        env = {"KPILAB_DATA_DIR": str(folder / "data"), "KPILAB_ANONYMOUS": "1"}
        with Cluster(url, folder, processes, env=env) as cluster:
            for server in cluster.servers:  # warm-up: each process draws the link once
                open_link(server.url, token)
            return crowd(cluster.url, token, people, within)


def row(processes: int, people: int, within: float, times: list[float], errors: list) -> str:
    if not times:
        return f"| {processes} | {people} | {within:g} | - | - | - | {len(errors)} |"
    return (
        f"| {processes} | {people} | {within:g} | {percentile(times, 50):.3f}"
        f" | {percentile(times, 95):.3f} | {max(times):.3f} | {len(errors)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stakeholders", type=int, default=200)
    parser.add_argument("--within", type=float, default=10.0, help="seconds they arrive within")
    parser.add_argument("--processes", default="1,2,4", help="comma-separated counts")
    args = parser.parse_args()
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" {args.stakeholders} stakeholders within {args.within:g} s, through nginx"
    )
    print("| processes | stakeholders | within s | p50 s | p95 s | max s | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    postgres = Postgres().start()
    try:
        for n in (int(x) for x in args.processes.split(",")):
            times, errors = measure(n, args.stakeholders, args.within, postgres)
            print(row(n, args.stakeholders, args.within, times, errors), flush=True)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
