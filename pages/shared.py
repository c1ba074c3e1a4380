"""A shared view: what a stakeholder sees through a link, read-only, on frozen data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.links import Shared, open_share, share_content
from kpi_engine.sharing.report import csv_files, html_report, trend_figure
from ui.navigation import require_app_navigation
from ui.resources import root_store
from ui.text import plain
from ui.theme import styled


@st.cache_data(show_spinner=False, max_entries=200)
def _content(db: str, share_id: str, _shared: Shared) -> dict:
    """A snapshot never changes, so its content is computed once per share id."""
    return share_content(root_store(), _shared)


def _kpis(content: dict) -> None:
    cards = content["cards"]
    for column, card in zip(st.columns(max(len(cards), 1)), cards, strict=False):
        column.metric(card["name"], card["formatted"], border=True)
    if content["table"]:
        st.subheader(f"By {content['by']}", anchor=False)
        st.dataframe(pd.DataFrame(content["table"]), hide_index=True)
    figure = trend_figure(content)
    if figure is not None:
        st.plotly_chart(styled(figure, "count"), key="shared_trend")


def _experiment(content: dict) -> None:
    for r in content["experiment"]["results"]:
        st.markdown(f"- {plain(r['verdict'])}")
    st.dataframe(
        pd.DataFrame(content["experiment"]["results"]).drop(columns=["details"], errors="ignore"),
        hide_index=True,
    )


def _budget(content: dict) -> None:
    portfolio = content["budget"]["portfolio"]
    st.markdown(
        f"Outcome a day: **{portfolio['current_outcome']:,.2f}** now,"
        f" **{portfolio['suggested_outcome']:,.2f}** with the suggested split."
    )
    st.dataframe(
        pd.DataFrame(content["budget"]["campaigns"]).drop(columns=["curve"], errors="ignore"),
        hide_index=True,
    )


require_app_navigation()
token = st.query_params.get("token")
try:
    shared = open_share(root_store(), token)
except KpiLabError as exc:
    st.title("Shared view", anchor=False)
    st.error(str(exc), icon=":material/link_off:")
    st.stop()
content = _content(root_store().path, shared.share_id, shared)
st.title(plain(content["title"]), anchor=False)
expiry = f" · link valid until {shared.expires_at:%Y-%m-%d}" if shared.expires_at else ""
st.caption(
    f"Shared {content['shared_at'].replace('T', ' ')} · {plain(content['dataset'])}"
    f" ({content['rows']:,} rows, frozen at that time){expiry} · read-only"
)
{"kpis": _kpis, "experiments": _experiment, "budget": _budget}[content["page"]](content)
left, right = st.columns(2)
left.download_button(
    "Download report (HTML)",
    html_report(content),
    file_name=f"{content['title']}.html",
    mime="text/html",
    icon=":material/description:",
    on_click="ignore",
)
for name, data in csv_files(content).items():
    right.download_button(
        f"Download {name}",
        data,
        file_name=name,
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
        key=f"csv_{name}",
    )
