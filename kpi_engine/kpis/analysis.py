"""The KPIs view of a dataset: cards against the previous period, the breakdown and its movers,
the trend (one line, or a line per group), a second period, targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from kpi_engine.aggregate_sql import PERIOD
from kpi_engine.annotations.notes import excluded_days
from kpi_engine.annotations.timeline import timeline
from kpi_engine.currencies.convert import note_if
from kpi_engine.datasets import Dataset
from kpi_engine.explain.analysis import run_explain
from kpi_engine.explain.result import Explanation
from kpi_engine.explain.spec import ExplainSpec
from kpi_engine.kpis import wording
from kpi_engine.kpis.cells import cell, records
from kpi_engine.kpis.dashboard import (
    GROUP_CAP,
    as_number,
    comparable,
    compare_periods,
    days_with_data,
    movers,
    pace,
    period_values,
    previous_period,
    relative_change,
    sparklines,
)
from kpi_engine.kpis.query import KpiQuery, lookup, run_kpis
from kpi_engine.kpis.result import (
    KpiCard,
    KpiMeta,
    KpiViewResult,
    Mover,
    Movers,
    PeriodComparison,
    PeriodRow,
    TargetStatus,
    Trend,
    TrendLine,
)
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.kpis.typical import channel_of, typical_for
from kpi_engine.store import Store

MAX_TREND_LINES = 8


def run_kpi_view(store: Store, dataset: Dataset, spec: KpiViewSpec) -> KpiViewResult:
    base = spec.query
    totals = run_kpis(store, dataset, base)
    table, truncated = totals, False
    if spec.by:
        more = spec.limit + 1 if spec.limit else None  # one row more says whether it stopped
        table = run_kpis(store, dataset, replace(base, by=spec.by, sort=spec.sort, limit=more))
        truncated = spec.limit is not None and len(table) > spec.limit
        table = table.head(spec.limit) if truncated else table
    dated = spec.start is not None and spec.end is not None
    previous = previous_period(spec.start, spec.end) if dated else None
    days = None
    if previous and dataset.date_column:
        days = (
            days_with_data(store, dataset, base, spec.start, spec.end),
            days_with_data(store, dataset, base, *previous),
        )
    compared = days is not None and comparable(days[1], days[0])
    trend = _trend(store, dataset, spec) if spec.grain and dataset.date_column else None
    return KpiViewResult(
        dataset_id=spec.dataset_id,
        kpis=tuple(_meta(lookup(k, spec.custom)) for k in spec.kpis),
        rows=records(table),
        by=spec.by,
        truncated=truncated,
        start=_iso(spec.start) or _header(dataset, 0),
        end=_iso(spec.end) or _header(dataset, 1),
        previous=(_iso(previous[0]), _iso(previous[1])) if previous else None,
        days=days,
        compared=compared,
        filters=spec.filters,
        currency=spec.currency or dataset.currency,
        cards=_cards(store, dataset, base, totals, previous, compared) if len(totals) == 1 else (),
        movers=_movers(store, dataset, spec) if compared and len(spec.by) == 1 else None,
        trend=trend,
        compare=_compare(store, dataset, spec),
        targets=_targets(store, dataset, spec),
        why=_why(store, dataset, spec, previous),
        dropped=_dropped(dataset, spec),
        annotations=_marks(store, dataset, spec, trend),
        conversion=note_if(store, dataset, spec.convert, spec.currency, _span(spec, previous)),
    )


GRAIN_DAYS = {"day": 0, "week": 6, "month": 30}


def _marks(store: Store, dataset: Dataset, spec: KpiViewSpec, trend: Trend | None):
    """The timeline over the dates the trend draws (its own, when the view names none)."""
    if trend is None or not trend.lines or not trend.lines[0].periods:
        return ()
    periods = [date.fromisoformat(p[:10]) for p in trend.lines[0].periods]
    last = max(periods) + timedelta(days=GRAIN_DAYS.get(trend.grain, 0))
    return timeline(store, dataset, spec.start or min(periods), spec.end or last)


def _span(spec: KpiViewSpec, previous) -> tuple[date | None, date | None]:
    """The days the view's numbers read: its dates and the period before them."""
    return (previous[0] if previous else spec.start), spec.end


def _dropped(dataset: Dataset, spec: KpiViewSpec) -> tuple[tuple[str, int], ...]:
    """Days of the view's dates (and of its previous period) whose rows were dropped at
    import: their numbers are short by those rows."""
    first = previous_period(spec.start, spec.end)[0] if spec.start and spec.end else spec.start
    return tuple(
        (day, count)
        for day, count in dataset.dropped_days.items()
        if (first is None or day >= first.isoformat())
        and (spec.end is None or day <= spec.end.isoformat())
    )


def _header(dataset: Dataset, index: int) -> str | None:
    """Rows without dates cover the period their file's header named, if it named one."""
    period = dataset.header_period
    return period[index] if period else None


def _why(store: Store, dataset: Dataset, spec: KpiViewSpec, previous) -> Explanation | None:
    """The chosen KPI's change against the previous period (or one trend point's against the
    period of the same length just before it), in parts and by ``why_by``."""
    if not spec.why or not dataset.date_column:
        return None
    period = spec.why_period or ((spec.start, spec.end) if previous else None)
    if period is None:
        return None
    question = ExplainSpec(
        spec.dataset_id,
        spec.why,
        period,
        previous_period(*period),
        spec.why_by,
        spec.filters,
        spec.currency,
        spec.custom,
        spec.convert,
    )
    return run_explain(store, dataset, question)


