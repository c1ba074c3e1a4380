"""KPI query results cached per (database, workspace, dataset, its version, query).

st.cache_data is shared by every session of the server, so the key names the workspace and
the dataset's id and version explicitly: nothing in it can match another user's data, and an
append or a replace (which change rows or the import time) starts a new entry.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_engine.kpi_query import KpiQuery, run_kpis
from kpi_engine.store import Dataset, Store


@st.cache_data(show_spinner=False, max_entries=1000, ttl=3600)
def _cached(
    db: str,
    workspace: str,
    dataset_id: str,
    version: str,
    query: KpiQuery,
    _store: Store,
    _dataset: Dataset,
) -> pd.DataFrame:
    return run_kpis(_store, _dataset, query)


def kpis_of(store: Store, dataset: Dataset, query: KpiQuery) -> pd.DataFrame:
    version = f"{dataset.created_at.isoformat()}|{dataset.rows}|{dataset.report.get('imported_at')}"
    return _cached(store.path, store.workspace, dataset.dataset_id, version, query, store, dataset)
