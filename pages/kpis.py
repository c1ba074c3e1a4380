"""KPIs: pick KPIs, filter by dates and dimensions, see totals, a breakdown and a trend."""

from __future__ import annotations

from datetime import date

import streamlit as st

from kpi_engine.aggregate_sql import GRAINS
from kpi_engine.annotations import wording as notes_wording
from kpi_engine.annotations.notes import add_note, delete_note, notes
from kpi_engine.budget import wording as budget_wording
from kpi_engine.budget.goals import goal_for_target
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.explain import wording as explain_wording
from kpi_engine.explain.form import explainable
from kpi_engine.formatting import format_value
from kpi_engine.kpis import wording
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.dashboard import (
    Target,
    delete_target,
    last_complete_days,
    previous_period,
    save_target,
    targets,
    trend_points,
)
from kpi_engine.kpis.query import kpi_availability, lookup
from kpi_engine.kpis.spec import TABLE_LIMIT, KpiViewSpec, default_kpis
from kpi_engine.store import Store
from ui.blocks import draw
from ui.cache import blocks_of, date_range, distinct_values, result_of
from ui.catalog_browser import catalog_browser, custom_kpi_form
from ui.currency_picker import currency_choice
from ui.dataset_picker import current_dataset
from ui.identity import can, current_store, writable_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.open_view import left_out_notice, open_view
from ui.review import seen
from ui.share_controls import share_controls
from ui.text import plain
from ui.widget_keys import widget_key

FILTER_ROLES = ("campaign", "channel")
TARGET_LABELS = {"deadline": "The deadline", "target": "The target"}
NOTE_LABELS = {"text": "What happened", "end": "Dates", "start": "Dates"}
LABELS = {  # an error about a field names the widget that sets it
    "kpis": "KPI",
    "start": "Date range",
    "filters": "Filter",
    "by": "Break down by",
    "grain": "Grain",
    "chart_kpi": "KPI on the chart",
    "smooth": "7-day average and anomalies",
    "compare": "Compare the selected dates with",
    "compare_on": "Put another period beside the selected dates",
    "currency": "Currency",
    "why": "Explain",
    "why_by": "Split by",
    "why_period": "Period",
}


def _pick_kpis(dataset: Dataset, custom) -> list[str]:
    needs = kpi_availability(dataset, custom)
    available = [k for k, missing in needs.items() if not missing]
    unavailable = {k: missing for k, missing in needs.items() if missing}
    chosen = st.multiselect(
        "KPIs",
        available,
        default=list(default_kpis(dataset, custom)),
        format_func=lambda k: f"{lookup(k, custom).name} ({lookup(k, custom).family})",
        key=widget_key("kpis", dataset.dataset_id),
    )
    if unavailable:
        with st.expander(f"KPIs this dataset cannot compute ({len(unavailable)})"):
            st.caption(
                wording.unavailable(
                    {k: (lookup(k, custom).name, m) for k, m in unavailable.items()}
                )
            )
    return chosen


def _filters(
    store: Store, dataset: Dataset, bounds: tuple[date, date] | None
) -> tuple[date | None, date | None, tuple]:
    cols = st.columns(1 + len([r for r in FILTER_ROLES if r in dataset.roles]))
    start = end = None
    with cols[0]:
        if bounds:
            picked = st.date_input(
                LABELS["start"],
                value=last_complete_days(bounds, date.today()) or bounds,
                min_value=bounds[0],
                max_value=bounds[1],
                key=widget_key("dates", dataset.dataset_id),
            )
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                start, end = picked
            elif isinstance(picked, (tuple, list)) and len(picked) == 1:
                start = end = picked[0]
        else:
            st.caption(wording.no_date_column(dataset.header_period))
    filters = []
    for col, role in zip(cols[1:], [r for r in FILTER_ROLES if r in dataset.roles], strict=True):
        with col:
            values = st.multiselect(
                role.capitalize(),
                distinct_values(store, dataset, dataset.roles[role]),
                placeholder="All",
                key=widget_key(f"filter_{role}", dataset.dataset_id),
            )
        if values:
            filters.append((role, tuple(values)))
    return start, end, tuple(filters)


def _trend_controls(dataset: Dataset, kpis: list[str], by: str | None, custom) -> dict:
    key = dataset.dataset_id
    controls = st.columns([2, 3, 2])
    grain = controls[0].segmented_control(
        LABELS["grain"], GRAINS, default="day", required=True, key=widget_key("grain", key)
    )
    chart_kpi = controls[1].selectbox(
        LABELS["chart_kpi"],
        kpis,
        format_func=lambda k: lookup(k, custom).name,
        key=widget_key("trend_kpi", key),
    )
    split = False
    if by:
        split = controls[2].toggle(f"One line per {plain(by)}", key=widget_key("split", key))
    smooth = controls[2].toggle(
        LABELS["smooth"],
        key=widget_key("smooth", key),
        disabled=grain != "day" or split,
        help=wording.anomaly_help(),
    )
    return {
        "grain": grain,
        "chart_kpi": chart_kpi,
        "lines_by": by if split else None,
        "smooth": smooth and grain == "day" and not split,
    }


