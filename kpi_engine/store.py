"""The store: a workspace seen from one place. Its state (the dataset registry, presets,
settings, and through the feature modules views, links, watches...) is in the state
database (``kpi_engine.state``); an imported dataset's rows are Parquet files in the data
folder (``kpi_engine.datafiles``); analysis queries go to the dataset's engine
(``kpi_engine.compute``). Many processes may open the same store at once.

``Store(":memory:")`` is a throwaway (tests): a state database and a data folder in a
temporary folder, removed by ``close``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from kpi_engine import compute
from kpi_engine.access.principal import LOCAL_OWNER, Principal, require
from kpi_engine.aggregate_sql import date_range_sql, distinct_sql, preview_sql
from kpi_engine.datafiles import DataDir
from kpi_engine.datasets import Column, Dataset, clean_name
from kpi_engine.errors import KpiLabError
from kpi_engine.paths import data_dir, database_target, legacy_source
from kpi_engine.state import audit_log, registry
from kpi_engine.state.database import StateDB, open_state, sqlite_url, upsert
from kpi_engine.state.schema import presets, settings

DEFAULT_WORKSPACE = "default"  # the command line's and the local install's one workspace
SAMPLES_WORKSPACE = "__samples__"  # the samples, imported once; workspaces name their files
PENDING = "__pending__"  # a visitor before their first change: they read the samples only
SYSTEM_SETTINGS = "__kpilab__"  # the server's own settings (its mode, the legacy move...)
__all__ = ["Column", "Dataset", "Store", "clean_name", "DEFAULT_WORKSPACE"]


class Store:
    """The state database, the data folder and the engines, seen from one workspace: every
    read and write is limited to ``workspace``; ``for_workspace`` gives another view of the
    same store."""

    def __init__(self, path: str | Path | None = None, workspace: str = DEFAULT_WORKSPACE) -> None:
        target = database_target(path)
        self.path = target
        self.workspace = workspace
        self.actor: Principal = LOCAL_OWNER
        self.rates_file = None  # a rates file given for one command, instead of the workspace's
        self._scratch = None
        if target == ":memory:":
            self._scratch = tempfile.mkdtemp(prefix="kpilab-")
            target = str(Path(self._scratch, "state.sqlite"))
        folder = data_dir(target)
        self.state: StateDB = open_state(target if "://" in target else sqlite_url(target))
        self.data = DataDir(folder)
        legacy = legacy_source(path)
        if legacy is not None:
            from kpi_engine.legacy import migrate_if_new

            migrate_if_new(self, legacy)

    def close(self) -> None:
        self.state.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def for_workspace(self, workspace: str) -> Store:
        """The same store, limited to another workspace (nothing opened again)."""
        view = object.__new__(Store)
        view.__dict__.update(self.__dict__)
        view.workspace = workspace
        return view

    def acting(self, actor: Principal, workspace: str | None = None) -> Store:
        """The same store, for ``actor`` (and in ``workspace``): what they may do is checked
        against them (``access.principal.require``)."""
        view = self.for_workspace(workspace or self.workspace)
        view.actor = actor
        return view

    def using_rates(self, table) -> Store:
        """The same store, converting money with ``table`` (a ``currencies.rates.RateTable``
        read from a file) instead of the workspace's rates."""
        view = self.for_workspace(self.workspace)
        view.rates_file = table
        return view

    @property
    def pending(self) -> bool:
        """A visitor who has changed nothing yet: no workspace of their own, the samples."""
        return self.workspace == PENDING

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction on the state database: all or nothing."""
        if self.pending:  # the page makes the visitor's workspace before their first change
            raise KpiLabError("this session has no workspace of its own yet: reload the page")
        try:
            with self.state.write() as conn:
                yield conn
        except IntegrityError:
            raise KpiLabError(
                "another change to this workspace was being saved at the same moment, so"
                " nothing of this one was saved: try again"
            ) from None

    def log(self, conn: Connection, action: str, subject: str, detail: str | None = None) -> None:
        """An audit entry for what the principal does, in the transaction that does it."""
        actor = self.actor
        audit_log.write(conn, self.workspace, actor.who, actor.role, action, subject, detail)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.state.read() as conn:
            yield conn

    # registry -------------------------------------------------------------------------

    def _located(self, dataset: Dataset) -> Dataset:
        """The dataset with its rows' file as this process reaches it."""
        if dataset.location is None:
            return dataset
        return replace(dataset, location=self.data.path(dataset.location))

    def _relative(self, dataset: Dataset) -> Dataset:
        if dataset.location is None:
            return dataset
        return replace(dataset, location=dataset.location.removeprefix(self.data.root + "/"))

    @property
    def _reads(self) -> str:
        """The workspace whose datasets this store lists: a pending visitor's are the samples."""
        return SAMPLES_WORKSPACE if self.pending else self.workspace

    def datasets(self) -> list[Dataset]:
        with self.reading() as conn:
            return [self._located(d) for d in registry.all_of(conn, self._reads)]

    def dataset(self, ref: str) -> Dataset:
        """A dataset by id or by name."""
        ref = str(ref).strip()
        with self.reading() as conn:
            found = registry.matching(conn, self._reads, ref)
        exact = [d for d in found if ref in (d.dataset_id, d.name)]
        found = exact or found
        if len(found) == 1:
            return self._located(found[0])
        if len(found) > 1:
            ids = ", ".join(d.dataset_id for d in found)
            raise KpiLabError(f"several datasets are named {ref!r}: use an id ({ids})")
        known = ", ".join(f"{d.dataset_id} ({d.name})" for d in self.datasets()[:8]) or "none yet"
        raise KpiLabError(f"unknown dataset {ref!r}: known datasets are {known}")

    @staticmethod
    def new_dataset_id() -> str:
        return "ds_" + secrets.token_hex(6)

    def unique_name(self, conn: Connection, wanted: str) -> str:
        name = clean_name(wanted)
        taken = registry.names(conn, self.workspace)
        candidate, n = name, 2
        while candidate.lower() in taken:
            candidate, n = f"{name} ({n})", n + 1
        return candidate

    def register(self, conn: Connection, dataset: Dataset) -> Dataset:
        """A new registry entry (its rows' file is already published)."""
        registry.add(conn, self.workspace, self._relative(dataset))
        return self._located(dataset)

    def update(self, conn: Connection, dataset: Dataset, expected_version: str) -> Dataset:
        """Write over a registry entry whose rows are still at ``expected_version``
        (``registry.VersionConflict`` otherwise)."""
        registry.change(conn, self.workspace, self._relative(dataset), expected_version)
        return self._located(dataset)

    def rename(self, ref: str, new_name: str) -> Dataset:
        require(self, "edit")
        dataset = self.dataset(ref)
        name = clean_name(new_name)
        clash = KpiLabError(f"another dataset is already named {name!r}: pick another name")
        try:
            with self.state.write() as conn:
                others = registry.matching(conn, self.workspace, name)
                if any(d.dataset_id != dataset.dataset_id for d in others):
                    raise clash
                registry.rename(conn, self.workspace, dataset.dataset_id, name)
                self.log(conn, "rename", dataset.name, f"now {name}")
        except IntegrityError:
            raise clash from None
        return self.dataset(dataset.dataset_id)

    def delete(self, ref: str) -> None:
        """Forget a dataset. Its rows' file goes with the next sweep (if no other workspace
        names it); an attached dataset's rows where they live are never touched."""
        require(self, "delete")
        dataset = self.dataset(ref)
        with self.transaction() as conn:
            registry.remove(conn, self.workspace, dataset.dataset_id)
            self.log(conn, "delete", dataset.name, f"{dataset.rows:,} rows")

    def sweep(self, older_than: float | None = None) -> list[str]:
        """Remove Parquet files no registry row names any more (see ``datafiles``)."""
        with self.reading() as conn:
            referenced = registry.locations(conn)
        return self.data.sweep(referenced, older_than)

    # saved column mappings and settings ---------------------------------------------------

    def save_preset(self, name: str, mapping: dict[str, str]) -> None:
        require(self, "edit")
        name = clean_name(name)
        row = {"workspace": self.workspace, "name": name, "mapping": json.dumps(mapping)}
        with self.transaction() as conn:
            upsert(conn, presets, {**row, "created_at": datetime.now()}, ("workspace", "name"))

    def presets(self) -> dict[str, dict[str, str]]:
        with self.reading() as conn:
            rows = conn.execute(
                select(presets.c.name, presets.c.mapping)
                .where(presets.c.workspace == self.workspace)
                .order_by(presets.c.name)
            )
            return {name: json.loads(mapping) for name, mapping in rows}

    def setting(self, key: str) -> str | None:
        """A setting of this workspace (its time zone, whether its samples were added)."""
        with self.reading() as conn:
            return conn.execute(
                select(settings.c.value).where(
                    settings.c.workspace == self.workspace, settings.c.key == key
                )
            ).scalar_one_or_none()

    def set_setting(self, conn: Connection, key: str, value: str) -> None:
        row = {"workspace": self.workspace, "key": key, "value": value}
        upsert(conn, settings, row, ("workspace", "key"))

    # reads of one dataset --------------------------------------------------------------

    def preview(self, ref: str, limit: int = 20) -> pd.DataFrame:
        dataset = self.dataset(ref)
        return self.query(dataset, *preview_sql(dataset, int(limit)))

    def query(self, dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """Run one analysis query on ``dataset`` (SQL from ``aggregate_sql``) with bound
        parameters, on its engine: the one place analyses read rows."""
        return compute.run(dataset, sql, params)

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
