"""How fast, and in how little memory, the import refuses a file that stands for a huge one
(issue 24's bombs), under the default caps (20M rows, 2048 MB uncompressed).

    python benchmarks/bombs.py              # three runs each; medians
    python benchmarks/bombs.py --repeat 5

Each row is `python -m kpi_engine import FILE` in a fresh process: its wall time and its own
peak memory (VmHWM). The floor is the same command importing a 5-row CSV: the interpreter
and libraries starting, which every refusal pays too, so "x floor" is what refusing adds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from tests.bombs import BOMBS, import_in_a_process  # noqa: E402

TINY = PROJECT / "tests" / "fixtures" / "tiny_campaigns.csv"


def measure(folder: Path, file: Path, repeat: int) -> tuple[float, float, str]:
    runs = []
    for i in range(repeat):
        work = folder / f"run{i}"
        work.mkdir()
        code, err, peak, seconds = import_in_a_process(work, file)
        runs.append((seconds, peak, err.strip() if code else "imported"))
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        runs[-1][2],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = []
        (folder / "floor").mkdir()
        floor, floor_mb, _ = measure(folder / "floor", TINY, args.repeat)
        rows.append(("floor: a 5-row CSV", TINY.stat().st_size, floor, floor_mb, "imported"))
        for kind, make in BOMBS.items():
            (folder / kind).mkdir()
            bomb = make(folder / kind)
            seconds, peak, said = measure(folder / kind, bomb, args.repeat)
            rows.append((kind, bomb.stat().st_size, seconds, peak, said))
    print("| file | size MB | seconds | x floor | peak RSS MB | what it said |")
    print("|---|---:|---:|---:|---:|---|")
    for name, size, seconds, peak, said in rows:
        print(
            f"| {name} | {size / 1e6:.2f} | {seconds:.2f} | {seconds / floor:.1f} |"
            f" {peak:.0f} | {said[:110]} |"
        )


if __name__ == "__main__":
    main()
