"""Every query an analysis runs, in one place: KPIs become aggregate SQL here for the KPIs view,
the experiments and the budget, so that only small aggregates ever leave the database.

- ``kpi_sql``: KPIs from their catalog formulas, as totals, by dimensions and by period (the
  KPIs view; the budget's daily spend and outcome per campaign).
- ``arm_sums_sql`` and ``variant_totals_sql``: an experiment's sufficient statistics (n, Σm,
  Σm², Σd, Σd², Σm·d per variant and day, over randomisation units).
- ``date_range_sql``, ``distinct_sql``, ``shared_units_sql``: what the pages and checks ask.

Only names from the dataset's registry become SQL, always quoted; dates, filter values and
limits are bound parameters. The SQL is kept portable (no SELECT alias reused in WHERE,
typed literals) so the same text can be transpiled for another engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.kpis import formula as fx

if TYPE_CHECKING:
    from kpi_engine.kpis.catalog import Kpi
    from kpi_engine.store import Dataset

GRAINS = ("day", "week", "month")
PERIOD = "period"
ONE = "CAST(1 AS DOUBLE)"


@dataclass(frozen=True)
class Rows:
    """Which rows an analysis reads: dates (inclusive), filters on columns (values compared
    as text), one currency, and columns that must not be empty."""

    start: date | None = None
    end: date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None
    present: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """One KPI of an experiment per randomisation unit: a numerator m over a denominator d
    (d = 1 when ``den`` is None). ``binary``: m is 1 when the unit's numerator is above 0."""

    num: str
    den: str | None = None
    binary: bool = False


def column(dataset: Dataset, name: str, field: str = "by") -> str:
    """A column named by its name or by its role, or an error naming ``field``."""
    if name in dataset.column_names:
        return name
    if name in dataset.roles:
        return dataset.roles[name]
    raise KpiLabError(
        f"names no column {name!r} of dataset {dataset.name!r}: choose one of"
        f" {', '.join(dataset.dimensions) or '(no dimension columns)'}",
        field,
    )


def where_sql(dataset: Dataset, rows: Rows) -> tuple[str, list]:
    """`` WHERE ...`` (or nothing) and its parameters."""
    where: list[str] = []
    params: list = []
    if rows.start is not None or rows.end is not None:
        if not dataset.date_column:
            raise KpiLabError(
                f"cannot be set: dataset {dataset.name!r} has no date column", "start"
            )
        if rows.start and rows.end and rows.start > rows.end:
            raise KpiLabError(f"{rows.start} is after the end date {rows.end}", "start")
        day = q(dataset.date_column)
        if rows.start is not None:
            where.append(f"{day} >= ?")
            params.append(rows.start)
        if rows.end is not None:
            where.append(f"{day} <= ?")
            params.append(rows.end)
    for name in rows.present:
        where.append(f"{q(column(dataset, name))} IS NOT NULL")
    filters = list(rows.filters)
    if rows.currency is not None:
        if "currency" not in dataset.roles:
            raise KpiLabError(
                f"cannot be chosen: dataset {dataset.name!r} has no currency column", "currency"
            )
        filters.append(("currency", (rows.currency,)))
    for name, values in filters:
        col = q(column(dataset, name, "filters"))
        if not values:
            where.append("FALSE")
            continue
        where.append(f"CAST({col} AS VARCHAR) IN ({', '.join('?' for _ in values)})")
        params.extend(str(v) for v in values)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def kpi_expression(dataset: Dataset, kpi: Kpi) -> str:
    """A KPI's formula as one aggregate expression over the dataset's columns."""
    roles = dataset.roles
    numeric = numeric_columns(dataset)

    def column_sql(name: str) -> str:
        if name in roles:
            return q(roles[name])
        if name in numeric:
            return q(name)
        raise KpiLabError(
            f"KPI {kpi.id!r} needs the column {name!r}, which dataset {dataset.name!r} does not"
            f" have (it needs: {', '.join(kpi.requires)})",
            "kpis",
        )

    return fx.to_sql(fx.parse(kpi.formula), column_sql)


