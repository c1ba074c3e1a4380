"""Experiments: compare variants of an A/B/n test and read the result in plain words."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from kpi_engine.aggregate_sql import numeric_columns
from kpi_engine.datasets import Dataset
from kpi_engine.display.blocks import Strong, text
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import wording
from kpi_engine.experiments.planner import power_plan
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.experiments.shapes import ALLOWED, data_kind, per_user_kpis, testable_kpis
from kpi_engine.experiments.spec import (
    CUPED_ROWS,
    DEFAULT_ALPHA,
    DEFAULT_MDE,
    DEFAULT_PRE_DAYS,
    DEFAULT_TUNING,
    ExperimentSpec,
)
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.query import lookup
from kpi_engine.samples import SAMPLE_AB
from kpi_engine.stats.power import POWER
from kpi_engine.stats.sufficient import PROPORTION, RATIO
from kpi_engine.store import Store
from ui.blocks import draw
from ui.cache import blocks_of, date_range, distinct_values, result_of
from ui.currency_picker import currency_choice
from ui.dataset_picker import current_dataset, select_after_rerun
from ui.identity import current_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.open_view import left_out_notice
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
    "caps": "Cap",
    "covariates": "CUPED",
    "cuped": "CUPED",
    "pre_days": "Days before exposure",
    "segment_col": "Segment by",
    "non_inferiority": "Non-inferiority margin (%)",
    "mde": "Smallest lift worth detecting (%)",
}
CAP_PRESETS = ["none", "p99", "p99.9", "p95", "p1:p99"]
CUPED_OFF = "off"
CUPED_CHOICES = {CUPED_OFF: "off", CUPED_ROWS: "each user's rows before exposure"}


def _settings(store: Store, dataset: Dataset) -> ExperimentSpec | None:
    key = dataset.dataset_id
    dims = dataset.dimensions
    if not dims:
        st.info(wording.NO_TEXT_COLUMN)
        return None
    detected = dataset.roles.get("variant")
    cols = st.columns(3)
    variant_col = cols[0].selectbox(
        "Variant column",
        dims,
        index=dims.index(detected) if detected in dims else None,
        placeholder="Choose the column that names the variants",
        key=widget_key("xvar", key),
    )
    if variant_col is None:  # never guessed from ordinary dimensions such as channel
        _no_variant_column(store)
        return None
    values = distinct_values(store, dataset, variant_col, limit=50)
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
    methods = _methods(dataset, kind, [lookup(k, custom) for k in kpis], variant_col)
    currency, convert = currency_choice(store, dataset, "xcur", "Currency")
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
            mde=settings["mde"],
            currency=currency,
            convert=convert,
            **methods,
        )
    except KpiLabError as exc:
        show_error(exc, LABELS)
        return None


def _no_variant_column(store: Store) -> None:
    """What an experiment dataset looks like, and the sample A/B test one click away."""
    st.info(wording.NO_VARIANT_COLUMN, icon=":material/info:")
    sample = next((d for d in store.datasets() if d.name == SAMPLE_AB), None)
    if sample is not None and st.button(f"Open {SAMPLE_AB}", icon=":material/science:"):
        select_after_rerun(sample.dataset_id)
        st.rerun()


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
    mde = c1.number_input(
        LABELS["mde"],
        0.1,
        500.0,
        DEFAULT_MDE * 100,
        key=widget_key("xmde", key),
        help="The verdicts and the power planner say how long a test needs to detect this.",
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
        "mde": mde / 100,
    }


def _methods(dataset: Dataset, kind: str, kpis: list, variant_col: str) -> dict:
    """Exposures, capping, CUPED, segments (user-level data) and non-inferiority."""
    key = dataset.dataset_id
    box = st.expander("Methods: exposures, capping, CUPED, segments, non-inferiority")
    shapes = per_user_kpis(dataset, kind, kpis)
    out: dict = {}
    if shapes:
        c1, c2, c3 = box.columns(3)
        out["keep_multiple_exposures"] = not c1.toggle(
            "Leave out users seen in several variants",
            value=True,
            key=widget_key("xmex", key),
            help="Their outcome cannot be credited to one variant (GrowthBook's default).",
        )
        caps = []
        for kpi in kpis:
            if shapes[kpi.id] == PROPORTION:
                continue
            cap = c1.selectbox(
                f"{LABELS['caps']} {kpi.name}",
                CAP_PRESETS,
                key=widget_key(f"xcap:{kpi.id}", key),
                accept_new_options=True,
                help="Caps each user's value: p99 at the 99th percentile of all users,"
                " p1:p99 at both ends, :500 or 0:500 at numbers. Type your own.",
            )
            if cap and cap != "none":
                caps.append((kpi.id, cap))
        out["caps"] = tuple(caps)
        out.update(_cuped(c2, dataset, kpis, shapes, key))
        segments = [None, *(d for d in dataset.dimensions if d != variant_col)]
        out["segment_col"] = c3.selectbox(
            LABELS["segment_col"],
            segments,
            format_func=lambda c: "no segments" if c is None else c,
            key=widget_key("xseg", key),
        )
    else:
        c3 = box
    chosen = c3.multiselect(
        "Show not worse than control (non-inferiority)",
        [k.id for k in kpis],
        format_func=lambda k: next(x.name for x in kpis if x.id == k),
        key=widget_key("xnik", key),
    )
    margin = c3.number_input(LABELS["non_inferiority"], 0.1, 50.0, 2.0, key=widget_key("xnim", key))
    out["non_inferiority"] = tuple((k, margin / 100) for k in chosen)
    return out


def _cuped(column, dataset: Dataset, kpis: list, shapes: dict, key: str) -> dict:
    """CUPED: off, each user's own rows before exposure, or a column of pre-test values."""
    options = [CUPED_OFF, *([CUPED_ROWS] if dataset.date_column else []), *numeric_columns(dataset)]
    mode = column.selectbox(
        LABELS["cuped"],
        options,
        key=widget_key("xcup", key),
        format_func=lambda o: CUPED_CHOICES.get(o, f"column {o}"),
        help="Variance reduction with each user's value before the test (ratio KPIs stay"
        " unadjusted).",
    )
    pre_days = column.number_input(
        LABELS["pre_days"],
        1,
        365,
        DEFAULT_PRE_DAYS,
        key=widget_key("xpre", key),
        disabled=mode != CUPED_ROWS,
    )
    if mode == CUPED_ROWS:
        return {"cuped": True, "pre_days": int(pre_days)}
    if mode == CUPED_OFF:
        return {}
    return {"covariates": tuple((k.id, mode) for k in kpis if shapes[k.id] != RATIO)}


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
    bounds = date_range(store, dataset)
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


