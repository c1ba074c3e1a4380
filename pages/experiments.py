"""Experiments: compare variants of an A/B/n test and read the result in plain words."""

from __future__ import annotations

import streamlit as st

from kpi_engine.display.blocks import Strong, text
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import display, wording
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.experiments.shapes import ALLOWED, data_kind, testable_kpis
from kpi_engine.experiments.spec import DEFAULT_ALPHA, DEFAULT_TUNING, ExperimentSpec
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.query import lookup
from kpi_engine.stats.power import days_needed, reachable_mde
from kpi_engine.stats.power import plan as power_plan
from kpi_engine.store import Dataset, Store
from ui.blocks import draw
from ui.cache import result_of
from ui.dataset_picker import current_dataset
from ui.navigation import require_app_navigation
from ui.open_view import left_out_notice
from ui.resources import get_store
from ui.share_controls import share_controls
from ui.text import plain
from ui.widget_keys import widget_key

PREFERRED_KPIS = ("conversion_rate", "revenue_per_user", "cvr", "cpa", "roas", "ctr", "aov")
CORRECTION_LABELS = {
    "holm": "Holm (any false win)",
    "bh": "Benjamini-Hochberg (share of false wins)",
    "none": "none",
}
LABELS = {  # an error about a field names the widget that sets it
    "variant_col": "Variant column",
    "control": "Control",
    "kpis": "KPI",
    "unit_col": "Unit of analysis",
    "split": "Intended split",
    "alpha": "Significance level (alpha)",
    "tuning": "Expected users or days at the decision",
    "guardrails": "Guardrail",
    "start": "Test dates",
}


def _settings(store: Store, dataset: Dataset) -> ExperimentSpec | None:
    key = dataset.dataset_id
    dims = dataset.dimensions
    if not dims:
        st.info(wording.NO_TEXT_COLUMN)
        return None
    if "variant" not in dataset.roles and widget_key("xvar", key) not in st.session_state:
        st.info(wording.NO_VARIANT_COLUMN, icon=":material/info:")  # until a column is picked
    default = dims.index(dataset.roles["variant"]) if "variant" in dataset.roles else 0
    cols = st.columns(3)
    variant_col = cols[0].selectbox(
        "Variant column", dims, index=default, key=widget_key("xvar", key)
    )
    values = store.distinct_values(dataset, variant_col, limit=50)
    if len(values) < 2:
        st.warning(wording.one_value(plain(variant_col)))
        return None
    control = cols[1].selectbox("Control", values, key=widget_key("xctl", key))
    custom = saved_custom(store)
    kind = data_kind(dataset)
    allowed = testable_kpis(dataset, kind, custom)
    if not allowed:
        st.warning(wording.nothing_testable(ALLOWED[kind]))
        return None

    def name(kpi_id: str) -> str:
        return lookup(kpi_id, custom).name

    kpis = cols[2].multiselect(
        "KPIs",
        allowed,
        default=([k for k in PREFERRED_KPIS if k in allowed] or allowed)[:3],
        format_func=name,
        key=widget_key("xkpi", key),
    )
    settings = _advanced(store, dataset, kind, allowed, variant_col, name)
    if not kpis:
        st.info(wording.PICK_KPIS)
        return None
    split_text, guard = settings["split_text"], settings["guard"]
    try:
        split = tuple(float(x) for x in split_text.split(",")) if split_text.strip() else None
    except ValueError:
        st.error(wording.BAD_SPLIT)
        return None
    named = {*kpis, *guard}
    try:
        return ExperimentSpec(
            dataset_id=dataset.dataset_id,
            variant_col=variant_col,
            control=control,
            kpis=tuple(kpis),
            custom=tuple(k for k in custom if k.id in named),
            unit_col=settings["unit_col"],
            correction=settings["correction"],
            family=settings["family"],
            sequential=settings["sequential"],
            tuning=settings["tuning"],
            split=split,
            alpha=settings["alpha"],
            guardrails=tuple((k, settings["max_loss"] / 100) for k in guard),
            start=settings["dates"][0],
            end=settings["dates"][1],
        )
    except KpiLabError as exc:
        st.error(exc.describe(LABELS), icon=":material/error:")
        return None


