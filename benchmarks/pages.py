"""Render time of each page, and of changing its settings, in AppTest on large datasets.

    python benchmarks/pages.py              # 1M rows
    python benchmarks/pages.py --rows 10M

Two datasets of that many rows are imported into a workspace: ingest.py's campaign CSV (ad
group x device x day) for the KPIs, Budget and Data pages, and experiment.py's user-level
A/B file for the Experiments page. Each page is visited (first visit: its queries run), run
again (rerun: results come from the cache keyed by workspace, dataset version and question),
then each of a few settings is changed, as a user would, and timed until the page is drawn.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _interactions(page: str, campaigns: str, users: str) -> list[tuple[str, callable]]:
    """(what the user does, how AppTest does it) for each page."""
    if page == "pages/kpis.py":

        def narrower_dates(at):
            start, end = at.date_input(key=f"dates_{campaigns}").value
            return at.date_input(key=f"dates_{campaigns}").set_value((end - timedelta(29), end))

        return [
            (
                "break down by channel",
                lambda at: at.selectbox(key=f"by_{campaigns}").set_value("channel"),
            ),
            ("last 30 days", narrower_dates),
            ("KPIs: add CPC", lambda at: at.multiselect(key=f"kpis_{campaigns}").select("cpc")),
        ]
    if page == "pages/budget.py":
        return [
            ("max change 50%", lambda at: at.slider(key=f"bmax_{campaigns}").set_value(50)),
            ("window 60 days", lambda at: at.number_input(key=f"bwin_{campaigns}").set_value(60)),
        ]
    if page == "pages/experiments.py":
        return [
            ("sequential on", lambda at: at.toggle(key=f"xseq_{users}").set_value(True)),
            ("correction: none", lambda at: at.radio(key=f"xcor_{users}").set_value("none")),
        ]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="1M")
    args = parser.parse_args()
    from experiment import make_users
    from ingest import make_csv, parse_rows
    from streamlit.testing.v1 import AppTest

    from kpi_engine.ingest import import_file
    from kpi_engine.store import DEFAULT_WORKSPACE, Store

    rows = parse_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ws.sqlite")
        root = Store(db)
        store = root.for_workspace(DEFAULT_WORKSPACE)  # the local install's one workspace
        campaigns = import_file(store, make_csv(rows), name="campaigns").dataset.dataset_id
        users = import_file(store, make_users(rows), name="users").dataset.dataset_id
        root.close()
        os.environ["KPILAB_DB"] = db
        print(f"{'rows':>11} {'page':>12} {'action':>24} {'seconds':>8}")
        for page in ("pages/kpis.py", "pages/budget.py", "pages/data.py", "pages/experiments.py"):
            at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=300)
            at.query_params["dataset"] = users if "experiments" in page else campaigns
            at.run()
            steps = [
                ("first visit", lambda at, page=page: at.switch_page(page)),
                ("rerun", lambda at: at),
            ]
            for action, change in steps + _interactions(page, campaigns, users):
                start = time.perf_counter()
                change(at).run()
                seconds = time.perf_counter() - start
                assert not at.exception, at.exception
                name = Path(page).stem
                print(f"{rows:>11,} {name:>12} {action:>24} {seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
