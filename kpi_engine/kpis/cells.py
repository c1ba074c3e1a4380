"""Query values as plain JSON, the form results hold them in."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd


def cell(value: object) -> object:
    """A query value as plain JSON: numbers, text, ISO dates; None for n/a."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> tuple[dict, ...]:
    return tuple(
        {str(k): cell(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    )
