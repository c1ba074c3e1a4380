"""Numbers as people read them, by unit. n/a for a missing value (division by zero, no rows)."""

from __future__ import annotations

import math

NOT_AVAILABLE = "n/a"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def format_value(value: object, unit: str) -> str:
    if is_missing(value):
        return NOT_AVAILABLE
    number = float(value)  # type: ignore[arg-type]
    if unit == "percent":
        return f"{number:.2%}"
    if unit == "currency":
        return f"{number:,.2f}"
    if unit == "ratio":
        return f"{number:,.2f}"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def format_compact(value: object, unit: str) -> str:
    """Short form for cards: 1.32M, 245.1K; rates and ratios as in ``format_value``."""
    if is_missing(value) or unit in ("percent", "ratio") or abs(float(value)) < 10_000:  # type: ignore[arg-type]
        return format_value(value, unit)
    number = float(value)  # type: ignore[arg-type]
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= size:
            return f"{number / size:,.{1 if abs(number) / size >= 100 else 2}f}{suffix}"
    return format_value(value, unit)


def d3_format(unit: str) -> str:
    """The same formats for chart axes and tables (d3/printf style, as Streamlit and Plotly use)."""
    return {"percent": ".2%", "currency": ",.2f", "ratio": ",.2f"}.get(unit, ",.0f")


def format_change(value: object, decimals: int = 1) -> str:
    """A relative change with its sign: +3.1%, −0.4%, n/a."""
    if is_missing(value):
        return NOT_AVAILABLE
    return f"{float(value):+.{decimals}%}".replace("-", "−")  # type: ignore[arg-type]


def format_cell(value: object, unit: str) -> str:
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
    return format_value(value, unit)
