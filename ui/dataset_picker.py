"""The sidebar's dataset picker, shared by every page and kept in the URL (?dataset=<id>).

The URL carries the dataset id, not its name, so a link survives a rename. (A widget bound
with ``bind="query-params"`` would write the option's label, i.e. the name.)
"""

from __future__ import annotations

import streamlit as st

from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.attach import refresh
from kpi_engine.store import Store
from ui.messages import show_error
from ui.state import Keys


def select_after_rerun(dataset_id: str) -> None:
    """Ask the picker to show ``dataset_id`` on the next run (the widget exists already)."""
    st.session_state[Keys.PENDING_DATASET] = dataset_id


def dataset_picker(store: Store) -> Dataset | None:
    datasets = {d.dataset_id: d for d in store.datasets()}
    pending = st.session_state.pop(Keys.PENDING_DATASET, None)
    from_url = st.query_params.get(Keys.DATASET)
    if pending in datasets:
        st.session_state[Keys.DATASET] = pending
    elif Keys.DATASET not in st.session_state and from_url in datasets:
        st.session_state[Keys.DATASET] = from_url
    elif st.session_state.get(Keys.DATASET) not in datasets:
        st.session_state.pop(Keys.DATASET, None)
    if from_url and from_url not in datasets and Keys.DATASET not in st.session_state:
        st.sidebar.info(  # a link to a dataset of another workspace, or one deleted since
            "The dataset in this link is not in your workspace (deleted, or someone else's):"
            " showing your first dataset instead.",
            icon=":material/info:",
        )
    if not datasets:
        st.query_params.pop(Keys.DATASET, None)
        st.sidebar.caption("No datasets yet: upload one on the Data page.")
        return None
    chosen = st.sidebar.selectbox(
        "Dataset",
        list(datasets),
        format_func=lambda dataset_id: _label(datasets[dataset_id]),
        key=Keys.DATASET,
    )
    st.query_params[Keys.DATASET] = chosen
    if datasets[chosen].attached and store.actor.may("edit"):
        _refresh_button(store, datasets[chosen])
    return datasets[chosen]


def _label(dataset: Dataset) -> str:
    return (
        f"{dataset.name} (on {dataset.engine.capitalize()})" if dataset.attached else dataset.name
    )


def _refresh_button(store: Store, dataset: Dataset) -> None:
    """Results of an attached dataset are kept until its rows are read again: the lake can
    change under them."""
    st.sidebar.caption(
        f"Read on {dataset.engine.capitalize()} at {dataset.report.get('imported_at', '?')}."
    )
    if st.sidebar.button("Read it again", icon=":material/refresh:", key="refresh_attached"):
        try:
            with st.spinner("Reading it again"):
                refresh(store, dataset)
        except KpiLabError as exc:
            show_error(exc, where=st.sidebar)
            return
        st.rerun()


def current_dataset(store: Store) -> Dataset | None:
    """The dataset chosen in the sidebar (``None`` when the workspace is empty)."""
    dataset_id = st.session_state.get(Keys.DATASET)
    if not dataset_id:
        return None
    return next((d for d in store.datasets() if d.dataset_id == dataset_id), None)
