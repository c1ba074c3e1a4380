"""The Data page's exchange rates: what the workspace has, and, for editors, a new upload,
day or month rates, and delete."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from kpi_engine.currencies import wording
from kpi_engine.currencies.rates import MAX_BYTES, PICKS, parse_rates
from kpi_engine.currencies.workspace_rates import clear_rates, save_rates, set_pick, workspace_rates
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store
from ui.identity import can, writable_store
from ui.messages import show_error
from ui.text import plain

PICK_LABELS = {"day": "Each row's day", "month": "Its month's mean"}


def rates_panel(store: Store) -> None:
    table = workspace_rates(store)
    box = st.expander(
        "Exchange rates" + (f" ({len(table.series)} currencies)" if table else ""),
        icon=":material/currency_exchange:",
        key="rates_open",
        on_change="rerun",
    )
    with box:
        st.caption(wording.RATES_HELP)
        if table is not None:
            st.markdown(plain(wording.rates_summary(table)))
        if not can("edit") or not box.open:  # the uploader only while it is open
            return
        upload = st.file_uploader("Rates file", type=["csv", "txt"], key="rates_upload")
        pick = st.radio(
            "Which rate a row uses",
            PICKS,
            index=PICKS.index(table.pick) if table else 0,
            format_func=PICK_LABELS.get,
            horizontal=True,
            key="rates_pick",
            help=wording.PICK_HELP,
        )
        try:
            if upload is not None and st.button("Use these rates", icon=":material/upload:"):
                if upload.size > MAX_BYTES:
                    raise KpiLabError(
                        f"is larger than {MAX_BYTES // 1_000_000} MB: keep the currencies and"
                        " years you report on",
                        "rates",
                    )
                parsed = parse_rates(upload.getvalue(), upload.name)
                save_rates(writable_store(), replace(parsed, pick=pick))
                st.rerun()
            if table is not None and pick != table.pick and upload is None:
                set_pick(writable_store(), pick)
                st.rerun()
            if table is not None and st.button("Delete the rates", icon=":material/delete:"):
                clear_rates(writable_store())
                st.rerun()
        except KpiLabError as exc:
            show_error(exc, {"rates": "The rates file", "pick": "Which rate a row uses"})
