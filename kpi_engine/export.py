"""Tables leaving KPI Lab as files. Text that a spreadsheet would run as a formula gets a
leading apostrophe, so it stays text: a cell starting with = + - @, a tab or a line break,
and any such start after a line break, a tab or a ";" inside a cell (a spreadsheet may read
a bare carriage return as a new row, and a ";" locale splits cells at ";"). Every text cell
of a CSV is quoted, so no separator inside a value splits it."""

from __future__ import annotations

import csv
import re

import pandas as pd

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


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for spreadsheets: UTF-8 with a byte-order mark (Excel reads accents right)."""
    text = safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, sheet: str = "KPIs") -> bytes:
    """An .xlsx workbook of the table, text that looks like a formula kept as text."""
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_frame(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
    return buffer.getvalue()
