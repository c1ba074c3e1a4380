"""People's notes on the data's dates, kept in the workspace. A note's range can be left out
of baselines (a promotion, an outage): anomaly flags and budget curve fits then skip it."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import delete, or_, select

from kpi_engine.access.principal import require
from kpi_engine.annotations.annotation import Annotation
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.state.schema import annotations as table
from kpi_engine.store import Store

MAX_TEXT = 200
MAX_NOTES = 500  # a workspace's notes: a timeline, not a database


def add_note(
    store: Store,
    dataset: Dataset | None,
    start: date,
    end: date,
    text: str,
    exclude: bool = False,
) -> Annotation:
    """A note on one dataset (or, without one, on every dataset of the workspace)."""
    require(store, "edit")
    text = " ".join(str(text or "").split())
    if not text:
        raise KpiLabError("is empty: say what happened, e.g. Summer sale", "text")
    if len(text) > MAX_TEXT:
        raise KpiLabError(f"is longer than {MAX_TEXT} characters", "text")
    if end < start:
        raise KpiLabError(f"{end} is before the start {start}", "end")
    if len(notes(store, None)) >= MAX_NOTES:
        raise KpiLabError(f"this workspace has {MAX_NOTES} notes already: delete old ones first")
    note = Annotation(
        start.isoformat(), end.isoformat(), text, "note", exclude, secrets.token_hex(8)
    )
    row = {
        "annotation_id": note.annotation_id,
        "workspace": store.workspace,
        "dataset_id": dataset.dataset_id if dataset else None,
        "start_date": start,
        "end_date": end,
        "text": text,
        "exclude": exclude,
        "created_by": store.actor.who,
        "created_at": datetime.now(),
    }
    with store.transaction() as conn:
        conn.execute(table.insert().values(**row))
        store.log(conn, "annotate", text[:200], f"{note.start} to {note.end}")
    return note


def delete_note(store: Store, annotation_id: str) -> None:
    require(store, "edit")
    with store.transaction() as conn:
        gone = conn.execute(
            delete(table).where(
                table.c.workspace == store.workspace, table.c.annotation_id == annotation_id
            )
        ).rowcount
        if gone:
            store.log(conn, "delete annotation", annotation_id)
    if not gone:
        raise KpiLabError(f"no note {annotation_id!r} in this workspace")


def notes(store: Store, dataset: Dataset | None) -> list[Annotation]:
    """The workspace's notes on ``dataset`` (and those on every dataset), by date; all of
    them without a dataset."""
    c = table.c
    query = select(c.annotation_id, c.start_date, c.end_date, c.text, c.exclude).where(
        c.workspace == store.workspace
    )
    if dataset is not None:
        query = query.where(or_(c.dataset_id == dataset.dataset_id, c.dataset_id.is_(None)))
    with store.reading() as conn:
        rows = conn.execute(query.order_by(c.start_date, c.end_date)).all()
    return [
        Annotation(s.isoformat(), e.isoformat(), text, "note", bool(exclude), annotation_id)
        for annotation_id, s, e, text, exclude in rows
    ]


def excluded_days(store: Store, dataset: Dataset) -> set[date]:
    """The days notes leave out of baselines."""
    days: set[date] = set()
    for note in notes(store, dataset):
        if note.exclude:
            first, last = date.fromisoformat(note.start), date.fromisoformat(note.end)
            days.update(date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1))
    return days