def _meta(kpi) -> KpiMeta:
    return KpiMeta(
        kpi.id,
        kpi.name,
        kpi.unit,
        kpi.direction,
        kpi.formula,
        kpi.description,
        kpi.pitfall,
        kpi.vanity,
        kpi.additive,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _cards(
    store: Store,
    dataset: Dataset,
    base: KpiQuery,
    totals: pd.DataFrame,
    previous: tuple[date, date] | None,
    compared: bool,
) -> tuple[KpiCard, ...]:
    row = totals.iloc[0]
    before = period_values(store, dataset, base, *previous) if compared else {}
    sparks = sparklines(store, dataset, base) if previous else {}
    cards = []
    channel = channel_of(dataset.platform)
    currency = base.currency or (dataset.currencies[0] if len(dataset.currencies) == 1 else None)
    for kpi_id in base.kpis:
        value = as_number(row[kpi_id])
        typical = typical_for(kpi_id, channel, currency)
        cards.append(
            KpiCard(
                kpi_id,
                value,
                before.get(kpi_id),
                relative_change(value, before.get(kpi_id)),
                tuple(float(v) for v in sparks.get(kpi_id, [])),
                typical.text(lookup(kpi_id, base.custom)) if typical else None,
            )
        )
    return tuple(cards)


def _movers(store: Store, dataset: Dataset, spec: KpiViewSpec) -> Movers | None:
    by, kpi = spec.by[0], lookup(spec.kpis[0], spec.custom)
    top, bottom, among = movers(store, dataset, spec.query, by, kpi, spec.start, spec.end)

    def rows(frame: pd.DataFrame) -> tuple[Mover, ...]:
        return tuple(
            Mover(
                str(cell(r[by])),
                as_number(r[f"{kpi.id}_before"]),
                as_number(r[kpi.id]),
                float(r["change"]),
            )
            for r in frame.to_dict(orient="records")
        )

    if top.empty and bottom.empty:
        return None
    return Movers(kpi.id, by, rows(top), rows(bottom), among)


def _trend(store: Store, dataset: Dataset, spec: KpiViewSpec) -> Trend:
    kpi_id = spec.trend_kpi
    one = replace(spec.query, kpis=(kpi_id,), grain=spec.grain)
    if spec.lines_by:
        groups, count = _largest_groups(store, dataset, spec, kpi_id)
        query = replace(one, by=(spec.lines_by,), filters=(*one.filters, (spec.lines_by, groups)))
        frame = run_kpis(store, dataset, query)
        lines = tuple(
            _line(name, frame[frame[spec.lines_by].astype(str) == name], kpi_id) for name in groups
        )
        return Trend(
            kpi_id,
            spec.grain,
            lines,
            lines_by=spec.lines_by,
            groups=min(count, GROUP_CAP),
            more_groups=count > GROUP_CAP,
        )
    frame = run_kpis(store, dataset, one)
    line = _line(lookup(kpi_id, spec.custom).name, frame, kpi_id)
    excluded = tuple(sorted(d.isoformat() for d in excluded_days(store, dataset)))
    return Trend(kpi_id, spec.grain, (line,), smooth=spec.smooth, excluded=excluded)


def _line(name: str, frame: pd.DataFrame, kpi_id: str) -> TrendLine:
    return TrendLine(
        name,
        tuple(str(cell(p)) for p in frame[PERIOD]),
        tuple(as_number(v) for v in frame[kpi_id]),
    )


def _largest_groups(
    store: Store, dataset: Dataset, spec: KpiViewSpec, kpi_id: str
) -> tuple[tuple[str, ...], int]:
    """The groups with the most spend (else the most of the KPI), which get a line of their
    own, and how many groups there are (counted up to ``GROUP_CAP`` + 1: "more than")."""
    rank = "spend" if "spend" in dataset.roles else kpi_id
    query = replace(spec.query, kpis=(rank,), by=(spec.lines_by,), sort=rank, limit=GROUP_CAP + 1)
    ranked = run_kpis(store, dataset, query)[spec.lines_by]
    return tuple(str(v) for v in ranked.head(MAX_TREND_LINES)), len(ranked)


def _compare(store: Store, dataset: Dataset, spec: KpiViewSpec) -> PeriodComparison | None:
    if spec.compare is None or spec.start is None or spec.end is None:
        return None
    table = compare_periods(store, dataset, spec.query, spec.compare, (spec.start, spec.end))
    rows = tuple(
        PeriodRow(
            r["kpi"], as_number(r["period_a"]), as_number(r["period_b"]), as_number(r["change"])
        )
        for r in table.to_dict(orient="records")
    )
    return PeriodComparison(
        (_iso(spec.compare[0]), _iso(spec.compare[1])), (_iso(spec.start), _iso(spec.end)), rows
    )


def _targets(store: Store, dataset: Dataset, spec: KpiViewSpec) -> tuple[TargetStatus, ...]:
    if not spec.targets or not dataset.date_column:
        return ()
    last_day = store.date_range(dataset)
    out = []
    for target in spec.targets:
        kpi = lookup(target.kpi, spec.custom)
        query = KpiQuery(
            (kpi.id,), filters=target.filters, currency=target.currency, custom=spec.custom
        )  # the target's own rows, whatever the view filters
        value = period_values(store, dataset, query, target.start, target.deadline)[kpi.id]
        today = last_day[1] if last_day else target.deadline  # the pace is about the data
        where = pace(kpi, target, value, today)
        out.append(
            TargetStatus(
                kpi.id,
                kpi.name,
                kpi.unit,
                target.target,
                _iso(target.start),
                _iso(target.deadline),
                value,
                where.status,
                where.progress,
                where.elapsed,
                wording.pace_text(where),
                wording.target_scope(target.filters, target.currency),
            )
        )
    return tuple(out)
