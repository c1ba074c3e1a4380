"""Where an analysis query runs: one interface, two engines.

Every analysis reduces its rows to small aggregates with one SQL text from
``aggregate_sql`` and asks ``run(dataset, sql, params)`` for a typed frame. An imported
dataset's rows are a Parquet file, read by this process's own DuckDB (``local``) as written;
an attached dataset's rows live in a lake, read by Spark with the SQL translated to its
dialect (``spark``, ``dialects``). Nothing here knows the registry: the dataset says where
its rows are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kpi_engine.errors import KpiLabError

if TYPE_CHECKING:
    import pandas as pd

    from kpi_engine.datasets import Dataset

ENGINES = ("duckdb", "spark")
ATTACH_ENGINES = ("spark",)
FORMATS = ("parquet", "delta", "csv")  # what an attached path may hold


class Engine(Protocol):
    def run(self, dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame: ...


def run(dataset: Dataset, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """One analysis query on ``dataset``, on its engine, as a typed frame."""
    if dataset.engine == "duckdb":
        from kpi_engine.compute import local

        return local.run(dataset, sql, params)
    if dataset.engine == "spark":
        from kpi_engine.compute import spark

        return spark.run(dataset, sql, params)
    raise KpiLabError(
        f"dataset {dataset.name!r} lives on {dataset.engine!r}, which this version of KPI Lab"
        f" cannot query: it knows {', '.join(ENGINES)}"
    )
