"""Where an analysis query runs. Every analysis reduces its rows to small aggregates with one
SQL text from ``aggregate_sql``; DuckDB runs it as written on the workspace's own tables, and
an attached dataset's engine runs the same text translated to its dialect (``dialects``).
Imports, appends and the registry always stay on DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpi_engine.errors import KpiLabError

if TYPE_CHECKING:
    import pandas as pd

    from kpi_engine.store import Dataset

ENGINES = ("duckdb", "spark")
ATTACH_ENGINES = ("spark",)
FORMATS = ("parquet", "delta", "csv")  # what an attached path may hold


def run_attached(dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """One analysis query on an attached dataset, on its engine, as a typed frame."""
    if dataset.engine == "spark":
        from kpi_engine.compute import spark

        return spark.run(dataset, sql, params)
    raise KpiLabError(
        f"dataset {dataset.name!r} lives on {dataset.engine!r}, which this version of KPI Lab"
        f" cannot query: it knows {', '.join(ENGINES)}"
    )
