"""The engine's analysis SQL (DuckDB's dialect, as ``aggregate_sql`` writes it) in another
engine's dialect, by SQLGlot. A construct the target cannot express is an error, never a
silent approximation; positional ``?`` parameters stay parameters.

Differences mended here rather than left to the reader:
- weeks start on Monday in DuckDB, Spark and Snowflake (by default), on Sunday in BigQuery,
  so BigQuery is told ``WEEK(MONDAY)``;
- an exact percentile (``percentile_cont(p) WITHIN GROUP (ORDER BY x)``, the experiments'
  percentile caps) becomes Spark's exact ``percentile(x, p)``: SQLGlot would write
  ``PERCENTILE_APPROX``, an approximation. BigQuery has no exact percentile aggregate (its
  ``PERCENTILE_CONT`` is a window function), so there it is an error."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from kpi_engine.errors import KpiLabError

DIALECTS = ("spark", "databricks", "bigquery", "snowflake")


def translate(sql: str, dialect: str, tables: dict[str, str] | None = None) -> str:
    """``sql`` written for ``dialect``, with each table named in ``tables`` read from the
    name it maps to; a KpiLabError where it cannot be."""
    if dialect not in DIALECTS:
        raise KpiLabError(f"{dialect!r} is not an engine: use one of {', '.join(DIALECTS)}")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb").transform(_exact_percentile, dialect)
        if tables:
            tree = tree.transform(_renamed, tables)
        if dialect == "bigquery":
            tree = tree.transform(_weeks_from_monday)
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise KpiLabError(f"this analysis cannot run on {dialect}: {exc}") from None


def _renamed(node: exp.Expression, tables: dict[str, str]) -> exp.Expression:
    if isinstance(node, exp.Table) and not node.args.get("db") and node.name in tables:
        node.set("this", exp.to_identifier(tables[node.name], quoted=True))
    return node


def _weeks_from_monday(node: exp.Expression) -> exp.Expression:
    if (
        isinstance(node, (exp.DateTrunc, exp.TimestampTrunc))
        and node.text("unit").upper() == "WEEK"
    ):
        node.set("unit", exp.var("WEEK(MONDAY)"))
    return node


def _exact_percentile(node: exp.Expression, dialect: str) -> exp.Expression:
    if not (isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont)):
        return node
    if dialect == "bigquery":
        raise KpiLabError(
            "this analysis cannot run on bigquery: it has no exact percentile aggregate"
            " (percentile caps need one)"
        )
    if dialect in ("spark", "databricks"):
        (ordered,) = node.expression.expressions
        return exp.Anonymous(this="percentile", expressions=[ordered.this, node.this.this])
    return node
