"""Peak memory of the upload path for a large CSV (~500 MB).

    python benchmarks/upload_memory.py            # engine path and real server
    python benchmarks/upload_memory.py --rows 10M # another size (about 95 MB a million rows)

Two measurements of the same file:

  engine   a fresh process does what the Data page does: holds the upload's bytes (as
           Streamlit does), writes them to a temporary file (`spool_upload`), lets go of them
           (the page empties the uploader, so Streamlit frees them), and runs `import_file`.
  server   a real `streamlit run app.py`; Chromium (Playwright) uploads the file on the Data
           page and clicks Import. The server's peak RSS is its VmHWM from /proc. Needs
           Debian's chromium and playwright; skipped otherwise.

Printed: file size, seconds, the process's RSS before the upload, its peak, and the peak over
that baseline as a multiple of the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(HERE))
from tests.e2e.server import Server, status_mb  # noqa: E402

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
PORT = 8597


def engine_worker(csv: Path) -> None:
    from kpi_engine.ingest import import_file
    from kpi_engine.ingest.source import spool_upload
    from kpi_engine.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KPILAB_SPOOL_DIR"] = str(Path(tmp) / "spool")
        store = Store(Path(tmp) / "ws.sqlite")
        baseline = status_mb("self")
        upload = csv.read_bytes()
        start = time.perf_counter()
        path = spool_upload(memoryview(upload), csv.name, "benchmark-session-0001")
        del upload
        result = import_file(store, path, source_name=csv.name)
        seconds = time.perf_counter() - start
        path.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": result.dataset.rows,
                "seconds": seconds,
                "baseline_mb": baseline,
                "peak_mb": peak,
            }
        )
    )


def measure_engine(csv: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(csv)], capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"the engine worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_server(csv: Path) -> dict | None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        return None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "ws.sqlite", Path(tmp) / "server.log", PORT)
        with server:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"]
                )
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{PORT}/data")
                page.get_by_text("Campaign file").wait_for(timeout=60_000)
                baseline = status_mb(server.proc.pid)
                start = time.perf_counter()
                page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
                    str(csv)
                )
                page.get_by_text("Check the columns of").wait_for(timeout=600_000)
                page.get_by_role("button", name="Import", exact=True).click()
                expect(page.get_by_text("Imported").first).to_be_visible(timeout=600_000)
                seconds = time.perf_counter() - start
                peak = status_mb(server.proc.pid, "VmHWM")
                browser.close()
    return {"seconds": seconds, "baseline_mb": baseline, "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="5.3M", help="rows in the CSV (5.3M is about 500 MB)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine_worker(Path(args.worker))
        return
    from ingest import make_csv, parse_rows

    csv = make_csv(parse_rows(args.rows))
    size_mb = csv.stat().st_size / 1e6
    print(
        f"{'path':>7} {'file MB':>8} {'seconds':>8} {'baseline RSS MB':>16} {'peak RSS MB':>12}"
        f" {'peak - baseline MB':>19} {'/ file':>7}"
    )
    for name, measure in (("engine", measure_engine), ("server", measure_server)):
        r = measure(csv)
        if r is None:
            print(f"{name:>7} skipped: needs playwright and Chromium at {CHROMIUM}")
            continue
        extra = r["peak_mb"] - r["baseline_mb"]
        print(
            f"{name:>7} {size_mb:>8.0f} {r['seconds']:>8.2f} {r['baseline_mb']:>16.0f}"
            f" {r['peak_mb']:>12.0f} {extra:>19.0f} {extra / size_mb:>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
