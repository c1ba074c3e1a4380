"""Moving a workspace database written by an earlier version (one DuckDB file holding state
and rows together) into the state database and the data folder.

Everything comes over: workspaces and their private links, datasets (each table written as
a Parquet file), presets, custom KPIs, targets, views, links, watches, the delivery log and
settings. A link of the oldest kind, which kept a copy of the rows instead of its result,
gets its result computed from that copy, as opening it then would have. The old file is
only read: it stays as it was, a backup. It runs once per state database (the first start
finds it, or ``python -m kpi_engine migrate --from OLD.duckdb``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
from sqlalchemy import insert, select

from kpi_engine.datasets import Column, Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.ingest.staging import write_parquet
from kpi_engine.state import schema
from kpi_engine.store import SYSTEM_SETTINGS, Store

MIGRATED = "migrated_from"


def migrate_if_new(store: Store, old: Path) -> dict | None:
    """Move ``old`` over when this state database has not had it moved yet."""
    marker = store.for_workspace(SYSTEM_SETTINGS).setting(MIGRATED)
    if marker is not None:
        return None
    return migrate_from(store, old)


def migrate_from(store: Store, old: str | Path) -> dict:
    """Move the database file ``old`` into ``store``; a summary of what came over."""
    old = Path(old)
    try:
        con = duckdb.connect(str(old), read_only=True)
    except duckdb.Error as exc:
        raise KpiLabError(
            f"cannot read {old.name} as a KPI Lab workspace database of an earlier version"
            f" ({str(exc).splitlines()[0]}): stop the app that has it open"
        ) from None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "datasets" not in tables:
            raise KpiLabError(f"{old.name} is not a KPI Lab workspace database")
        with store.data.scratch() as folder:
            old_rows = _rows(con, "datasets", tables)
            located = _datasets(con, store, folder, old_rows)
            shares = _shares(con, store, folder, tables, old_rows)
        counts = _write(con, store, tables, located, shares, old)
    finally:
        con.close()
    return counts


def _rows(con: duckdb.DuckDBPyConnection, table: str, tables: set[str]) -> list[dict]:
    if table not in tables:
        return []
    cur = con.execute(f"SELECT * FROM {q(table)}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _dataset(row: dict) -> Dataset:
    report = json.loads(row.get("report") or "{}")
    return Dataset(
        row["dataset_id"],
        row["name"],
        row.get("source_file"),
        int(row["rows"]),
        tuple(Column(n, t, r) for n, t, r in json.loads(row["columns"])),
        row["created_at"],
        row.get("kind") or "campaign",
        row.get("platform") or "generic",
        tuple(json.loads(row.get("currencies") or "[]")),
        report,
        row.get("engine") or "duckdb",
        json.loads(row["source"]) if row.get("source") else None,
        version=report.get("version") or secrets.token_hex(8),
    )


def _datasets(con, store: Store, folder: Path, rows: list[dict]) -> list[tuple[str, Dataset]]:
    """(workspace, dataset) for every registry entry, an imported one's table written as a
    published Parquet file."""
    out = []
    for row in rows:
        workspace = row.get("workspace") or "default"
        dataset = _dataset(row)
        if not dataset.attached:
            version, location = store.data.new_location(workspace, dataset.dataset_id)
            written = folder / f"{dataset.dataset_id}.parquet"
            write_parquet(con, q(dataset.dataset_id), written)
            store.data.publish(written, location)
            dataset = replace(dataset, version=version, location=store.data.path(location))
        out.append((workspace, dataset))
    return out


def _shares(con, store: Store, folder: Path, tables: set[str], datasets: list[dict]) -> list:
    """Every link with a frozen result: an old-kind link's is computed from its copy of the
    rows (a link whose view no longer computes is left out, with its reason counted)."""
    from kpi_engine.analyses import ANALYSES, spec_from_view
    from kpi_engine.kpis.definition import make_kpi

    custom: dict[str, tuple] = {}
    for row in _rows(con, "custom_kpis", tables):
        kpi = make_kpi(row["kpi_id"], row["formula"], row["unit"], row["direction"])
        custom[row["workspace"]] = (*custom.get(row["workspace"], ()), kpi)
    out = []
    for row in _rows(con, "shares", tables):
        if row.get("result"):
            out.append(row)
            continue
        if row.get("revoked_at") is not None or not row.get("snapshot"):
            continue
        meta = json.loads(row["dataset"])
        view = json.loads(row["state"])
        try:
            spec = spec_from_view(view, custom.get(row["workspace"], ()))
        except KpiLabError:
            continue
        written = folder / f"{row['snapshot']}.parquet"
        write_parquet(con, q(row["snapshot"]), written)
        snapshot = Dataset(
            spec.dataset_id,
            meta["name"],
            meta.get("source_file"),
            int(meta["rows"]),
            tuple(Column(*c) for c in meta["columns"]),
            row["created_at"],
            meta.get("kind", "campaign"),
            meta.get("platform", "generic"),
            tuple(meta.get("currencies", [])),
            location=str(written),
            version=secrets.token_hex(8),
        )
        try:
            result = ANALYSES[spec.PAGE].run(store, snapshot, spec)
        except KpiLabError:
            continue
        frozen = {"name": meta["name"], "rows": int(meta["rows"]), "dataset_id": spec.dataset_id}
        out.append(
            dict(
                row,
                result=json.dumps(result.to_dict()),
                state=json.dumps(spec.to_view()),
                dataset=json.dumps(frozen),
            )
        )
    return out


def _columns(table, row: dict) -> dict:
    return {c.name: row[c.name] for c in table.columns if c.name in row}


def _write(con, store: Store, tables: set[str], located, shares, old: Path) -> dict:
    """Everything in one transaction of the state database."""
    counts: dict[str, int] = {}
    with store.transaction() as conn:
        have = set(conn.execute(select(schema.workspaces.c.workspace_id)).scalars())
        workspaces = [r for r in _rows(con, "workspaces", tables) if r["workspace_id"] not in have]
        _insert(conn, schema.workspaces, workspaces, counts)
        for workspace, dataset in located:
            owner = store.for_workspace(workspace)
            owner.register(conn, replace(dataset, name=owner.unique_name(conn, dataset.name)))
        counts["datasets"] = len(located)
        for table in ("presets", "custom_kpis", "views", "watches", "kpi_seen"):
            _insert(conn, schema.metadata.tables[table], _rows(con, table, tables), counts)
        targets = [dict(r, scope=r.get("scope") or "{}") for r in _rows(con, "targets", tables)]
        _insert(conn, schema.targets, targets, counts)
        _insert(conn, schema.shares, shares, counts)
        _insert(conn, schema.deliveries, _rows(con, "deliveries", tables), counts)
        settings = _rows(con, "settings", tables)
        for row in _rows(con, "meta", tables):
            workspace, _, key = row["key"].partition(":")
            settings.append({"workspace": workspace, "key": key, "value": row["value"]})
        _insert(conn, schema.settings, settings, counts)
        store.for_workspace(SYSTEM_SETTINGS).set_setting(
            conn, MIGRATED, json.dumps({"file": str(old), "at": datetime.now().isoformat()})
        )
    return counts


def _insert(conn, table, rows: list[dict], counts: dict[str, int]) -> None:
    if rows:
        conn.execute(insert(table), [_columns(table, r) for r in rows])
    counts[table.name] = len(rows)
