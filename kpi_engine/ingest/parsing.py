"""How to read each text column: as numbers (and in which locale), dates (in which format),
yes/no flags, or text, decided from a sample of its values and compiled to SQL.

Exports write numbers as ``"1,234"``, ``1.234,56``, ``$1,234.56``, ``€ 12,00``, ``3.5%`` or
``(12.50)``, and missing values as `` --``, ``N/A`` or ``-``. The locale is decided per column:
a value such as ``1.234,56`` or ``12,5`` settles it; when every value is ambiguous (``1,234``)
the file's delimiter decides (``;`` files come from decimal-comma locales).

A value that does not parse becomes NULL; the importer counts such values (``unparsed_sql``)
and reports them with examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kpi_engine.roles import CURRENCY_SYMBOLS

MISSING = ("", "-", "--", "—", "n/a", "na", "#n/a", "null", "none", "nan", "(not set)", "?")
MIN_SHARE = 0.9  # of non-missing sample values that must parse for a column to get a kind

_CODES = r"(?:USD|EUR|GBP|INR|JPY|CHF|CAD|AUD|SEK|NOK|DKK|PLN|BRL|MXN|CNY|ZAR)"
_DECORATION = re.compile(rf"[\s\u00a0\u202f$€£¥₹%]|{_CODES}", re.IGNORECASE)
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DOT_STYLE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+(\.\d+)?|\d+\.\d+|\d+)$")
_COMMA_STYLE = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+|\d+)$")
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}([.,]\d{3})$")  # 1,234 or 1.234: either locale
DATE_SAMPLE = 500
_DATE_LIKE = re.compile(
    r"^(\d{1,4}[-/.]\d{1,2}([-/.]\d{2,4})?|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}"
    r"|\d{1,2} [A-Za-z]{3,9}\.? \d{4}|[A-Za-z]{3,9} \d{4}|\d{8})([ T].*)?$"
)
_COMPACT_DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")  # 20260131
_BOOLS = {"true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "t": 1, "f": 0}

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%Y-%m",
    "%B %Y",
    "%b %Y",
)
_DAY_FIRST = {
    "%d/%m/%Y": "%m/%d/%Y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%d/%m/%y": "%m/%d/%y",
    "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M",
}


NATIVE = "native"
NATIVE_TIME = "native time"  # a stored timestamp, read as wall-clock time
NATIVE_ZONED = "native time zone"  # a stored instant (tz-aware): its day is the workspace's


@dataclass(frozen=True)
class ColumnParse:
    """How one column is read. ``kind``: number, date, bool, text or empty."""

    kind: str
    style: str = ""  # number: plain | dot | comma; date: a strptime format
    currencies: tuple[str, ...] = ()  # currency symbols or codes seen in the values
    ambiguous: bool = False  # a date order or a number locale that the sample did not settle
    percent: bool = False

    @property
    def native(self) -> bool:
        """A typed source's column (Parquet, a lake table): it says what it is."""
        return self.style.startswith(NATIVE)

    @property
    def has_time(self) -> bool:
        """A date-time column: the day is the date; the time is kept beside it."""
        return self.kind == "date" and ("%H" in self.style or self.style.startswith(NATIVE_TIME))

    def describe(self) -> str:
        if self.native:
            return f"{self.kind} (as stored)"
        if self.kind == "number":
            locale = {"dot": "1,234.56", "comma": "1.234,56", "plain": "1234.56"}[self.style]
            return f"number ({locale}{', %' if self.percent else ''})"
        if self.kind == "date":
            return f"date ({self.style})"
        return self.kind


def stored_parse(stored_type: str) -> ColumnParse:
    """How a column of a typed source (Parquet, a lake table) reads, from its type's name as
    DuckDB writes it: dates, booleans and numbers as stored; anything else is text."""
    typ = stored_type.upper()
    if typ == "DATE":
        return ColumnParse("date", NATIVE)
    if typ.startswith("TIMESTAMP"):
        zoned = typ in ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")
        return ColumnParse("date", NATIVE_ZONED if zoned else NATIVE_TIME)
    if typ == "BOOLEAN":
        return ColumnParse("bool", "native")
    if typ.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")) or re.fullmatch(
        r"\w*INT(EGER)?", typ
    ):
        return ColumnParse("number", "native")
    return ColumnParse("text")


