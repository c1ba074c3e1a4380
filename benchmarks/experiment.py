"""An experiment over many user rows: KPI Lab (one DuckDB query + the tests) next to pandas +
scipy on the same data, plain and with capping, CUPED and a segment column.

    python benchmarks/experiment.py              # 1M and 10M users
    python benchmarks/experiment.py --rows 2M    # other sizes

The users (user_id, date, variant, converted, revenue, pre_revenue, device; 50/50, 5% vs 5.5%
conversion; pre_revenue correlated with revenue) are written by DuckDB to a Parquet file and
imported once; the timings are the analysis only: conversion rate and revenue per user,
control vs treatment, with SRM and Holm correction. "+methods" adds a p99 cap on revenue per
user, CUPED with pre_revenue and results per device. "events" is the same data as rows: half
as many users, each with a test row and a row 1-14 days before it (no variant) holding the
pre-test revenue; "+cuped-rows" caps, segments and takes CUPED from those rows. pandas
reads the same Parquet file and runs scipy's tests (z test, Welch), and for "+methods"
numpy's percentile, the CUPED adjustment and the same tests per device.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
DATA = HERE / ".data"


def make_users(rows: int) -> Path:
    import duckdb

    DATA.mkdir(exist_ok=True)
    path = DATA / f"users_methods_{rows}.parquet"
    if not path.exists():
        con = duckdb.connect()
        con.execute("SELECT setseed(0.7)")
        con.execute(f"""COPY (
            SELECT 'u' || i AS user_id, DATE '2026-01-01' + CAST(i % 28 AS INTEGER) AS date,
                   CASE WHEN random() < 0.5 THEN 'control' ELSE 'treatment' END AS variant,
                   -ln(random()) AS propensity,
                   CASE WHEN random() < 0.55 THEN 'mobile'
                        WHEN random() < 0.8 THEN 'desktop' ELSE 'tablet' END AS device
            FROM range({rows}) t(i)) TO '{path}.tmp' (FORMAT parquet)""")
        con.execute(f"""COPY (
            SELECT user_id, date, variant, c AS converted,
                   CASE WHEN c = 1 THEN round(propensity * (20 + 60 * random()), 2)
                        ELSE 0 END AS revenue,
                   round(propensity * 30 * (0.5 + random()), 2) AS pre_revenue, device
            FROM (SELECT *,
                  CAST(random() < CASE WHEN variant = 'control' THEN 0.05 ELSE 0.055 END
                       AS INTEGER) AS c
                  FROM read_parquet('{path}.tmp'))) TO '{path}' (FORMAT parquet)""")
        Path(f"{path}.tmp").unlink()
    return path


def make_events(rows: int) -> Path:
    """The users' file as events: each user's test row plus one row 1-14 days before the test
    (no variant yet) holding their pre-test revenue, so rows = 2 x users."""
    import duckdb

    users = make_users(rows // 2)
    path = DATA / f"events_{rows}.parquet"
    if not path.exists():
        duckdb.connect().execute(f"""COPY (
            SELECT user_id, date, variant, converted, revenue, device
            FROM read_parquet('{users}')
            UNION ALL
            SELECT user_id, date - CAST(1 + hash(user_id) % 14 AS INTEGER), NULL, 0,
                   pre_revenue, device
            FROM read_parquet('{users}')) TO '{path}' (FORMAT parquet)""")
    return path


def run_kpilab(path: Path, methods: str | None = None) -> dict:
    from kpi_engine.experiments.analysis import run_experiment
    from kpi_engine.experiments.spec import ExperimentSpec
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store

    extra: dict = {}
    if methods:
        extra = {"caps": (("revenue_per_user", "p99"),), "segment_col": "device"}
    if methods == "column":
        extra["covariates"] = (("revenue_per_user", "pre_revenue"),)
    elif methods == "rows":
        extra["cuped"] = True
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ws.sqlite")
        dataset = import_file(store, path).dataset
        spec = ExperimentSpec(
            dataset.dataset_id,
            "variant",
            "control",
            ("conversion_rate", "revenue_per_user"),
            **extra,
        )
        start = time.perf_counter()
        result = run_experiment(store, dataset, spec)
        seconds = time.perf_counter() - start
        revenue = result.results[1]
    return {"seconds": seconds, "p_value": revenue.p_value, "reduction": revenue.variance_reduction}


def run_pandas_methods(path: Path) -> dict:
    """The same as KPI Lab's "+methods", written with pandas, numpy and scipy."""
    import numpy as np
    import pandas as pd
    from scipy import stats as st

    start = time.perf_counter()
    frame = pd.read_parquet(path)
    frame["revenue"] = frame["revenue"].clip(upper=np.percentile(frame["revenue"], 99))
    x, y = frame["pre_revenue"].to_numpy(), frame["revenue"].to_numpy()
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    frame["adjusted"] = y - theta * (x - x.mean())
    treated = frame["variant"] == "treatment"
    adjusted = frame.loc[treated, "adjusted"], frame.loc[~treated, "adjusted"]
    result = st.ttest_ind(*adjusted, equal_var=False)
    for _, part in frame.groupby("device"):
        arm = part["variant"] == "treatment"
        st.ttest_ind(part.loc[arm, "adjusted"], part.loc[~arm, "adjusted"], equal_var=False)
        conv = part.groupby("variant")["converted"].agg(["sum", "count"])
        st.chi2_contingency(np.column_stack([conv["sum"], conv["count"] - conv["sum"]]))
    reduction = 1 - frame["adjusted"].var() / frame["revenue"].var()
    return {
        "seconds": time.perf_counter() - start,
        "p_value": float(result.pvalue),
        "reduction": float(reduction),
    }


