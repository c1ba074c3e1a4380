"""The dataset registry: which datasets a workspace has, and where each one's rows are.

Rows of this table are small; the rows of data they describe are Parquet files (an
imported dataset's ``location``) or a lake table (an attached one's ``source``). A change
of rows is a compare-and-set on ``version``: two processes appending to one dataset at
once cannot both win, and the loser sees that it lost (``VersionConflict``) instead of
silently dropping the winner's rows.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, func, insert, select, update

from kpi_engine.datasets import Column, Dataset
from kpi_engine.state.schema import datasets

_FIELDS = (
    datasets.c.dataset_id,
    datasets.c.name,
    datasets.c.source_file,
    datasets.c.rows,
    datasets.c.columns,
    datasets.c.created_at,
    datasets.c.kind,
    datasets.c.platform,
    datasets.c.currencies,
    datasets.c.report,
    datasets.c.engine,
    datasets.c.source,
    datasets.c.location,
    datasets.c.version,
)


class VersionConflict(Exception):
    """Another process changed the dataset's rows since they were read."""


def _dataset(row) -> Dataset:  # noqa: ANN001 - a SQLAlchemy row
    return Dataset(
        row.dataset_id,
        row.name,
        row.source_file,
        int(row.rows),
        tuple(Column(n, t, r) for n, t, r in json.loads(row.columns)),
        row.created_at,
        row.kind or "campaign",
        row.platform or "generic",
        tuple(json.loads(row.currencies or "[]")),
        json.loads(row.report or "{}"),
        row.engine or "duckdb",
        json.loads(row.source) if row.source else None,
        row.location,
        row.version,
    )


def _values(dataset: Dataset) -> dict:
    return {
        "name": dataset.name,
        "name_key": dataset.name.lower(),
        "source_file": dataset.source_file,
        "rows": dataset.rows,
        "columns": json.dumps([[c.name, c.type, c.role] for c in dataset.columns]),
        "created_at": dataset.created_at,
        "kind": dataset.kind,
        "platform": dataset.platform,
        "currencies": json.dumps(list(dataset.currencies)),
        "report": json.dumps(dataset.report, default=str),
        "engine": dataset.engine,
        "source": json.dumps(dataset.source) if dataset.source else None,
        "location": dataset.location,
        "version": dataset.version,
    }


def all_of(conn: Connection, workspace: str) -> list[Dataset]:
    rows = conn.execute(
        select(*_FIELDS)
        .where(datasets.c.workspace == workspace)
        .order_by(datasets.c.created_at, datasets.c.name)
    )
    return [_dataset(r) for r in rows]


def matching(conn: Connection, workspace: str, ref: str) -> list[Dataset]:
    """Datasets whose id is ``ref`` or whose name is ``ref`` in any case."""
    rows = conn.execute(
        select(*_FIELDS).where(
            datasets.c.workspace == workspace,
            (datasets.c.dataset_id == ref) | (datasets.c.name_key == ref.lower()),
        )
    )
    return [_dataset(r) for r in rows]


def names(conn: Connection, workspace: str) -> set[str]:
    rows = conn.execute(select(datasets.c.name_key).where(datasets.c.workspace == workspace))
    return {r[0] for r in rows}


def add(conn: Connection, workspace: str, dataset: Dataset) -> None:
    conn.execute(
        insert(datasets).values(
            workspace=workspace, dataset_id=dataset.dataset_id, **_values(dataset)
        )
    )


def change(conn: Connection, workspace: str, dataset: Dataset, expected_version: str) -> None:
    """Write ``dataset`` over its entry, only if its rows are still at ``expected_version``."""
    done = conn.execute(
        update(datasets)
        .where(
            datasets.c.workspace == workspace,
            datasets.c.dataset_id == dataset.dataset_id,
            datasets.c.version == expected_version,
        )
        .values(**_values(dataset))
    )
    if done.rowcount != 1:
        raise VersionConflict(dataset.dataset_id)


def rename(conn: Connection, workspace: str, dataset_id: str, name: str) -> None:
    conn.execute(
        update(datasets)
        .where(datasets.c.workspace == workspace, datasets.c.dataset_id == dataset_id)
        .values(name=name, name_key=name.lower())
    )


def remove(conn: Connection, workspace: str, dataset_id: str) -> None:
    conn.execute(
        delete(datasets).where(
            datasets.c.workspace == workspace, datasets.c.dataset_id == dataset_id
        )
    )


def locations(conn: Connection) -> set[str]:
    """Every Parquet file some registry row names, in any workspace."""
    rows = conn.execute(select(datasets.c.location).where(datasets.c.location.is_not(None)))
    return {r[0] for r in rows}


def count(conn: Connection, workspace: str) -> int:
    return conn.execute(
        select(func.count()).select_from(datasets).where(datasets.c.workspace == workspace)
    ).scalar_one()
