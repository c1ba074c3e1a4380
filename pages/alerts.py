"""Alerts: watches on KPIs, targets and experiments, where they send, and what was sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import available_timezones

import streamlit as st

from kpi_engine.alerts import display, wording
from kpi_engine.alerts.background import configured_every
from kpi_engine.alerts.evaluate import evaluate
from kpi_engine.alerts.heartbeat import monitor_status
from kpi_engine.alerts.review import REVIEW_DAYS, silent_watches, stale_kpis, suggested_kpi
from kpi_engine.alerts.watch import DEFAULT_HOUR, Watch
from kpi_engine.alerts.watches import (
    add_watch,
    list_watches,
    recent_deliveries,
    remove_watch,
    set_time_zone,
)
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.query import kpi_availability, lookup
from kpi_engine.sharing.views import saved_views
from kpi_engine.store import Store
from kpi_engine.time_zone import time_zone
from ui.blocks import draw
from ui.dataset_picker import current_dataset
from ui.identity import can, current_store, writable_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.text import plain

LABELS = {
    "rule": "Rule",
    "webhook": "Send to",
    "email": "Send to",
    "hour": "Digest hour",
    "time_zone": "Time zone",
    "channel_type": "Channel type",
    "kpi": "KPI",
}


def _rule_text(column, rule: str) -> str:
    if rule == "change":
        return f"change:{column.number_input('Change that alerts (%)', 1.0, 1000.0, 20.0):g}"
    if rule == "range":
        low = column.text_input("Lowest acceptable value", placeholder="e.g. 0.02")
        high = column.text_input("Highest acceptable value", placeholder="e.g. 0.05")
        return f"range:{low.strip()}:{high.strip()}"
    return rule


def _kpi_form(store: Store, dataset: Dataset) -> None:
    custom = saved_custom(store)
    kpis = [k for k, missing in kpi_availability(dataset, custom).items() if not missing]
    with st.form("watch_kpi", border=True):
        st.markdown(f"**Watch a KPI of {plain(dataset.name)}**")
        c1, c2, c3 = st.columns(3)
        kpi = c1.selectbox(
            "KPI", kpis, index=suggested_kpi(kpis), format_func=lambda k: lookup(k, custom).name
        )
        choices = wording.KPI_RULE_CHOICES
        rule = c1.selectbox(LABELS["rule"], list(choices), format_func=choices.get)
        rule_text = _rule_text(c2, rule)
        destination, digest, hour = _delivery(c3)
        if st.form_submit_button("Add watch", type="primary"):
            _add(store, dataset, rule_text, destination, kpi=kpi, digest=digest, hour=hour)


def _experiment_form(store: Store, dataset: Dataset) -> None:
    views = [
        v
        for v in saved_views(store)
        if v["spec"] is not None
        and v["page"] == "experiments"
        and v["spec"].dataset_id == dataset.dataset_id
    ]
    if not views:
        st.caption(wording.NO_EXPERIMENT_VIEWS)
        return
    with st.form("watch_experiment", border=True):
        st.markdown("**Watch an experiment** (a saved view)")
        c1, c2, c3 = st.columns(3)
        view = c1.selectbox("Saved view", views, format_func=lambda v: plain(v["name"]))
        rule = c2.selectbox(
            LABELS["rule"],
            ["srm", "decision"],
            format_func={"srm": "a sample ratio mismatch", "decision": "a decision"}.get,
        )
        destination, digest, hour = _delivery(c3)
        if st.form_submit_button("Add watch", type="primary"):
            spec = json.dumps(view["spec"].to_view())
            _add(store, dataset, rule, destination, experiment=spec, digest=digest, hour=hour)


def _delivery(column) -> tuple[str, str | None, int]:
    destination = column.text_input(
        "Send to", placeholder="https://hooks.slack.com/... or name@example.com"
    )
    when = wording.DELIVERY_CHOICES
    digest = column.selectbox("When", list(when), format_func=when.get)
    hour = column.number_input(LABELS["hour"], 0, 23, DEFAULT_HOUR, disabled=digest is None)
    return destination.strip(), digest, int(hour)


def _add(store: Store, dataset: Dataset, rule: str, destination: str, **settings) -> None:
    try:
        watch = Watch("", "", dataset.dataset_id, rule, destination, **settings)
        evaluate(store, watch)
        add_watch(writable_store(), watch)
    except KpiLabError as exc:
        show_error(exc, LABELS)
        return
    st.toast("Watch added")


def _watches(store: Store) -> None:
    st.subheader("Watches", anchor=False)
    watches = list_watches(store)
    if not watches:
        st.caption(wording.NO_WATCHES)
    for watch in watches:
        cols = st.columns([6, 1])
        cols[0].markdown(plain(display.describe(watch)))
        try:
            now = " ".join(f.sentence for f in evaluate(store, watch))
        except KpiLabError as exc:
            now = str(exc)
        cols[0].caption(plain(f"Now: {now}"))
        if can("watch") and cols[1].button("Remove", key=f"unwatch_{watch.watch_id}"):
            remove_watch(writable_store(), watch.watch_id)
            st.rerun()
    now = datetime.now()
    for watch in silent_watches(store, now):
        st.info(plain(f"{display.describe(watch)}: {wording.REVIEW.format(days=REVIEW_DAYS)}"))
    names = {d.dataset_id: d.name for d in store.datasets()}
    for stale in stale_kpis(store, now):
        name = names.get(stale.dataset_id, stale.dataset_id)
        st.info(plain(wording.stale_kpi(stale.kpi, name, stale.last_seen, REVIEW_DAYS)))


def _time_zone(store: Store) -> None:
    zones = sorted(available_timezones())
    current = time_zone(store)
    picked = st.selectbox(
        "Time zone of digests", zones, index=zones.index(current) if current in zones else None
    )
    if picked and picked != current:
        set_time_zone(writable_store(), picked)
        st.rerun()


def _monitor(store: Store, deliveries) -> None:
    """Whether watches here can send at all: a monitor has to run."""
    failing = sum(1 for d in deliveries if d.status == "failed")
    status = monitor_status(store, configured_every())
    tone, sentence = wording.monitor_status(status, datetime.now(UTC), failing)
    icon = ":material/warning:" if tone == "warning" else ":material/schedule:"
    (st.warning if tone == "warning" else st.info)(plain(sentence), icon=icon)


require_app_navigation()
store = current_store()
st.title("Alerts", anchor=False)
st.caption(wording.PAGE_INTRO)
deliveries = recent_deliveries(store)
_monitor(store, deliveries)
dataset = current_dataset(store)
if dataset is None:
    st.info(wording.NO_DATASET)
    st.stop()
if can("watch"):
    _kpi_form(store, dataset)
    _experiment_form(store, dataset)
if can("edit"):
    _time_zone(store)
_watches(store)
st.subheader("Recent alerts and deliveries", anchor=False)
if deliveries:
    draw((display.deliveries_table(deliveries),))
else:
    st.caption(wording.NO_DELIVERIES)
