"""Budget: where the next unit of money earns most, and why."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi_engine.budget.analysis import CAVEATS, BudgetSpec, curve_points
from kpi_engine.errors import KpiLabError
from kpi_engine.export import to_csv_bytes
from kpi_engine.formatting import format_value
from kpi_engine.store import Dataset
from ui.cache import budget_of
from ui.dataset_picker import current_dataset
from ui.navigation import require_app_navigation
from ui.resources import get_store
from ui.share_controls import share_controls
from ui.text import plain
from ui.theme import styled

SCENARIOS = {
    "budget": "Split a daily budget",
    "roas": "Largest budget at a target ROAS",
    "cpa": "Largest budget at a target CPA",
    "marginal": "Spend until the next unit returns X",
    "same": "Today's outcome at the lowest spend",
}


def _spec(dataset: Dataset) -> BudgetSpec:
    key = dataset.dataset_id
    c1, c2, c3 = st.columns(3)
    objective = c1.radio(
        "Optimise",
        ["revenue", "conversions"],
        horizontal=True,
        key=f"bobj_{key}",
        disabled="revenue" not in dataset.roles or "conversions" not in dataset.roles,
    )
    scenario = c2.selectbox(
        "Question", list(SCENARIOS), format_func=SCENARIOS.get, key=f"bsc_{key}"
    )
    kwargs: dict = {}
    if scenario == "budget":
        kwargs["daily_budget"] = c3.number_input(
            "Daily budget",
            min_value=0.01,
            value=None,
            step=100.0,
            key=f"bbud_{key}",
            placeholder="today's total",
            help="Empty: today's total, the same money split better.",
        )
    elif scenario == "roas":
        kwargs["target_roas"] = c3.number_input("Target ROAS", 0.01, 100.0, 2.0, key=f"broas_{key}")
    elif scenario == "cpa":
        kwargs["target_cpa"] = c3.number_input("Target CPA", 0.01, 1e6, 50.0, key=f"bcpa_{key}")
        objective = "conversions"
    elif scenario == "marginal":
        kwargs["target_marginal_roas"] = c3.number_input(
            "Marginal return wanted",
            0.01,
            100.0,
            1.0,
            key=f"bmar_{key}",
            help="1.0 spends while a unit of spend returns at least a unit of revenue; for"
            " profit, use 1 / margin (a 40% margin: 2.5).",
        )
    else:
        kwargs["same_outcome"] = True
    with st.expander("Bounds, locks and window"):
        b1, b2, b3 = st.columns(3)
        max_change = (
            b1.slider(
                "Largest change per campaign", 0, 200, 30, step=5, format="%d%%", key=f"bmax_{key}"
            )
            / 100
        )
        min_spend = b1.number_input(
            "Least daily spend per campaign", 0.0, 1e7, 0.0, key=f"bmin_{key}"
        )
        campaigns = get_store().distinct_values(dataset, dataset.roles["campaign"])
        locks = b2.multiselect("Locked campaigns", campaigns, key=f"block_{key}")
        window = b3.number_input("Window (days)", 7, 730, 90, key=f"bwin_{key}")
        lag = b3.number_input(
            "Days still inside the attribution window", 0, 60, 7, key=f"blag_{key}"
        )
    return BudgetSpec(
        objective=objective,
        max_change=max_change,
        min_spend=min_spend,
        locks=tuple(locks),
        window_days=int(window),
        lag_days=int(lag),
        **kwargs,
    )


def _table(result) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "campaign": c["campaign"],
                "current": c["current_spend"],
                "suggested": c["suggested_spend"],
                "change": c["change"],
                "change %": c["change_pct"],
                "ROAS": c["roas"],
                "CPA": c["cpa"],
                "marginal ROAS now": c["marginal_roas_current"],
                "marginal ROAS after": c["marginal_roas_suggested"],
                "tier": c["tier"],
                "flags": ", ".join(c["flags"]),
                "why": c["reason"],
            }
            for c in result.campaigns
        ]
    )


def _portfolio(result) -> None:
    p = result.portfolio
    unit = "currency" if result.objective == "revenue" else "count"
    cols = st.columns(4)
    cols[0].metric(
        "Spend a day",
        format_value(p["suggested_spend"], "currency"),
        delta=format_value(p["suggested_spend"] - p["current_spend"], "currency"),
    )
    cols[1].metric(
        f"{result.objective.capitalize()} a day",
        format_value(p["suggested_outcome"], unit),
        delta=format_value(p["uplift"], unit),
    )
    lo, hi = p["uplift_band"]
    cols[2].metric(
        "Uplift, p10 to p90",
        "n/a" if lo is None else f"{format_value(lo, unit)} to {format_value(hi, unit)}",
    )
    cols[3].metric(
        "Chance the uplift is positive",
        "n/a" if p["prob_positive"] is None else f"{p['prob_positive']:.0%}",
    )
    if p["unallocated"] > 0:
        st.warning(
            f"{format_value(p['unallocated'], 'currency')} a day cannot be placed: every"
            " campaign is at its maximum. Raise the bounds or lower the budget."
        )


def _moves(result) -> None:
    if not result.moves:
        st.caption("No money moves: the current split is already the best within the bounds.")
        return
    lines = []
    for m in result.moves[:12]:
        amount = format_value(m["amount"], "currency")
        if m["from"] and m["to"]:
            lines.append(f"- Move **{amount}** a day from {plain(m['from'])} to {plain(m['to'])}")
        elif m["to"]:
            lines.append(f"- Add **{amount}** a day to {plain(m['to'])}")
        else:
            lines.append(f"- Cut **{amount}** a day from {plain(m['from'])}")
    st.markdown("\n".join(lines))


def _charts(result) -> None:
    rows = pd.DataFrame(result.campaigns).sort_values("change")
    fig = go.Figure(go.Bar(x=rows["change"], y=rows["campaign"], orientation="h"))
    fig.update_layout(title="Suggested change in daily spend", height=140 + 28 * len(rows))
    st.plotly_chart(styled(fig, "currency").update_xaxes(tickformat=",.0f"), key="moves_chart")
    fig = go.Figure()
    for c in result.campaigns:
        if c["tier"] == "fixed" or not c["current_spend"]:
            continue
        spend, value = curve_points(c)
        fig.add_trace(go.Scatter(x=spend, y=value, mode="lines", name=c["campaign"]))
        fig.add_trace(
            go.Scatter(
                x=[c["current_spend"], c["suggested_spend"]],
                y=[c["outcome_current"], c["outcome_suggested"]],
                mode="markers",
                marker={"symbol": ["circle-open", "circle"], "size": 10},
                showlegend=False,
                name=c["campaign"],
            )
        )
    fig.update_layout(title="Response curves: today (open) and suggested (filled)")
    st.plotly_chart(styled(fig, "currency"), key="curves_chart")


def _ranking(result) -> None:
    table = pd.DataFrame(result.campaigns)[["campaign", "roas", "cpa", "current_spend"]]
    table = table.sort_values("roas", ascending=False, na_position="last")
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "roas": st.column_config.NumberColumn("ROAS", format="%.2f"),
            "cpa": st.column_config.NumberColumn("CPA", format="%.2f"),
            "current_spend": st.column_config.NumberColumn("spend a day", format="%.2f"),
        },
    )


require_app_navigation()
store = get_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("Budget", anchor=False)
dataset = current_dataset(store)
if dataset is None:
    st.info("No dataset yet. Upload a campaign report with daily spend and revenue or conversions.")
    st.stop()
needed = [r for r in ("date", "campaign", "spend") if r not in dataset.roles]
if needed or not ({"revenue", "conversions"} & set(dataset.roles)):
    st.info(
        "Budget suggestions need daily rows per campaign with spend and revenue or"
        f" conversions; this dataset lacks {', '.join(needed) or 'revenue and conversions'}."
    )
    st.stop()
spec = _spec(dataset)
try:
    result = budget_of(store, dataset, spec)
except KpiLabError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
st.caption(
    f"Window {result.window['start']} to {result.window['end']} · {result.scenario} · daily amounts"
)
_portfolio(result)
st.subheader("Per campaign", anchor=False)
st.dataframe(
    _table(result),
    hide_index=True,
    column_config={
        "change %": st.column_config.NumberColumn(format="percent"),
        **{
            c: st.column_config.NumberColumn(format="%.2f")
            for c in (
                "current",
                "suggested",
                "change",
                "ROAS",
                "CPA",
                "marginal ROAS now",
                "marginal ROAS after",
            )
        },
    },
)
st.download_button(
    "Download the plan (CSV)",
    to_csv_bytes(_table(result)),
    file_name=f"{dataset.name} budget plan.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
left, right = st.columns(2)
with left:
    st.subheader("The moves", anchor=False)
    _moves(result)
with right:
    st.subheader("Ranked by ROAS", anchor=False)
    _ranking(result)
_charts(result)
view = {
    "page": "budget",
    "dataset_id": dataset.dataset_id,
    "objective": spec.objective,
    "daily_budget": spec.daily_budget,
    "target_roas": spec.target_roas,
    "target_cpa": spec.target_cpa,
    "target_marginal_roas": spec.target_marginal_roas,
    "same_outcome": spec.same_outcome,
    "max_change": spec.max_change,
    "min_spend": spec.min_spend,
    "locks": list(spec.locks),
    "window_days": spec.window_days,
    "lag_days": spec.lag_days,
}
with share_col:
    share_controls(store, view, default_title=f"{dataset.name}: budget")
with st.expander("Read before acting", expanded=True):
    st.markdown("\n".join(f"- {c}" for c in CAVEATS))
