"""Exchange rates as a file gives them: ``date,currency,rate`` rows, or the ECB's wide
reference-rate CSV (``Date,USD,JPY,…``). Either way one unit of the file's base buys
``rate`` units of ``currency`` (the ECB's convention: its base is EUR). A long file names its
base by a currency whose rate is 1 on every date; without one, its base is whatever
currency the report is in."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date

from kpi_engine.errors import KpiLabError

CODE = re.compile(r"^[A-Z]{3}$")
ECB_BASE = "EUR"
MAX_BYTES = 20_000_000  # the ECB's whole history since 1999 is under 2 MB
MAX_VALUES = 1_000_000
BLANKS = ("", "N/A", "NA", "-", "#N/A")
PICKS = ("day", "month")


@dataclass(frozen=True)
class RateTable:
    """Per currency, its published days (ascending) and the rates on them; ``base`` is the
    currency every rate is quoted against (None: the reporting currency)."""

    source: str
    base: str | None
    series: dict[str, tuple[tuple[date, ...], tuple[float, ...]]] = field(hash=False)
    pick: str = "day"  # "month": a month's mean rate for each of its days

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted(self.series))

    @property
    def values(self) -> int:
        return sum(len(days) for days, _ in self.series.values())

    def rows(self) -> list[tuple[date, str, float]]:
        return [
            (day, code, rate)
            for code, (days, rates) in sorted(self.series.items())
            for day, rate in zip(days, rates, strict=True)
        ]


def rate_table(
    source: str, rows: list[tuple[date, str, float]], base: str | None, pick: str = "day"
) -> RateTable:
    """Rows (any order, each (day, currency) once) as a table; the base's own rate of 1 is
    implied, so a row for it is dropped."""
    found: dict[str, dict[date, float]] = {}
    for day, code, rate in rows:
        found.setdefault(code, {})[day] = rate
    found.pop(base, None)
    series = {
        code: (tuple(sorted(days)), tuple(days[d] for d in sorted(days)))
        for code, days in found.items()
    }
    return RateTable(source, base, series, pick)


def parse_rates(raw: bytes, source: str) -> RateTable:
    """A rates file, long or the ECB's wide one; a KpiLabError naming the line otherwise."""
    if len(raw) > MAX_BYTES:
        raise KpiLabError(
            f"is larger than {MAX_BYTES // 1_000_000} MB: keep the currencies and years you"
            " report on",
            "rates",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KpiLabError("is not UTF-8 text: save it as CSV (UTF-8)", "rates") from None
    lines = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not lines:
        raise KpiLabError("is empty: it needs a header and one row per date", "rates")
    header = [cell.strip() for cell in lines[0]]
    names = [cell.lower() for cell in header]
    if names[:3] == ["date", "currency", "rate"]:
        rows = _long(lines[1:])
        return rate_table(source, rows, _implied_base(rows))
    if names and names[0] in ("date", "time_period") and len(header) > 1:
        return rate_table(source, _wide(header, lines[1:]), ECB_BASE)
    raise KpiLabError(
        "has neither the columns date,currency,rate nor the ECB's Date,USD,JPY,… header:"
        " save the rates in one of those layouts",
        "rates",
    )


def read_rates(path: str) -> RateTable:
    """A rates file on this machine (the command line's ``--rates FILE``)."""
    from pathlib import Path

    file = Path(path)
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise KpiLabError(f"cannot be read ({exc.strerror}): {file.name}", "rates") from None
    return parse_rates(raw, file.name)


def _long(lines: list[list[str]]) -> list[tuple[date, str, float]]:
    rows, seen = [], {}
    for number, cells in enumerate(lines, start=2):
        if len(cells) < 3:
            raise KpiLabError(f"line {number} has {len(cells)} values, not 3", "rates")
        day, code = _day(cells[0], number), _code(cells[1], number)
        rate = _rate(cells[2], number)
        if rate is None:
            continue
        if seen.get((day, code), rate) != rate:
            raise KpiLabError(
                f"line {number} gives {code} on {day} a second rate ({rate} and"
                f" {seen[(day, code)]}): keep one",
                "rates",
            )
        seen[(day, code)] = rate
        rows.append((day, code, rate))
    _check_size(len(rows))
    return rows


def _wide(header: list[str], lines: list[list[str]]) -> list[tuple[date, str, float]]:
    for name in header[1:]:
        if name and not CODE.match(name.upper()):
            raise KpiLabError(
                f"has a column {name[:40]!r}, which is not a currency code: a rates file has"
                " the columns date,currency,rate, or Date and one column per currency (USD,"
                " JPY, …) as the ECB publishes them",
                "rates",
            )
    codes = [(i, _code(name, 1)) for i, name in enumerate(header) if i and name]
    rows, days = [], set()
    for number, cells in enumerate(lines, start=2):
        day = _day(cells[0], number)
        if day in days:
            raise KpiLabError(f"line {number} repeats the date {day}", "rates")
        days.add(day)
        for i, code in codes:
            rate = _rate(cells[i], number) if i < len(cells) else None
            if rate is not None:
                rows.append((day, code, rate))
        _check_size(len(rows))
    return rows


def _implied_base(rows: list[tuple[date, str, float]]) -> str | None:
    """The one currency quoted at 1 on every date it appears (and on every date of the file)."""
    days = {day for day, _, _ in rows}
    ones: dict[str, set[date]] = {}
    other = set()
    for day, code, rate in rows:
        (ones.setdefault(code, set()).add(day) if rate == 1 else other.add(code))
    bases = [code for code, on in ones.items() if code not in other and on == days]
    return bases[0] if len(bases) == 1 else None


def _day(text: str, number: int) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise KpiLabError(
            f"line {number}: {text.strip()[:40]!r} is not a date like 2026-03-27", "rates"
        ) from None


def _code(text: str, number: int) -> str:
    code = text.strip().upper()
    if not CODE.match(code):
        raise KpiLabError(
            f"line {number}: {text.strip()[:40]!r} is not a three-letter currency code such as USD",
            "rates",
        )
    return code


def _rate(text: str, number: int) -> float | None:
    cell = text.strip()
    if cell.upper() in BLANKS:
        return None
    try:
        rate = float(cell)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise KpiLabError(f"line {number}: {cell[:40]!r} is not a rate (a number above 0)", "rates")
    return rate


def _check_size(values: int) -> None:
    if values > MAX_VALUES:
        raise KpiLabError(
            f"has more than {MAX_VALUES:,} rates: keep the currencies and years you report on",
            "rates",
        )
