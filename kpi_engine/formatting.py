"""Numbers as people read them, by unit: one set of rules for cards, tables, sentences, the
shared view and the report. n/a for a missing value (division by zero, no rows); money with
thousands separators and its currency's symbol when the data says which; percentages with two
decimals; never "-0.00"."""

from __future__ import annotations

import math

from kpi_engine.roles import CURRENCY_SYMBOLS

NOT_AVAILABLE = "n/a"
SYMBOLS = {code: symbol for symbol, code in CURRENCY_SYMBOLS.items()}


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def money(text: str, currency: str | None) -> str:
    """``1,234.50`` in a currency: €1,234.50, -$12.00, 1,234.50 CHF."""
    if not currency:
        return text
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{digits}" if symbol else f"{text} {currency.upper()}"


def _rounded(number: float, places: int) -> float:
    """A value that rounds to zero is zero (no "-0.00")."""
    return 0.0 if round(number, places) == 0 else number


def format_value(value: object, unit: str, currency: str | None = None) -> str:
    if is_missing(value):
        return NOT_AVAILABLE
    number = float(value)  # type: ignore[arg-type]
    if unit == "percent":
        return f"{_rounded(number, 4):.2%}"
    if unit == "currency":
        return money(f"{_rounded(number, 2):,.2f}", currency)
    if unit == "ratio":
        return f"{_rounded(number, 2):,.2f}"
    if number == int(number):
        return f"{number:,.0f}"
    return f"{_rounded(number, 1):,.1f}"


def format_compact(value: object, unit: str, currency: str | None = None) -> str:
    """Short form for cards, three significant digits from a thousand up: 1.32M, €245K,
    $66.8K (a card five to a row fits seven characters at 1,400 px with the sidebar open);
    rates and ratios as in ``format_value``."""
    if is_missing(value) or unit in ("percent", "ratio") or abs(float(value)) < 1_000:  # type: ignore[arg-type]
        return format_value(value, unit, currency)
    number = float(value)  # type: ignore[arg-type]
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        scaled = round(number / size, 2)
        if abs(scaled) >= 1 or size == 1e3:
            places = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            text = f"{number / size:,.{places}f}{suffix}"
            return money(text, currency) if unit == "currency" else text
    return format_value(value, unit, currency)


def d3_format(unit: str) -> str:
    """Chart axes and hover labels (d3 style, as Plotly uses): trailing zeros trimmed, so
    neighbouring ticks never read the same."""
    return {"percent": ".2~%", "currency": ",.2~f", "ratio": ",.2~f"}.get(unit, ",.3~s")


def format_change(value: object, decimals: int = 1) -> str:
    """A relative change with its sign: +3.1%, −0.4%, n/a."""
    if is_missing(value):
        return NOT_AVAILABLE
    number = _rounded(float(value), decimals + 2)  # type: ignore[arg-type]
    return f"{number:+.{decimals}%}".replace("-", "−")


def format_cell(value: object, unit: str, currency: str | None = None) -> str:
    """A table cell by its column's unit ("text" for labels and dates)."""
    if unit == "signed_percent":
        return format_change(value)
    if unit == "p_value":
        if is_missing(value):
            return NOT_AVAILABLE
        return "< 0.0001" if float(value) < 0.0001 else f"{float(value):.4f}"  # type: ignore[arg-type]
    if unit == "text":
        return NOT_AVAILABLE if is_missing(value) else str(value)
    if not isinstance(value, (int, float)) and not hasattr(value, "item"):
        return NOT_AVAILABLE if is_missing(value) else str(value)
    return format_value(value, unit, currency)
