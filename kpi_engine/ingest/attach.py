"""Attach a dataset that lives in a data lake or a catalog: nothing is copied. Its schema is
read, each column gets a role by the same rules as an import (overridable), its rows are
profiled with aggregate queries on its engine, and the registry here records where it lives.
Every analysis then runs there (``kpi_engine.compute``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from kpi_engine.access.principal import require
from kpi_engine.aggregate_sql import distinct_sql, profile_sql
from kpi_engine.compute import ATTACH_ENGINES, FORMATS
from kpi_engine.datasets import Column, Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach_roots import configured_roots, fenced_source
from kpi_engine.ingest.delta_log import local, pinned, table_holding
from kpi_engine.ingest.importer import (
    ImportResult,
    free_name,
    mapping_of_columns,
    name_from_label,
)
from kpi_engine.ingest.mapping import (
    MappedColumn,
    dataset_kind,
    has_metric,
    map_columns,
    parse_overrides,
    roles_of,
)
from kpi_engine.ingest.parsing import stored_parse
from kpi_engine.ingest.quality import counted_warnings
from kpi_engine.paths import own_paths
from kpi_engine.roles import METRIC_ROLES, MONEY_ROLES, header_currency
from kpi_engine.state.registry import VersionConflict
from kpi_engine.store import Store
from kpi_engine.time_zone import time_zone


@dataclass(frozen=True)
class AttachOptions:
    path: str | None = None  # a Parquet file, a folder of them (a lake table) or a glob
    table: str | None = None  # or a catalog table, CATALOG.SCHEMA.TABLE
    engine: str = "spark"
    format: str = "parquet"
    name: str | None = None
    mapping: dict[str, str] | list[str] | None = None  # column → role, as for an import


@dataclass
class AttachPlan:
    """What attaching would register: where, each column's type and role, a few rows."""

    source: dict
    label: str
    types: dict[str, str]
    columns: list[MappedColumn]
    preview: pd.DataFrame


def inspect_source(store: Store, options: AttachOptions, preview_rows: int = 5) -> AttachPlan:
    """Read the source's schema and first rows on its engine and map its columns (only a
    source under the operator's roots: ``attach_roots``)."""
    require(store, "attach")
    source = pinned(
        _not_delta(fenced_source(_source(options), own_paths(store.path, store.data.root)))
    )
    from kpi_engine.compute import spark

    frame = spark.read(source)
    types = {f.name: _duck_type(f.dataType.simpleString()) for f in frame.schema.fields}
    columns = map_columns(
        {name: stored_parse(t) for name, t in types.items()},
        "generic",
        overrides=parse_overrides(options.mapping),
    )
    preview = spark.first_rows(frame, preview_rows)
    return AttachPlan(source, source.get("table") or source["path"], types, columns, preview)


def attach(store: Store, options: AttachOptions) -> ImportResult:
    """Register the source as a dataset of this workspace, read where it lives."""
    plan = inspect_source(store, options)
    _check(plan.columns, plan.label)
    roles = roles_of(plan.columns)
    kept = [
        Column(c.name, "DATE" if c.role == "date" else plan.types[c.name], c.role)
        for c in plan.columns
        if not c.ignored
    ]
    source = plan.source
    dated = next((c for c in plan.columns if c.role == "date"), None)
    if dated is not None and dated.parse.has_time:  # as an import: the day, and the time beside
        taken = {c.name for c in kept}
        kept.append(Column(free_name(f"{dated.name} time", taken), "TIMESTAMP", None))
        source = {**source, "zone": time_zone(store)}
    draft = Dataset(
        store.new_dataset_id(),
        options.name or name_from_label(plan.label.rstrip("/*")),
        plan.label,
        0,
        tuple(kept),
        datetime.now(),
        dataset_kind(roles),
        engine=options.engine,
        source=source,
    )
    rows, report = _profile(store, draft)
    report["mapping"] = mapping_of_columns(plan.columns)
    currencies = _currencies(store, draft, plan.columns)
    with store.transaction() as conn:
        dataset = replace(
            draft,
            name=store.unique_name(conn, draft.name),
            rows=rows,
            currencies=currencies,
            report=report,
            version=report["version"],
        )
        store.register(conn, dataset)
        store.log(conn, "attach", dataset.name, f"{plan.label} on {dataset.engine}")
    return ImportResult(dataset, report["warnings"], rows, 0, 0, "attach")


def refresh(store: Store, dataset: Dataset) -> Dataset:
    """Read an attached dataset again where it lives (its rows may have changed there): new
    row count and findings, and a new version, so no cached result of the old rows is shown."""
    require(store, "edit")
    if not dataset.attached:
        raise KpiLabError(
            f"dataset {dataset.name!r} was imported, not attached: append or replace its rows"
            " with a new file instead"
        )
    from kpi_engine.compute import spark

    spark.forget(dataset.dataset_id)
    latest = replace(dataset, source=pinned(dataset.source or {}))
    rows, report = _profile(store, latest)
    report["mapping"] = dataset.report.get("mapping", {})
    fresh = replace(latest, rows=rows, report=report, version=report["version"])
    try:
        with store.transaction() as conn:
            store.log(conn, "read again", dataset.name, f"{rows:,} rows")
            return store.update(conn, fresh, dataset.version)
    except VersionConflict:
        raise KpiLabError(f"{dataset.name!r} was read again meanwhile: nothing to do") from None


def _profile(store: Store, dataset: Dataset) -> tuple[int, dict]:
    """Rows, and the report an import would keep, from one aggregate query on the engine."""
    rows, dated, units = store.query(dataset, *profile_sql(dataset)).iloc[0].tolist()
    if rows == 0:
        raise KpiLabError(f"{dataset.source_file} has no rows: attach a table that holds data")
    warnings = counted_warnings(dataset, lambda sql: store.query(dataset, sql))
    return int(rows), {
        "action": "attach",
        "file": dataset.source_file,
        "rows_read": int(rows),
        "rows_dropped": 0,
        "rows_replaced": 0,
        "warnings": warnings,
        "unique_units": None if "unit" not in dataset.roles else bool(units == rows),
        "imported_at": datetime.now().isoformat(timespec="seconds"),
        "version": secrets.token_hex(8),
        "earlier": [],
    }


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
        return {"table": options.table.strip(), "format": options.format}
    return {"path": options.path.strip(), "format": options.format}


def _not_delta(source: dict) -> dict:
    """A fenced path source, unless it is a Delta table read as plain files."""
    path = source.get("path")
    if path and source.get("format") != "delta" and _delta_table(path):
        raise KpiLabError(
            f"{path} is a Delta table (it has a _delta_log): read as {source['format']} its"
            " files would count rows the table has removed. Attach the table's folder as delta"
            " (--format delta)"
        )
    return source


def _delta_table(path: str) -> bool:
    """A local folder (or a glob or file inside one) that holds a Delta log."""
    if not local(path):
        return False  # a lake's own listing decides; Spark reads its format
    read = Path(path.removeprefix("file://"))
    while not read.exists() and read != read.parent:  # a glob: the folder it reads
        read = read.parent
    roots = configured_roots().folders
    return (  # never a look outside the operator's folders
        table_holding(read, lambda folder: any(folder.is_relative_to(r) for r in roots)) is not None
    )


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
        "timestamp": "TIMESTAMP WITH TIME ZONE",  # an instant: its day is the workspace's
        "timestamp_ntz": "TIMESTAMP",
    }
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return names.get(spark_type, spark_type.upper())


def _check(columns: list[MappedColumn], label: str) -> None:
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
            f"{label} has no metric column: it needs at"
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
