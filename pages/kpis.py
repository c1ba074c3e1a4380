"""KPIs: pick KPIs, filter by dates and dimensions, see totals, a breakdown and a trend."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import plotly.graph_objects as go
import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.export import to_csv_bytes, to_excel_bytes
from kpi_engine.formatting import d3_format, format_compact, format_value
from kpi_engine.kpis.catalog import CATALOG, only_vanity
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.dashboard import (
    Target,
    anomalies,
    as_number,
    compare_periods,
    movers,
    pace,
    period_values,
    previous_period,
    relative_change,
    rolling_mean,
    save_target,
    sparklines,
    targets,
)
from kpi_engine.kpis.query import GRAINS, PERIOD, KpiQuery, kpi_availability
from kpi_engine.store import Dataset, Store
from ui.cache import kpis_of
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


def _cards(store: Store, dataset: Dataset, base: KpiQuery, totals: dict, kpis: list[str]) -> None:
    """A card per KPI: the value, the change against the previous period of the same length,
    and a daily sparkline."""
    before, sparks = {}, {}
    if base.start and base.end:
        previous = previous_period(base.start, base.end)
        before = period_values(store, dataset, base, *previous)
        sparks = sparklines(store, dataset, base)
    per_row = 6
    for offset in range(0, len(kpis), per_row):
        row = kpis[offset : offset + per_row]
        for column, kpi_id in zip(st.columns(per_row), row, strict=False):
            kpi = KPIS[kpi_id]
            change = relative_change(as_number(totals.get(kpi_id)), before.get(kpi_id))
            column.metric(
                kpi.name,
                format_compact(totals.get(kpi_id), kpi.unit),
                delta=None if change is None else f"{change:+.1%} vs previous period",
                delta_color={"higher": "normal", "lower": "inverse"}.get(kpi.direction, "off"),
                chart_data=sparks.get(kpi_id) or None,
                help=f"{kpi.description} Watch out: {kpi.pitfall} Formula: `{kpi.formula}`."
                f" Exact value: {format_value(totals.get(kpi_id), kpi.unit)}",
                border=True,
            )


def _breakdown(
    store: Store, dataset: Dataset, base: KpiQuery, kpis: list[str], totals: dict
) -> str | None:
    if not dataset.dimensions:
        return None
    by = st.selectbox("Break down by", dataset.dimensions, key=f"by_{dataset.dataset_id}")
    table = kpis_of(store, dataset, replace(base, by=(by,), sort=kpis[0], limit=MAX_TABLE_ROWS))
    if len(table) == MAX_TABLE_ROWS:
        st.caption(f"The {MAX_TABLE_ROWS:,} {by} values with the highest {KPIS[kpis[0]].name}.")
    csv_col, xlsx_col = st.columns(2)
    csv_col.download_button(
        "Download table (CSV)",
        to_csv_bytes(table),
        file_name=f"{dataset.name} by {by}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    xlsx_col.download_button(
        "Download table (Excel)",
        to_excel_bytes(table),
        file_name=f"{dataset.name} by {by}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="ignore",
    )
    st.dataframe(
        _coloured(table, kpis, totals),
        hide_index=True,
        column_config={
            k: st.column_config.NumberColumn(KPIS[k].name, format=_table_format(KPIS[k].unit))
            for k in kpis
        },
    )
    if base.start and base.end:
        top, bottom = movers(store, dataset, base, by, KPIS[kpis[0]], base.start, base.end)
        if not top.empty:
            st.caption(f"Movers on {KPIS[kpis[0]].name} against the previous period:")
            left, right = st.columns(2)
            left.dataframe(
                top,
                hide_index=True,
                column_config={"change": st.column_config.NumberColumn("change", format="percent")},
            )
            right.dataframe(
                bottom,
                hide_index=True,
                column_config={"change": st.column_config.NumberColumn("change", format="percent")},
            )
    return by


def _coloured(table, kpis: list[str], totals: dict):
    """Green where a group does better than the total, red where worse, by KPI direction."""

    def colour(column):
        kpi = KPIS.get(column.name)
        total = as_number(totals.get(column.name))
        if kpi is None or kpi.direction == "neutral" or total is None:
            return [""] * len(column)
        sign = 1 if kpi.direction == "higher" else -1
        return [
            ""
            if v != v
            else (
                "background-color: #e7f5ec"
                if sign * (v - total) > 0
                else "background-color: #fbeaea"
            )
            for v in column
        ]

    return table.style.apply(colour, subset=[k for k in kpis if k in table.columns])


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
    smooth = controls[2].toggle(
        "7-day average and anomalies",
        key=f"smooth_{dataset.dataset_id}",
        disabled=grain != "day" or split,
        help="Days outside the median of the previous 14 days ± 3.5 scaled MADs are marked.",
    )
    kpi = KPIS[kpi_id]
    fig = go.Figure()
    if split and by:
        top = _top_groups(store, dataset, base, by, kpi_id)
        query = replace(
            base, kpis=(kpi_id,), by=(by,), grain=grain, filters=base.filters + ((by, top),)
        )
        frame = kpis_of(store, dataset, query)
        for name in top:
            part = frame[frame[by].astype(str) == name]
            fig.add_trace(go.Scatter(x=part[PERIOD], y=part[kpi_id], mode="lines", name=name))
    else:
        frame = kpis_of(store, dataset, replace(base, kpis=(kpi_id,), grain=grain))
        fig.add_trace(
            go.Scatter(x=frame[PERIOD], y=frame[kpi_id], mode="lines+markers", name=kpi.name)
        )
        if smooth and grain == "day":
            series = frame.set_index(PERIOD)[kpi_id]
            fig.add_trace(
                go.Scatter(
                    x=series.index,
                    y=rolling_mean(series),
                    mode="lines",
                    name="7-day average",
                    line={"dash": "dot"},
                )
            )
            flags = anomalies(series)
            odd = flags[flags["anomaly"]]
            fig.add_trace(
                go.Scatter(
                    x=odd.index,
                    y=odd["value"],
                    mode="markers",
                    name="anomaly",
                    marker={"size": 12, "color": "#D7263D", "symbol": "x"},
                )
            )
    fig.update_layout(title=f"{kpi.name} by {grain}", showlegend=bool((split and by) or smooth))
    fig.update_traces(hovertemplate=f"%{{y:{d3_format(kpi.unit)}}}")
    st.plotly_chart(styled(fig, kpi.unit), key=f"trend_{dataset.dataset_id}")
    return grain


def _two_periods(store: Store, dataset: Dataset, base: KpiQuery) -> None:
    bounds = store.date_range(dataset)
    if not (bounds and base.start and base.end):
        return
    with st.expander("Compare two periods", icon=":material/compare_arrows:"):
        default = previous_period(base.start, base.end)
        other = st.date_input(  # any dates: a period without data shows n/a
            "Compare the selected dates with", value=default, key=f"compare_{dataset.dataset_id}"
        )
        if not (isinstance(other, (tuple, list)) and len(other) == 2):
            return
        table = compare_periods(store, dataset, base, tuple(other), (base.start, base.end))
        table["period_a"] = [
            format_value(v, KPIS[k].unit)
            for k, v in zip(table["kpi"], table["period_a"], strict=True)
        ]
        table["period_b"] = [
            format_value(v, KPIS[k].unit)
            for k, v in zip(table["kpi"], table["period_b"], strict=True)
        ]
        st.dataframe(
            table.drop(columns="kpi").rename(
                columns={
                    "name": "KPI",
                    "period_a": f"{other[0]} to {other[1]}",
                    "period_b": f"{base.start} to {base.end}",
                }
            ),
            hide_index=True,
            column_config={"change": st.column_config.NumberColumn(format="percent")},
        )


def _targets(store: Store, dataset: Dataset, base: KpiQuery, kpis: list[str]) -> None:
    saved = [t for t in targets(store, dataset) if t.kpi in KPIS]
    with st.expander(f"Targets ({len(saved)})", icon=":material/flag:", expanded=bool(saved)):
        today = store.date_range(dataset)[1]  # the data's last day: the pace is about the data
        for target in saved:
            kpi = KPIS[target.kpi]
            value = period_values(
                store, dataset, replace(base, kpis=(kpi.id,)), target.start, target.deadline
            )[kpi.id]
            status = pace(kpi, target, value, today)
            icon = {"reached": "🟢", "on track": "🟢", "at risk": "🟠"}.get(status["status"], "🔴")
            st.markdown(
                f"{icon} **{kpi.name}**: {format_value(value, kpi.unit)} of"
                f" {format_value(target.target, kpi.unit)} by {target.deadline}"
                f" · {status['text']}"
            )
            if status["progress"] is not None:
                st.progress(min(max(status["progress"], 0.0), 1.0))
        with st.form(f"target_{dataset.dataset_id}", border=False):
            cols = st.columns(4)
            kpi_id = cols[0].selectbox("KPI", kpis, format_func=lambda k: KPIS[k].name)
            value = cols[1].number_input("Target", value=0.0, format="%.4f")
            start = cols[2].date_input("From", value=base.start)
            deadline = cols[3].date_input("Deadline", value=base.end)
            if st.form_submit_button("Save target"):
                try:
                    save_target(store, dataset, Target(kpi_id, value, start, deadline))
                    st.rerun()
                except KpiLabError as exc:
                    st.error(str(exc))


def _top_groups(
    store: Store, dataset: Dataset, base: KpiQuery, by: str, kpi_id: str
) -> tuple[str, ...]:
    """The groups with the most spend (else the most of the KPI) get a line of their own."""
    rank = "spend" if "spend" in dataset.roles else kpi_id
    query = replace(base, kpis=(rank,), by=(by,), sort=rank, limit=MAX_TREND_LINES)
    return tuple(str(v) for v in kpis_of(store, dataset, query)[by])


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
    totals = kpis_of(store, dataset, base).iloc[0].to_dict()
    _cards(store, dataset, base, totals, kpis)
    st.subheader("Breakdown", anchor=False)
    by = _breakdown(store, dataset, base, kpis, totals)
    grain = None
    if dataset.date_column:
        st.subheader("Trend", anchor=False)
        grain = _trend(store, dataset, base, kpis, by)
        _two_periods(store, dataset, base)
        _targets(store, dataset, base, kpis)
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
