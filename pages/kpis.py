"""KPIs: pick KPIs, filter by dates and dimensions, see totals, a breakdown and a trend."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import plotly.graph_objects as go
import streamlit as st

from kpi_engine.catalog import CATALOG, only_vanity
from kpi_engine.custom_kpis import saved_custom
from kpi_engine.errors import KpiLabError
from kpi_engine.export import to_csv_bytes
from kpi_engine.formatting import d3_format, format_compact, format_value
from kpi_engine.kpi_query import GRAINS, PERIOD, KpiQuery, kpi_availability, run_kpis
from kpi_engine.store import Dataset, Store
from ui.catalog_browser import catalog_browser, custom_kpi_form
from ui.dataset_picker import current_dataset
from ui.navigation import require_app_navigation
from ui.resources import get_store
from ui.share_controls import share_controls
from ui.text import plain
from ui.theme import styled

DEFAULT_KPIS = ("spend", "revenue", "roas", "cpa", "ctr")
FILTER_ROLES = ("campaign", "channel")
MAX_TREND_LINES = 8
MAX_TABLE_ROWS = 1000


def _pick_kpis(dataset: Dataset) -> list[str]:
    needs = kpi_availability(dataset, CUSTOM)
    available = [k for k, missing in needs.items() if not missing]
    unavailable = {k: missing for k, missing in needs.items() if missing}
    default = [k for k in DEFAULT_KPIS if k in available]
    default += [k for k in available if k not in default][: max(0, 5 - len(default))]
    chosen = st.multiselect(
        "KPIs",
        available,
        default=default,
        format_func=lambda k: f"{KPIS[k].name} ({KPIS[k].family})",
        key=f"kpis_{dataset.dataset_id}",
    )
    if only_vanity(chosen):
        st.warning(
            "These are volume metrics only: add an outcome KPI (CPA, ROAS, conversions)"
            " to see whether the volume pays off.",
            icon=":material/warning:",
        )
    if unavailable:
        with st.expander(f"KPIs this dataset cannot compute ({len(unavailable)})"):
            st.caption(
                "; ".join(
                    f"{KPIS[k].name}: needs column {', '.join(m)}" for k, m in unavailable.items()
                )
            )
    return chosen


def _filters(store: Store, dataset: Dataset) -> tuple[date | None, date | None, tuple]:
    bounds = store.date_range(dataset)
    cols = st.columns(1 + len([r for r in FILTER_ROLES if r in dataset.roles]))
    start = end = None
    with cols[0]:
        if bounds:
            picked = st.date_input(
                "Date range",
                value=bounds,
                min_value=bounds[0],
                max_value=bounds[1],
                key=f"dates_{dataset.dataset_id}",
            )
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                start, end = picked
            elif isinstance(picked, (tuple, list)) and len(picked) == 1:
                start = end = picked[0]
        else:
            st.caption("No date column: the KPIs cover all rows.")
    filters = []
    for col, role in zip(cols[1:], [r for r in FILTER_ROLES if r in dataset.roles], strict=True):
        with col:
            values = st.multiselect(
                role.capitalize(),
                store.distinct_values(dataset, dataset.roles[role]),
                placeholder="All",
                key=f"filter_{role}_{dataset.dataset_id}",
            )
        if values:
            filters.append((role, tuple(values)))
    return start, end, tuple(filters)


def _cards(totals: dict, kpis: list[str]) -> None:
    per_row = 6
    for offset in range(0, len(kpis), per_row):
        row = kpis[offset : offset + per_row]
        for column, kpi_id in zip(st.columns(per_row), row, strict=False):
            kpi = KPIS[kpi_id]
            column.metric(
                kpi.name,
                format_compact(totals.get(kpi_id), kpi.unit),
                help=f"{kpi.description} Formula: `{kpi.formula}`. Exact value:"
                f" {format_value(totals.get(kpi_id), kpi.unit)}",
                border=True,
            )


def _breakdown(store: Store, dataset: Dataset, base: KpiQuery, kpis: list[str]) -> str | None:
    if not dataset.dimensions:
        return None
    by = st.selectbox("Break down by", dataset.dimensions, key=f"by_{dataset.dataset_id}")
    table = run_kpis(store, dataset, replace(base, by=(by,), sort=kpis[0], limit=MAX_TABLE_ROWS))
    if len(table) == MAX_TABLE_ROWS:
        st.caption(f"The {MAX_TABLE_ROWS:,} {by} values with the highest {KPIS[kpis[0]].name}.")
    st.download_button(
        "Download table (CSV)",
        to_csv_bytes(table),
        file_name=f"{dataset.name} by {by}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            k: st.column_config.NumberColumn(KPIS[k].name, format=_table_format(KPIS[k].unit))
            for k in kpis
        },
    )
    return by


def _table_format(unit: str) -> str:
    return {"percent": "percent", "ratio": "%.2f", "currency": "accounting"}.get(unit, "localized")


def _trend(store: Store, dataset: Dataset, base: KpiQuery, kpis: list[str], by: str | None) -> str:
    controls = st.columns([2, 3, 2])
    grain = controls[0].segmented_control(
        "Grain", GRAINS, default="day", required=True, key=f"grain_{dataset.dataset_id}"
    )
    kpi_id = controls[1].selectbox(
        "KPI on the chart",
        kpis,
        format_func=lambda k: KPIS[k].name,
        key=f"trend_kpi_{dataset.dataset_id}",
    )
    split = (
        controls[2].toggle(f"One line per {by}", key=f"split_{dataset.dataset_id}") if by else False
    )
    kpi = KPIS[kpi_id]
    fig = go.Figure()
    if split and by:
        top = _top_groups(store, dataset, base, by, kpi_id)
        query = replace(
            base, kpis=(kpi_id,), by=(by,), grain=grain, filters=base.filters + ((by, top),)
        )
        frame = run_kpis(store, dataset, query)
        for name in top:
            part = frame[frame[by].astype(str) == name]
            fig.add_trace(go.Scatter(x=part[PERIOD], y=part[kpi_id], mode="lines", name=name))
    else:
        frame = run_kpis(store, dataset, replace(base, kpis=(kpi_id,), grain=grain))
        fig.add_trace(
            go.Scatter(x=frame[PERIOD], y=frame[kpi_id], mode="lines+markers", name=kpi.name)
        )
    fig.update_layout(title=f"{kpi.name} by {grain}", showlegend=bool(split and by))
    fig.update_traces(hovertemplate=f"%{{y:{d3_format(kpi.unit)}}}")
    st.plotly_chart(styled(fig, kpi.unit), key=f"trend_{dataset.dataset_id}")
    return grain


def _top_groups(
    store: Store, dataset: Dataset, base: KpiQuery, by: str, kpi_id: str
) -> tuple[str, ...]:
    """The groups with the most spend (else the most of the KPI) get a line of their own."""
    rank = "spend" if "spend" in dataset.roles else kpi_id
    query = replace(base, kpis=(rank,), by=(by,), sort=rank, limit=MAX_TREND_LINES)
    return tuple(str(v) for v in run_kpis(store, dataset, query)[by])


require_app_navigation()
store = get_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("KPIs", anchor=False)
dataset = current_dataset(store)
if dataset is None:
    st.info("No dataset yet. Upload a campaign file to see its KPIs.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
    st.stop()

st.caption(f"{dataset.rows:,} rows · {plain(dataset.source_file or '')}")
CUSTOM = saved_custom(store)
KPIS = {**CATALOG, **{k.id: k for k in CUSTOM}}
catalog_browser(dataset, CUSTOM)
custom_kpi_form(store)
kpis = _pick_kpis(dataset)
if not kpis:
    st.info("Pick at least one KPI above.")
    st.stop()
start, end, filters = _filters(store, dataset)
currency = None
if len(dataset.currencies) > 1:
    currency = st.segmented_control(
        "Currency",
        dataset.currencies,
        default=dataset.currencies[0],
        required=True,
        key=f"currency_{dataset.dataset_id}",
        help="This dataset holds money in several currencies; KPIs never add them up.",
    )
base = KpiQuery(tuple(kpis), (), start, end, filters, currency=currency, custom=CUSTOM)
try:
    totals = run_kpis(store, dataset, base).iloc[0].to_dict()
    _cards(totals, kpis)
    st.subheader("Breakdown", anchor=False)
    by = _breakdown(store, dataset, base, kpis)
    grain = None
    if dataset.date_column:
        st.subheader("Trend", anchor=False)
        grain = _trend(store, dataset, base, kpis, by)
except KpiLabError as exc:
    st.error(str(exc))
    st.stop()
view = {
    "page": "kpis",
    "dataset_id": dataset.dataset_id,
    "kpis": list(kpis),
    "by": by,
    "grain": grain,
    "start": start,
    "end": end,
    "currency": currency,
    "filters": {name: list(values) for name, values in filters},
}
with share_col:  # at the top, but it shares what the widgets below chose
    share_controls(store, view, default_title=f"{dataset.name}: KPIs")
