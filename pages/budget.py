"""Budget: where the next unit of money earns most, and why."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from kpi_engine.budget import wording
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.store import Store
from ui.blocks import draw
from ui.cache import blocks_of, distinct_values, result_of
from ui.currency_picker import currency_choice
from ui.dataset_picker import current_dataset
from ui.identity import current_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.open_view import left_out_notice
from ui.share_controls import share_controls
from ui.widget_keys import widget_key

SCENARIOS = {
    "budget": "Split a daily budget",
    "roas": "Largest budget at a target ROAS",
    "cpa": "Largest budget at a target CPA",
    "marginal": "Spend until the next unit returns X",
    "same": "Today's outcome at the lowest spend",
    "period": "Plan the coming weeks with a total",
    "goal": "Reach a goal by a date",
}
LABELS = {  # an error about a field names the widget that sets it
    "daily_budget": "Daily budget",
    "target_roas": "Target ROAS",
    "target_cpa": "Target CPA",
    "target_marginal_roas": "Marginal return wanted",
    "objective": "Optimise",
    "max_change": "Largest change per campaign",
    "min_spend": "Least daily spend per campaign",
    "locks": "Locked campaigns",
    "window_days": "Window (days)",
    "lag_days": "Days still inside the attribution window",
    "currency": "Currency",
    "plan_days": "Days to plan",
    "until": "Reach it by",
    "total": "Total for the period",
    "goal_target": "Goal",
    "lifts": "Lift tests",
}


def _spec(store: Store, dataset: Dataset) -> BudgetSpec:
    key = dataset.dataset_id
    c1, c2, c3 = st.columns(3)
    offered = [o for o in ("revenue", "conversions") if o in dataset.roles]
    objective = c1.radio(LABELS["objective"], offered, horizontal=True, key=widget_key("bobj", key))
    questions = [q for q in SCENARIOS if q != "roas" or "revenue" in dataset.roles]
    scenario = c2.selectbox(
        "Question", questions, format_func=SCENARIOS.get, key=widget_key("bsc", key)
    )
    if scenario in ("period", "goal"):
        kwargs = _ahead(c3, scenario, offered, key)
    else:
        kwargs = _question(c3, scenario, key)
    objective = kwargs.pop("objective", objective)
    with st.expander("Bounds, locks and window"):
        b1, b2, b3 = st.columns(3)
        max_change = (
            b1.slider(
                LABELS["max_change"], 0, 200, 30, step=5, format="%d%%", key=widget_key("bmax", key)
            )
            / 100
        )
        min_spend = b1.number_input(LABELS["min_spend"], 0.0, 1e7, 0.0, key=widget_key("bmin", key))
        campaigns = distinct_values(store, dataset, dataset.roles["campaign"])
        locks = b2.multiselect(LABELS["locks"], campaigns, key=widget_key("block", key))
        currency, convert = currency_choice(store, dataset, "bcur", LABELS["currency"], b2)
        window = b3.number_input(LABELS["window_days"], 7, 730, 90, key=widget_key("bwin", key))
        lag = b3.number_input(LABELS["lag_days"], 0, 60, 7, key=widget_key("blag", key))
    with st.expander("Lift tests"):
        kwargs["lifts"] = _lift_tests(campaigns, key)
    return BudgetSpec(
        dataset_id=dataset.dataset_id,
        objective=objective,
        max_change=max_change,
        min_spend=min_spend,
        locks=tuple(locks),
        window_days=int(window),
        lag_days=int(lag),
        currency=currency,
        convert=convert,
        **kwargs,
    )


def _question(column, scenario: str, key: str) -> dict:
    """The settings of a question about one day's budget."""
    if scenario == "budget":
        daily = column.number_input(
            LABELS["daily_budget"],
            min_value=0.01,
            value=None,
            step=100.0,
            key=widget_key("bbud", key),
            placeholder="today's total",
            help="Empty: today's total, the same money split better.",
        )
        return {"daily_budget": daily}
    if scenario == "roas":
        roas = column.number_input(
            LABELS["target_roas"], 0.01, 100.0, 2.0, key=widget_key("broas", key)
        )
        return {"target_roas": roas}
    if scenario == "cpa":
        cpa = column.number_input(
            LABELS["target_cpa"], 0.01, 1e6, 50.0, key=widget_key("bcpa", key)
        )
        return {"target_cpa": cpa, "objective": "conversions"}
    if scenario == "marginal":
        level = column.number_input(
            LABELS["target_marginal_roas"],
            0.01,
            100.0,
            1.0,
            key=widget_key("bmar", key),
            help="1.0 spends while a unit of spend returns at least a unit of revenue; for"
            " profit, use 1 / margin (a 40% margin: 2.5).",
        )
        return {"target_marginal_roas": level}
    return {"same_outcome": True}


