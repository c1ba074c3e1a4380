"""The monitor over many workspaces: each seeded with the sample data and given five watches
(CTR and revenue anomalies, spend and ROAS changes, a CPA range) that send to a local
webhook receiver.

    python benchmarks/monitor.py                    # 500 workspaces x 5 watches
    python benchmarks/monitor.py --workspaces 100

Times the first round (evaluates every watch; sends what fires, each alert with a link to a
frozen view) and a second round (evaluates again, sends nothing: all sent already), with the
process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RULES = (
    ("ctr", "anomaly"),
    ("revenue", "anomaly"),
    ("spend", "change:20"),
    ("roas", "change:10"),
    ("cpa", "range:10:30"),
)


class _Quiet(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        _Quiet.calls += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspaces", type=int, default=500)
    args = parser.parse_args()
    os.environ["KPILAB_ALLOW_PRIVATE_WEBHOOKS"] = "1"
    from kpi_engine.alerts.monitor import run_monitor
    from kpi_engine.alerts.watch import Watch
    from kpi_engine.alerts.watches import add_watch
    from kpi_engine.samples import seed_samples
    from kpi_engine.sharing.workspaces import create_workspace
    from kpi_engine.store import Store

    server = HTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        root = Store(Path(tmp) / "monitor.sqlite")
        start = time.perf_counter()
        for _ in range(args.workspaces):
            store, _token = create_workspace(root)
            seed_samples(store)
            dataset = store.dataset("Sample campaigns")
            for kpi, rule in RULES:
                add_watch(store, Watch("", "", dataset.dataset_id, rule, url, kpi=kpi))
        setup = time.perf_counter() - start
        print(f"setup: {args.workspaces} workspaces x {len(RULES)} watches in {setup:.1f} s")
        print(
            f"{'round':>6} {'watches':>8} {'sent':>5} {'failed':>6} {'not due':>8} {'seconds':>8}"
        )
        for label in ("first", "second"):
            start = time.perf_counter()
            result = run_monitor(root)
            seconds = time.perf_counter() - start
            print(
                f"{label:>6} {args.workspaces * len(RULES):>8} {len(result.sent):>5}"
                f" {len(result.failed):>6} {result.not_due:>8} {seconds:>8.2f}",
                flush=True,
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"webhook calls received: {_Quiet.calls}; peak RSS {peak:.0f} MB")
        root.close()
    server.shutdown()


if __name__ == "__main__":
    main()
