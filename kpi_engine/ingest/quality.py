"""The data-quality report of a stored dataset: counts over its table, each with examples.

Every check is a warning, never a silent fix: the rows stay as the platform exported them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import pandas as pd

from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.roles import METRIC_ROLES, normalise

EXAMPLES = 3
# exported ratio header → (numerator role, denominator role, scale)
RATIO_COLUMNS = {
    "ctr": ("clicks", "impressions", 1),
    "click through rate": ("clicks", "impressions", 1),
    "interaction rate": ("clicks", "impressions", 1),
    "avg cpc": ("spend", "clicks", 1),
    "cpc": ("spend", "clicks", 1),
    "cost per click": ("spend", "clicks", 1),
    "avg cost": ("spend", "clicks", 1),
    "average cpc": ("spend", "clicks", 1),
    "avg cpm": ("spend", "impressions", 1000),
    "cpm": ("spend", "impressions", 1000),
    "cost conv": ("spend", "conversions", 1),
    "cost per conversion": ("spend", "conversions", 1),
    "cpa": ("spend", "conversions", 1),
    "cost per result": ("spend", "conversions", 1),
    "conv rate": ("conversions", "clicks", 1),
    "conversion rate": ("conversions", "clicks", 1),
    "conv value cost": ("revenue", "spend", 1),
    "roas": ("revenue", "spend", 1),
    "return on ad spend": ("revenue", "spend", 1),
}


def warning(code: str, count: int, message: str, examples: list | None = None) -> dict:
    return {
        "code": code,
        "count": int(count),
        "message": message,
        "examples": [_plain(e) for e in (examples or [])][:EXAMPLES],
    }


def _plain(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def row_checks(dataset: Dataset) -> list[tuple[str, str, str]]:
    """(code, SQL condition, message) for the row-level checks this dataset allows."""
    roles = {role: q(col) for role, col in dataset.roles.items()}
    checks = [
        (f"missing_{role}", f"{col} IS NULL", f"rows with no {role} value")
        for role, col in roles.items()
        if role in METRIC_ROLES
    ]
    if "spend" in roles:
        checks.append(("negative_spend", f"{roles['spend']} < 0", "rows with negative spend"))
    if "clicks" in roles and "impressions" in roles:
        checks.append(
            (
                "clicks_over_impressions",
                f"{roles['clicks']} > {roles['impressions']}",
                "rows with more clicks than impressions",
            )
        )
    if "conversions" in roles and "clicks" in roles:
        checks.append(
            (
                "conversions_over_clicks",
                f"{roles['conversions']} > {roles['clicks']}",
                "rows with more conversions than clicks (view-through conversions can"
                " explain it; check the attribution setting)",
            )
        )
    if "date" in roles:
        checks.append(
            (
                "missing_date",
                f"{roles['date']} IS NULL",
                "rows without a readable date (left out of date filters and trends)",
            )
        )
    for column in dataset.columns:
        spec = RATIO_COLUMNS.get(normalise(column.name))
        if column.role or column.type != "DOUBLE" or not spec:
            continue
        num, den, scale = spec
        if num in roles and den in roles:
            exported, recomputed = q(column.name), f"{roles[num]} / {roles[den]} * {scale}"
            checks.append(
                (
                    f"ratio_mismatch:{column.name}",
                    f"{roles[den]} > 0 AND {exported} IS NOT NULL AND"
                    f" abs({exported} - {recomputed}) > 0.006 + 0.02 * abs({recomputed})",
                    f"rows where the exported {column.name!r} disagrees with {num} / {den}"
                    f"{' x ' + str(scale) if scale != 1 else ''} (KPIs use the base columns)",
                )
            )
    return checks


def quality_warnings(cur: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[dict]:
    checks = row_checks(dataset)
    found: list[dict] = []
    if checks:
        counts_sql = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks)
        counts = cur.execute(f"SELECT {counts_sql} FROM {dataset.table}").fetchone()
        for (code, cond, text), n in zip(checks, counts, strict=True):
            if n:
                rows = cur.execute(
                    f"SELECT * FROM {dataset.table} WHERE {cond} ORDER BY rowid LIMIT {EXAMPLES}"
                ).fetchall()
                found.append(
                    warning(code.split(":")[0], n, f"{n:,} {text}", [list(r) for r in rows])
                )
    found += _all_zero(cur, dataset)
    found += _duplicates(cur, dataset)
    found += _date_gaps(cur, dataset)
    found += _currencies(dataset)
    return found


def counted_warnings(dataset: Dataset, query: Callable[[str], pd.DataFrame]) -> list[dict]:
    """The import's row checks and exact duplicates, as counts from aggregate queries that
    ``query`` runs on the dataset's own engine (an attached lake table): no examples, since
    such a table has no row order to pick them by. Counting copies compares whole rows, a
    shuffle of the table: where that fails (past the engine's deadline on a huge table) the
    report says copies were not counted, and the attach goes on."""
    checks = row_checks(dataset)
    out = []
    if checks:
        counts = ", ".join(f"count(*) FILTER (WHERE {condition})" for _, condition, _ in checks)
        found = query(f"SELECT {counts} FROM {dataset.table}").iloc[0].tolist()
        out = [
            warning(code.split(":")[0], int(n), f"{int(n):,} {text}")
            for (code, _, text), n in zip(checks, found, strict=True)
            if n
        ]
    columns = ", ".join(q(c.name) for c in dataset.columns)
    distinct = f"SELECT count(*) FROM (SELECT DISTINCT {columns} FROM {dataset.table}) AS d"
    try:
        copies = int(query(f"SELECT count(*) - ({distinct}) FROM {dataset.table}").iloc[0, 0])
    except KpiLabError as exc:
        out.append(warning("duplicates_not_counted", 0, f"exact copies were not counted: {exc}"))
        return out
    if copies:
        out.append(_duplicate_warning(copies))
    return out


def _all_zero(cur: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[dict]:
    """Every metric 0 on every row: a paused account, a filter or the wrong date range in the
    export, which would otherwise pass as a real week of nothing."""
    metrics = [col for role, col in dataset.roles.items() if role in METRIC_ROLES]
    if not metrics or not dataset.rows:
        return []
    nonzero = " OR ".join(f"coalesce({q(col)}, 0) <> 0" for col in metrics)
    (any_value,) = cur.execute(f"SELECT bool_or({nonzero}) FROM {dataset.table}").fetchone()
    if any_value:
        return []
    return [
        warning(
            "all_zero",
            dataset.rows,
            f"every metric ({', '.join(metrics)}) is 0 on all {dataset.rows:,} rows: was the"
            " account paused, or the export filtered or set to the wrong dates? Export it again",
        )
    ]


def _duplicates(cur: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[dict]:
    """Rows equal to another row, found by sorting the rows' hashes: a sort of 10M integers
    takes half the time of DuckDB's distinct count over them."""
    cols = ", ".join(q(c.name) for c in dataset.columns)
    n = cur.execute(
        "SELECT count(*) FILTER (WHERE h = previous) FROM ("
        " SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM ("
        f"  SELECT hash({cols}) AS h FROM {dataset.table}))"
    ).fetchone()[0]
    return [_duplicate_warning(n)] if n else []


def _duplicate_warning(n: int) -> dict:
    return warning(
        "duplicate_rows",
        n,
        f"{n:,} rows are exact copies of another row (kept;"
        " delete them in the source if they were exported twice)",
    )


def _date_gaps(cur: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[dict]:
    if not dataset.date_column:
        return []
    col = q(dataset.date_column)
    days = [
        r[0]
        for r in cur.execute(
            f"SELECT DISTINCT {col} FROM {dataset.table} WHERE {col} IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    if len(days) < 3:
        return []
    steps = Counter((b - a).days for a, b in zip(days, days[1:], strict=False))
    step = min(steps, key=lambda d: (-steps[d], d))  # the most common gap; ties: the shortest
    if step not in (1, 7):
        return []
    present = set(days)
    missing = []
    day = days[0]
    while day < days[-1]:
        day += timedelta(days=step)
        if day not in present and day < days[-1]:
            missing.append(day)
    if not missing:
        return []
    unit = "days" if step == 1 else "weeks"
    return [
        warning(
            "date_gaps",
            len(missing),
            f"{len(missing):,} {unit} between {days[0]} and {days[-1]} have no rows",
            missing,
        )
    ]


def _currencies(dataset: Dataset) -> list[dict]:
    if len(dataset.currencies) <= 1:
        return []
    listed = ", ".join(dataset.currencies)
    return [
        warning(
            "multiple_currencies",
            len(dataset.currencies),
            f"money is in {len(dataset.currencies)} currencies ({listed}): KPIs are split"
            " by currency and never summed across them",
            list(dataset.currencies),
        )
    ]