def run_pandas(path: Path) -> dict:
    import numpy as np
    import pandas as pd
    from scipy import stats as st

    start = time.perf_counter()
    frame = pd.read_parquet(path)
    arms = frame.groupby("variant")
    n = arms.size()
    conv = arms["converted"].sum()
    pooled = conv.sum() / n.sum()
    se = np.sqrt(pooled * (1 - pooled) * (1 / n["control"] + 1 / n["treatment"]))
    z = (conv["treatment"] / n["treatment"] - conv["control"] / n["control"]) / se
    2 * st.norm.sf(abs(z))
    welch = st.ttest_ind(
        frame.loc[frame.variant == "treatment", "revenue"],
        frame.loc[frame.variant == "control", "revenue"],
        equal_var=False,
    )
    st.chisquare(n.values)
    return {"seconds": time.perf_counter() - start, "p_value": float(welch.pvalue)}


METHODS = {
    "kpilab": run_kpilab,
    "pandas": run_pandas,
    "kpilab+methods": lambda path: run_kpilab(path, methods="column"),
    "pandas+methods": run_pandas_methods,
}
EVENT_METHODS = {
    "kpilab": run_kpilab,
    "kpilab+cuped-rows": lambda path: run_kpilab(path, methods="rows"),
}


def worker(method: str, path: Path) -> None:
    result = (EVENT_METHODS if "events" in path.name else METHODS)[method](path)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", action="append", default=[], help="sizes, e.g. 2M")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    from ingest import parse_rows

    sizes = [parse_rows(r) for r in args.rows] or [1_000_000, 10_000_000]
    print(
        f"{'rows':>11} {'data':>6} {'method':>17} {'seconds':>8} {'peak RSS MB':>12}"
        f" {'p (revenue)':>12} {'var. reduction':>15}"
    )
    for rows in sizes:
        for data, path, methods in (
            ("users", make_users(rows), METHODS),
            ("events", make_events(rows), EVENT_METHODS),
        ):
            for method in methods:
                _measure(rows, data, method, path)


def _measure(rows: int, data: str, method: str, path: Path) -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    reduction = r.get("reduction")
    print(
        f"{rows:>11,} {data:>6} {method:>17} {r['seconds']:>8.3f} {r['peak_mb']:>12.0f}"
        f" {r['p_value']:>12.6g} {'' if reduction is None else f'{reduction:.1%}':>15}",
        flush=True,
    )


if __name__ == "__main__":
    main()