def is_missing(value: str | None) -> bool:
    return value is None or value.strip().lower() in MISSING


def _strip(value: str) -> str:
    text = _DECORATION.sub("", value.strip())
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    return text


def _currencies(values: list[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for value in values:
        found.update(CURRENCY_SYMBOLS[ch] for ch in value if ch in CURRENCY_SYMBOLS)
        found.update(m.upper() for m in re.findall(rf"\b{_CODES}\b", value, re.IGNORECASE))
    return tuple(sorted(found))


def _number_parse(values: list[str], comma_hint: bool, min_share: float) -> ColumnParse | None:
    plain = sum(bool(_PLAIN.match(v)) for v in values)
    if plain == len(values) and not (comma_hint and any(_AMBIGUOUS.match(v) for v in values)):
        return ColumnParse("number", "plain")
    stripped = [_strip(v) for v in values]
    dot = sum(bool(_DOT_STYLE.match(s)) for s in stripped)
    comma = sum(bool(_COMMA_STYLE.match(s)) for s in stripped)
    if max(dot, comma) < min_share * len(values):
        # plain numbers and a few stray words (reported as unparsed), or not numbers at all
        return ColumnParse("number", "plain") if plain >= min_share * len(values) else None
    decisive = [s for s in stripped if not _AMBIGUOUS.match(s) and not s.lstrip("+-").isdigit()]
    dot_votes = sum(bool(_DOT_STYLE.match(s)) for s in decisive)
    comma_votes = sum(bool(_COMMA_STYLE.match(s)) for s in decisive)
    if dot_votes != comma_votes:
        style = "dot" if dot_votes > comma_votes else "comma"
        ambiguous = False
    else:
        style = "comma" if comma_hint else "dot"
        ambiguous = any(_AMBIGUOUS.match(s) for s in stripped)
    return ColumnParse(
        "number", style, _currencies(values), ambiguous, any("%" in v for v in values)
    )


def _date_parse(values: list[str], day_first_hint: bool, min_share: float) -> ColumnParse | None:
    values = [v.strip() for v in values[:DATE_SAMPLE]]
    if sum(bool(_DATE_LIKE.match(v)) for v in values) < min_share * len(values):
        return None  # campaign names and the like: not worth trying every format
    allowed_failures = (1 - min_share) * len(values)

    def fits(fmt: str) -> bool:
        failures = 0
        for value in values:
            try:
                datetime.strptime(value, fmt)
            except ValueError:
                failures += 1
                if failures > allowed_failures:
                    return False
        return True

    fitting = [fmt for fmt in DATE_FORMATS if fits(fmt)]
    if not fitting:
        return None
    fmt = fitting[0]
    ambiguous = False
    for day_first, month_first in _DAY_FIRST.items():
        if day_first in fitting and month_first in fitting:
            fmt, ambiguous = (day_first if day_first_hint else month_first), True
            break
    return ColumnParse("date", fmt, ambiguous=ambiguous)


def analyse(values: list[str | None], comma_hint: bool = False, expect: str = "") -> ColumnParse:
    """Decide how to read a column from a sample of its raw text values.

    ``expect`` ("number" or "date") is what the header promises; then a majority of values
    that parse is enough, and the others are reported as unparsed rather than losing the role.
    """
    present = [v for v in values if not is_missing(v)]
    if not present:
        return ColumnParse("empty")
    sample = present[:2000]
    if all(v.strip().lower() in _BOOLS for v in sample):
        if {v.strip().lower() for v in sample} - {"y", "n", "t", "f"}:
            return ColumnParse("bool")
    if all(_COMPACT_DATE.match(v.strip()) for v in sample):
        return _date_parse(sample, comma_hint, MIN_SHARE) or ColumnParse("number", "plain")
    found = _number_parse(sample, comma_hint, MIN_SHARE) or _date_parse(
        sample, comma_hint, MIN_SHARE
    )
    if found is None and expect == "date":
        found = _date_parse(sample, comma_hint, 0.5)
    if found is None and expect == "number":
        found = _number_parse(sample, comma_hint, 0.5)
    return found or ColumnParse("text")


def _missing_sql(col: str) -> str:
    tokens = ", ".join("'" + t.replace("'", "''") + "'" for t in MISSING)
    return f"({col} IS NULL OR lower(trim({col})) IN ({tokens}))"


def to_sql(col: str, parse: ColumnParse) -> str:
    """The SQL expression that reads quoted text column ``col`` as ``parse`` says; NULL for a
    missing value and for a value that does not parse (``unparsed_sql`` tells them apart)."""
    if parse.kind == "number":
        return _number_sql(col, parse)
    if parse.kind == "date":
        if parse.style == "%Y-%m-%d":
            # nullif(...) keeps DuckDB from pushing a strict cast into the CSV reader
            return f"TRY_CAST(nullif({col}, '') AS DATE)"
        return f"CAST(try_strptime(trim({col}), '{parse.style}') AS DATE)"
    if parse.kind == "bool":
        cases = " ".join(f"WHEN '{k}' THEN {float(v)}" for k, v in _BOOLS.items())
        return f"CASE lower(trim({col})) {cases} END"
    if parse.kind == "empty":
        return "CAST(NULL AS VARCHAR)"
    return col


def time_sql(col: str, parse: ColumnParse, zone: str = "UTC") -> str:
    """A date-time column's full timestamp, as wall-clock time in ``zone`` when the value is
    an instant (a tz-aware stored timestamp, or text with an offset)."""
    if parse.native:
        return f"timezone('{_zone(zone)}', {col})" if parse.style == NATIVE_ZONED else col
    stamp = f"try_strptime(trim({col}), '{parse.style}')"
    return (
        f"timezone('{_zone(zone)}', {stamp})"
        if "%z" in parse.style
        else f"CAST({stamp} AS TIMESTAMP)"
    )


def day_sql(col: str, parse: ColumnParse, zone: str = "UTC") -> str:
    """A date column's day: a date-time's date in the workspace's time zone (``zone``), the
    same rule on every engine; a plain date as it is."""
    if parse.has_time:
        return f"CAST({time_sql(col, parse, zone)} AS DATE)"
    return col if parse.native else to_sql(col, parse)


def _zone(zone: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", zone):
        raise ValueError(f"not a time zone name: {zone!r}")
    return zone


def unparsed_sql(col: str, parse: ColumnParse) -> str:
    """True for a value that is there (not blank, --, N/A...) but does not parse."""
    return f"(NOT {_missing_sql(col)} AND ({to_sql(col, parse)}) IS NULL)"


def _number_sql(col: str, parse: ColumnParse) -> str:
    if parse.style == "plain":
        return f"TRY_CAST(nullif({col}, '') AS DOUBLE)"
    text = f"regexp_replace({col}, '[\\s\\x{{00a0}}\\x{{202f}}$€£¥₹%]|(?i:{_CODES})', '', 'g')"
    if parse.style == "comma":
        text = f"replace(replace({text}, '.', ''), ',', '.')"
    else:
        text = f"replace({text}, ',', '')"
    text = f"regexp_replace({text}, '^\\((.*)\\)$', '-\\1')"
    value = f"TRY_CAST({text} AS DOUBLE)"
    if parse.percent:
        value = f"({value} / CASE WHEN contains({col}, '%') THEN 100.0 ELSE 1.0 END)"
    return value


def output_type(parse: ColumnParse) -> str:
    return {"number": "DOUBLE", "bool": "DOUBLE", "date": "DATE"}.get(parse.kind, "VARCHAR")