def _ahead(column, scenario: str, offered: list[str], key: str) -> dict:
    """The settings of a plan for the days ahead: a total for them, or a goal by a date."""
    if scenario == "period":
        days = column.number_input(LABELS["plan_days"], 1, 366, 28, key=widget_key("bdays", key))
        total = column.number_input(
            LABELS["total"],
            min_value=0.01,
            value=None,
            step=1000.0,
            key=widget_key("btot", key),
            placeholder="today's daily total x days",
        )
        return {"plan_days": int(days)} | ({"total": total} if total is not None else {})
    objective = column.radio("Goal in", offered, horizontal=True, key=widget_key("bgk", key))
    goal = column.number_input(
        LABELS["goal_target"], 0.01, 1e12, 1000.0, key=widget_key("bgoal", key)
    )
    until = column.date_input(
        LABELS["until"],
        value=None,
        key=widget_key("buntil", key),
        help="The last day of the plan; it starts the day after the data's last day.",
    )
    if until is None:
        st.info("Pick the date to reach the goal by.", icon=":material/event:")
        st.stop()
    return {"goal_target": goal, "until": until.isoformat(), "objective": objective}


LIFT_COLUMNS = ["campaign", "spend change a day", "incremental a day", "standard error"]


def _lift_tests(campaigns: list[str], key: str) -> tuple:
    """Lift-test results typed in: each a change in daily spend from today's and what it
    added a day (negative for a cut), with its standard error; incomplete rows are left out
    and said so."""
    st.caption(
        "A holdout, geo or conversion-lift test measures what spend really adds; its result"
        " recalibrates that campaign's curve (platforms often claim more than they add)."
    )
    edited = st.data_editor(
        pd.DataFrame(columns=LIFT_COLUMNS).astype({c: "float" for c in LIFT_COLUMNS[1:]}),
        key=widget_key("blift", key),
        num_rows="dynamic",
        hide_index=True,
        column_config={"campaign": st.column_config.SelectboxColumn("campaign", options=campaigns)},
    )
    complete = edited.dropna()
    if len(complete) < len(edited):
        st.caption(f"{len(edited) - len(complete)} incomplete row(s) left out.")
    return tuple(
        (str(r[0]), None, float(r[1]), float(r[2]), float(r[3]))
        for r in complete.itertuples(index=False)
    )


require_app_navigation()
store = current_store()
title_col, share_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("Budget", anchor=False)
left_out_notice()
dataset = current_dataset(store)
if dataset is None:
    st.info(wording.NO_DATASET)
    st.stop()
needed = [r for r in ("date", "campaign", "spend") if r not in dataset.roles]
if needed or not ({"revenue", "conversions"} & set(dataset.roles)):
    st.info(wording.needs_columns(needed))
    st.stop()
area = st.container()
test_box = st.expander(  # the spend test simulates many truths: run when asked
    wording.TEST_QUESTION,
    icon=":material/science:",
    key=widget_key("btest", dataset.dataset_id),
    on_change="rerun",
)
try:
    spec = replace(_spec(store, dataset), test_when_unsure=test_box.open)
    result = result_of(store, dataset, spec)
except KpiLabError as exc:
    with area:
        show_error(exc, LABELS)
    st.stop()
with share_col:
    share_controls(store, spec, result, default_title=f"{dataset.name}: budget")
with area:
    draw(blocks_of(store, dataset, spec, result), {"test": test_box})
if test_box.open and result.test is None:
    test_box.caption(wording.NO_TEST_NEEDED)
