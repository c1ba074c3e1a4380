"""Data: upload a campaign file, see what was detected, rename or delete datasets."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.roles import ROLES
from kpi_engine.store import Dataset, Store
from ui.dataset_picker import current_dataset, select_after_rerun
from ui.navigation import require_app_navigation
from ui.resources import get_store
from ui.state import Keys
from ui.text import plain

UPLOAD_TYPES = ["csv", "tsv", "txt", "gz"]


def _import_upload(store: Store, upload) -> None:
    """Upload bytes → temporary file → DuckDB; the bytes are not kept in a DataFrame."""
    suffix = "".join(Path(upload.name).suffixes[-2:]) or ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(upload.getbuffer())
        try:
            with st.spinner(f"Importing {upload.name}..."):
                result = import_file(store, path, source_name=upload.name)
        except KpiLabError as exc:
            st.session_state[Keys.LAST_IMPORT] = {"error": str(exc)}
            return
    st.session_state[Keys.LAST_IMPORT] = result.to_dict()
    select_after_rerun(result.dataset.dataset_id)


def _show_last_import() -> None:
    last = st.session_state.get(Keys.LAST_IMPORT)
    if not last:
        return
    if "error" in last:
        st.error(last["error"], icon=":material/error:")
        return
    st.success(
        f"Imported **{last['rows']:,}** rows as **{plain(last['name'])}**.",
        icon=":material/check_circle:",
    )
    for warning in last["warnings"]:
        st.warning(plain(warning["message"]), icon=":material/warning:")


def _roles_table(dataset: Dataset) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": [c.name for c in dataset.columns],
            "detected role": [c.role or "—" for c in dataset.columns],
            "type": [c.type for c in dataset.columns],
        }
    )


def _dataset_details(store: Store, dataset: Dataset) -> None:
    st.subheader(plain(dataset.name), anchor=False)
    st.caption(
        f"{dataset.rows:,} rows · from {plain(dataset.source_file or 'unknown file')} ·"
        f" imported {dataset.created_at:%Y-%m-%d %H:%M}"
    )
    missing = [r for r in ROLES if r not in dataset.roles]
    roles_col, preview_col = st.columns([1, 2])
    with roles_col:
        st.markdown("**Columns and detected roles**")
        st.dataframe(_roles_table(dataset), hide_index=True)
        if missing:
            st.caption("Not found in this file: " + ", ".join(missing))
    with preview_col:
        st.markdown("**Preview** (first 20 rows)")
        dates = {
            c.name: st.column_config.DateColumn(format="YYYY-MM-DD")
            for c in dataset.columns
            if c.type == "DATE"
        }
        st.dataframe(store.preview(dataset.dataset_id, 20), hide_index=True, column_config=dates)

    rename_col, delete_col = st.columns(2)
    with rename_col, st.form("rename", border=False):
        new_name = st.text_input("New name", value=dataset.name, max_chars=120)
        if st.form_submit_button("Rename", icon=":material/edit:"):
            try:
                store.rename(dataset.dataset_id, new_name)
                st.rerun()
            except KpiLabError as exc:
                st.error(str(exc))
    with delete_col:
        st.markdown("Delete this dataset")
        confirm = st.checkbox(
            "Yes, delete it for good", key=f"{Keys.CONFIRM_DELETE}_{dataset.dataset_id}"
        )
        if st.button("Delete", icon=":material/delete:", disabled=not confirm, type="primary"):
            store.delete(dataset.dataset_id)
            st.session_state.pop(Keys.LAST_IMPORT, None)
            st.rerun()


require_app_navigation()
store = get_store()
st.title("Data", anchor=False)
st.caption(
    "Upload a campaign CSV exported from Google Ads, Meta, LinkedIn, TikTok, Microsoft Ads or"
    " any tool: one row per day (and campaign, channel...) with columns such as Impressions,"
    " Clicks, Cost, Conversions and Revenue."
)
upload = st.file_uploader("Campaign file", type=UPLOAD_TYPES, key="upload")
if upload is not None:
    imported = st.session_state.setdefault(Keys.IMPORTED_FILES, [])
    if upload.file_id not in imported:
        imported.append(upload.file_id)
        _import_upload(store, upload)
        st.rerun()
_show_last_import()

datasets = store.datasets()
st.subheader("Datasets", anchor=False)
if not datasets:
    st.info("No datasets yet: upload a file above.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "name": [d.name for d in datasets],
                "rows": [d.rows for d in datasets],
                "source file": [d.source_file for d in datasets],
                "imported": [d.created_at for d in datasets],
            }
        ),
        hide_index=True,
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
    )
    selected = current_dataset(store)
    if selected is not None:
        _dataset_details(store, selected)
