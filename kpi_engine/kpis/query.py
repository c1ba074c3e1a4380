"""KPIs of a dataset in one SQL aggregate query: totals, breakdowns by dimension, trends.

The SQL comes from ``aggregate_sql.kpi_sql``; this module decides which KPIs a question
names (catalog or custom), keeps money in different currencies apart, and runs the query.
Only the small aggregated result leaves the database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from kpi_engine.aggregate_sql import Rows, kpi_sql, numeric_columns
from kpi_engine.currencies.conversion import Conversion
from kpi_engine.currencies.convert import conversion
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.catalog import CATALOG, Kpi, get_kpi, missing_columns
from kpi_engine.roles import MONEY_ROLES
from kpi_engine.store import Store


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
    convert: bool = False  # every row's money in ``currency``, at its day's exchange rate


def available_columns(dataset: Dataset) -> set[str]:
    """Names a formula may use: the roles the dataset has and its numeric columns."""
    return set(dataset.roles) | numeric_columns(dataset)


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


def _with_currency(dataset: Dataset, query: KpiQuery) -> KpiQuery:
    """Money in different currencies is never summed: keep one, or split by currency."""
    column = dataset.roles.get("currency")
    money = any(
        role in MONEY_ROLES for k in query.kpis for role in lookup(k, query.custom).requires
    )
    if query.convert:
        if query.currency is None:
            raise KpiLabError("is needed to convert money into one currency", "currency")
        return query
    if query.currency is None and column and money and len(dataset.currencies) > 1:
        if "currency" not in query.by and column not in query.by:
            return replace(query, by=("currency", *query.by))
    return query


def build_sql(
    dataset: Dataset, query: KpiQuery, conversion: Conversion | None = None
) -> tuple[str, list]:
    """The one aggregate query for ``query``, with its bound parameters."""
    query = _with_currency(dataset, query)
    return kpi_sql(
        dataset,
        [lookup(k, query.custom) for k in query.kpis],
        query.by,
        query.grain,
        Rows(query.start, query.end, query.filters, query.currency, convert=conversion),
        query.sort,
        query.limit,
    )


def run_kpis(store: Store, dataset: Dataset, query: KpiQuery) -> pd.DataFrame:
    """One row of totals, or one row per group; n/a (division by zero, no rows) is NaN."""
    converted = None
    if query.convert and query.currency:
        converted = conversion(store, dataset, query.currency, query.start, query.end)
    return store.query(dataset, *build_sql(dataset, query, converted))
