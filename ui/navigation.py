"""Make every page run under app.py's ``st.navigation``, even on the first visit.

Streamlit treats an app with a ``pages/`` folder as a legacy multipage app until some run
calls ``st.navigation``. So after a server start, a first visit straight to ``/data`` runs
pages/data.py alone: no dataset picker, legacy navigation. A page that finds itself run that
way switches the process to ``st.navigation`` and reruns; the rerun goes through app.py and
lands on the same page, because both modes hash a page by its URL path.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app_navigation() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
