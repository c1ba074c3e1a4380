"""Engine results cached per (database, workspace, dataset, its version, question).

The version is the rows' and the timeline's (notes and events), so a new note is drawn at
once.

st.cache_data is shared by every session of the server, so the key names the workspace and
the dataset's id and version explicitly: nothing in it can match another user's data, and an
append or a replace (which change rows or the import time) starts a new entry. The question
is a frozen spec, hashed by value. Two levels: whole results (going back to a view costs
only drawing it), and each query an analysis runs (a view that changes one setting reruns
only the queries that setting changes). Errors (``KpiLabError``) are not cached: the page
shows them and the next run asks again. A result's blocks (its tables and Plotly figures) are
built once per result too, and shared without a copy: drawing reads them and never changes
them (``plain_labels`` writes only what it wrote before).
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import streamlit as st

from kpi_engine.analyses import Result, Spec, analysis_of, run
from kpi_engine.annotations.timeline import timeline
from kpi_engine.currencies.workspace_rates import rates_version
from kpi_engine.datasets import Dataset
from kpi_engine.display.blocks import Block
from kpi_engine.store import Store


def data_version(dataset: Dataset) -> str:
    """Changes with every import, append or replace of the dataset's rows (datasets imported
    before reports had a version: the import's time and the row count)."""
    report = dataset.report
    return f"{report.get('version') or report.get('imported_at')}|{dataset.rows}"


@st.cache_data(show_spinner=False, max_entries=2000, ttl=3600)
def _query(
    db: str,
    workspace: str,
    dataset_id: str,
    version: str,
    sql: str,
    params: tuple,
    _store: Store,
    _dataset: Dataset,
) -> pd.DataFrame:
    return _store.query(_dataset, sql, params)


class _CachedQueries:
    """A store whose analysis queries on one dataset are cached; everything else is the
    store's own."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store = store
        self._key = (store.path, store.workspace, dataset.dataset_id, data_version(dataset))

    def query(self, dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        return _query(*self._key, sql, tuple(params), self._store, dataset)

    # the store's own readers, each reading through the cached query above
    distinct_values = Store.distinct_values
    date_range = Store.date_range

    def __getattr__(self, name: str):
        return getattr(self._store, name)


@st.cache_data(show_spinner=False, max_entries=1000, ttl=3600)
def _result(
    db: str,
    workspace: str,
    dataset_id: str,
    version: str,
    spec: Spec,
    _store: Store,
    _dataset: Dataset,
) -> Result:
    return run(_CachedQueries(_store, _dataset), _dataset, spec)  # type: ignore[arg-type]


def _version(store: Store, dataset: Dataset) -> str:
    """The data's version, its timeline's (notes, and events such as links and alerts) and
    the workspace's exchange rates': a new note changes the trend's marks, a note left out of
    baselines the anomaly flags and the budget's fits, new rates converted amounts."""
    marks = hashlib.sha256(repr(timeline(store, dataset)).encode()).hexdigest()[:16]
    return f"{data_version(dataset)}|{marks}|{rates_version(store)}"


def result_of(store: Store, dataset: Dataset, spec: Spec) -> Result:
    """The analysis of ``spec`` on ``dataset``, computed once per version of its data and
    its timeline."""
    version = _version(store, dataset)
    return _result(store.path, store.workspace, dataset.dataset_id, version, spec, store, dataset)


@st.cache_resource(show_spinner=False, max_entries=200, ttl=3600)
def _blocks(
    db: str, workspace: str, dataset_id: str, version: str, spec: Spec, _result: Result
) -> tuple[Block, ...]:
    return analysis_of(spec).blocks(_result)


def blocks_of(store: Store, dataset: Dataset, spec: Spec, result: Result) -> tuple[Block, ...]:
    """What ``result_of(store, dataset, spec)`` returned, as blocks to draw."""
    version = _version(store, dataset)
    return _blocks(store.path, store.workspace, dataset.dataset_id, version, spec, result)


def distinct_values(store: Store, dataset: Dataset, column: str, limit: int = 2000) -> list[str]:
    """``store.distinct_values``, read once per dataset version (filter widgets ask it on
    every run of a page)."""
    return _CachedQueries(store, dataset).distinct_values(dataset, column, limit)


def date_range(store: Store, dataset: Dataset) -> tuple[date, date] | None:
    """``store.date_range``, read once per dataset version (a scan of the whole table)."""
    return _CachedQueries(store, dataset).date_range(dataset)