def _why_controls(dataset: Dataset, kpis: list[str], custom, start: date, end: date) -> dict:
    """ "Why did this change?": computed only while it is open; the dates chosen against the
    period before, or one point of the trend against the one before it."""
    key = dataset.dataset_id
    choices = explainable([lookup(k, custom) for k in kpis])
    box = st.expander(
        explain_wording.TITLE,
        icon=":material/lightbulb:",
        key=widget_key("why_open", key),
        on_change="rerun",
    )
    if not choices:
        box.caption(explain_wording.NOTHING_TO_EXPLAIN)
        return {"slot": box.container()}
    cols = box.columns(3)
    kpi = cols[0].selectbox(
        LABELS["why"],
        choices,
        format_func=lambda k: lookup(k, custom).name,
        key=widget_key("why", key),
    )
    splits = [None, *dataset.dimensions]
    channel = dataset.roles.get("channel")
    split = cols[1].selectbox(
        LABELS["why_by"],
        splits,
        index=splits.index(channel) if channel in splits else 0,  # the mix question first
        format_func=lambda c: "(no split)" if c is None else c,
        key=widget_key("why_by", key),
        help=explain_wording.SPLIT_HELP,
    )
    grain = st.session_state.get(widget_key("grain", key)) or "day"
    points = [None, *trend_points(start, end, grain)]
    period = cols[2].selectbox(
        LABELS["why_period"],
        points,
        format_func=lambda p: wording.trend_point(p, grain),
        key=widget_key(f"why_period_{grain}", key),
        help=explain_wording.PERIOD_HELP,
    )
    if not box.open:
        return {"slot": box.container()}
    return {"slot": box.container(), "why": kpi, "why_by": split, "why_period": period}


def _other_period(start: date, end: date, bounds: tuple[date, date] | None) -> tuple[date, date]:
    """The period before the selected one, kept inside the data; when the selection starts
    with the data, the first half of it (a default before the data would show only n/a)."""
    before = previous_period(start, end)
    if not bounds or before[1] >= bounds[0]:
        return (max(before[0], bounds[0]) if bounds else before[0]), before[1]
    return start, start + (end - start) / 2


def _compare_period(
    start: date | None, end: date | None, key: str, bounds: tuple[date, date] | None
):
    """A second period beside the selected dates, when asked for (any dates: a period
    without data is n/a)."""
    if not (start and end):
        return None
    if not st.toggle(LABELS["compare_on"], key=widget_key("compare_on", key)):
        return None
    other = st.date_input(
        LABELS["compare"], value=_other_period(start, end, bounds), key=widget_key("compare", key)
    )
    return tuple(other) if isinstance(other, (tuple, list)) and len(other) == 2 else None


def compare_on(dataset: Dataset) -> bool:
    return bool(st.session_state.get(widget_key("compare_on", dataset.dataset_id)))


def _target_form(
    store: Store, dataset: Dataset, kpis: list[str], start, end, scope: tuple, custom
) -> None:
    """Set a target on the rows the page shows now (its filters and currency)."""
    filters, currency = scope
    with st.form(f"target_{dataset.dataset_id}", border=False):
        cols = st.columns(4)
        kpi_id = cols[0].selectbox("KPI", kpis, format_func=lambda k: lookup(k, custom).name)
        value = cols[1].number_input("Target", value=0.0, format="%.4f")
        first = cols[2].date_input("From", value=start)
        deadline = cols[3].date_input("Deadline", value=end)
        where = wording.target_scope(filters, currency)
        st.caption(f"Counts {where}." if where else "Counts all rows of the dataset.")
        if st.form_submit_button("Save target"):
            try:
                target = Target(kpi_id, value, first, deadline, filters, currency)
                save_target(writable_store(), dataset, target)
                st.rerun()
            except KpiLabError as exc:
                show_error(exc, TARGET_LABELS)


def _delete_targets(store: Store, dataset: Dataset, saved: tuple[Target, ...], custom) -> None:
    for i, target in enumerate(saved):
        left, right = st.columns([5, 1], vertical_alignment="center")
        where = wording.target_scope(target.filters, target.currency)
        left.caption(
            f"{plain(lookup(target.kpi, custom).name)}{f' ({plain(where)})' if where else ''}"
            f" · {target.start} to {target.deadline}"
        )
        if right.button("Delete", key=f"delete_target_{i}", icon=":material/delete:"):
            delete_target(writable_store(), dataset, target)
            st.rerun()


