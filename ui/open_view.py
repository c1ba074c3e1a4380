"""Open a saved view: set the widgets of its page from its spec, then go there.

The inverse of what a page does (widgets -> spec). A setting the page has no widget for (a
per-campaign minimum, a typed-in plan, a custom KPI deleted since) is named, so the user knows
what the page does not show; the view's link shows it whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from kpi_engine.analyses import Spec
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.experiments.shapes import data_kind, testable_kpis
from kpi_engine.experiments.spec import CUPED_ROWS, ExperimentSpec
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.dashboard import trend_points
from kpi_engine.kpis.query import kpi_availability
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.sharing import wording
from kpi_engine.store import Store
from ui.cache import date_range, distinct_values
from ui.dataset_picker import select_after_rerun
from ui.state import Keys
from ui.widget_keys import widget_key

PAGES = {
    "kpis": "pages/kpis.py",
    "experiments": "pages/experiments.py",
    "budget": "pages/budget.py",
}
QUESTIONS = {
    "fixed budget": "budget",
    "target roas": "roas",
    "target cpa": "cpa",
    "target marginal": "marginal",
    "same outcome, lowest spend": "same",
    "total for the period": "period",
    "goal": "goal",
}


@dataclass(frozen=True)
class WidgetState:
    values: dict[str, object]  # widget key -> value
    left_out: tuple[str, ...]  # settings the page cannot show


def widget_state(store: Store, dataset: Dataset, spec: Spec) -> WidgetState:
    if isinstance(spec, KpiViewSpec):
        return _kpis(store, dataset, spec)
    if isinstance(spec, ExperimentSpec):
        return _experiment(store, dataset, spec)
    return _budget(store, dataset, spec)


def _dates(store: Store, dataset: Dataset, start, end):
    """A date range the page's date input can take (inside the data), or None for all."""
    bounds = date_range(store, dataset)
    if not bounds or start is None or end is None:
        return None
    return max(start, bounds[0]), min(end, bounds[1])


def _kpis(store: Store, dataset: Dataset, spec: KpiViewSpec) -> WidgetState:
    key = dataset.dataset_id
    available = {k for k, m in kpi_availability(dataset, saved_custom(store)).items() if not m}
    kpis = [k for k in spec.kpis if k in available]
    left_out = [f"KPI {k} (no longer in this workspace)" for k in spec.kpis if k not in available]
    values: dict[str, object] = {widget_key("kpis", key): kpis}
    dates = _dates(store, dataset, spec.start, spec.end) or date_range(store, dataset)
    if dates:  # a view of all dates opens on all of them, not on the page's last 28 days
        values[widget_key("dates", key)] = dates
    roles = {column: role for role, column in dataset.roles.items()}
    for name, chosen in spec.filters:
        role = name if name in dataset.roles else roles.get(name)
        if role in ("campaign", "channel"):
            values[widget_key(f"filter_{role}", key)] = _still_there(
                store, dataset, dataset.roles[role], chosen
            )
        else:
            left_out.append(f"the filter on {name}")
    if spec.currency:
        values[widget_key("currency_to" if spec.convert else "currency", key)] = spec.currency
    if spec.by and spec.by[0] in dataset.dimensions:
        values[widget_key("by", key)] = spec.by[0]
    values[widget_key("grain", key)] = spec.grain or "day"
    if spec.chart_kpi in kpis:
        values[widget_key("trend_kpi", key)] = spec.chart_kpi
    values[widget_key("split", key)] = spec.lines_by is not None
    values[widget_key("smooth", key)] = spec.smooth
    values[widget_key("compare_on", key)] = spec.compare is not None
    if spec.compare:
        values[widget_key("compare", key)] = spec.compare
    values[widget_key("why_open", key)] = spec.why in kpis
    if spec.why in kpis:
        values[widget_key("why", key)] = spec.why
        split = spec.why_by if spec.why_by in dataset.dimensions else None
        values[widget_key("why_by", key)] = split
        grain = spec.grain or "day"
        points = trend_points(spec.start, spec.end, grain) if spec.start and spec.end else []
        if spec.why_period in points:
            values[widget_key(f"why_period_{grain}", key)] = spec.why_period
        elif spec.why_period:
            left_out.append("the trend point explained")
    return WidgetState(values, tuple(left_out))


def _still_there(store: Store, dataset: Dataset, column: str, chosen) -> list[str]:
    """The chosen values the column still has (a multiselect takes no other)."""
    values = set(distinct_values(store, dataset, column))
    return [v for v in chosen if v in values]


