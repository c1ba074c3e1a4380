"""What ten read-only links to one large dataset cost: database bytes and seconds per link.

    python benchmarks/share_size.py               # 10M rows (about 1 GB of CSV, made once)
    python benchmarks/share_size.py --rows 1M

ingest.py's ad group x device x day export is imported into a database file. Then ten links to
the KPIs page's first view (five KPIs, a breakdown by campaign, a daily trend) are made, and
the file is measured after a CHECKPOINT. A link stores its spec and its result (JSON). For
comparison the same is done the way links worked before (each link kept a copy of the rows:
``CREATE TABLE snapshot AS SELECT * FROM dataset``, the statement the previous version ran).
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

LINKS = 10


def _size(store, path: Path) -> int:
    with store.cursor() as cur:
        cur.execute("CHECKPOINT")
    return path.stat().st_size + (
        os.path.getsize(f"{path}.wal") if Path(f"{path}.wal").exists() else 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="10M")
    args = parser.parse_args()
    from ingest import make_csv, parse_rows

    from kpi_engine.identifiers import quote_identifier
    from kpi_engine.ingest import import_file
    from kpi_engine.kpis.spec import default_spec
    from kpi_engine.sharing.links import create_share
    from kpi_engine.store import Store

    rows = parse_rows(args.rows)
    csv = make_csv(rows)
    print(
        f"{'rows':>11} {'links':>6} {'how':>25} {'MB added':>9} {'KB a link':>10} {'s a link':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.duckdb"
        store = Store(path)
        dataset = import_file(store, csv).dataset
        spec = default_spec(dataset)
        before = _size(store, path)
        start = time.perf_counter()
        for i in range(LINKS):
            create_share(store, spec, title=f"link {i}")
        seconds = (time.perf_counter() - start) / LINKS
        added = _size(store, path) - before
        with store.cursor() as cur:
            stored = cur.execute(
                "SELECT avg(length(state) + length(result)) FROM shares"
            ).fetchone()
        print(
            f"{rows:>11,} {LINKS:>6} {'spec + result (now)':>25} {added / 1e6:>9.2f}"
            f" {stored[0] / 1e3:>10.1f} {seconds:>9.3f}"
        )
        before = _size(store, path)
        start = time.perf_counter()
        with store.cursor() as cur:
            for i in range(LINKS):
                cur.execute(
                    f"CREATE TABLE {quote_identifier(f'snap_{i}')} AS SELECT * FROM {dataset.table}"
                )
        seconds = (time.perf_counter() - start) / LINKS
        added = _size(store, path) - before
        print(
            f"{rows:>11,} {LINKS:>6} {'copy of the rows (before)':>25} {added / 1e6:>9.2f}"
            f" {added / LINKS / 1e3:>10.1f} {seconds:>9.3f}"
        )
        store.close()


if __name__ == "__main__":
    main()
