"""How fast a stakeholder's shared view renders over a large dataset.

    python benchmarks/shared_view.py             # 1M rows
    python benchmarks/shared_view.py --rows 10M

A campaign CSV (from ingest.py's generator) is imported, a KPIs view (5 KPIs, by campaign,
by day) is shared, and the shared page is rendered in AppTest. A link holds the result its
owner saw, so no visit queries the rows: each reads the link's JSON and draws it.
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="1M")
    args = parser.parse_args()
    from ingest import make_csv, parse_rows
    from streamlit.testing.v1 import AppTest

    from kpi_engine.ingest import import_file
    from kpi_engine.kpis.spec import default_spec
    from kpi_engine.sharing.links import create_share
    from kpi_engine.store import Store

    rows = parse_rows(args.rows)
    csv = make_csv(rows)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ws.sqlite")
        store = Store(db)
        dataset = import_file(store, csv).dataset
        link = create_share(store, default_spec(dataset), title="benchmark")
        store.close()
        os.environ["KPILAB_DB"] = db
        print(f"{'rows':>11} {'visit':>7} {'seconds':>8}")
        for visit in ("first", "second"):
            at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=120)
            at.query_params["token"] = link["token"]
            at.run()
            start = time.perf_counter()
            at.switch_page("pages/shared.py").run()
            seconds = time.perf_counter() - start
            assert not at.exception and at.metric, at.exception
            print(f"{rows:>11,} {visit:>7} {seconds:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
