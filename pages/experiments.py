"""Experiments: compare variants of an A/B/n test and read the result in plain words."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import (
    ALLOWED,
    DEFAULT_TUNING,
    ExperimentSpec,
    data_kind,
    forest_rows,
    testable_kpis,
)
from kpi_engine.kpis.catalog import CATALOG
from kpi_engine.stats.power import days_needed, reachable_mde
from kpi_engine.stats.power import plan as power_plan
from kpi_engine.store import Dataset, Store
from ui.cache import experiment_of, lifts_of
from ui.dataset_picker import current_dataset
from ui.navigation import require_app_navigation
from ui.resources import get_store
from ui.share_controls import share_controls
from ui.text import plain
from ui.theme import styled

KIND_TEXT = {
    "users": "one row per user: conversion rates, revenue per user and ratios over users, with"
    " an SRM check on users",
    "totals": "totals per variant: conversion rates; other KPIs get an estimate without a"
    " p-value (no per-user values, no variance)",
    "campaign": "rows per day and variant: ratio KPIs (CTR, CVR, CPA, ROAS...) with days as"
    " units; no SRM check, because clicks and impressions are not users",
}
PREFERRED_KPIS = ("conversion_rate", "revenue_per_user", "cvr", "cpa", "roas", "ctr", "aov")
CORRECTION_LABELS = {
    "holm": "Holm (any false win)",
    "bh": "Benjamini-Hochberg (share of false wins)",
    "none": "none",
}


def _settings(store: Store, dataset: Dataset) -> ExperimentSpec | None:
    key = dataset.dataset_id
    dims = dataset.dimensions
    if not dims:
        st.info("This dataset has no text column that could name the variants.")
        return None
    if "variant" not in dataset.roles:
        st.info(
            "This dataset has no column detected as the variant (A/B). Pick the column that"
            " names the variants, or choose a test dataset in the sidebar (the samples include"
            " a campaign A/B test and a user-level experiment).",
            icon=":material/info:",
        )
    default = dims.index(dataset.roles["variant"]) if "variant" in dataset.roles else 0
    cols = st.columns(3)
    variant_col = cols[0].selectbox("Variant column", dims, index=default, key=f"xvar_{key}")
    values = store.distinct_values(dataset, variant_col, limit=50)
    if len(values) < 2:
        st.warning(
            f"Column {plain(variant_col)} has fewer than two values: it cannot split a test."
        )
        return None
    control = cols[1].selectbox("Control", values, key=f"xctl_{key}")
    probe = ExperimentSpec(variant_col, control, ())
    kind = data_kind(dataset, probe)
    allowed = testable_kpis(dataset, kind)
    if not allowed:
        st.warning(f"No KPI of the catalog can be tested on this data: it needs {ALLOWED[kind]}.")
        return None
    kpis = cols[2].multiselect(
        "KPIs",
        allowed,
        default=([k for k in PREFERRED_KPIS if k in allowed] or allowed)[:3],
        format_func=lambda k: CATALOG[k].name,
        key=f"xkpi_{key}",
    )
    st.caption(f"Data: {KIND_TEXT[kind]}.")
    with st.expander("Settings: corrections, sequential testing, split, guardrails"):
        c1, c2, c3 = st.columns(3)
        correction = c1.radio(
            "Multiple-testing correction",
            list(CORRECTION_LABELS),
            format_func=CORRECTION_LABELS.get,
            key=f"xcor_{key}",
        )
        family = c1.radio(
            "Adjust over", ["both", "variants", "kpis"], horizontal=True, key=f"xfam_{key}"
        )
        sequential = c2.toggle(
            "Peeking-safe (sequential)",
            key=f"xseq_{key}",
            help="Valid however often you look; intervals about 1.5x wider.",
        )
        tuning = c2.number_input(
            "Expected users or days at the decision",
            min_value=10.0,
            value=float(DEFAULT_TUNING),
            step=1000.0,
            key=f"xtun_{key}",
            disabled=not sequential,
        )
        split_text = c3.text_input(
            "Intended split, control first",
            value="",
            placeholder="equal, or e.g. 50,25,25",
            key=f"xspl_{key}",
        )
        guard = c3.multiselect(
            "Guardrail KPIs", allowed, format_func=lambda k: CATALOG[k].name, key=f"xgrd_{key}"
        )
        max_loss = c3.number_input(
            "Largest acceptable loss (%)", 0.0, 100.0, 5.0, key=f"xgrl_{key}"
        )
    try:
        split = tuple(float(x) for x in split_text.split(",")) if split_text.strip() else None
    except ValueError:
        st.error("The split needs numbers separated by commas, e.g. 50,50.")
        return None
    return ExperimentSpec(
        variant_col,
        control,
        tuple(dict.fromkeys([*kpis, *guard])),
        correction=correction,
        family=family,
        sequential=sequential,
        tuning=tuning,
        split=split,
        guardrails=tuple((k, max_loss / 100) for k in guard),
    )


def _summary(result) -> None:
    srm = result.srm
    if srm.get("flag"):
        st.error(
            f"Sample ratio mismatch (p = {srm['p_value']:.2g}): the users are not split as"
            " intended. Fix the assignment before trusting any result.",
            icon=":material/report:",
        )
    elif srm.get("checked"):
        st.success(
            f"Split check passed: users per variant match the intended split"
            f" (SRM p = {srm['p_value']:.2f}).",
            icon=":material/balance:",
        )
    else:
        st.caption(f"No split check: {srm['reason']}.")
    for w in result.warnings:
        if w["code"] not in ("srm",):
            st.warning(plain(w["message"]), icon=":material/warning:")
    for r in result.results:
        icon = (
            "✅"
            if r.get("significant") and (r["rel_lift"] > 0) == (r["direction"] != "lower")
            else ("⚠️" if r.get("significant") else "•")
        )
        st.markdown(f"{icon} {plain(r['verdict'])}")
    for g in result.guardrails:
        status = "passes" if g["status"] == "pass" else "FAILS"
        st.markdown(
            f"Guardrail **{CATALOG[g['kpi']].name}** · {plain(g['variant'])}: {status}"
            f" (worst plausible change {g['worst_case']:+.1%}, limit −{g['max_loss']:.0%})"
        )


def _table(result) -> pd.DataFrame:
    rows = []
    for r in result.results:
        rows.append(
            {
                "KPI": CATALOG[r["kpi"]].name,
                "variant": r["variant"],
                "control": r["control_value"],
                "variant value": r["variant_value"],
                "abs lift": r["abs_lift"],
                "rel lift": r["rel_lift"],
                "rel CI low": r["ci_rel"][0],
                "rel CI high": r["ci_rel"][1],
                "p": r["p_value"],
                "p adjusted": r.get("p_value_adjusted"),
                "chance to beat": r["chance_to_beat"],
                "expected loss": r["expected_loss"],
                "method": r["method"],
            }
        )
    return pd.DataFrame(rows)


def _forest(result) -> None:
    rows = forest_rows(result)
    if rows.empty:
        return
    fig = go.Figure(
        go.Scatter(
            x=rows["rel_lift"],
            y=rows["label"],
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": rows["ci_high"] - rows["rel_lift"],
                "arrayminus": rows["rel_lift"] - rows["ci_low"],
            },
            marker={"size": 10},
        )
    )
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(
        title="Relative lift with its confidence interval", height=120 + 50 * len(rows)
    )
    st.plotly_chart(styled(fig, "ratio").update_xaxes(tickformat=".0%"), key="forest")


def _over_time(store: Store, dataset: Dataset, result, spec: ExperimentSpec) -> None:
    lifts = lifts_of(store, dataset, spec)
    if lifts.empty:
        return
    kpi_id = st.selectbox(
        "KPI over time",
        list(dict.fromkeys(lifts["kpi"])),
        format_func=lambda k: CATALOG[k].name,
        key="xtime_kpi",
    )
    part = lifts[lifts["kpi"] == kpi_id]
    fig = go.Figure()
    for variant, line in part.groupby("variant"):
        fig.add_trace(
            go.Scatter(
                x=line["day"],
                y=line["ci_high"],
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=line["day"],
                y=line["ci_low"],
                fill="tonexty",
                line={"width": 0},
                name=f"{variant}: CI",
                opacity=0.3,
            )
        )
        fig.add_trace(go.Scatter(x=line["day"], y=line["rel_lift"], name=f"{variant}: lift"))
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(title="Cumulative relative lift: the interval narrows as data comes in")
    st.plotly_chart(styled(fig, "percent"), key="cumulative")
    daily = result.daily
    daily = daily[daily["kpi"] == kpi_id]
    fig = go.Figure(
        [go.Scatter(x=d["day"], y=d["value"], name=v) for v, d in daily.groupby("variant")]
    )
    fig.update_layout(title=f"{CATALOG[kpi_id].name} by day and variant")
    st.plotly_chart(styled(fig, CATALOG[kpi_id].unit), key="daily")


def _power_planner(result) -> None:
    st.subheader("Power planner", anchor=False)
    known = result.power if result is not None else {}
    cols = st.columns(4)
    baseline = cols[0].number_input(
        "Baseline conversion rate (%)",
        0.01,
        99.0,
        round(100 * known.get("baseline", 0.05), 2),
        key="pw_base",
    )
    mde = cols[1].number_input("Smallest lift worth detecting (%)", 0.1, 500.0, 10.0, key="pw_mde")
    alpha = cols[2].number_input("Alpha", 0.001, 0.5, 0.05, format="%.3f", key="pw_alpha")
    power = cols[3].number_input("Power", 0.5, 0.99, 0.8, key="pw_power")
    try:
        planned = power_plan(baseline / 100, mde / 100, alpha, power)
    except KpiLabError as exc:
        st.error(str(exc))
        return
    text = f"**{planned.n_per_arm:,}** users per variant ({planned.n_total:,} for two variants)"
    if known.get("n_per_arm"):
        reach = reachable_mde(baseline / 100, known["n_per_arm"], alpha, power)
        text += (
            f". With the {known['n_per_arm']:,.0f} users per variant in hand, the smallest"
            f" detectable lift is {reach:.1%}"
        )
        per_day = known.get("users_per_day_per_arm")
        if per_day:
            more = days_needed(planned.n_per_arm, known["n_per_arm"], per_day)
            text += f"; reaching {planned.n_per_arm:,} takes about {more:.0f} more days"
    st.markdown(text + ".")


require_app_navigation()
store = get_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("Experiments", anchor=False)
dataset = current_dataset(store)
if dataset is None:
    st.info("No dataset yet. Upload an experiment file on the Data page.")
    st.stop()
spec = _settings(store, dataset)
result = None
if spec is not None and spec.kpis:
    try:
        result = experiment_of(store, dataset, spec)
    except KpiLabError as exc:
        st.error(str(exc))
    if result is not None:
        view = {
            "page": "experiments",
            "dataset_id": dataset.dataset_id,
            "variant_col": spec.variant_col,
            "control": spec.control,
            "kpis": list(spec.kpis),
            "correction": spec.correction,
            "family": spec.family,
            "sequential": spec.sequential,
        }
        with share_col:
            share_controls(store, view, default_title=f"{dataset.name}: experiment")
        _summary(result)
        _forest(result)
        _over_time(store, dataset, result, spec)
        with st.expander("Every number behind the sentences"):
            st.dataframe(_table(result), hide_index=True)
            st.code(json.dumps(result.to_dict(), indent=1, default=str), language="json")
_power_planner(result)
