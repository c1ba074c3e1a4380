"""What happened on a dataset, by date: people's notes, and the events KPI Lab saw (an import,
an append or a replacement; a budget plan saved or shared; an alert sent; a test's start and
end in a saved experiment view). Read from the state tables directly, so the timeline needs
none of the analyses it is drawn on."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select

from kpi_engine.annotations.annotation import Annotation
from kpi_engine.annotations.notes import notes
from kpi_engine.datasets import Dataset
from kpi_engine.state.schema import deliveries, shares, views, watches
from kpi_engine.store import Store

MAX_EVENTS = 50  # on one chart: more would hide the data
ACTIONS = {"import": "Imported", "append": "Appended to", "replace": "Replaced the rows of"}


def timeline(
    store: Store, dataset: Dataset, start: date | None = None, end: date | None = None
) -> tuple[Annotation, ...]:
    """Notes and events on ``dataset`` between ``start`` and ``end``, by date."""
    found = [
        *notes(store, dataset),
        *_imports(dataset),
        *_plans(store, dataset),
        *_alerts(store, dataset),
        *_tests(store, dataset),
    ]
    shown = [a for a in found if a.overlaps(start, end)]
    shown.sort(key=lambda a: (a.start, a.end, a.kind != "note"))
    return tuple(shown[:MAX_EVENTS])


def _day(moment: datetime | str | None) -> str | None:
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    return moment.date().isoformat() if isinstance(moment, datetime) else None


def _event(day: str | None, text: str, kind: str) -> list[Annotation]:
    return [Annotation(day, day, text[:200], kind)] if day else []


def _imports(dataset: Dataset) -> list[Annotation]:
    found: list[Annotation] = []
    for report in (dataset.report, *dataset.report.get("earlier", [])):
        action = ACTIONS.get(report.get("action", "import"), "Imported")
        what = (
            f"{action} {dataset.name}" if action != "Imported" else f"Imported {report.get('file')}"
        )
        found += _event(_day(report.get("imported_at")), what, "import")
    return found


def _state(text: str) -> dict:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _plans(store: Store, dataset: Dataset) -> list[Annotation]:
    """Budget plans saved as views or shared as links (revoked links drop off)."""
    c, v = shares.c, views.c
    with store.reading() as conn:
        shared = conn.execute(
            select(c.title, c.state, c.created_at).where(
                c.workspace == store.workspace, c.revoked_at.is_(None)
            )
        ).all()
        saved = conn.execute(
            select(v.name, v.state, v.created_at).where(v.workspace == store.workspace)
        ).all()
    found: list[Annotation] = []
    for what, rows in (("Budget plan shared", shared), ("Budget plan saved", saved)):
        for title, state, created in rows:
            view = _state(state)
            if view.get("page") == "budget" and view.get("dataset_id") == dataset.dataset_id:
                found += _event(_day(created), f"{what}: {title}", "plan")
    return found


def _alerts(store: Store, dataset: Dataset) -> list[Annotation]:
    d, w = deliveries.c, watches.c
    with store.reading() as conn:
        rows = conn.execute(
            select(d.period, d.last_try, w.kpi, w.rule)
            .join(watches, (w.watch_id == d.watch_id) & (w.workspace == d.workspace))
            .where(
                d.workspace == store.workspace,
                d.status == "sent",
                w.dataset_id == dataset.dataset_id,
            )
        ).all()
    found: list[Annotation] = []
    for period, sent, kpi, rule in rows:
        day = period if _is_day(period) else _day(sent)
        found += _event(day, f"Alert sent: {kpi or 'experiment'} ({rule})", "alert")
    return found


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _tests(store: Store, dataset: Dataset) -> list[Annotation]:
    """A saved experiment view on the dataset with dates: its test's start and end."""
    c = views.c
    with store.reading() as conn:
        rows = conn.execute(select(c.name, c.state).where(c.workspace == store.workspace)).all()
    found: list[Annotation] = []
    for name, state in rows:
        view = _state(state)
        if view.get("page") != "experiments" or view.get("dataset_id") != dataset.dataset_id:
            continue
        first, last = view.get("start"), view.get("end")
        if isinstance(first, str) and _is_day(first):
            found += _event(first, f"Test starts: {name}", "test")
        if isinstance(last, str) and _is_day(last):
            found += _event(last, f"Test ends: {name}", "test")
    return found
