"""Tables leaving KPI Lab as files. Text that a spreadsheet would run as a formula gets a
leading apostrophe, so it stays text: a cell starting with = + - @, a tab or a line break,
and any such start after a line break, a tab or a ";" inside a cell (a spreadsheet may read
a bare carriage return as a new row, and a ";" locale splits cells at ";"). Every text cell
of a CSV is quoted, so no separator inside a value splits it."""

from __future__ import annotations

import csv
import re

import pandas as pd

from kpi_engine.formatting import SYMBOLS, format_cell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_INNER_START = re.compile(r"([\r\n\t;])([ \t]*)([=+\-@])")


def neutralise(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = _INNER_START.sub(r"\1\2'\3", value)
    if value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START[:4]):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as formulas."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def formatted_beside(
    frame: pd.DataFrame, units: dict[str, str], currency: str | None = None
) -> pd.DataFrame:
    """Each column with a unit followed by the same numbers as the page writes them
    ("$1,234.50", "8.09%", "n/a"), so a CSV reads right in a text editor and sums right in a
    spreadsheet."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        out[column] = frame[column]
        unit = units.get(column)
        if unit and unit != "text":
            out[f"{column} (formatted)"] = [format_cell(v, unit, currency) for v in frame[column]]
    return out


def to_csv_bytes(
    frame: pd.DataFrame, units: dict[str, str] | None = None, currency: str | None = None
) -> bytes:
    """CSV for spreadsheets: UTF-8 with a byte-order mark (Excel reads accents right); with
    ``units``, a formatted column beside each raw one."""
    if units:
        frame = formatted_beside(frame, units, currency)
    text = safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def excel_format(unit: str, currency: str | None = None) -> str | None:
    """The spreadsheet number format of a unit: currency, percent, thousands."""
    if unit == "currency":
        symbol = SYMBOLS.get((currency or "").upper())
        if symbol:
            return f'"{symbol}"#,##0.00'
        return f'#,##0.00 "{currency.upper()}"' if currency else "#,##0.00"
    return {
        "percent": "0.00%",
        "signed_percent": "+0.0%;-0.0%;0.0%",
        "ratio": "#,##0.00",
        "count": "#,##0",
        "seconds": "#,##0.0",
        "p_value": "0.0000",
    }.get(unit)


def to_excel_bytes(
    frame: pd.DataFrame,
    sheet: str = "KPIs",
    units: dict[str, str] | None = None,
    currency: str | None = None,
    totals: bool = False,
) -> bytes:
    """An .xlsx workbook of the table, text that looks like a formula kept as text; numbers
    keep their values with the unit's number format, and a totals row is bold."""
    import io

    from openpyxl.styles import Font

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_frame(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
        cells = writer.sheets[sheet[:31]]
        for index, column in enumerate(frame.columns, start=1):
            number_format = excel_format((units or {}).get(column, ""), currency)
            if number_format:
                for (cell,) in cells.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
        if totals and len(frame):
            for cell in cells[len(frame) + 1]:
                cell.font = Font(bold=True)
    return buffer.getvalue()
