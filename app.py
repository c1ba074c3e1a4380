"""KPI Lab: navigation over the pages, the workspace store and the sidebar's dataset picker."""

import streamlit as st

from kpi_engine.errors import KpiLabError
from ui.dataset_picker import dataset_picker
from ui.resources import get_store

st.set_page_config(page_title="KPI Lab", page_icon=":material/analytics:", layout="wide")
navigation = st.navigation(
    [
        st.Page("pages/kpis.py", title="KPIs", icon=":material/monitoring:", default=True),
        st.Page(
            "pages/experiments.py",
            title="Experiments",
            icon=":material/science:",
            url_path="experiments",
        ),
        st.Page("pages/budget.py", title="Budget", icon=":material/savings:", url_path="budget"),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
    ]
)

try:
    store = get_store()
except KpiLabError as exc:
    st.error(str(exc))
    st.stop()
dataset_picker(store)
navigation.run()
