"""Every sentence about exchange rates and converted amounts."""

from __future__ import annotations

from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.currencies.rates import RateTable

RATES_HELP = (
    "A CSV of date,currency,rate (one unit of the base buys rate units of currency), or the"
    " ECB's reference-rate CSV (Date,USD,JPY,… against EUR) as published. With rates, money"
    " KPIs can show every amount in one currency, converted at each row's date."
)
PICK_HELP = (
    "Day: each row uses its own day's rate (the last earlier one on days without a rate)."
    " Month: each row uses its month's mean rate, as many finance teams report."
)
CONVERT_HELP = (
    "Adds up money in several currencies by converting every row at its own day's rate"
    " (the workspace's exchange rates, on the Data page)."
)
NO_RATES = (
    "Exchange rates let KPI Lab add up money in several currencies: upload them on the Data"
    " page to show every amount in one currency."
)


def conversion_line(note: ConversionNote) -> str:
    """ "Amounts in USD, converted from EUR and INR at each row's day's rate (ecb.csv); 2
    INR days used the last earlier rate (first 2026-03-07)." """
    others = [c for c in note.currencies if c != note.to]
    source = "at each row's day's rate" if note.pick == "day" else "at its month's mean rate"
    what = f"converted from {_listed(others)} {source}" if others else f"all rows were in {note.to}"
    line = f"Amounts in {note.to}, {what} ({note.source})."
    for f in note.filled:
        days = "1 day" if f.days == 1 else f"{f.days:,} days"
        gap = "had no rate that month" if note.pick == "month" else "had no rate that day"
        line += (
            f" {days} of {f.currency} rows {gap}, so the last earlier rate was used"
            f" (first {f.first})."
        )
    if note.without_currency:
        days = "1 day" if note.without_currency == 1 else f"{note.without_currency:,} days"
        line += f" Rows without a currency ({days}) add no money."
    return line


def rates_summary(table: RateTable) -> str:
    """ "ecb.csv: 30 currencies against EUR, 1999-01-04 to 2026-12-04, by day." """
    firsts = [days[0] for days, _ in table.series.values()]
    lasts = [days[-1] for days, _ in table.series.values()]
    base = f"against {table.base}" if table.base else "against the reporting currency"
    count = len(table.series)
    return (
        f"{table.source}: {count} {'currency' if count == 1 else 'currencies'} {base}"
        f" ({_listed(table.currencies[:8])}{' and more' if count > 8 else ''}),"
        f" {min(firsts)} to {max(lasts)}, by {table.pick}."
    )


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
