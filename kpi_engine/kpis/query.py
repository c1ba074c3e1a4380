"""KPIs of a dataset in one SQL aggregate query: totals, breakdowns by dimension, trends.

Every KPI in the query is compiled from its catalog formula; group-by columns are quoted,
filter values and dates are bound parameters. Only the small aggregated result leaves DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import CATALOG, Kpi, get_kpi, missing_columns
from kpi_engine.roles import MONEY_ROLES
from kpi_engine.store import Dataset, Store

GRAINS = ("day", "week", "month")
PERIOD = "period"


@dataclass(frozen=True)
class KpiQuery:
    """What to compute. ``grain`` adds a leading ``period`` column (day, week or month).

    Rows come ordered by the group columns, or by ``sort`` when given; ``limit`` caps them
    (a breakdown by a column with a million values should not fetch a million rows).
    """

    kpis: tuple[str, ...]
    by: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    grain: str | None = None
    sort: str | None = None  # a KPI of the query: largest first, n/a last
    limit: int | None = None
    currency: str | None = None  # with several currencies: keep this one (else split by currency)
    custom: tuple[Kpi, ...] = ()  # user-defined KPIs the ids may name


def available_columns(dataset: Dataset) -> set[str]:
    """Names a formula may use: the roles the dataset has and its numeric columns."""
    names = set(dataset.roles)
    names.update(c.name for c in dataset.columns if c.role is None and _numeric(c.type))
    return names


def _numeric(duck_type: str) -> bool:
    t = duck_type.upper()
    return (
        t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL"))
        or t.endswith("INT")
        or t in ("INTEGER", "BOOLEAN", "HUGEINT", "UHUGEINT")
    )


def kpi_availability(dataset: Dataset, custom: tuple[Kpi, ...] = ()) -> dict[str, list[str]]:
    """KPI id → the base columns it still needs on this dataset ([] when it can be computed)."""
    names = available_columns(dataset)
    return {kpi.id: missing_columns(kpi, names) for kpi in (*CATALOG.values(), *custom)}


def lookup(kpi_id: str, custom: tuple[Kpi, ...] = ()) -> Kpi:
    """A catalog KPI or one of the user's own."""
    for kpi in custom:
        if kpi.id == kpi_id:
            return kpi
    return get_kpi(kpi_id)


def _column_resolver(dataset: Dataset, kpi: Kpi):
    roles = dataset.roles
    names = available_columns(dataset)

    def column_sql(name: str) -> str:
        if name in roles:
            return quote_identifier(roles[name])
        if name in names:
            return quote_identifier(name)
        raise KpiLabError(
            f"KPI {kpi.id!r} needs the column {name!r}, which dataset {dataset.name!r} does not"
            f" have (it needs: {', '.join(kpi.requires)})"
        )

    return column_sql


def _group_column(dataset: Dataset, name: str) -> str:
    """A group-by or filter column, given by its name or its role."""
    if name in dataset.column_names:
        return name
    if name in dataset.roles:
        return dataset.roles[name]
    raise KpiLabError(
        f"dataset {dataset.name!r} has no column {name!r}: choose one of"
        f" {', '.join(dataset.dimensions) or '(no dimension columns)'}"
    )


def _with_currency(dataset: Dataset, query: KpiQuery) -> KpiQuery:
    """Money in different currencies is never summed: filter to one, or split by currency."""
    column = dataset.roles.get("currency")
    money = any(
        role in MONEY_ROLES for k in query.kpis for role in lookup(k, query.custom).requires
    )
    if query.currency is not None:
        if not column:
            raise KpiLabError(f"dataset {dataset.name!r} has no currency column to filter on")
        return replace(query, filters=(*query.filters, ("currency", (query.currency,))))
    if column and money and len(dataset.currencies) > 1 and "currency" not in query.by:
        if column not in query.by:
            return replace(query, by=("currency", *query.by))
    return query


def build_sql(dataset: Dataset, query: KpiQuery) -> tuple[str, list]:
    """The one aggregate query for ``query``, with its bound parameters."""
    if not query.kpis:
        raise KpiLabError("choose at least one KPI")
    query = _with_currency(dataset, query)
    select: list[str] = []
    groups: list[str] = []
    params: list = []
    date_col = dataset.date_column
    if query.grain is not None:
        if query.grain not in GRAINS:
            raise KpiLabError(f"unknown grain {query.grain!r}: use one of {', '.join(GRAINS)}")
        if not date_col:
            raise KpiLabError(f"dataset {dataset.name!r} has no date column for a trend")
        expr = f"CAST(date_trunc('{query.grain}', {quote_identifier(date_col)}) AS DATE)"
        select.append(f"{expr} AS {PERIOD}")
        groups.append(expr)
    for name in query.by:
        col = quote_identifier(_group_column(dataset, name))
        select.append(f"{col} AS {quote_identifier(name)}")
        groups.append(col)
    for kpi_id in query.kpis:
        kpi = lookup(kpi_id, query.custom)
        select.append(
            f"{fx.to_sql(fx.parse(kpi.formula), _column_resolver(dataset, kpi))}"
            f" AS {quote_identifier(kpi.id)}"
        )
    where: list[str] = []
    if query.start is not None or query.end is not None:
        if not date_col:
            raise KpiLabError(
                f"dataset {dataset.name!r} has no date column: leave out the start and end dates"
            )
        col = quote_identifier(date_col)
        if query.start is not None:
            where.append(f"{col} >= ?")
            params.append(query.start)
        if query.end is not None:
            where.append(f"{col} <= ?")
            params.append(query.end)
    if query.start and query.end and query.start > query.end:
        raise KpiLabError(f"the start date {query.start} is after the end date {query.end}")
    if query.grain is not None:
        where.append(f"{quote_identifier(date_col)} IS NOT NULL")
    for name, values in query.filters:
        col = quote_identifier(_group_column(dataset, name))
        if not values:
            where.append("FALSE")
            continue
        where.append(f"CAST({col} AS VARCHAR) IN ({', '.join('?' for _ in values)})")
        params.extend(str(v) for v in values)
    sql = f"SELECT {', '.join(select)} FROM {dataset.table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    if query.sort is not None:
        if query.sort not in query.kpis:
            raise KpiLabError(f"can only sort by a KPI of the query, not {query.sort!r}")
        sql += f" ORDER BY {quote_identifier(query.sort)} DESC NULLS LAST"
    elif groups:
        sql += f" ORDER BY {', '.join(groups)} NULLS LAST"
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(int(query.limit))
    return sql, params


def run_kpis(store: Store, dataset: Dataset, query: KpiQuery) -> pd.DataFrame:
    """One row of totals, or one row per group; n/a (division by zero, no rows) is NaN."""
    sql, params = build_sql(dataset, query)
    with store.cursor() as cur:
        return cur.execute(sql, params).df()
