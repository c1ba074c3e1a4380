"""The engine's analysis SQL (DuckDB's dialect, as ``aggregate_sql`` writes it) in another
engine's dialect, by SQLGlot. A construct the target cannot express is an error, never a
silent approximation; positional ``?`` parameters stay parameters."""

from __future__ import annotations

import sqlglot
from sqlglot.errors import ErrorLevel, SqlglotError

from kpi_engine.errors import KpiLabError

DIALECTS = ("spark", "databricks", "bigquery", "snowflake")


def translate(sql: str, dialect: str) -> str:
    """``sql`` written for ``dialect``; a KpiLabError where it cannot be."""
    if dialect not in DIALECTS:
        raise KpiLabError(f"{dialect!r} is not an engine: use one of {', '.join(DIALECTS)}")
    try:
        (out,) = sqlglot.transpile(
            sql, read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE
        )
    except SqlglotError as exc:
        raise KpiLabError(f"this analysis cannot run on {dialect}: {exc}") from None
    return out
