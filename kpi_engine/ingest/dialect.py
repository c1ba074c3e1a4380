"""The delimiter and the header row of a CSV export, from its first lines.

Ad platforms put report titles and date ranges above the header, and one ragged row is enough
to make DuckDB's sniffer settle on the wrong delimiter. So we parse the first lines with each
usual delimiter, keep the one under which most rows agree on a column count, and take as the
header the first row with that count. DuckDB then reads the file with that dialect given.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from kpi_engine.errors import KpiLabError

DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 1000
MAX_HEADER_CELL = 300


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    skip: int  # physical lines above the header
    header: tuple[str, ...]
    preamble: tuple[str, ...]  # the lines that were skipped, for the report

    @property
    def decimal_comma_hint(self) -> bool:
        """A semicolon-separated file is most likely from a locale that writes 1,5."""
        return self.delimiter == ";"


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line index where the record starts, fields) for every non-blank record."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"')
    out: list[tuple[int, list[str]]] = []
    start = 0
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                out.append((start, fields))
            start = reader.line_num
    except csv.Error:
        pass  # a record cut at the end of the sample
    return out


def _score(records: list[tuple[int, list[str]]]) -> tuple[int, int]:
    counts = Counter(len(fields) for _, fields in records)
    width, agreeing = max(counts.items(), key=lambda kv: (kv[1], kv[0]), default=(0, 0))
    return (agreeing if width > 1 else 0, width)


def detect_dialect(text: str, label: str, truncated: bool = False) -> Dialect:
    """Delimiter, header row and preamble of a CSV, or a ``KpiLabError`` that says why not."""
    text = text.lstrip("\ufeff")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut
    if not text.strip():
        raise KpiLabError(f"{label} has no text: export the report again")
    best = max(DELIMITERS, key=lambda d: _score(_records(text, d)))
    records = _records(text, best)
    agreeing, width = _score(records)
    if agreeing == 0:
        raise KpiLabError(
            f"{label} has a single column: it needs a header row and columns separated by"
            " commas, semicolons, tabs or |"
        )
    line, header = next((ln, fields) for ln, fields in records if len(fields) == width)
    preamble = tuple(
        text.splitlines()[i].strip() for i in range(line) if text.splitlines()[i].strip()
    )
    names = tuple(h.strip().lstrip("\ufeff") for h in header)
    if preamble and _looks_like_data(names):
        above = len(next(f for ln, f in records if ln < line)) if line else 0
        raise KpiLabError(
            f"{label}: the data rows have {width} fields but the header has {above}: check that"
            " the header names every column and that the delimiter is right"
        )
    _check_header(names, label)
    return Dialect(best, line, names, preamble)


def _check_header(names: tuple[str, ...], label: str) -> None:
    if len(names) > MAX_COLUMNS:
        raise KpiLabError(
            f"{label} has {len(names):,} columns, more than the {MAX_COLUMNS:,} KPI Lab reads:"
            " export only the columns you need"
        )
    if all(_is_number(n) for n in names if n):
        raise KpiLabError(
            f"{label} has no header row (its first row is all numbers): add a row of column"
            " names such as Date, Campaign, Cost, Clicks"
        )
    too_long = next((n for n in names if len(n) > MAX_HEADER_CELL), None)
    if too_long is not None:
        raise KpiLabError(
            f"{label} has a column name of {len(too_long):,} characters: this does not look"
            " like a report header; check the file"
        )
    seen: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if key and key in seen:
            raise KpiLabError(
                f"{label} has two columns named {name!r}: rename one of them and upload again"
            )
        seen[key] = name


def _looks_like_data(names: tuple[str, ...]) -> bool:
    """A row of values rather than column names: a date in it, or half of its cells numbers."""
    cells = [n for n in names if n]
    if any(re.match(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", n) for n in cells):
        return True
    return sum(_is_number(n) for n in cells) * 2 >= len(cells)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def stray_quote(lines, delimiter: str) -> tuple[int, str] | None:
    """The first line (1-based) with a quote inside a value that does not start with one, as
    ``=HYPERLINK("http://x","y")`` written unquoted: a reader takes that quote for the start
    of a quoted value that never ends, and the rest of the file for one long row."""
    for number, line in enumerate(lines, start=1):
        if '"' not in line:
            continue
        in_quotes = False
        at_start = True
        for ch in line.rstrip("\r\n"):
            if ch == '"' and (at_start or in_quotes):
                in_quotes = not in_quotes
            elif ch == '"':
                return number, line.strip()[:120]
            elif ch == delimiter and not in_quotes:
                at_start = True
                continue
            at_start = False
    return None
