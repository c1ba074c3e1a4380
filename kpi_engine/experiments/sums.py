"""An experiment's sufficient statistics, fetched in one aggregate query.

One row per variant and day: n units and, per KPI i, Σm, Σm², Σd, Σd², Σm·d (``m{i}``,
``mm{i}``, ``d{i}``, ``dd{i}``, ``md{i}``). Everything the statistics need; no unit-level row
ever leaves the database.
"""

from __future__ import annotations

import pandas as pd

from kpi_engine.aggregate_sql import Rows, arm_sums_sql, shared_units_sql, variant_totals_sql
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.shapes import KpiShape, one_row_per_unit, unit_column
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats.sufficient import PROPORTION, TOTALS, ArmStats
from kpi_engine.store import Dataset, Store


def fetch_sums(
    store: Store, dataset: Dataset, spec: ExperimentSpec, kind: str, shapes: list[KpiShape]
) -> pd.DataFrame:
    rows = Rows(spec.start, spec.end)
    measures = [s.measure for s in shapes]
    if kind == "totals":
        sql = variant_totals_sql(dataset, spec.variant_col, dataset.roles["users"], measures, rows)
    elif kind == "users":
        sql = arm_sums_sql(
            dataset,
            spec.variant_col,
            measures,
            rows,
            (unit_column(dataset, spec.unit_col),),
            one_row_per_unit(dataset, spec.unit_col),
        )
    else:
        if not dataset.date_column:
            raise KpiLabError(
                f"dataset {dataset.name!r} has no date column: campaign experiments"
                " use days as units"
            )
        keys = (dataset.date_column, *((spec.unit_col,) if spec.unit_col else ()))
        sql = arm_sums_sql(dataset, spec.variant_col, measures, rows, keys)
    frame = store.query(*sql)
    frame["variant"] = frame["variant"].astype(str)
    return frame


def units_in_several_variants(
    store: Store, dataset: Dataset, spec: ExperimentSpec, kind: str
) -> int:
    """Units seen in more than one variant (0 where each row is its own unit)."""
    if kind != "users" or one_row_per_unit(dataset, spec.unit_col):
        return 0
    sql = shared_units_sql(
        dataset, spec.variant_col, unit_column(dataset, spec.unit_col), Rows(spec.start, spec.end)
    )
    return int(store.query(*sql)["units"].iloc[0])


def arm(kind: str, row: dict, i: int, shape: KpiShape) -> ArmStats:
    """The ArmStats of KPI ``i`` from one row (or a sum of rows) of the sums."""
    if kind == "totals":
        return ArmStats(
            PROPORTION if shape.kind == PROPORTION else TOTALS,
            float(row["n"]),
            float(row[f"m{i}"]),
            float(row[f"m{i}"]),
        )
    return ArmStats(
        shape.kind,
        float(row["n"]),
        float(row[f"m{i}"]),
        float(row[f"mm{i}"]),
        float(row[f"d{i}"]),
        float(row[f"dd{i}"]),
        float(row[f"md{i}"]),
    )
