"""Engine results cached per (database, workspace, dataset, its version, question).

st.cache_data is shared by every session of the server, so the key names the workspace and
the dataset's id and version explicitly: nothing in it can match another user's data, and an
append or a replace (which change rows or the import time) starts a new entry. The question
(a KPI query, an experiment's or a budget's settings) is a frozen dataclass, hashed by value.
Errors (``KpiLabError``) are not cached: the page shows them and the next run asks again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_engine.budget.analysis import BudgetResult, BudgetSpec, run_budget
from kpi_engine.experiments.analysis import (
    ExperimentResult,
    ExperimentSpec,
    cumulative_lifts,
    run_experiment,
)
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Dataset, Store


def _lifts(store: Store, dataset: Dataset, spec: ExperimentSpec) -> pd.DataFrame:
    return cumulative_lifts(experiment_of(store, dataset, spec), spec)


_ENGINE = {"kpis": run_kpis, "experiment": run_experiment, "lifts": _lifts, "budget": run_budget}


@st.cache_data(show_spinner=False, max_entries=1000, ttl=3600)
def _cached(
    db: str,
    workspace: str,
    dataset_id: str,
    version: str,
    what: str,
    question: object,
    _store: Store,
    _dataset: Dataset,
):
    return _ENGINE[what](_store, _dataset, question)


def _ask(store: Store, dataset: Dataset, what: str, question: object):
    version = f"{dataset.created_at.isoformat()}|{dataset.rows}|{dataset.report.get('imported_at')}"
    return _cached(
        store.path, store.workspace, dataset.dataset_id, version, what, question, store, dataset
    )


def kpis_of(store: Store, dataset: Dataset, query: KpiQuery) -> pd.DataFrame:
    return _ask(store, dataset, "kpis", query)


def experiment_of(store: Store, dataset: Dataset, spec: ExperimentSpec) -> ExperimentResult:
    return _ask(store, dataset, "experiment", spec)


def lifts_of(store: Store, dataset: Dataset, spec: ExperimentSpec) -> pd.DataFrame:
    """The cumulative lifts behind the over-time chart."""
    return _ask(store, dataset, "lifts", spec)


def budget_of(store: Store, dataset: Dataset, spec: BudgetSpec) -> BudgetResult:
    return _ask(store, dataset, "budget", spec)
