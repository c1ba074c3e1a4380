"""Converting a dataset's money for one analysis: which rates (the command's file or the
workspace's), which days each currency has rows on (read once per dataset version), the
conversion the SQL applies and the note its result carries."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

import pandas as pd

from kpi_engine.aggregate_sql import currency_days_sql
from kpi_engine.currencies.conversion import Conversion, ConversionNote, filled_days, plan
from kpi_engine.currencies.rates import RateTable
from kpi_engine.currencies.workspace_rates import rates_of
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.roles import MONEY_ROLES
from kpi_engine.store import Store

_days: OrderedDict[str, dict[str | None, list[date]]] = OrderedDict()
_lock = threading.Lock()
KEEP = 64  # datasets whose currency days this process remembers


def rates_for(store: Store, to: str) -> RateTable:
    table = rates_of(store)
    if table is None:
        raise KpiLabError(
            f"needs exchange rates to show every amount in {to}: upload them on the Data page"
            " (Exchange rates), or give the command --rates FILE",
            "currency",
        )
    return table


def conversion(
    store: Store, dataset: Dataset, to: str, first: date | None, last: date | None
) -> Conversion:
    """How the rows between ``first`` and ``last`` become ``to``; a KpiLabError saying what
    is missing (the dataset's currency, a currency's rates, rates early enough)."""
    column, fixed = _currency_of(dataset)
    money = tuple(dataset.roles[r] for r in MONEY_ROLES if r in dataset.roles)
    return plan(
        rates_for(store, to),
        to,
        days_by_currency(store, dataset),
        column,
        fixed,
        money,
        first,
        last,
    )


def conversion_note(
    store: Store, dataset: Dataset, to: str, first: date | None, last: date | None
) -> ConversionNote:
    """What a result converted to ``to`` over ``first``…``last`` says of it."""
    table = rates_for(store, to)
    days = days_by_currency(store, dataset)
    filled, without = filled_days(table, to, days, first, last)
    codes = tuple(sorted(code for code in days if code))
    return ConversionNote(to.upper(), table.source, table.pick, codes, filled, without)


def note_if(
    store: Store,
    dataset: Dataset,
    convert: bool,
    to: str | None,
    span: tuple[date | None, date | None],
) -> ConversionNote | None:
    """The note of a result that converted its amounts to ``to`` (None when it did not)."""
    return conversion_note(store, dataset, to, *span) if convert and to else None


def _currency_of(dataset: Dataset) -> tuple[str | None, str | None]:
    column = dataset.roles.get("currency")
    if column:
        return column, None
    if dataset.currency:
        return None, dataset.currency
    raise KpiLabError(
        f"cannot convert: dataset {dataset.name!r} does not say which currency its money is"
        " in. Map a column to the currency role, or import it with its currency symbol",
        "currency",
    )


def forget_days() -> None:
    """Read every dataset's currency days afresh (their keys name the rows' version, so this
    is only for a reader that must see an engine read them)."""
    with _lock:
        _days.clear()


def days_by_currency(store: Store, dataset: Dataset) -> dict[str | None, list[date]]:
    """Per currency (None: rows without one), the days it has rows on."""
    key = dataset.table_name
    with _lock:
        if key in _days:
            _days.move_to_end(key)
            return _days[key]
    column, fixed = _currency_of(dataset)
    if not dataset.date_column:
        raise KpiLabError(
            f"cannot convert: dataset {dataset.name!r} has no date column, and rates change"
            " by the day",
            "currency",
        )
    frame = store.query(dataset, *currency_days_sql(dataset, column))
    found: dict[str | None, list[date]] = {}
    for currency, when in zip(frame["currency"], frame["day"], strict=True):
        name = fixed if fixed else (None if pd.isna(currency) or currency == "" else currency)
        found.setdefault(name, []).append(pd.Timestamp(when).date())
    with _lock:
        _days[key] = found
        while len(_days) > KEEP:
            _days.popitem(last=False)
    return found
