"""Money in one reporting currency: from a rate table, the factor each row's money is
multiplied by, as runs of days with one factor each (what the SQL joins on), and what a
reader must be told (the days an earlier rate stood in). Pure: no database, no engine.

A row in currency X on day d becomes ``amount × rate(d, to) / rate(d, X)``, each rate the
last one published on or before d (the base's own rate is 1). Picked per month, a month's
rate is the mean of its published rates, used for each of its days."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from kpi_engine.currencies.rates import RateTable
from kpi_engine.errors import KpiLabError

FOREVER = date(9999, 12, 31)
BEGINNING = date(1900, 1, 1)  # Spark cannot take a date before the Gregorian calendar


@dataclass(frozen=True)
class Conversion:
    """What the SQL needs: the currency of each row (its ``column``, or ``fixed`` for every
    row), the ``money`` columns to convert, and per currency the runs
    (currency, first day, day after the last, factor)."""

    to: str
    column: str | None
    fixed: str | None
    money: tuple[str, ...]
    runs: tuple[tuple[str, date, date, float], ...]


@dataclass(frozen=True)
class Filled:
    """Days with rows in ``currency`` on which no rate was published (for it or for the
    reporting currency), so the last earlier one was used."""

    currency: str
    days: int
    first: str


@dataclass(frozen=True)
class ConversionNote:
    """What a result says of its conversion."""

    to: str
    source: str
    pick: str
    currencies: tuple[str, ...]
    filled: tuple[Filled, ...] = ()
    without_currency: int = 0  # days with rows whose currency is empty: no money counted


Series = tuple[tuple[date, ...], tuple[float, ...]]
ONE: Series = ((date.min,), (1.0,))


def series(table: RateTable, code: str, to: str) -> Series:
    """The published (or, picked by month, monthly) rates of ``code`` against the base."""
    if code == (table.base or to):
        return ONE
    if code not in table.series:
        raise KpiLabError(
            f"The exchange rates ({table.source}) have no rate for {code}, only for"
            f" {', '.join(table.currencies)}: add {code}'s rates to them"
        )
    days, rates = table.series[code]
    return monthly(days, rates) if table.pick == "month" else (days, rates)


def monthly(days: tuple[date, ...], rates: tuple[float, ...]) -> Series:
    months: dict[date, list[float]] = {}
    for day, rate in zip(days, rates, strict=True):
        months.setdefault(day.replace(day=1), []).append(rate)
    firsts = tuple(sorted(months))
    return firsts, tuple(sum(months[m]) / len(months[m]) for m in firsts)


def _rate_on(s: Series, day: date) -> float | None:
    i = bisect_right(s[0], day) - 1
    return s[1][i] if i >= 0 else None


def covered_from(table: RateTable, code: str, to: str) -> date:
    """The first day on which ``code`` can become ``to``."""
    return max(series(table, code, to)[0][0], series(table, to, to)[0][0])


def runs(
    table: RateTable, code: str, to: str, first: date, last: date
) -> list[tuple[str, date, date, float]]:
    """The runs of one factor that cover ``first``…``last`` (from where rates begin)."""
    if code == to:
        return [(code, BEGINNING, FOREVER, 1.0)]
    mine, theirs = series(table, code, to), series(table, to, to)
    start = max(first, covered_from(table, code, to))
    points = sorted({start} | {d for d in (*mine[0], *theirs[0]) if start < d <= last})
    out = []
    for i, day in enumerate(points):
        end = points[i + 1] if i + 1 < len(points) else FOREVER
        out.append((code, day, end, _rate_on(theirs, day) / _rate_on(mine, day)))
    return out


def plan(
    table: RateTable,
    to: str,
    days: Mapping[str | None, Iterable[date]],
    column: str | None,
    fixed: str | None,
    money: tuple[str, ...],
    first: date | None,
    last: date | None,
) -> Conversion:
    """The conversion of rows whose currencies have rows on ``days`` (per currency; None is
    rows without one) between ``first`` and ``last`` (None: unbounded); a KpiLabError when a
    currency has rows before its first rate."""
    to = to.upper()
    out: list[tuple[str, date, date, float]] = []
    for code, seen in sorted(days.items(), key=lambda kv: kv[0] or ""):
        within = _within(seen, first, last)
        if code is None or not within:
            continue
        lo, hi = within[0], within[-1]
        begins = covered_from(table, code, to) if code != to else date.min
        if lo < begins:
            raise KpiLabError(
                f"The exchange rates ({table.source}) have no {code}→{to} rate on or before"
                f" {lo}, the first day with {code} rows (they begin on {begins}): add rates"
                " from that day, or start the report later"
            )
        out += runs(table, code, to, lo, hi)
    return Conversion(to, column, fixed, money, tuple(out))


def filled_days(
    table: RateTable,
    to: str,
    days: Mapping[str | None, Iterable[date]],
    first: date | None,
    last: date | None,
) -> tuple[tuple[Filled, ...], int]:
    """Per currency, the days with rows on which an earlier rate stood in; and how many days
    have rows without a currency."""
    to = to.upper()
    filled, without = [], 0
    for code, seen in sorted(days.items(), key=lambda kv: kv[0] or ""):
        within = _within(seen, first, last)
        if code is None:
            without = len(within)
            continue
        if code == to or not within:
            continue
        published = [c for c in (code, to) if series(table, c, to) is not ONE]
        missing = [d for d in within if not all(_published(table, c, d) for c in published)]
        if missing:
            filled.append(Filled(code, len(missing), missing[0].isoformat()))
    return tuple(filled), without


def _within(seen: Iterable[date], first: date | None, last: date | None) -> list[date]:
    """The days between ``first`` and ``last`` (None: unbounded), in order."""
    return sorted(d for d in seen if (first is None or d >= first) and (last is None or d <= last))


def _published(table: RateTable, code: str, day: date) -> bool:
    days = table.series[code][0]
    if table.pick == "month":
        month = day.replace(day=1)
        i = bisect_right(days, month - timedelta(days=1))
        return i < len(days) and days[i].replace(day=1) == month
    i = bisect_right(days, day) - 1
    return i >= 0 and days[i] == day