def numeric_columns(dataset: Dataset) -> set[str]:
    """Columns without a role that a formula may name: the numeric ones."""
    return {c.name for c in dataset.columns if c.role is None and _numeric(c.type)}


def _numeric(duck_type: str) -> bool:
    t = duck_type.upper()
    return (
        t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL"))
        or t.endswith("INT")
        or t in ("INTEGER", "BOOLEAN", "HUGEINT", "UHUGEINT")
    )


def period_expression(dataset: Dataset, grain: str) -> str:
    if grain not in GRAINS:
        raise KpiLabError(f"{grain!r} is not a grain: use one of {', '.join(GRAINS)}", "grain")
    if not dataset.date_column:
        raise KpiLabError(f"needs a date column, which dataset {dataset.name!r} lacks", "grain")
    return f"CAST(date_trunc('{grain}', {q(dataset.date_column)}) AS DATE)"


def kpi_sql(
    dataset: Dataset,
    kpis: Sequence[Kpi],
    by: Sequence[str] = (),
    grain: str | None = None,
    rows: Rows | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> tuple[str, list]:
    """KPIs as one aggregate: one row of totals, or a row per group (``by`` columns, and a
    leading ``period`` column for a ``grain``), ordered by the groups or, with ``sort``, by
    that KPI (largest first, n/a last); at most ``limit`` rows."""
    if not kpis:
        raise KpiLabError("choose at least one KPI")
    rows = rows or Rows()
    select: list[str] = []
    groups: list[str] = []
    if grain is not None:
        expr = period_expression(dataset, grain)
        select.append(f"{expr} AS {PERIOD}")
        groups.append(expr)
        rows = Rows(
            rows.start, rows.end, rows.filters, rows.currency, (*rows.present, dataset.date_column)
        )
    for name in by:
        col = q(column(dataset, name))
        select.append(f"{col} AS {q(name)}")
        groups.append(col)
    ids = [kpi.id for kpi in kpis]
    select += [f"{kpi_expression(dataset, kpi)} AS {q(kpi.id)}" for kpi in kpis]
    where, params = where_sql(dataset, rows)
    sql = f"SELECT {', '.join(select)} FROM {dataset.table}{where}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    if sort is not None:
        if sort not in ids:
            raise KpiLabError(f"{sort!r} is not one of the KPIs asked for", "sort")
        sql += f" ORDER BY {q(sort)} DESC NULLS LAST"
    elif groups:
        sql += f" ORDER BY {', '.join(groups)} NULLS LAST"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def date_range_sql(dataset: Dataset, rows: Rows | None = None) -> tuple[str, list]:
    """The first and the last day of the rows."""
    day = q(dataset.date_column)
    where, params = where_sql(dataset, rows or Rows())
    return f"SELECT min({day}) AS first_day, max({day}) AS last_day FROM {dataset.table}{where}", (
        params
    )


def days_sql(dataset: Dataset, rows: Rows) -> tuple[str, list]:
    """On how many days the rows have data."""
    day = q(dataset.date_column)
    where, params = where_sql(dataset, rows)
    return f"SELECT count(DISTINCT {day}) AS days FROM {dataset.table}{where}", params


def distinct_sql(dataset: Dataset, name: str, limit: int) -> tuple[str, list]:
    """A column's distinct values as text, sorted (for filter widgets)."""
    col = q(name)
    return (
        f"SELECT DISTINCT CAST({col} AS VARCHAR) AS value FROM {dataset.table}"
        f" WHERE {col} IS NOT NULL ORDER BY value LIMIT ?",
        [int(limit)],
    )


# -- experiments ----------------------------------------------------------------------------


def _rows_sql(dataset: Dataset, variant: str, rows: Rows) -> tuple[str, list]:
    where, params = where_sql(
        dataset, Rows(rows.start, rows.end, rows.filters, rows.currency, (*rows.present, variant))
    )
    return f"SELECT * FROM {dataset.table}{where}", params


def _as_text(name: str) -> str:
    return f"CAST({q(name)} AS VARCHAR)"


def arm_sums_sql(
    dataset: Dataset,
    variant: str,
    measures: Sequence[Measure],
    rows: Rows,
    unit_keys: Sequence[str],
    one_row_per_unit: bool = False,
) -> tuple[str, list]:
    """Per variant and day: the number of units n and, per measure i, Σm, Σm², Σd, Σd² and
    Σm·d (columns n, m{i}, mm{i}, d{i}, dd{i}, md{i}).

    A unit is a group of rows with the same ``unit_keys`` (a user; a day, or a day and a
    campaign) in one variant: its m and d are the sums of its rows (m is 0/1 for a binary
    measure), and its day is its first date. With ``one_row_per_unit`` every row is a unit
    already, and nothing is grouped."""
    base, params = _rows_sql(dataset, variant, rows)
    date_col = dataset.date_column
    cols = []
    if one_row_per_unit:
        day = q(date_col) if date_col else "NULL"
        for i, m in enumerate(measures):
            value = f"coalesce(CAST({q(m.num)} AS DOUBLE), 0)"
            cols.append(f"CAST({value} > 0 AS DOUBLE) AS m{i}" if m.binary else f"{value} AS m{i}")
            den = f"coalesce(CAST({q(m.den)} AS DOUBLE), 0)" if m.den else ONE
            cols.append(f"{den} AS d{i}")
        units = (
            f"SELECT {_as_text(variant)} AS variant, {day} AS day, {', '.join(cols)}"
            f" FROM ({base}) b"
        )
    else:
        day = f"min({q(date_col)})" if date_col else "NULL"
        for i, m in enumerate(measures):
            total = f"CAST(coalesce(sum({q(m.num)}), 0) AS DOUBLE)"
            cols.append(f"CAST({total} > 0 AS DOUBLE) AS m{i}" if m.binary else f"{total} AS m{i}")
            den = f"CAST(coalesce(sum({q(m.den)}), 0) AS DOUBLE)" if m.den else ONE
            cols.append(f"{den} AS d{i}")
        keys = ", ".join(q(k) for k in unit_keys)
        units = (
            f"SELECT {_as_text(variant)} AS variant, {day} AS day, {', '.join(cols)}"
            f" FROM ({base}) b GROUP BY {q(variant)}, {keys}"
        )
    sums = ["count(*) AS n"]
    for i in range(len(measures)):
        sums += [
            f"sum(m{i}) AS m{i}",
            f"sum(m{i} * m{i}) AS mm{i}",
            f"sum(d{i}) AS d{i}",
            f"sum(d{i} * d{i}) AS dd{i}",
            f"sum(m{i} * d{i}) AS md{i}",
        ]
    return (
        f"SELECT variant, day, {', '.join(sums)} FROM ({units}) u GROUP BY variant, day",
        params,
    )


def variant_totals_sql(
    dataset: Dataset, variant: str, users: str, measures: Sequence[Measure], rows: Rows
) -> tuple[str, list]:
    """Totals per variant (n = Σusers, m{i} = Σnumerator) for data that has only totals."""
    base, params = _rows_sql(dataset, variant, rows)
    cols = [f"sum({q(users)}) AS n"] + [f"sum({q(m.num)}) AS m{i}" for i, m in enumerate(measures)]
    return (
        f"SELECT {_as_text(variant)} AS variant, NULL AS day, {', '.join(cols)}"
        f" FROM ({base}) b GROUP BY {_as_text(variant)}",
        params,
    )


def shared_units_sql(dataset: Dataset, variant: str, unit: str, rows: Rows) -> tuple[str, list]:
    """How many units appear in more than one variant."""
    base, params = _rows_sql(dataset, variant, rows)
    return (
        f"SELECT count(*) AS units FROM (SELECT {q(unit)} FROM ({base}) b GROUP BY {q(unit)}"
        f" HAVING count(DISTINCT {q(variant)}) > 1) s",
        params,
    )
