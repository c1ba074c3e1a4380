"""What a person waits for in a real browser: from a click (or typing the address) until the
page is drawn and idle. Playwright drives Debian's Chromium against a real server.

    python benchmarks/browser.py              # the sample data, medians of 3
    python benchmarks/browser.py --runs 5

Each run starts a server on a fresh workspace file, then times:

  first visitor     the first visit after the server started (imports, the sample template)
  first visit       a new browser (a new workspace with the sample data) on a warm server
  first visit, cached
                    the same, by a browser that has Streamlit's scripts in its cache
  reload            the KPIs page reloaded
  Experiments, Budget, KPIs
                    a click in the sidebar until that page is drawn
  a setting         KPIs: the trend by week; Experiments: sequential testing on;
                    Budget: the largest change at 50%

The floor, in the same run: a bare Streamlit page with one Plotly chart (bare_page.py) on a
server of its own, its first visitor and a first visit on the warm server. The ratio column
divides each figure by the bare page's first visit (the first visitor by the bare page's
first visitor), so it can be compared across machines.

"Drawn and idle": the page's own marker is visible, no chart is still drawing, and Streamlit's
running indicator has been gone for 0.3 s (that settle wait is subtracted).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.server import Server  # noqa: E402
from tests.postgres import free_port  # noqa: E402

SETTLE = 0.3
BARE = str(HERE.relative_to(HERE.parent) / "bare_page.py")
TIMEOUT = 60_000
# the Plotly charts the page a marker names draws (KPIs: the trend; Experiments: the forest
# plot, the cumulative lift and the daily values; Budget: the moves and the curves)
CHARTS = {
    "Bare page": 1,
    "Breakdown": 1,
    "Spend by week": 1,
    "chance B is better": 3,
    "sequential": 3,
    "Read before acting": 2,
}


def _idle(page, marker: str) -> None:
    """Wait until ``marker`` is visible, the page's charts are all there and drawn, and the
    app has been idle a while. The count matters: Streamlit loads Plotly's code when a page
    first has a chart, and until then the chart is not in the page at all."""
    page.get_by_text(marker).first.wait_for(timeout=TIMEOUT)
    page.wait_for_function(
        "n => { const c = [...document.querySelectorAll('[data-testid=stPlotlyChart]')];"
        " return c.length >= n && c.every(x => x.querySelector('.main-svg')); }",
        arg=CHARTS.get(marker, 0),
        timeout=TIMEOUT,
    )
    quiet_since = None
    while True:
        running = page.query_selector("[data-testid=stStatusWidget]") is not None
        now = time.perf_counter()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= SETTLE:
            return
        time.sleep(0.01)


def _timed(page, action, marker: str) -> float:
    start = time.perf_counter()
    action()
    _idle(page, marker)
    return time.perf_counter() - start - SETTLE


def _nav(page, name: str):
    return lambda: page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()


def _pick(page, dataset: str, marker: str) -> None:
    """Choose a dataset in the sidebar (not timed)."""
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Dataset")
    picker.click()
    page.get_by_role("option", name=dataset).click()
    _idle(page, marker)


def _new_page(browser):
    return browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()


def bare_run(browser, tmp: Path) -> dict[str, float]:
    """The floor: the bare page's first visitor after a start, and a first visit after."""
    times: dict[str, float] = {}
    bare = Server(tmp / "bare.sqlite", tmp / "bare.log", free_port(), script=BARE)
    with bare as server:
        for what in ("bare page: first visitor", "bare page: first visit"):
            page = _new_page(browser)
            times[what] = _timed(page, partial(page.goto, server.url + "/"), "Bare page")
            page.context.close()
    return times


def one_run(browser, tmp: Path) -> dict[str, float]:
    times = bare_run(browser, tmp)
    with Server(tmp / "ws.sqlite", tmp / "server.log", free_port()) as server:
        first = _new_page(browser)
        times["first visitor"] = _timed(first, lambda: first.goto(server.url + "/"), "Breakdown")
        page = _new_page(browser)
        times["first visit"] = _timed(page, lambda: page.goto(server.url + "/"), "Breakdown")
        again = page.context.new_page()  # a new workspace, the browser's cache warm
        times["first visit, cached"] = _timed(
            again, lambda: again.goto(server.url + "/"), "Breakdown"
        )
        again.close()
        times["reload"] = _timed(page, page.reload, "Breakdown")
        times["KPIs: trend by week"] = _timed(
            page,
            lambda: page.get_by_test_id("stButtonGroup").get_by_text("week", exact=True).click(),
            "Spend by week",
        )
        _pick(page, "Sample A/B test (campaign)", "Breakdown")
        times["Experiments"] = _timed(page, _nav(page, "Experiments"), "chance B is better")
        page.get_by_text("Settings: significance").click()
        times["Experiments: sequential on"] = _timed(
            page, lambda: page.get_by_text("Peeking-safe (sequential)").click(), "sequential"
        )
        _pick(page, "Sample campaigns", "Power planner")
        times["Budget"] = _timed(page, _nav(page, "Budget"), "Read before acting")
        times["KPIs"] = _timed(page, _nav(page, "KPIs"), "Breakdown")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(one_run(browser, Path(tmp)))
        browser.close()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(table(runs))


def table(runs: list[dict[str, float]]) -> str:
    """Medians over the runs, each with its ratio to the bare page's (see the docstring)."""
    median = {what: statistics.median(r[what] for r in runs) for what in runs[0]}
    lines = [f"{'what':>28} {'median s':>9} {'x bare':>7} {'runs':>24}"]
    for what, value in median.items():
        floor = median["bare page: first " + ("visitor" if what == "first visitor" else "visit")]
        shown = " ".join(f"{r[what]:.2f}" for r in runs)
        lines.append(f"{what:>28} {value:>9.2f} {value / floor:>7.2f} {shown:>24}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
