"""The three analyses side by side: each has a spec, a function that runs it, a typed result
and one renderer. Sharing, the command line and the pages find them here by page name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kpi_engine.budget import display as budget_display
from kpi_engine.budget.analysis import run_budget
from kpi_engine.budget.result import BudgetResult
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.display.blocks import Block
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import display as experiment_display
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.kpis import display as kpi_display
from kpi_engine.kpis.analysis import run_kpi_view
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.result import KpiViewResult
from kpi_engine.kpis.spec import KpiViewSpec, from_legacy_view
from kpi_engine.store import Store
from kpi_engine.view_fields import VIEW_VERSION

Spec = KpiViewSpec | ExperimentSpec | BudgetSpec
Result = KpiViewResult | ExperimentResult | BudgetResult


@dataclass(frozen=True)
class Analysis:
    page: str
    spec: type
    result: type
    run: Callable[[Store, Dataset, Any], Any]
    blocks: Callable[[Any], tuple[Block, ...]]


ANALYSES = {
    a.page: a
    for a in (
        Analysis("kpis", KpiViewSpec, KpiViewResult, run_kpi_view, kpi_display.blocks),
        Analysis(
            "experiments",
            ExperimentSpec,
            ExperimentResult,
            run_experiment,
            experiment_display.blocks,
        ),
        Analysis("budget", BudgetSpec, BudgetResult, run_budget, budget_display.blocks),
    )
}


def analysis_of(spec: Spec) -> Analysis:
    return ANALYSES[spec.PAGE]


def run(store: Store, dataset: Dataset, spec: Spec) -> Result:
    return analysis_of(spec).run(store, dataset, spec)


def spec_from_view(view: object, custom: tuple[Kpi, ...] = ()) -> Spec:
    """A spec from view JSON: today's (version 2), or one saved before views had versions
    (a KPIs view then named custom KPIs by id only: ``custom`` gives their definitions)."""
    if not isinstance(view, dict) or view.get("page") not in ANALYSES:
        raise KpiLabError(f"a view needs a 'page' of {', '.join(ANALYSES)}")
    if not isinstance(view.get("dataset_id"), str):
        raise KpiLabError("a view needs the 'dataset_id' it shows")
    version = view.get("version")
    if version is None and view["page"] == "kpis":
        return from_legacy_view(view, custom)
    if version not in (None, VIEW_VERSION):
        raise KpiLabError(
            f"this view is of version {version!r}, which this KPI Lab cannot read (it reads"
            f" version {VIEW_VERSION}): update KPI Lab, or save the view again"
        )
    return ANALYSES[view["page"]].spec.from_view(view)


def result_from_dict(page: str, data: dict) -> Result:
    return ANALYSES[page].result.from_dict(data)
