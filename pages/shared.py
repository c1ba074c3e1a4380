"""A shared view: what a stakeholder sees through a link, read-only, drawn from the spec and
the result its owner saw (nothing is recomputed)."""

from __future__ import annotations

import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import SignInNeeded, open_share
from kpi_engine.sharing.report import blocks, html_report, subtitle
from ui.blocks import draw
from ui.identity import server_mode
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.resources import root_store
from ui.text import plain


def _signed_in() -> str | None:
    """The e-mail of a viewer signed in on this server (a team may ask for one)."""
    try:
        return str(st.user.get("email")) if st.user.is_logged_in else None
    except Exception:  # sign-in is not set up on this server
        return None


require_app_navigation()
try:
    shared = open_share(root_store(), st.query_params.get("token"), signed_in=_signed_in())
except SignInNeeded as exc:
    st.title("Shared view", anchor=False)
    show_error(exc, icon=":material/lock:")
    if server_mode() == "signin":
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    st.stop()
except KpiLabError as exc:
    st.title("Shared view", anchor=False)
    show_error(exc, icon=":material/link_off:")
    st.stop()
st.title(plain(shared.title), anchor=False)
st.caption(plain(subtitle(shared)))
draw(blocks(shared))
st.divider()
st.download_button(
    "Download report (HTML)",
    lambda: html_report(shared),  # made when clicked: it inlines plotly.js (4.6 MB)
    file_name=f"{shared.title}.html",
    mime="text/html",
    icon=":material/description:",
    on_click="ignore",
)