def _power_planner(result: ExperimentResult | None, spec: ExperimentSpec | None) -> None:
    """Users needed for the smallest lift worth detecting. With the settings' MDE and alpha
    and the test's own baseline it gives the verdicts' "more days", by the same rule."""
    st.subheader("Power planner", anchor=False)
    known = result.power if result is not None else None
    mde = spec.mde if spec is not None else DEFAULT_MDE
    cols = st.columns(3)
    shown = round(100 * (known.baseline if known else 0.05), 2)
    baseline = cols[0].number_input(
        "Baseline conversion rate (%)", 0.01, 99.0, shown, key="pw_base"
    )
    alpha = spec.alpha if spec is not None else DEFAULT_ALPHA
    alpha = cols[1].number_input("Alpha", 0.001, 0.5, alpha, format="%.3f", key="pw_alpha")
    power = cols[2].number_input("Power", 0.5, 0.99, POWER, key="pw_power")
    rate = known.baseline if known and baseline == shown else baseline / 100
    try:
        planned = power_plan(known, rate, mde, alpha, power)
    except KpiLabError as exc:
        show_error(exc)
        return
    before, number, after = wording.planner(mde, planned)
    draw((text(before, Strong(number), after),))


require_app_navigation()
store = current_store()
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
    area, slots = st.container(), {}
    if data_kind(dataset) == "users":  # its lift by week is a query of its own: on demand
        slots["weeks"] = st.expander(
            wording.WEEKS_TITLE,
            icon=":material/date_range:",
            key=widget_key("xweeks", dataset.dataset_id),
            on_change="rerun",
        )
    spec = replace(spec, weeks=bool(slots) and slots["weeks"].open)
    try:
        result = result_of(store, dataset, spec)
    except KpiLabError as exc:
        with area:
            show_error(exc, LABELS)
    if result is not None:
        with share_col:
            share_controls(store, spec, result, default_title=f"{dataset.name}: experiment")
        with area:
            draw(blocks_of(store, dataset, spec, result), slots)
if data_kind(dataset) == "campaign":
    st.caption(wording.NO_PLANNER)
else:
    _power_planner(result, spec)