def _experiment(store: Store, dataset: Dataset, spec: ExperimentSpec) -> WidgetState:
    key = dataset.dataset_id
    allowed = set(testable_kpis(dataset, data_kind(dataset), saved_custom(store)))
    left_out = [f"KPI {k} (not testable here any more)" for k in spec.compared if k not in allowed]
    values: dict[str, object] = {
        widget_key("xvar", key): spec.variant_col,
        widget_key("xctl", key): spec.control,
        widget_key("xkpi", key): [k for k in spec.kpis if k in allowed],
        widget_key("xalp", key): spec.alpha,
        widget_key("xcor", key): spec.correction,
        widget_key("xfam", key): spec.family,
        widget_key("xseq", key): spec.sequential,
        widget_key("xtun", key): spec.tuning,
        widget_key("xspl", key): ",".join(f"{s:g}" for s in spec.split or ()),
        widget_key("xgrd", key): [kpi for kpi, _ in spec.guardrails if kpi in allowed],
        widget_key("xweeks", key): spec.weeks and data_kind(dataset) == "users",
    }
    if spec.guardrails:
        values[widget_key("xgrl", key)] = spec.guardrails[0][1] * 100
    if spec.unit_col:
        values[widget_key("xunit", key)] = spec.unit_col
    dates = _dates(store, dataset, spec.start, spec.end)
    if dates:
        values[widget_key("xdt", key)] = dates
    if len({loss for _, loss in spec.guardrails}) > 1:
        left_out.append("a loss limit per guardrail (the page has one for all)")
    _experiment_methods(values, left_out, spec, key)
    return WidgetState(values, tuple(left_out))


def _experiment_methods(
    values: dict[str, object], left_out: list[str], spec: ExperimentSpec, key: str
) -> None:
    """Exposures, caps, CUPED, segments and non-inferiority onto the Methods widgets."""
    values[widget_key("xmex", key)] = not spec.keep_multiple_exposures
    for kpi, cap in spec.caps:
        values[widget_key(f"xcap:{kpi}", key)] = cap
    columns = {column for _, column in spec.covariates}
    if spec.cuped:
        values[widget_key("xcup", key)] = CUPED_ROWS
        values[widget_key("xpre", key)] = spec.pre_days
    elif columns:
        values[widget_key("xcup", key)] = sorted(columns)[0]
    if len(columns) > 1:
        left_out.append("a CUPED column per KPI (the page uses one for all)")
    values[widget_key("xseg", key)] = spec.segment_col
    values[widget_key("xnik", key)] = [kpi for kpi, _ in spec.non_inferiority]
    if spec.non_inferiority:
        values[widget_key("xnim", key)] = spec.non_inferiority[0][1] * 100
    if len({margin for _, margin in spec.non_inferiority}) > 1:
        left_out.append("a non-inferiority margin per KPI (the page has one for all)")


def _budget(store: Store, dataset: Dataset, spec: BudgetSpec) -> WidgetState:
    key = dataset.dataset_id
    values: dict[str, object] = {
        widget_key("bmax", key): round(spec.max_change * 100),
        widget_key("bmin", key): spec.min_spend,
        widget_key("block", key): _still_there(
            store, dataset, dataset.roles["campaign"], spec.locks
        ),
        widget_key("bwin", key): spec.window_days,
        widget_key("blag", key): spec.lag_days,
        widget_key("btest", key): spec.test_when_unsure or spec.suggest_test,
    }
    if spec.objective in dataset.roles:
        values[widget_key("bobj", key)] = spec.objective
    if spec.question in QUESTIONS:
        values[widget_key("bsc", key)] = QUESTIONS[spec.question]
    for setting, name in (
        ("daily_budget", "bbud"),
        ("target_roas", "broas"),
        ("target_cpa", "bcpa"),
        ("target_marginal_roas", "bmar"),
    ):
        if getattr(spec, setting) is not None:
            values[widget_key(name, key)] = getattr(spec, setting)
    if spec.currency:
        values[widget_key("bcur_to" if spec.convert else "bcur", key)] = spec.currency
    _budget_period(values, spec, key)
    period_widgets = spec.question in ("total for the period", "goal")
    left_out = [
        label
        for label, present in (
            ("the typed-in plan", bool(spec.plan)),
            ("per-campaign minimums", bool(spec.minimums)),
            ("per-campaign maximums", bool(spec.maximums)),
            ("the lift tests", bool(spec.lifts)),
            ("the plan for the days ahead", spec.has_period and not period_widgets),
            (
                "the plan's last day (the page plans a number of days)",
                bool(spec.until and spec.question == "total for the period"),
            ),
        )
        if present
    ]
    return WidgetState(values, tuple(left_out))


def _budget_period(values: dict[str, object], spec: BudgetSpec, key: str) -> None:
    """A total for the period or a goal onto the Budget page's period widgets."""
    if spec.question == "total for the period":
        values[widget_key("bdays", key)] = spec.plan_days or 28
        values[widget_key("btot", key)] = spec.total
    if spec.question == "goal":
        values[widget_key("bgk", key)] = spec.objective
        values[widget_key("bgoal", key)] = spec.goal_target
        if spec.until:
            values[widget_key("buntil", key)] = date.fromisoformat(spec.until)


def left_out_notice() -> None:
    """On the page a saved view opened: what of the view the page cannot show."""
    left_out = st.session_state.pop(Keys.VIEW_LEFT_OUT, None)
    if left_out:
        st.info(wording.left_out(left_out), icon=":material/info:")


def open_view(store: Store, spec: Spec) -> None:
    """Set the view's widgets, select its dataset, and go to its page."""
    dataset = store.dataset(spec.dataset_id)
    state = widget_state(store, dataset, spec)
    st.session_state.update(state.values)
    st.session_state[Keys.VIEW_LEFT_OUT] = list(state.left_out)
    select_after_rerun(dataset.dataset_id)
    st.switch_page(PAGES[spec.PAGE], query_params={"dataset": dataset.dataset_id})