def _notes(store: Store, dataset: Dataset, bounds: tuple[date, date] | None) -> None:
    """Notes on the timeline: drawn on the trend, kept in the workspace, frozen into links;
    a range left out of baselines is skipped by anomaly flags and budget fits."""
    mine = notes(store, dataset)
    with st.expander(f"Notes on the timeline ({len(mine)})", icon=":material/push_pin:"):
        st.caption(notes_wording.NOTES_HELP)
        for mark in mine:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.caption(plain(wording.annotation_line(mark)))
            if can("edit") and right.button(
                "Delete", key=f"delete_note_{mark.annotation_id}", icon=":material/delete:"
            ):
                delete_note(writable_store(), mark.annotation_id or "")
                st.rerun()
        if not can("edit"):
            return
        with st.form(f"note_{dataset.dataset_id}", border=False, clear_on_submit=True):
            cols = st.columns([2, 4, 2])
            default = (bounds[1], bounds[1]) if bounds else ()
            when = cols[0].date_input(
                "Dates", value=default, key=f"note_dates_{dataset.dataset_id}"
            )
            what = cols[1].text_input("What happened", max_chars=200, placeholder="Summer sale")
            exclude = cols[2].checkbox("Leave out of baselines", help=notes_wording.EXCLUDE_HELP)
            if st.form_submit_button("Add note", icon=":material/push_pin:"):
                days = tuple(when) if isinstance(when, (tuple, list)) else (when,)
                try:
                    if not days:
                        raise KpiLabError("need a day or a range", "start")
                    add_note(writable_store(), dataset, days[0], days[-1], what, exclude)
                    st.rerun()
                except KpiLabError as exc:
                    show_error(exc, NOTE_LABELS)


def _plans_for_targets(store: Store, dataset: Dataset, statuses, where) -> None:
    """A conversions or revenue target falling behind links to the budget plan reaching it."""
    for i, status in enumerate(statuses):
        goal = goal_for_target(dataset, status)
        if goal is None:
            continue
        missing = format_value(goal.goal_target, "currency" if status.kpi == "revenue" else "count")
        label = budget_wording.plan_for_target(missing, status.kpi, status.deadline)
        if where.button(label, key=f"plan_target_{i}", icon=":material/trending_up:"):
            open_view(store, goal)


require_app_navigation()
store = current_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("KPIs", anchor=False)
left_out_notice()
dataset = current_dataset(store)
if dataset is None:
    st.info(wording.NO_DATASET)
    st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
    st.stop()

st.caption(f"{dataset.rows:,} rows · {plain(dataset.source_file or '')}")
CUSTOM = saved_custom(store)
catalog_browser(dataset, CUSTOM)
custom_kpi_form(store, CUSTOM)
kpis = _pick_kpis(dataset, CUSTOM)
if not kpis:
    st.info(wording.PICK_KPIS)
    st.stop()
bounds = date_range(store, dataset)
start, end, filters = _filters(store, dataset, bounds)
currency, convert = currency_choice(store, dataset, "currency", LABELS["currency"])
slots = {"cards": st.container()}
why: dict = {}
if start and end:
    why = _why_controls(dataset, kpis, CUSTOM, start, end)
    slots["why"] = why.pop("slot")
by = None
if dataset.dimensions:
    st.subheader(wording.BREAKDOWN, anchor=False)
    by = st.selectbox(LABELS["by"], dataset.dimensions, key=widget_key("by", dataset.dataset_id))
    slots["breakdown"] = st.container()
trend: dict = {"grain": None}
compare = None
saved_targets = ()
if dataset.date_column:
    st.subheader(wording.TREND, anchor=False)
    trend = _trend_controls(dataset, kpis, by, CUSTOM)
    slots["trend"] = slots["trend_note"] = st.container()
    with st.expander(
        "Compare two periods", icon=":material/compare_arrows:", expanded=compare_on(dataset)
    ):
        compare = _compare_period(start, end, dataset.dataset_id, bounds)
        slots["compare"] = st.container()
    computable = {k for k, missing in kpi_availability(dataset, CUSTOM).items() if not missing}
    saved_targets = tuple(t for t in targets(store, dataset) if t.kpi in computable)
    _notes(store, dataset, bounds)
    with st.expander(
        f"Targets ({len(saved_targets)})", icon=":material/flag:", expanded=bool(saved_targets)
    ):
        slots["targets"] = st.container()
        if can("edit"):
            _delete_targets(store, dataset, saved_targets, CUSTOM)
            _target_form(store, dataset, kpis, start, end, (filters, currency), CUSTOM)
try:
    spec = KpiViewSpec(
        dataset.dataset_id,
        tuple(kpis),
        tuple(k for k in CUSTOM if k.id in {*kpis, *(t.kpi for t in saved_targets)}),
        start,
        end,
        filters,
        currency,
        (by,) if by else (),
        kpis[0] if by else None,
        TABLE_LIMIT if by else None,
        compare=compare,
        targets=saved_targets,
        **trend,
        **why,
        convert=convert,
    )
    result = result_of(store, dataset, spec)
except KpiLabError as exc:
    show_error(exc, LABELS)
    st.stop()
draw(blocks_of(store, dataset, spec, result), slots)
if "targets" in slots:
    _plans_for_targets(store, dataset, result.targets, slots["targets"])
seen(store, dataset.dataset_id, spec.kpis)
with share_col:  # at the top, but it shares what the widgets below chose
    share_controls(store, spec, result, default_title=f"{dataset.name}: KPIs")
