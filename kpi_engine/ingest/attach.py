"""Attach a dataset that lives in a data lake or a catalog: nothing is copied. Its schema is
read, each column gets a role by the same rules as an import (overridable), its rows are
profiled with aggregate queries on its engine, and the registry here records where it lives.
Every analysis then runs there (``kpi_engine.compute``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kpi_engine.aggregate_sql import distinct_sql, profile_sql
from kpi_engine.compute import ATTACH_ENGINES, FORMATS
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.importer import ImportResult, name_from_label
from kpi_engine.ingest.mapping import (
    IGNORE,
    NO_ROLE,
    MappedColumn,
    dataset_kind,
    has_metric,
    map_columns,
    parse_overrides,
    roles_of,
)
from kpi_engine.ingest.parsing import ColumnParse
from kpi_engine.ingest.quality import warning
from kpi_engine.roles import METRIC_ROLES, MONEY_ROLES, header_currency
from kpi_engine.store import Column, Dataset, Store

_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://|^dbfs:", re.IGNORECASE)
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class AttachOptions:
    path: str | None = None  # a Parquet file, a folder of them (a lake table) or a glob
    table: str | None = None  # or a catalog table, CATALOG.SCHEMA.TABLE
    engine: str = "spark"
    format: str = "parquet"
    name: str | None = None
    mapping: dict[str, str] | list[str] | None = None  # column → role, as for an import


def attach(store: Store, options: AttachOptions) -> ImportResult:
    """Register the source as a dataset of this workspace, read where it lives."""
    source = _source(options)
    from kpi_engine.compute import spark

    frame = spark.read(source)
    types = {f.name: _duck_type(f.dataType.simpleString()) for f in frame.schema.fields}
    columns = map_columns(
        {name: _parse(t) for name, t in types.items()},
        "generic",
        overrides=parse_overrides(options.mapping),
    )
    _check(columns, source)
    roles = roles_of(columns)
    kept = [
        Column(c.name, "DATE" if c.role == "date" else types[c.name], c.role)
        for c in columns
        if not c.ignored
    ]
    label = source.get("table") or source["path"]
    draft = Dataset(
        store.new_dataset_id(),
        options.name or name_from_label(label.rstrip("/*")),
        label,
        0,
        tuple(kept),
        datetime.now(),
        dataset_kind(roles),
        engine=options.engine,
        source=source,
    )
    rows, dated, units = store.query(draft, *profile_sql(draft)).iloc[0].tolist()
    if rows == 0:
        raise KpiLabError(f"{label} has no rows: attach a table that holds data")
    warnings = []
    if dated < rows:
        missing = int(rows - dated)
        warnings.append(
            warning(
                "missing_dates",
                missing,
                f"{missing:,} rows have no date: analyses by day skip them",
            )
        )
    report = {
        "action": "attach",
        "file": label,
        "rows_read": int(rows),
        "rows_dropped": 0,
        "rows_replaced": 0,
        "warnings": warnings,
        "mapping": {c.name: IGNORE if c.ignored else (c.role or NO_ROLE) for c in columns},
        "unique_units": None if "unit" not in roles else bool(units == rows),
        "imported_at": datetime.now().isoformat(timespec="seconds"),
        "version": secrets.token_hex(8),
        "earlier": [],
    }
    with store.transaction() as cur:
        dataset = Dataset(
            draft.dataset_id,
            store.unique_name(cur, draft.name),
            label,
            int(rows),
            draft.columns,
            draft.created_at,
            draft.kind,
            currencies=_currencies(store, draft, columns),
            report=report,
            engine=options.engine,
            source=source,
        )
        store.register(cur, dataset)
    return ImportResult(dataset, warnings, int(rows), 0, 0, "attach")


def _source(options: AttachOptions) -> dict:
    if options.engine not in ATTACH_ENGINES:
        raise KpiLabError(
            f"cannot be {options.engine!r} to attach a dataset: use {', '.join(ATTACH_ENGINES)}",
            "engine",
        )
    if options.format not in FORMATS:
        raise KpiLabError(
            f"cannot be {options.format!r}: use {', '.join(FORMATS)}",
            "format",
        )
    if bool(options.path) == bool(options.table):
        raise KpiLabError("give either a path (a file, folder or glob) or a table, not both")
    if options.table:
        if not re.fullmatch(r"[A-Za-z0-9_`.-]+", options.table):
            raise KpiLabError(
                f"{options.table!r} is not a table name: write CATALOG.SCHEMA.TABLE", "table"
            )
        return {"table": options.table, "format": options.format}
    path = options.path.strip()
    if not _REMOTE.match(path):
        if not _GLOB.search(path) and not Path(path).exists():
            raise KpiLabError(f"{path} does not exist: give a file, a folder or a glob")
        path = str(Path(path).resolve()) if not _GLOB.search(path) else path
    return {"path": path, "format": options.format}


def _duck_type(spark_type: str) -> str:
    """A Spark type by the name DuckDB gives the same type (what the registry records)."""
    names = {
        "string": "VARCHAR",
        "double": "DOUBLE",
        "float": "FLOAT",
        "bigint": "BIGINT",
        "int": "INTEGER",
        "smallint": "SMALLINT",
        "tinyint": "TINYINT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "timestamp_ntz": "TIMESTAMP",
    }
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return names.get(spark_type, spark_type.upper())


def _parse(duck_type: str) -> ColumnParse:
    if duck_type in ("DATE", "TIMESTAMP"):
        return ColumnParse("date", "native")
    if duck_type == "BOOLEAN":
        return ColumnParse("bool", "native")
    if duck_type == "VARCHAR":
        return ColumnParse("text")
    if duck_type.startswith(("DECIMAL", "DOUBLE", "FLOAT")) or duck_type.endswith("INT"):
        return ColumnParse("number", "native")
    if duck_type == "INTEGER":
        return ColumnParse("number", "native")
    return ColumnParse("text", "other")


def _check(columns: list[MappedColumn], source: dict) -> None:
    """A date must be a date and a metric a number, whoever chose the role."""
    for c in columns:
        if c.ignored or c.role is None:
            continue
        if c.role == "date" and c.parse.kind != "date":
            raise KpiLabError(
                f"column {c.name!r} cannot be the date: it is not a date or timestamp column;"
                " give it another role, or none"
            )
        if c.role in METRIC_ROLES and c.parse.kind not in ("number", "bool"):
            raise KpiLabError(
                f"column {c.name!r} cannot be the {c.role}: it is not a number column;"
                " give it another role, or none"
            )
    if not has_metric(columns):
        found = ", ".join(c.name for c in columns[:12])
        raise KpiLabError(
            f"{source.get('table') or source.get('path')} has no metric column: it needs at"
            f" least one of Impressions, Clicks, Conversions, Cost/Spend, Revenue or Users"
            f" (found: {found}); give one of them a metric role"
        )


def _currencies(store: Store, dataset: Dataset, columns: list[MappedColumn]) -> tuple[str, ...]:
    """The currency column's values, or one currency named in the money columns' headers."""
    if "currency" in dataset.roles:
        values = store.query(dataset, *distinct_sql(dataset, dataset.roles["currency"], 50))
        return tuple(sorted({str(v).strip().upper() for v in values["value"]}))
    found = {
        code
        for c in columns
        if c.role in MONEY_ROLES and not c.ignored and (code := header_currency(c.name))
    }
    return (found.pop(),) if len(found) == 1 else ()
