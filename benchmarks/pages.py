"""Render time of each page in AppTest on a large campaign dataset.

    python benchmarks/pages.py              # 1M rows
    python benchmarks/pages.py --rows 10M

The CSV from ingest.py's generator is imported into a workspace; each page is then rendered
twice: a first visit (queries run) and a rerun (the KPI queries come from the cache keyed by
workspace, dataset, version and query).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
PAGES = ("pages/kpis.py", "pages/budget.py", "pages/data.py", "pages/experiments.py")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="1M")
    args = parser.parse_args()
    from ingest import make_csv, parse_rows
    from streamlit.testing.v1 import AppTest

    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store
    from kpi_engine.workspaces import create_workspace

    rows = parse_rows(args.rows)
    csv = make_csv(rows)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ws.duckdb")
        root = Store(db)
        store, token = create_workspace(root)
        dataset = import_file(store, csv, name="big").dataset
        root.close()
        os.environ["KPILAB_DB"] = db
        print(f"{'rows':>11} {'page':>22} {'first s':>8} {'rerun s':>8}")
        for page in PAGES:
            at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=300)
            at.query_params["ws"] = token
            at.query_params["dataset"] = dataset.dataset_id
            at.run()
            start = time.perf_counter()
            at.switch_page(page).run()
            first = time.perf_counter() - start
            start = time.perf_counter()
            at.run()
            again = time.perf_counter() - start
            assert not at.exception, at.exception
            print(f"{rows:>11,} {page:>22} {first:>8.2f} {again:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
