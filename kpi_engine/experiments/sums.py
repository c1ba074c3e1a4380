"""An experiment's sufficient statistics, fetched in aggregate queries.

One row per variant and day: n units and, per KPI i, Σm, Σm², Σd, Σd², Σm·d (``m{i}``,
``mm{i}``, ``d{i}``, ``dd{i}``, ``md{i}``), with CUPED Σx, Σx², Σm·x, with capping the cap
values and the units capped; with a segment column, the same per variant and segment.
Everything the statistics need; no unit-level row ever leaves the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from kpi_engine.aggregate_sql import (
    Measure,
    Rows,
    Units,
    arm_sums_sql,
    date_range_sql,
    exposure_weeks_sql,
    shared_units_sql,
    variant_totals_sql,
)
from kpi_engine.currencies.convert import conversion
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.capping import parse_cap
from kpi_engine.experiments.shapes import CUPED_ROWS, KpiShape, one_row_per_unit, unit_column
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats.cuped import CovariateSums
from kpi_engine.stats.sufficient import PROPORTION, RATIO, TOTALS, ArmStats
from kpi_engine.store import Store


@dataclass(frozen=True)
class Sums:
    by_day: pd.DataFrame  # variant, day, n, m{i}, ...
    by_segment: pd.DataFrame | None  # variant, segment, n, m{i}, ...


def covariate_of(spec: ExperimentSpec, kpi: str, shape: KpiShape, history: bool) -> str | None:
    """The CUPED covariate of a KPI: its column, its own pre-exposure rows (where units can
    have rows before the test), or none (ratio KPIs are compared unadjusted)."""
    columns = dict(spec.covariates)
    if kpi in columns:
        return columns[kpi]
    return CUPED_ROWS if spec.cuped and history and shape.kind != RATIO else None


def has_history(dataset: Dataset, spec: ExperimentSpec) -> bool:
    """Can a unit have rows before its exposure? Not when every unit has one row in the
    whole table (checked at import): then CUPED from earlier rows has nothing to use."""
    return not one_row_per_unit(dataset, spec.unit_col)


def measures(
    spec: ExperimentSpec, shapes: dict[str, KpiShape], history: bool = True
) -> list[Measure]:
    caps = dict(spec.caps)
    return [
        shape.measure(
            parse_cap(caps[k]) if k in caps else None, covariate_of(spec, k, shape, history)
        )
        for k, shape in shapes.items()
    ]


def _units(dataset: Dataset, spec: ExperimentSpec) -> Units:
    return Units(
        (unit_column(dataset, spec.unit_col),),
        one_row_per_unit(dataset, spec.unit_col),
        not spec.keep_multiple_exposures,
        spec.segment_col,
        spec.pre_days,
        spec.start,
    )


def read_rows(store: Store, dataset: Dataset, spec: ExperimentSpec) -> Rows:
    """The test's rows: its dates, one currency, or every row's money converted into it (from
    the days before the start CUPED reads)."""
    if not spec.convert or not spec.currency:
        return Rows(spec.start, spec.end, currency=spec.currency)
    first = spec.start - timedelta(days=spec.pre_days) if spec.start and spec.cuped else None
    converted = conversion(store, dataset, spec.currency, first, spec.end)
    return Rows(spec.start, spec.end, currency=spec.currency, convert=converted)


def fetch_sums(
    store: Store, dataset: Dataset, spec: ExperimentSpec, kind: str, shapes: dict[str, KpiShape]
) -> Sums:
    rows = read_rows(store, dataset, spec)
    if kind == "totals":
        plain = [s.measure() for s in shapes.values()]
        sql = variant_totals_sql(dataset, spec.variant_col, dataset.roles["users"], plain, rows)
    elif kind == "users":
        chosen = measures(spec, shapes, has_history(dataset, spec))
        sql = arm_sums_sql(dataset, spec.variant_col, chosen, rows, _units(dataset, spec))
    else:
        if not dataset.date_column:
            raise KpiLabError(
                f"dataset {dataset.name!r} has no date column: campaign experiments"
                " use days as units"
            )
        keys = (dataset.date_column, *((spec.unit_col,) if spec.unit_col else ()))
        plain = [s.measure() for s in shapes.values()]
        sql = arm_sums_sql(dataset, spec.variant_col, plain, rows, Units(keys))
    frame = store.query(dataset, *sql)
    frame["variant"] = frame["variant"].astype(str)
    if "by_segment" not in frame:
        return Sums(frame, None)
    by_segment = frame["by_segment"] == 1
    return Sums(
        frame[~by_segment].drop(columns=["segment", "by_segment"]),
        frame[by_segment].drop(columns=["day", "by_segment"]),
    )


def exposures(store: Store, dataset: Dataset, spec: ExperimentSpec, kind: str) -> tuple[int, int]:
    """(units seen in more than one variant, all units); (0, 0) where each row is a unit."""
    if kind != "users" or one_row_per_unit(dataset, spec.unit_col):
        return 0, 0
    sql = shared_units_sql(
        dataset,
        spec.variant_col,
        unit_column(dataset, spec.unit_col),
        read_rows(store, dataset, spec),
    )
    row = store.query(dataset, *sql).iloc[0]
    return int(row["shared"]), int(row["units"])


def fetch_weeks(
    store: Store, dataset: Dataset, spec: ExperimentSpec, shapes: dict[str, KpiShape]
) -> tuple[pd.DataFrame, object]:
    """Sums by variant, first day and week since exposure, and the data's last day."""
    rows = read_rows(store, dataset, spec)
    plain = [s.measure() for s in shapes.values()]
    sql = exposure_weeks_sql(dataset, spec.variant_col, plain, rows, _units(dataset, spec))
    frame = store.query(dataset, *sql)
    frame["variant"] = frame["variant"].astype(str)
    last = store.query(dataset, *date_range_sql(dataset, rows))["last_day"].iloc[0]
    return frame, last


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


def covariate(row: dict, i: int) -> CovariateSums | None:
    """KPI ``i``'s CUPED sums from one row of the sums, or None without a covariate."""
    if f"x{i}" not in row:
        return None
    return CovariateSums(float(row[f"x{i}"]), float(row[f"xx{i}"]), float(row[f"mx{i}"]))
