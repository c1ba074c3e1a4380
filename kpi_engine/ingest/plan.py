"""Inspect a file before importing it: dialect, how each column reads, the mapping, the
platform, the kind of data. The Data page shows this plan and lets the user correct it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pandas as pd

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.dialect import Dialect, detect_dialect, stray_quote
from kpi_engine.ingest.mapping import (
    KIND_LABELS,
    MappedColumn,
    WideLayout,
    dataset_kind,
    detect_wide,
    has_metric,
    map_columns,
    per_conversion_column,
    roles_of,
)
from kpi_engine.ingest.parsing import ColumnParse, analyse, stored_parse
from kpi_engine.ingest.platforms import PLATFORMS, detect_platform
from kpi_engine.ingest.preamble import period_in
from kpi_engine.ingest.source import HEAD_BYTES, SourceFile, open_text
from kpi_engine.roles import (
    DIMENSION_ROLES,
    KEY_ROLES,
    METRIC_ROLES,
    MONEY_ROLES,
    header_currency,
    score,
)

SAMPLE_ROWS = 5000
MAX_LINE_BYTES = 1 << 20  # a row over 1 MB is not campaign data


@dataclass
class ImportPlan:
    source: SourceFile
    dialect: Dialect | None  # None for Parquet
    columns: list[MappedColumn]
    platform: str
    wide: WideLayout | None = None
    per_conversion: str | None = None  # revenue = conversions x this column
    currency: str | None = None  # one currency for the whole file, from headers or cells
    notes: list[dict] = field(default_factory=list)
    preview: pd.DataFrame | None = None
    period: tuple[date, date] | None = None  # the preamble's date range, for undated rows

    @property
    def roles(self) -> dict[str, str]:
        return roles_of(self.columns)

    @property
    def kind(self) -> str:
        return dataset_kind(self.roles)

    def to_dict(self) -> dict:
        return {
            "file": self.source.label,
            "format": self.source.format,
            "encoding": self.source.encoding,
            "delimiter": self.dialect.delimiter if self.dialect else None,
            "sheet": self.source.sheet,
            "sheets": self.source.sheets,
            "platform": self.platform,
            "platform_name": PLATFORMS[self.platform].name,
            "kind": self.kind,
            "kind_label": KIND_LABELS[self.kind],
            "currency": self.currency,
            "wide_channels": sorted(self.wide.groups) if self.wide else [],
            "columns": [c.to_dict() for c in self.columns],
        }


def read_sql(
    source: SourceFile,
    dialect: Dialect | None,
    types: dict[str, str] | None = None,
    serial: bool = False,
) -> tuple[str, list]:
    """The DuckDB table function for the file. ``serial``: one thread, so that a LIMIT gets
    the file's first rows (the store lets parallel scans return rows out of order).

    Without ``types`` every CSV column is read as text (our parsing rules convert it) and rows
    that do not fit are set aside. With ``types`` (column → DuckDB type, every column named)
    the read is strict: DuckDB converts the typed columns itself and the first value or row
    that does not fit fails the whole read.
    """
    if source.format == "parquet":
        return "read_parquet(?)", [str(source.path)]
    assert dialect is not None
    common = (
        "header = true, quote = '\"', escape = '\"', delim = ?, skip = ?, encoding = ?,"
        f" max_line_size = {MAX_LINE_BYTES}{', parallel = false' if serial else ''}"
    )
    params = [str(source.path), dialect.delimiter, dialect.skip, source.encoding]
    if types is not None:
        return f"read_csv(?, {common}, types = ?)", [*params, types]
    return (
        f"read_csv(?, {common}, all_varchar = true, ignore_errors = true, store_rejects = true)",
        params,
    )


def long_row_error(source: SourceFile, dialect: Dialect | None) -> KpiLabError:
    """A row over 1 MB: most often a quote inside an unquoted value, which makes a reader
    run on to the end of the file; say so, with its line, when that is the cause."""
    if dialect is not None and source.format == "csv":
        with open_text(source) as lines:
            found = stray_quote(lines, dialect.delimiter)
        if found:
            number, text = found
            return KpiLabError(
                f"{source.label}: line {number} has a quote inside a value that does not start"
                f' with one ({text}); quote the whole value ("=HYPERLINK(""..."")") or'
                " remove the formula, and import again"
            )
    return KpiLabError(
        f"{source.label} has a row longer than 1 MB (a cell that large is not campaign"
        " data): check that the file is a report export"
    )


def _duck_error(
    source: SourceFile, exc: duckdb.Error, dialect: Dialect | None = None
) -> KpiLabError:
    text = str(exc)
    if "line size" in text.lower() or "maximum line" in text.lower():
        return long_row_error(source, dialect)
    first = text.splitlines()[0] if text else type(exc).__name__
    return KpiLabError(f"{source.label} could not be read ({first}): export it as CSV again")


def make_plan(
    cur: duckdb.DuckDBPyConnection,
    source: SourceFile,
    preset: dict[str, str] | None = None,
    platform: str | None = None,
    overrides: dict[str, str] | None = None,
) -> ImportPlan:
    """Read a sample of the file and decide how to import it."""
    dialect = None
    if source.format == "csv":
        dialect = detect_dialect(source.head_text, source.label, source.size > HEAD_BYTES)
    sql, params = read_sql(source, dialect, serial=True)
    try:
        sample = cur.execute(f"SELECT * FROM {sql} LIMIT {SAMPLE_ROWS}", params).df()
        types = {
            r[0]: r[1] for r in cur.execute(f"DESCRIBE SELECT * FROM {sql}", params).fetchall()
        }
    except duckdb.Error as exc:
        raise _duck_error(source, exc, dialect) from None
    if sample.empty:
        raise KpiLabError(f"{source.label} has a header but no data rows: export it again")
    comma = bool(dialect and dialect.decimal_comma_hint)
    parses = {
        name: _parse_column(sample[name], types[name], comma, _expected_kind(name))
        for name in sample.columns
    }
    platform = platform or detect_platform(list(parses))
    wide = detect_wide(list(parses))
    columns = map_columns(parses, platform, preset, overrides, wide)
    for column in columns:  # ids and names stay text, even when they look like numbers
        if column.role in DIMENSION_ROLES + KEY_ROLES and not column.parse.native:
            column.parse = ColumnParse("text")
    _check_roles(columns, sample, types, comma)
    plan = ImportPlan(source, dialect, columns, platform, wide, per_conversion_column(columns))
    plan.currency = _single_currency(plan)
    plan.preview = sample.head(10)
    if dialect and dialect.preamble:
        plan.notes.append(
            {
                "code": "preamble_lines",
                "count": len(dialect.preamble),
                "message": f"skipped {len(dialect.preamble)} line(s) above the header",
                "examples": list(dialect.preamble[:3]),
            }
        )
        plan.period = None if "date" in plan.roles else period_in(dialect.preamble)
        if plan.period:
            first, last = (d.isoformat() for d in plan.period)
            plan.notes.append(
                {
                    "code": "period_from_header",
                    "count": 1,
                    "message": f"the rows have no dates; the file's header says they cover"
                    f" {first} to {last}, so their totals are for that period",
                    "examples": [first, last],
                }
            )
    for column in columns:
        if dialect and dialect.delimiter == "," and column.parse.kind == "number":
            column.parse = replace(
                column.parse, ambiguous=False
            )  # "1,234" must be quoted: thousands
        if column.parse.ambiguous and not column.ignored:
            what = "day and month order" if column.parse.kind == "date" else "number format"
            plan.notes.append(
                {
                    "code": "ambiguous_format",
                    "count": 1,
                    "message": f"the {what} of {column.name!r} is ambiguous in this file; read as"
                    f" {column.parse.describe()} (set it in the mapping if that is wrong)",
                    "examples": [v for v in sample[column.name].dropna().astype(str).head(3)],
                }
            )
    _check_usable(plan)
    return plan


def _expected_kind(header: str) -> str:
    """What a header promises: a date column, a metric (number), or nothing in particular."""
    if score(header, "date") >= 1:
        return "date"
    if any(score(header, role) >= 1 for role in METRIC_ROLES):
        return "number"
    return ""


def _parse_column(values: pd.Series, duck_type: str, comma_hint: bool, expect: str) -> ColumnParse:
    if duck_type.upper() != "VARCHAR":  # Parquet keeps its own types
        return stored_parse(duck_type)
    raw = [None if v is None or v != v else str(v) for v in values.tolist()]
    return analyse(raw, comma_hint, expect)


def _check_roles(
    columns: list[MappedColumn], sample: pd.DataFrame, types: dict[str, str], comma: bool
) -> None:
    """A date must hold dates and a metric numbers, whoever chose the role: a column that
    does not is refused with its values, before anything is stored."""
    for column in columns:
        if column.ignored or column.role is None:
            continue
        wanted = "date" if column.role == "date" else "number"
        if column.role != "date" and column.role not in METRIC_ROLES:
            continue
        if column.parse.kind == wanted or (wanted == "number" and column.parse.kind == "bool"):
            continue
        retry = _parse_column(sample[column.name], types[column.name], comma, wanted)
        if retry.kind == wanted:
            column.parse = retry
            continue
        examples = ", ".join(repr(v) for v in sample[column.name].dropna().astype(str).head(3))
        what = (
            "dates (e.g. 2026-03-01, 01/03/2026, 2026-03-01 14:30:00)"
            if wanted == "date"
            else "numbers (e.g. 1234.5, 1,234.50, 3.5%)"
        )
        raise KpiLabError(
            f"column {column.name!r} cannot be the {column.role}: its values ({examples}) are"
            f" not {what}; give it another role, or none"
        )


def _single_currency(plan: ImportPlan) -> str | None:
    found: set[str] = set()
    for column in plan.columns:
        if column.role in MONEY_ROLES and not column.ignored:
            if code := header_currency(column.name):
                found.add(code)
            found.update(column.parse.currencies)
    return found.pop() if len(found) == 1 else None


def _check_usable(plan: ImportPlan) -> None:
    if not has_metric(plan.columns) and not plan.wide:
        found = ", ".join(c.name for c in plan.columns[:12])
        raise KpiLabError(
            f"{plan.source.label} has no metric column: it needs at least one of Impressions,"
            f" Clicks, Conversions, Cost/Spend, Revenue or Users (found: {found})"
        )
