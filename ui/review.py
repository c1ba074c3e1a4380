"""Record what the KPIs page showed, once per session and KPI set (not on every rerun)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from kpi_engine.alerts.review import record_seen
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store
from ui.state import Keys


def seen(store: Store, dataset_id: str, kpis: tuple[str, ...]) -> None:
    done = st.session_state.setdefault(Keys.KPIS_SEEN, set())
    if (dataset_id, kpis) in done:
        return
    try:
        record_seen(store, dataset_id, kpis, datetime.now())
    except KpiLabError:  # two tabs saving at once: the other one recorded it
        return
    done.add((dataset_id, kpis))
