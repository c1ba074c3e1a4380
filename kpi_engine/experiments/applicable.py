"""Which of an experiment's settings apply to the data: every column it names exists, and
capping, CUPED and segments, which work on per-user values, are asked of user-level data."""

from __future__ import annotations

from kpi_engine.aggregate_sql import numeric_columns
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats.sufficient import PROPORTION, RATIO


def _column(dataset: Dataset, name: str | None, field: str) -> None:
    if name is not None and name not in dataset.column_names:
        raise KpiLabError(
            f"names no column {name!r} of dataset {dataset.name!r}: choose among"
            f" {', '.join(dataset.dimensions) or '(no text columns)'}",
            field,
        )


def _user_level(kind: str, field: str, what: str) -> None:
    if kind != "users":
        raise KpiLabError(
            f"needs user-level data ({what} works on each user's values); this test's units"
            f" are {'days' if kind == 'campaign' else 'variant totals'}",
            field,
        )


def check(spec: ExperimentSpec, dataset: Dataset, kind: str, shapes: dict[str, KpiShape]) -> None:
    """An error naming the first setting that cannot apply, or nothing."""
    for name, field in (
        (spec.variant_col, "variant_col"),
        (spec.unit_col, "unit_col"),
        (spec.segment_col, "segment_col"),
    ):
        _column(dataset, name, field)
    if spec.caps:
        _user_level(kind, "caps", "capping")
    for kpi, _ in spec.caps:
        if shapes[kpi].kind == PROPORTION:
            raise KpiLabError(
                f"{kpi} is a share of users (0 or 1 per user): there is nothing to cap", "caps"
            )
    if spec.covariates:
        _user_level(kind, "covariates", "CUPED")
    numeric = numeric_columns(dataset)
    for kpi, name in spec.covariates:
        if shapes[kpi].kind == RATIO:
            raise KpiLabError(
                f"{kpi} is a ratio: CUPED here adjusts per-user KPIs (conversion rate, means)",
                "covariates",
            )
        if name not in numeric:
            raise KpiLabError(
                f"{name!r} is not a numeric column of dataset {dataset.name!r} without a role:"
                f" choose among {', '.join(sorted(numeric)) or '(none)'}",
                "covariates",
            )
    if spec.cuped:
        _user_level(kind, "cuped", "CUPED")
        if not dataset.date_column:
            raise KpiLabError(
                f"needs dates to find each user's rows before the test; dataset"
                f" {dataset.name!r} has none: name a covariate column instead",
                "cuped",
            )
    if spec.segment_col:
        _user_level(kind, "segment_col", "a segment")
