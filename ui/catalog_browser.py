"""Browse the KPI catalog by family and objective; define a KPI of your own."""

from __future__ import annotations

import streamlit as st

from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.catalog import CATALOG, DIRECTIONS, OBJECTIVES, RECOMMENDED, UNITS, Kpi
from kpi_engine.kpis.custom import delete_custom, save_custom
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.query import kpi_availability
from kpi_engine.kpis.typical import typical_ranges
from kpi_engine.store import Store
from ui.identity import can, writable_store
from ui.messages import show_error
from ui.text import plain


def catalog_browser(dataset: Dataset, custom: tuple[Kpi, ...]) -> None:
    needs = kpi_availability(dataset, custom)
    with st.expander("Browse the KPI catalog", icon=":material/menu_book:"):
        objective = st.segmented_control("Objective", OBJECTIVES, key="catalog_objective")
        if objective:
            st.caption(
                "Recommended for "
                + objective
                + ": "
                + ", ".join(CATALOG[k].name for k in RECOMMENDED[objective])
            )
        chosen = [
            k for k in (*CATALOG.values(), *custom) if not objective or objective in k.objectives
        ]
        for family in dict.fromkeys(k.family for k in chosen):
            st.markdown(f"**{plain(family)}**")
            st.markdown("\n".join(_entry(k, needs[k.id]) for k in chosen if k.family == family))


def _entry(kpi: Kpi, missing: list[str]) -> str:
    """One KPI in full: what it means, what to watch out for, whether this data has it."""
    tags = [t for t in ("vanity metric" if kpi.vanity else "", ", ".join(kpi.objectives)) if t]
    available = f" *Needs column {plain(', '.join(missing))}.*" if missing else ""
    typical = "".join(
        f" *{plain(r.text(kpi))}* ({plain(r.source)}; a rough guide, not a target)."
        for r in typical_ranges(kpi.id)
    )
    return (
        f"- **{plain(kpi.name)}** ({plain(kpi.formula)}){' · ' if tags else ''}"
        f"{plain(' · '.join(tags))}: {plain(kpi.description)}"
        f"{f' Watch out: {plain(kpi.pitfall)}' if kpi.pitfall else ''}{typical}{available}"
    )


def custom_kpi_form(store: Store, custom: tuple[Kpi, ...]) -> None:
    if not can("edit"):
        return
    with st.popover("Custom KPIs", icon=":material/function:"):
        for kpi in custom:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f"**{plain(kpi.id)}** = {plain(kpi.formula)}")
            if right.button("Delete", key=f"delete_kpi_{kpi.id}", icon=":material/delete:"):
                delete_custom(writable_store(), kpi.id)  # links and views keep their copy
                st.rerun()
        with st.form("custom_kpi", border=False):
            name = st.text_input("Name", placeholder="profit_per_click", max_chars=40)
            formula = st.text_input(
                "Formula",
                placeholder="(revenue - spend) / clicks",
                help="+ - * /, numbers, parentheses and columns: roles such as spend, or your"
                " own columns in double quotes. A column alone means its sum; count, min and"
                " max work too, e.g. sum(revenue) / count(unit).",
            )
            unit = st.selectbox("Unit", UNITS, index=UNITS.index("ratio"))
            direction = st.selectbox("Better when", DIRECTIONS, index=DIRECTIONS.index("neutral"))
            if st.form_submit_button("Save KPI"):
                try:
                    save_custom(writable_store(), make_kpi(name, formula, unit, direction))
                    st.success(f"Saved {plain(name)}: pick it in the KPIs list.")
                except KpiLabError as exc:
                    show_error(exc)
