"""The period an export's preamble names ("March 27, 2026 - April 23, 2026", the line Google
Ads writes above the header): for a file whose rows have no dates, it says which period their
totals cover."""

from __future__ import annotations

import re
from datetime import date, datetime

_SEPARATOR = re.compile(r"\s+(?:-|–|—|to)\s+|\s*(?:–|—)\s*")
_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y")


def _day(text: str) -> date | None:
    text = text.strip().strip('"').strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def period_in(lines: tuple[str, ...]) -> tuple[date, date] | None:
    """The first "START - END" date range among ``lines``, in order, or None."""
    for line in lines:
        parts = _SEPARATOR.split(line.strip().strip('"').strip(), maxsplit=1)
        if len(parts) != 2:
            continue
        first, last = _day(parts[0]), _day(parts[1])
        if first and last and first <= last:
            return first, last
    return None
