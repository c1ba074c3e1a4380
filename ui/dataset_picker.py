"""The sidebar's dataset picker, shared by every page and kept in the URL (?dataset=<id>).

The URL carries the dataset id, not its name, so a link survives a rename. (A widget bound
with ``bind="query-params"`` would write the option's label, i.e. the name.)
"""

from __future__ import annotations

import streamlit as st

from kpi_engine.store import Dataset, Store
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
        format_func=lambda dataset_id: datasets[dataset_id].name,
        key=Keys.DATASET,
    )
    st.query_params[Keys.DATASET] = chosen
    return datasets[chosen]


def current_dataset(store: Store) -> Dataset | None:
    """The dataset chosen in the sidebar (``None`` when the workspace is empty)."""
    dataset_id = st.session_state.get(Keys.DATASET)
    if not dataset_id:
        return None
    return next((d for d in store.datasets() if d.dataset_id == dataset_id), None)
