"""Issue 28's targets in one run, each beside its floor measured in the same run.

    python benchmarks/targets.py               # about 6 minutes on 2 cores
    python benchmarks/targets.py --runs 1      # one browser run instead of three

It reuses the other scripts: browser.py (each page against a bare Streamlit page with one
Plotly chart), the load test of load.py (20 users without a pause on one process, 30 s),
links.py (200 stakeholders on one link within 10 s, one process and two behind nginx, on a
throwaway Postgres) and the command line's start against a bare `python -c pass`. The pages
at 10M rows take longer: `python benchmarks/pages.py --rows 10M`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from tests.e2e.load import percentile, run_load  # noqa: E402
from tests.e2e.server import Server  # noqa: E402
from tests.e2e.st_protocol import Session  # noqa: E402
from tests.postgres import free_port  # noqa: E402


def _median_seconds(cmd: list[str], runs: int = 21) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_rows() -> list[tuple[str, str, str]]:
    bare = _median_seconds([sys.executable, "-c", "pass"])
    helped = _median_seconds([sys.executable, "-m", "kpi_engine", "--help"])
    wrong = _median_seconds([sys.executable, "-m", "kpi_engine", "budget", "--wrong"])
    return [
        ("`python -m kpi_engine --help`", "≤ 10x `python -c pass`", f"{helped / bare:.1f}x"),
        ("a wrong flag", "≤ 10x `python -c pass`", f"{wrong / bare:.1f}x"),
    ]


def browser_rows(runs: int) -> list[tuple[str, str, str]]:
    from browser import CHROMIUM, CHROMIUM_ARGS, one_run
    from playwright.sync_api import sync_playwright

    measured = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                measured.append(one_run(chromium, Path(tmp)))
        chromium.close()
    median = {what: statistics.median(r[what] for r in measured) for what in measured[0]}
    floor = median["bare page: first visit"]
    opens = ", ".join(f"{median[p] / floor:.2f}x" for p in ("Experiments", "Budget", "KPIs"))
    changes = [median["KPIs: trend by week"], median["Experiments: sequential on"]]
    return [
        (
            "first visit, KPIs drawn and idle",
            "≤ 1.25x the bare page's first visit",
            f"{median['first visit'] / floor:.2f}x ({median['first visit']:.2f} s; bare"
            f" {floor:.2f} s)",
        ),
        ("opening Experiments, Budget or KPIs", "≤ 0.5x the bare page's first visit", opens),
        ("a setting change (trend by week, sequential on)", "< 0.3 s", _seconds(changes)),
    ]


def load_rows() -> list[tuple[str, str, str]]:
    env = {"KPILAB_ANONYMOUS": "1", "KPILAB_MAX_NEW_WORKSPACES": "100000"}
    with tempfile.TemporaryDirectory() as tmp:
        with Server(Path(tmp) / "ws.sqlite", Path(tmp) / "s.log", free_port(), env=env) as app:
            warm = Session(app.url)
            for page in ("", "experiments", "budget", "data"):
                warm.run(page=page)
            warm.close()
            report = run_load(app.url, 20, 30, app.proc.pid)
    every = [s for values in report.latencies.values() for s in values]
    return [
        (
            "20 users nonstop, one process on 2 cores",
            "p95 < 2 s",
            f"p95 {percentile(every, 95):.2f} s, p50 {percentile(every, 50):.2f} s,"
            f" {len(every) / report.seconds:.1f} runs/s, {len(report.errors)} errors",
        )
    ]


def link_rows() -> list[tuple[str, str, str]]:
    from links import measure

    from tests.postgres import Cluster as Postgres

    postgres = Postgres().start()
    try:
        measured = {n: measure(n, 200, 10.0, postgres) for n in (1, 2)}
    finally:
        postgres.stop()
    shown = "; ".join(
        f"{n} process{'es' if n > 1 else ''}:"
        f" p95 {f'{percentile(times, 95):.3f} s' if times else 'no answer'}, {len(errors)} errors"
        for n, (times, errors) in measured.items()
    )
    return [("200 stakeholders open one link within 10 s", "p95 < 1 s, 0 errors", shown)]


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f} s" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="browser runs (medians)")
    args = parser.parse_args()
    rows = [*browser_rows(args.runs), *load_rows(), *link_rows(), *cli_rows()]
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| measure | target | measured |")
    print("|---|---|---|")
    for measure, target, measured in rows:
        print(f"| {measure} | {target} | {measured} |")


if __name__ == "__main__":
    main()