def _advanced(
    store: Store, dataset: Dataset, kind: str, allowed: list[str], variant_col: str, name
) -> dict:
    """Significance, corrections, sequential testing, units, dates, split and guardrails."""
    key = dataset.dataset_id
    box = st.expander("Settings: significance, corrections, sequential testing, split, guardrails")
    c1, c2, c3 = box.columns(3)
    alpha = c1.number_input(
        LABELS["alpha"],
        0.001,
        0.5,
        DEFAULT_ALPHA,
        step=0.01,
        format="%.3f",
        key=widget_key("xalp", key),
        help="Every test on this page: 0.05 means 95% confidence.",
    )
    correction = c1.radio(
        "Multiple-testing correction",
        list(CORRECTION_LABELS),
        format_func=CORRECTION_LABELS.get,
        key=widget_key("xcor", key),
    )
    family = c1.radio(
        "Adjust over", ["both", "variants", "kpis"], horizontal=True, key=widget_key("xfam", key)
    )
    sequential = c2.toggle(
        "Peeking-safe (sequential)",
        key=widget_key("xseq", key),
        help="Valid however often you look; intervals about 1.5x wider.",
    )
    tuning = c2.number_input(
        LABELS["tuning"],
        min_value=10.0,
        value=DEFAULT_TUNING,
        step=1000.0,
        key=widget_key("xtun", key),
        disabled=not sequential,
    )
    unit_col = _unit_choice(c2, dataset, kind, variant_col, key)
    dates = _dates(c2, store, dataset, key)
    split_text = c3.text_input(
        LABELS["split"] + ", control first",
        value="",
        placeholder="equal, or e.g. 50,25,25",
        key=widget_key("xspl", key),
    )
    guard = c3.multiselect("Guardrail KPIs", allowed, format_func=name, key=widget_key("xgrd", key))
    max_loss = c3.number_input(
        "Largest acceptable loss (%)", 0.0, 100.0, 5.0, key=widget_key("xgrl", key)
    )
    return {
        "alpha": alpha,
        "correction": correction,
        "family": family,
        "sequential": sequential,
        "tuning": tuning,
        "unit_col": unit_col,
        "dates": dates,
        "split_text": split_text,
        "guard": guard,
        "max_loss": max_loss,
    }


def _unit_choice(column, dataset: Dataset, kind: str, variant_col: str, key: str) -> str | None:
    """Campaign rows: days are the units, or days x a column (e.g. campaign)."""
    if kind != "campaign":
        return None
    options = [None, *(d for d in dataset.dimensions if d != variant_col)]
    return column.selectbox(
        LABELS["unit_col"],
        options,
        format_func=lambda c: "days" if c is None else f"days x {c}",
        key=widget_key("xunit", key),
    )


def _dates(column, store: Store, dataset: Dataset, key: str) -> tuple:
    """The test's dates: all of them unless narrowed."""
    bounds = store.date_range(dataset)
    if not bounds:
        return None, None
    picked = column.date_input(
        LABELS["start"],
        value=bounds,
        min_value=bounds[0],
        max_value=bounds[1],
        key=widget_key("xdt", key),
    )
    if isinstance(picked, (tuple, list)) and len(picked) == 2 and tuple(picked) != bounds:
        return picked[0], picked[1]
    return None, None


def _power_planner(result: ExperimentResult | None, alpha: float) -> None:
    st.subheader("Power planner", anchor=False)
    known = result.power if result is not None else None
    cols = st.columns(4)
    baseline = cols[0].number_input(
        "Baseline conversion rate (%)",
        0.01,
        99.0,
        round(100 * (known.baseline if known else 0.05), 2),
        key="pw_base",
    )
    mde = cols[1].number_input("Smallest lift worth detecting (%)", 0.1, 500.0, 10.0, key="pw_mde")
    alpha = cols[2].number_input("Alpha", 0.001, 0.5, alpha, format="%.3f", key="pw_alpha")
    power = cols[3].number_input("Power", 0.5, 0.99, 0.8, key="pw_power")
    try:
        planned = power_plan(baseline / 100, mde / 100, alpha, power)
    except KpiLabError as exc:
        st.error(str(exc))
        return
    reach = more = None
    if known:
        reach = reachable_mde(baseline / 100, known.n_per_arm, alpha, power)
        if known.users_per_day_per_arm:
            more = days_needed(planned.n_per_arm, known.n_per_arm, known.users_per_day_per_arm)
    before, number, after = wording.planner(
        planned.n_per_arm, planned.n_total, known.n_per_arm if known else None, reach, more
    )
    draw((text(before, Strong(number), after),))


require_app_navigation()
store = get_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("Experiments", anchor=False)
left_out_notice()
dataset = current_dataset(store)
if dataset is None:
    st.info(wording.NO_DATASET)
    st.stop()
spec = _settings(store, dataset)
result = None
if spec is not None:
    try:
        result = result_of(store, dataset, spec)
    except KpiLabError as exc:
        st.error(exc.describe(LABELS), icon=":material/error:")
    if result is not None:
        with share_col:
            share_controls(store, spec, result, default_title=f"{dataset.name}: experiment")
        draw(display.blocks(result))
if data_kind(dataset) == "campaign":
    st.caption(wording.NO_PLANNER)
else:
    _power_planner(result, spec.alpha if spec else DEFAULT_ALPHA)
