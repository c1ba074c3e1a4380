"""The data a budget plan works on: daily spend and outcome per campaign over a window that
leaves out the last days still inside the attribution window. Read with the same KPI query
as the KPIs page (spend, revenue, conversions by campaign and day), with the spend of a few
weeks before the window (the carryover already under way on its first day) and of the days
after it (the carryover a plan for the coming weeks starts with). Days a note leaves out of
baselines count as days without a row: their spend still carries over, but no curve is
fitted to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_engine.aggregate_sql import PERIOD, Rows, date_range_sql
from kpi_engine.annotations.notes import excluded_days
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store

SUMS = ("spend", "revenue", "conversions")
BURN_IN_DAYS = 28  # spend before the window that still carries over into it


@dataclass
class Window:
    campaigns: list[str]
    spend: np.ndarray  # campaigns x days (0 where a campaign has no row)
    outcome: np.ndarray
    revenue: np.ndarray
    conversions: np.ndarray
    has_row: np.ndarray
    start: date
    end: date
    spend_before: np.ndarray  # campaigns x BURN_IN_DAYS before the window
    spend_after: np.ndarray  # campaigns x the days after the window up to the data's last day
    last_day: date  # the data's last day: a plan starts the day after it


def load_window(store: Store, dataset: Dataset, spec: BudgetSpec) -> Window:
    roles = dataset.roles
    needed = ["date", "campaign", "spend", spec.objective]
    missing = [r for r in needed if r not in roles]
    if missing:
        raise KpiLabError(
            f"budget reallocation needs the column(s) {', '.join(missing)}, which"
            f" dataset {dataset.name!r} does not have"
        )
    if spec.convert and spec.currency is None:
        raise KpiLabError("is needed to plan every amount in one currency", "currency")
    if len(dataset.currencies) > 1 and spec.currency is None:
        raise KpiLabError(
            f"is needed: dataset {dataset.name!r} has money in"
            f" {', '.join(dataset.currencies)}, and budgets are never mixed across currencies",
            "currency",
        )
    rows = Rows(currency=None if spec.convert else spec.currency, present=("campaign",))
    last = store.query(dataset, *date_range_sql(dataset, rows))["last_day"].iloc[0]
    if pd.isna(last):
        raise KpiLabError(f"dataset {dataset.name!r} has no dated campaign rows")
    last_day = pd.Timestamp(last).date()
    end = last_day - timedelta(days=spec.lag_days)
    start = end - timedelta(days=spec.window_days - 1)
    first = start - timedelta(days=BURN_IN_DAYS)
    sums = tuple(s for s in SUMS if s in roles)
    query = KpiQuery(
        sums,
        ("campaign",),
        first,
        last_day,
        grain="day",
        currency=spec.currency,
        convert=spec.convert,
    )
    frame = run_kpis(store, dataset, query)
    frame = frame[frame["campaign"].notna()]
    frame = frame.assign(campaign=frame["campaign"].astype(str))
    inside = pd.to_datetime(frame[PERIOD]).dt.date.between(start, end)
    if not inside.any():
        raise KpiLabError(f"no rows between {start} and {end}: widen the window or lower the lag")
    campaigns = sorted(frame.loc[inside, "campaign"].unique())
    days = pd.date_range(first, last_day, freq="D")

    def grid(column: str) -> np.ndarray:
        if column not in frame:
            return np.full((len(campaigns), len(days)), np.nan)
        table = frame.pivot_table(index="campaign", columns=PERIOD, values=column, aggfunc="sum")
        table.columns = pd.to_datetime(table.columns)
        return table.reindex(index=campaigns, columns=days).to_numpy(dtype=float)

    inner = slice(BURN_IN_DAYS, BURN_IN_DAYS + spec.window_days)
    left_out = excluded_days(store, dataset)  # a promotion or an outage marked so
    kept = np.array([day.date() not in left_out for day in days[inner]], dtype=bool)
    has_row = np.isfinite(grid("spend"))[:, inner] & kept
    spend, revenue, conversions = (np.nan_to_num(grid(c)) for c in SUMS)
    target = revenue if spec.objective == "revenue" else conversions
    return Window(
        campaigns,
        spend[:, inner],
        target[:, inner],
        revenue[:, inner],
        conversions[:, inner],
        has_row,
        start,
        end,
        spend[:, :BURN_IN_DAYS],
        spend[:, inner.stop :],
        last_day,
    )
