"""KPI Lab: navigation over the pages, this session's workspace, the sidebar's dataset picker.

A stakeholder's link (pages/shared.py with ?token=) shows only the shared view: no navigation,
no workspace, no dataset picker.
"""

import streamlit as st

from kpi_engine.errors import KpiLabError
from ui.dataset_picker import dataset_picker
from ui.messages import show_error
from ui.resources import get_store
from ui.workspace import ensure_workspace

st.set_page_config(page_title="KPI Lab", page_icon=":material/analytics:", layout="wide")
stakeholder = "token" in st.query_params
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
        st.Page(
            "pages/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"
        ),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
        st.Page("pages/sharing.py", title="Sharing", icon=":material/share:", url_path="sharing"),
        st.Page(
            "pages/shared.py",
            title="Shared view",
            icon=":material/visibility:",
            url_path="shared",
            visibility="hidden",
        ),
    ],
    position="hidden" if stakeholder else "sidebar",
)
if navigation.url_path != "shared":
    try:
        if not ensure_workspace():
            st.stop()
        dataset_picker(get_store())
    except KpiLabError as exc:
        show_error(exc)
        st.stop()
navigation.run()
