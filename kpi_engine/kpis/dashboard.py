"""What a weekly KPI review needs beyond totals: the change against the previous period, daily
sparklines, anomalies, movers, two periods side by side, and targets with their pace."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import delete, select

from kpi_engine.access.principal import require
from kpi_engine.aggregate_sql import Rows, days_sql
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.query import KpiQuery, lookup, run_kpis
from kpi_engine.state.database import upsert
from kpi_engine.state.schema import targets as targets_table
from kpi_engine.store import Store
from kpi_engine.typed_json import finite

ANOMALY_WINDOW = 14
ANOMALY_K = 3.5
COVERAGE = 0.9  # of the selected period's days with data the previous period must have
MAD_SCALE = 1.4826  # makes the MAD comparable to a standard deviation for normal data


DEFAULT_DAYS = 28  # as Looker Studio opens a report: the last 28 days against the 28 before


def last_complete_days(
    bounds: tuple[date, date], today: date, days: int = DEFAULT_DAYS
) -> tuple[date, date] | None:
    """The data's last ``days`` complete days (today is not over yet), when the data also
    covers the ``days`` before them, so every card has a previous period; None otherwise."""
    last = min(bounds[1], today - timedelta(days=1))
    first = last - timedelta(days=days - 1)
    if first - timedelta(days=days) < bounds[0]:
        return None
    return first, last


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def trend_points(start: date, end: date, grain: str) -> list[tuple[date, date]]:
    """The trend's points between start and end (days, weeks from Monday, months), each cut to
    the dates, newest first: what a point of the trend adds up."""
    points = []
    first = start
    while first <= end:
        if grain == "week":
            last = first + timedelta(days=6 - first.weekday())
        elif grain == "month":
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            last = following - timedelta(days=1)
        else:
            last = first
        points.append((first, min(last, end)))
        first = last + timedelta(days=1)
    return points[::-1]


def relative_change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or not math.isfinite(now) or not math.isfinite(before):
        return None
    if before == 0:
        return None
    return now / before - 1


def period_values(
    store: Store, dataset: Dataset, query: KpiQuery, start: date, end: date
) -> dict[str, float | None]:
    row = run_kpis(store, dataset, replace(query, start=start, end=end, by=(), grain=None)).iloc[0]
    return {k: as_number(row[k]) for k in query.kpis}


def days_with_data(store: Store, dataset: Dataset, query: KpiQuery, start: date, end: date) -> int:
    """How many days between start and end have rows (with the query's filters)."""
    rows = Rows(start, end, query.filters, None if query.convert else query.currency)
    return int(store.query(dataset, *days_sql(dataset, rows))["days"].iloc[0])


def comparable(days_before: int, days_now: int) -> bool:
    """A previous period is worth comparing with when it has data on (nearly) as many days as
    the period itself: +1199% against a period with 9 of 103 days says nothing."""
    return days_before > 0 and days_before >= COVERAGE * days_now


def as_number(value) -> float | None:
    """A query value as a float, or None for a missing, non-finite or non-numeric value."""
    try:
        return finite(value)
    except (TypeError, ValueError):
        return None


def compare_periods(
    store: Store, dataset: Dataset, query: KpiQuery, a: tuple[date, date], b: tuple[date, date]
) -> pd.DataFrame:
    """KPI, period A, period B, change: two periods side by side."""
    first = period_values(store, dataset, query, *a)
    second = period_values(store, dataset, query, *b)
    rows = [
        {
            "kpi": k,
            "name": lookup(k, query.custom).name,
            "period_a": first[k],
            "period_b": second[k],
            "change": relative_change(second[k], first[k]),
        }
        for k in query.kpis
    ]
    return pd.DataFrame(rows)


def sparklines(store: Store, dataset: Dataset, query: KpiQuery) -> dict[str, list[float]]:
    """The daily values of each KPI over the query's dates (for the cards)."""
    if not dataset.date_column:
        return {}
    frame = run_kpis(store, dataset, replace(query, by=(), grain="day"))
    return {
        k: [v for v in frame[k].tolist() if not (isinstance(v, float) and math.isnan(v))]
        for k in query.kpis
    }


def anomalies(
    series: pd.Series,
    window: int = ANOMALY_WINDOW,
    k: float = ANOMALY_K,
    excluded: pd.Series | None = None,
) -> pd.DataFrame:
    """Days outside a robust expected band: the median of the previous ``window`` days ± k
    scaled MADs. Robust, so one spike does not widen the band for the next days. Days
    ``excluded`` (a promotion, an outage marked so) stay out of the band and are not flagged;
    a band then needs half the window's days."""
    values = series.astype(float)
    masked = excluded is not None and bool(excluded.any())
    previous = (values.mask(excluded.astype(bool)) if masked else values).shift(1)  # type: ignore[union-attr]
    needed = window // 2 if masked else window
    median = previous.rolling(window, min_periods=needed).median()
    mad = previous.rolling(window, min_periods=needed).apply(
        lambda x: np.nanmedian(np.abs(x - np.nanmedian(x))), raw=True
    )
    spread = k * MAD_SCALE * mad.clip(lower=1e-12)
    out = pd.DataFrame(
        {"value": values, "expected": median, "low": median - spread, "high": median + spread}
    )
    out["anomaly"] = (values < out["low"]) | (values > out["high"])
    out.loc[median.isna(), "anomaly"] = False
    if masked:
        out.loc[excluded.astype(bool).to_numpy(), "anomaly"] = False  # type: ignore[union-attr]
    return out


def rolling_mean(series: pd.Series, window: int = 7) -> pd.Series:
    return series.astype(float).rolling(window, min_periods=window).mean()


GROUP_CAP = 10_000  # the most groups a ranking brings back (a user-id column has millions)


def movers(
    store: Store,
    dataset: Dataset,
    query: KpiQuery,
    by: str,
    kpi: Kpi,
    start: date,
    end: date,
    count: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame, int | None]:
    """The groups whose KPI improved most and worsened most against the previous period,
    and, where there were more than ``GROUP_CAP`` groups, how many were compared: those
    with the most spend (else the most of the KPI) in the period."""
    rank = "spend" if "spend" in dataset.roles else kpi.id
    kpis = tuple(dict.fromkeys((kpi.id, rank)))
    period = replace(query, kpis=kpis, by=(by,), grain=None, sort=rank, limit=GROUP_CAP + 1)
    now = run_kpis(store, dataset, replace(period, start=start, end=end))
    among = GROUP_CAP if len(now) > GROUP_CAP else None
    if among:
        now = now.head(GROUP_CAP)
        period = replace(period, filters=(*period.filters, (by, tuple(str(v) for v in now[by]))))
    before = previous_period(start, end)
    then = run_kpis(store, dataset, replace(period, start=before[0], end=before[1], limit=None))
    merged = now.merge(then, on=by, how="inner", suffixes=("", "_before"))
    merged["change"] = (
        merged[kpi.id] / merged[f"{kpi.id}_before"].where(merged[f"{kpi.id}_before"] != 0) - 1
    )
    merged = merged.dropna(subset=["change"])
    better = merged["change"] if kpi.direction != "lower" else -merged["change"]
    merged = merged.assign(_better=better)
    cols = [by, f"{kpi.id}_before", kpi.id, "change"]
    top = merged[merged["_better"] > 0].sort_values("_better", ascending=False).head(count)
    bottom = merged[merged["_better"] < 0].sort_values("_better").head(count)
    return top[cols], bottom[cols], among


# -- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A value a KPI should reach by a deadline, on the rows it was set for: the filters and
    currency active then (all rows when none), whatever a later view filters."""

    kpi: str
    target: float
    start: date
    deadline: date
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None

    @property
    def scope(self) -> str:
        return json.dumps(
            {"filters": [[k, list(v)] for k, v in self.filters], "currency": self.currency}
        )


def _scope(text: str | None) -> tuple[tuple, str | None]:
    data = json.loads(text or "{}")
    filters = tuple((k, tuple(v)) for k, v in data.get("filters", []))
    return filters, data.get("currency")


def save_target(store: Store, dataset: Dataset, target: Target) -> None:
    """Save a target; one per KPI and scope (a new one replaces it)."""
    require(store, "edit")
    if target.deadline < target.start:
        raise KpiLabError("is before the start of the target period", "deadline")
    if not math.isfinite(target.target):
        raise KpiLabError("must be a number", "target")
    row = {
        "workspace": store.workspace,
        "dataset_id": dataset.dataset_id,
        "kpi": target.kpi,
        "scope": target.scope,
        "target": target.target,
        "start_date": target.start,
        "deadline": target.deadline,
    }
    with store.transaction() as conn:
        upsert(conn, targets_table, row, ("workspace", "dataset_id", "kpi", "scope"))


def delete_target(store: Store, dataset: Dataset, target: Target) -> None:
    require(store, "edit")
    t = targets_table.c
    with store.transaction() as conn:
        conn.execute(
            delete(targets_table).where(
                t.workspace == store.workspace,
                t.dataset_id == dataset.dataset_id,
                t.kpi == target.kpi,
                t.scope.in_([target.scope, "{}"]),
                t.start_date == target.start,
                t.deadline == target.deadline,
            )
        )


def targets(store: Store, dataset: Dataset) -> list[Target]:
    t = targets_table.c
    with store.reading() as conn:
        rows = conn.execute(
            select(t.kpi, t.target, t.start_date, t.deadline, t.scope)
            .where(t.workspace == store.workspace, t.dataset_id == dataset.dataset_id)
            .order_by(t.kpi, t.scope)
        ).all()
    return [
        Target(kpi, value, first, last, *_scope(scope)) for kpi, value, first, last, scope in rows
    ]


@dataclass(frozen=True)
class Pace:
    """Where a target stands: ``progress`` (share of the target reached) and ``elapsed``
    (share of its period gone) for a count or money KPI; ``gap`` (relative distance to the
    target) for a rate."""

    status: str  # reached, on track, at risk, behind, missed (past its deadline), no data
    elapsed: float
    progress: float | None = None
    gap: float | None = None


def pace(kpi: Kpi, target: Target, value: float | None, today: date) -> Pace:
    """A count or money KPI accumulates toward its target over the period (on track when its
    progress keeps up with the time gone); a rate is compared with its target directly, in
    its direction."""
    total_days = (target.deadline - target.start).days + 1
    gone = min(max((today - target.start).days + 1, 0), total_days) / total_days
    if value is None:
        return Pace("no data", gone)
    over = today > target.deadline
    if kpi.additive:
        progress = value / target.target if target.target else math.inf
        if progress >= 1:
            status = "reached"
        elif over:
            status = "missed"
        elif progress >= gone * 0.95:
            status = "on track"
        elif progress >= gone * 0.8:
            status = "at risk"
        else:
            status = "behind"
        return Pace(status, gone, progress)
    good = value >= target.target if kpi.direction != "lower" else value <= target.target
    status = ("reached" if over else "on track") if good else ("missed" if over else "behind")
    return Pace(status, gone, gap=relative_change(value, target.target))
