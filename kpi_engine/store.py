"""The workspace store: a DuckDB database file holding a registry of datasets, one table each.

The app serves many sessions on threads, so every read and write goes through its own
cursor; a DuckDB connection itself is not thread-safe. An import runs inside one
transaction (see ``transaction``): if it fails, neither its table nor its registry entry
exists afterwards.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from kpi_engine.aggregate_sql import date_range_sql, distinct_sql
from kpi_engine.compute import run_attached
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier
from kpi_engine.paths import database_path
from kpi_engine.roles import DIMENSION_ROLES

DEFAULT_MEMORY_LIMIT = "4GB"
MAX_NAME_LENGTH = 120

# Every table is created here, once, when the database is opened: created lazily by the
# first session that needs it, two sessions at once hit DuckDB's catalog write-write
# conflict (found by the 20-user load test).
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS datasets (
        dataset_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        source_file VARCHAR,
        rows BIGINT NOT NULL,
        columns VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'campaign'",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS platform VARCHAR DEFAULT 'generic'",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS currencies VARCHAR DEFAULT '[]'",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS report VARCHAR DEFAULT '{}'",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS workspace VARCHAR DEFAULT 'default'",
    # where the rows live: 'duckdb' (a table here) or 'spark' (attached; where, in source)
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS engine VARCHAR DEFAULT 'duckdb'",
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS source VARCHAR",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS presets (
        name VARCHAR NOT NULL,
        mapping VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    "ALTER TABLE presets ADD COLUMN IF NOT EXISTS workspace VARCHAR DEFAULT 'default'",
    """CREATE TABLE IF NOT EXISTS workspaces (
        workspace_id VARCHAR PRIMARY KEY,
        token_hash VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS custom_kpis (
        workspace VARCHAR NOT NULL, kpi_id VARCHAR NOT NULL, formula VARCHAR NOT NULL,
        unit VARCHAR NOT NULL, direction VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS targets (
        workspace VARCHAR NOT NULL, dataset_id VARCHAR NOT NULL, kpi VARCHAR NOT NULL,
        target DOUBLE NOT NULL, start_date DATE NOT NULL, deadline DATE NOT NULL)""",
    # the rows a target counts: the filters and currency active when it was set (JSON)
    "ALTER TABLE targets ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT '{}'",
    """CREATE TABLE IF NOT EXISTS views (
        view_id VARCHAR PRIMARY KEY, workspace VARCHAR NOT NULL, name VARCHAR NOT NULL,
        state VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS shares (
        share_id VARCHAR PRIMARY KEY, token_hash VARCHAR NOT NULL, workspace VARCHAR NOT NULL,
        title VARCHAR NOT NULL, state VARCHAR NOT NULL, snapshot VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP,
        revoked_at TIMESTAMP)""",
    # a link freezes its result (JSON); links made before kept a snapshot table of the rows
    "ALTER TABLE shares ADD COLUMN IF NOT EXISTS result VARCHAR",
    "ALTER TABLE shares ALTER COLUMN snapshot DROP NOT NULL",
    # monitoring: what to watch and where to say it; every alert or digest sent or tried
    """CREATE TABLE IF NOT EXISTS watches (
        watch_id VARCHAR PRIMARY KEY, workspace VARCHAR NOT NULL, dataset_id VARCHAR NOT NULL,
        kpi VARCHAR, experiment VARCHAR, rule VARCHAR NOT NULL, destination VARCHAR NOT NULL,
        digest VARCHAR, hour INTEGER NOT NULL, channel_type VARCHAR,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        workspace VARCHAR NOT NULL, watch_id VARCHAR NOT NULL, period VARCHAR NOT NULL,
        destination VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL, reason VARCHAR, message VARCHAR NOT NULL,
        first_try TIMESTAMP NOT NULL, last_try TIMESTAMP NOT NULL, next_try TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS settings (
        workspace VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL)""",
    # when someone last looked at each KPI (the KPIs page), for the review cycle
    """CREATE TABLE IF NOT EXISTS kpi_seen (
        workspace VARCHAR NOT NULL, dataset_id VARCHAR NOT NULL, kpi VARCHAR NOT NULL,
        seen_at TIMESTAMP NOT NULL)""",
)
SYSTEM_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", " ".join(_SCHEMA)))
DEFAULT_WORKSPACE = "default"
_FIELDS = (
    "dataset_id, name, source_file, rows, columns, created_at, kind, platform, currencies, report,"
    " engine, source"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    role: str | None = None


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    name: str
    source_file: str | None
    rows: int
    columns: tuple[Column, ...]
    created_at: datetime
    kind: str = "campaign"  # campaign | user_level | variant_totals
    platform: str = "generic"
    currencies: tuple[str, ...] = ()
    report: dict = field(default_factory=dict)  # the last import's rows and warnings
    engine: str = "duckdb"  # where the rows live and analyses run: duckdb or spark
    source: dict | None = None  # an attached dataset's path or table and format

    @property
    def attached(self) -> bool:
        """Read where it lives, never copied here: its rows cannot be changed from KPI Lab."""
        return self.engine != "duckdb"

    def writable(self) -> None:
        """Nothing, or the error for changing the rows of an attached dataset."""
        if self.attached:
            raise KpiLabError(
                f"dataset {self.name!r} is attached from {self.source_file} on {self.engine}:"
                " KPI Lab only reads it; change the rows where they live, or import a file"
                " as a new dataset"
            )

    @property
    def table(self) -> str:
        return quote_identifier(self.dataset_id)

    @property
    def roles(self) -> dict[str, str]:
        """role → column name."""
        return {c.role: c.name for c in self.columns if c.role}

    @property
    def date_column(self) -> str | None:
        return self.roles.get("date")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dimensions(self) -> list[str]:
        """Columns a table can be broken down by: campaign, channel, variant, other text."""
        roles = self.roles
        dims = [roles[r] for r in (*DIMENSION_ROLES, "currency") if r in roles]
        dims += [
            c.name
            for c in self.columns
            if c.role is None and c.name not in dims and c.type.upper() in ("VARCHAR", "BOOLEAN")
        ]
        return dims

    @property
    def currency(self) -> str | None:
        """The one currency of the money columns, when there is exactly one."""
        return self.currencies[0] if len(self.currencies) == 1 else None

    def to_dict(self) -> dict:
        return {
            "dataset_id": self.dataset_id,
            "name": self.name,
            "source_file": self.source_file,
            "rows": self.rows,
            "kind": self.kind,
            "platform": self.platform,
            "currencies": list(self.currencies),
            "columns": {c.name: c.role for c in self.columns},
            "engine": self.engine,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise KpiLabError("a dataset name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise KpiLabError(f"a dataset name can have at most {MAX_NAME_LENGTH} characters")
    return name


class Store:
    """The database, seen from one workspace: every registry read and write is limited to
    ``workspace``. ``Store(":memory:")`` for tests; ``for_workspace`` gives another view on
    the same connection."""

    def __init__(
        self,
        path: str | Path | None = None,
        memory_limit: str | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> None:
        target = str(path or database_path())
        self.path = target
        self.workspace = workspace
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(target)
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                raise KpiLabError(
                    f"the workspace database {target} is in use by another process (is the app"
                    " running?): stop it, or pass --db with another file"
                ) from None
            raise KpiLabError(f"cannot open the workspace database {target}: {exc}") from None
        limit = memory_limit or os.environ.get("KPILAB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        try:
            self._con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error:
            raise KpiLabError(f"memory limit {limit!r} is not valid: write e.g. 4GB") from None
        # Tables need no order: rows are only ever read back aggregated or sorted, which
        # lets DuckDB write an import's rows as its threads finish them (~20% faster at
        # 10M rows). Reads that show rows "as in the file" scan serially (ingest.plan) or
        # sort by rowid (preview, examples).
        self._con.execute("SET preserve_insertion_order = false")
        for statement in _SCHEMA:
            self._con.execute(statement)

    def close(self) -> None:
        self._con.close()

    def for_workspace(self, workspace: str) -> Store:
        """The same database, limited to another workspace (no new connection)."""
        view = object.__new__(Store)
        view.path, view.workspace, view._con = self.path, workspace, self._con
        return view

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any exception every statement in the block is rolled back.

        Two sessions changing the same rows at once (two tabs of one workspace) make DuckDB
        refuse the second: that is a message to try again, not a crash."""
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except duckdb.TransactionException:
                _rollback(cur)
                raise KpiLabError(
                    "another change to this workspace was being saved at the same moment, so"
                    " nothing of this one was saved: try again"
                ) from None
            except BaseException:
                _rollback(cur)
                raise

    # registry -------------------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        with self.cursor() as cur:
            rows = cur.execute(
                f"SELECT {_FIELDS} FROM datasets WHERE workspace = ? ORDER BY created_at, name",
                [self.workspace],
            ).fetchall()
        return [_dataset_from_row(row) for row in rows]

    def dataset(self, ref: str) -> Dataset:
        """A dataset by id or by name."""
        ref = str(ref).strip()
        with self.cursor() as cur:
            rows = cur.execute(
                f"SELECT {_FIELDS} FROM datasets WHERE workspace = ?"
                " AND (dataset_id = ? OR lower(name) = lower(?))",
                [self.workspace, ref, ref],
            ).fetchall()
        exact = [r for r in rows if r[0] == ref or r[1] == ref]
        rows = exact or rows
        if len(rows) == 1:
            return _dataset_from_row(rows[0])
        if len(rows) > 1:
            ids = ", ".join(r[0] for r in rows)
            raise KpiLabError(f"several datasets are named {ref!r}: use an id ({ids})")
        known = ", ".join(f"{d.dataset_id} ({d.name})" for d in self.datasets()[:8]) or "none yet"
        raise KpiLabError(f"unknown dataset {ref!r}: known datasets are {known}")

    def new_dataset_id(self) -> str:
        return "ds_" + secrets.token_hex(6)

    def unique_name(self, cur: duckdb.DuckDBPyConnection, wanted: str) -> str:
        name = clean_name(wanted)
        taken = {
            r[0].lower()
            for r in cur.execute(
                "SELECT name FROM datasets WHERE workspace = ?", [self.workspace]
            ).fetchall()
        }
        candidate, n = name, 2
        while candidate.lower() in taken:
            candidate, n = f"{name} ({n})", n + 1
        return candidate

    def register(self, cur: duckdb.DuckDBPyConnection, dataset: Dataset) -> Dataset:
        """Write a dataset's registry entry (a new one, or over the same id)."""
        cur.execute(
            "DELETE FROM datasets WHERE dataset_id = ? AND workspace = ?",
            [dataset.dataset_id, self.workspace],
        )
        cur.execute(
            f"INSERT INTO datasets ({_FIELDS}, workspace)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                dataset.dataset_id,
                dataset.name,
                dataset.source_file,
                dataset.rows,
                json.dumps([[c.name, c.type, c.role] for c in dataset.columns]),
                dataset.created_at,
                dataset.kind,
                dataset.platform,
                json.dumps(list(dataset.currencies)),
                json.dumps(dataset.report, default=str),
                dataset.engine,
                json.dumps(dataset.source) if dataset.source else None,
                self.workspace,
            ],
        )
        return dataset

    def with_report(
        self, cur: duckdb.DuckDBPyConnection, dataset: Dataset, report: dict
    ) -> Dataset:
        updated = replace(dataset, report=report)
        cur.execute(
            "UPDATE datasets SET report = ? WHERE dataset_id = ? AND workspace = ?",
            [json.dumps(report, default=str), dataset.dataset_id, self.workspace],
        )
        return updated

    # saved column mappings ----------------------------------------------------------------

    def save_preset(self, name: str, mapping: dict[str, str]) -> None:
        name = clean_name(name)
        with self.transaction() as cur:
            cur.execute(
                "DELETE FROM presets WHERE name = ? AND workspace = ?", [name, self.workspace]
            )
            cur.execute(
                "INSERT INTO presets (name, mapping, created_at, workspace) VALUES (?, ?, ?, ?)",
                [name, json.dumps(mapping), datetime.now(), self.workspace],
            )

    def presets(self) -> dict[str, dict[str, str]]:
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT name, mapping FROM presets WHERE workspace = ? ORDER BY name",
                [self.workspace],
            ).fetchall()
        return {name: json.loads(mapping) for name, mapping in rows}

    def rename(self, ref: str, new_name: str) -> Dataset:
        dataset = self.dataset(ref)
        name = clean_name(new_name)
        with self.transaction() as cur:
            clash = cur.execute(
                "SELECT count(*) FROM datasets WHERE lower(name) = lower(?) AND dataset_id <> ?"
                " AND workspace = ?",
                [name, dataset.dataset_id, self.workspace],
            ).fetchone()[0]
            if clash:
                raise KpiLabError(f"another dataset is already named {name!r}: pick another name")
            cur.execute(
                "UPDATE datasets SET name = ? WHERE dataset_id = ? AND workspace = ?",
                [name, dataset.dataset_id, self.workspace],
            )
        return self.dataset(dataset.dataset_id)

    def delete(self, ref: str) -> None:
        """Remove a dataset: its table, or for an attached one only its registry entry (the
        rows where they live are never touched)."""
        dataset = self.dataset(ref)
        with self.transaction() as cur:
            if not dataset.attached:
                cur.execute(f"DROP TABLE IF EXISTS {dataset.table}")
            cur.execute(
                "DELETE FROM datasets WHERE dataset_id = ? AND workspace = ?",
                [dataset.dataset_id, self.workspace],
            )

    def get_meta(self, key: str) -> str | None:
        """A setting of this workspace."""
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT value FROM meta WHERE key = ?", [f"{self.workspace}:{key}"]
            ).fetchone()
        return row[0] if row else None

    def set_meta(self, cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
        cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"{self.workspace}:{key}", value])

    # reads of one dataset --------------------------------------------------------------

    def preview(self, ref: str, limit: int = 20) -> pd.DataFrame:
        dataset = self.dataset(ref)
        if dataset.attached:
            return self.query(dataset, f"SELECT * FROM {dataset.table} LIMIT ?", [int(limit)])
        with self.cursor() as cur:
            return cur.execute(
                f"SELECT * FROM {dataset.table} ORDER BY rowid LIMIT ?", [int(limit)]
            ).df()

    def query(self, dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """Run one analysis query on ``dataset`` (SQL from ``aggregate_sql``) with bound
        parameters: the one place analyses read rows. DuckDB runs it as written; an attached
        dataset's engine runs it translated (``kpi_engine.compute``)."""
        if dataset.attached:
            return run_attached(dataset, sql, params)
        with self.cursor() as cur:
            return cur.execute(sql, list(params)).df()

    def distinct_values(self, dataset: Dataset, column: str, limit: int = 2000) -> list[str]:
        """Sorted distinct values of a column, as text (for filter widgets)."""
        if column not in dataset.column_names:
            raise KpiLabError(f"dataset {dataset.name!r} has no column {column!r}")
        return self.query(dataset, *distinct_sql(dataset, column, limit))["value"].tolist()

    def date_range(self, dataset: Dataset) -> tuple[date, date] | None:
        if not dataset.date_column:
            return None
        low, high = self.query(dataset, *date_range_sql(dataset)).iloc[0]
        if pd.isna(low):
            return None
        return pd.Timestamp(low).date(), pd.Timestamp(high).date()


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:  # a failed COMMIT has already ended the transaction
        pass


def _dataset_from_row(row: tuple) -> Dataset:
    (
        dataset_id,
        name,
        source_file,
        rows,
        columns,
        created_at,
        kind,
        platform,
        currencies,
        report,
        engine,
        source,
    ) = row
    cols = tuple(Column(n, t, r) for n, t, r in json.loads(columns))
    return Dataset(
        dataset_id,
        name,
        source_file,
        int(rows),
        cols,
        created_at,
        kind or "campaign",
        platform or "generic",
        tuple(json.loads(currencies or "[]")),
        json.loads(report or "{}"),
        engine or "duckdb",
        json.loads(source) if source else None,
    )
