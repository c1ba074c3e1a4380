"""KPI Lab: navigation over the pages, who this session is and which workspace it works in
(``ui.identity``: one local workspace, a team's after sign-in, or a visitor's private one),
the sidebar's dataset picker.

A stakeholder's link (pages/shared.py with ?token=) shows only the shared view: no navigation,
no workspace, no dataset picker.
"""

import streamlit as st

from kpi_engine.errors import KpiLabError
from ui.dataset_picker import dataset_picker
from ui.identity import can, server_mode, session_store, who_is_here
from ui.messages import show_error


def _session():
    """This session's store, or None when a sign-in page or a refusal was drawn instead."""
    try:
        return session_store()
    except KpiLabError as exc:
        show_error(exc)
        return None


st.set_page_config(page_title="KPI Lab", page_icon=":material/analytics:", layout="wide")
stakeholder = "token" in st.query_params
store = None if stakeholder else _session()
if store is None and not stakeholder:  # no pages to offer someone not let in
    st.navigation([st.Page("pages/kpis.py", default=True)], position="hidden")
    st.stop()
pages = [
    st.Page("pages/kpis.py", title="KPIs", icon=":material/monitoring:", default=True),
    st.Page(
        "pages/experiments.py",
        title="Experiments",
        icon=":material/science:",
        url_path="experiments",
    ),
    st.Page("pages/budget.py", title="Budget", icon=":material/savings:", url_path="budget"),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
    st.Page("pages/sharing.py", title="Sharing", icon=":material/share:", url_path="sharing"),
    st.Page(
        "pages/team.py",
        title="Team",
        icon=":material/group:",
        url_path="team",
        visibility="visible" if server_mode() == "signin" and can("members") else "hidden",
    ),
    st.Page(
        "pages/shared.py",
        title="Shared view",
        icon=":material/visibility:",
        url_path="shared",
        visibility="hidden",
    ),
]
navigation = st.navigation(pages, position="hidden" if stakeholder else "sidebar")
if navigation.url_path != "shared":
    store = store or _session()
    if store is None:
        st.stop()
    try:
        who_is_here(store)
        dataset_picker(store)
    except KpiLabError as exc:
        show_error(exc)
        st.stop()
navigation.run()
