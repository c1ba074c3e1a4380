"""Every setting that changes a number on the KPIs view, in one frozen spec.

The KPIs page, ``python -m kpi_engine kpis`` and a shared link build this spec. Custom KPIs
and targets are held by value, so a view means the same after they are edited or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from kpi_engine.aggregate_sql import GRAINS
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.explain.form import ratio_form
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.dashboard import Target
from kpi_engine.kpis.query import KpiQuery, kpi_availability, lookup
from kpi_engine.view_fields import ViewFields, custom_to_view, header

DEFAULT_KPIS = ("spend", "revenue", "roas", "cpa", "ctr")
TABLE_LIMIT = 1000  # a breakdown by a column with a million values shows the top 1,000


@dataclass(frozen=True)
class KpiViewSpec:
    PAGE: ClassVar[str] = "kpis"

    dataset_id: str
    kpis: tuple[str, ...]
    custom: tuple[Kpi, ...] = ()  # the custom KPIs the ids name, by value
    start: date | None = None
    end: date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column or role -> values kept
    currency: str | None = None  # several currencies: this one (else split by currency)
    by: tuple[str, ...] = ()  # the breakdown's columns (none: one row of totals)
    sort: str | None = None  # the breakdown sorted by this KPI, largest first
    limit: int | None = None  # at most this many breakdown rows
    grain: str | None = None  # a trend by day, week or month
    chart_kpi: str | None = None  # the KPI on the trend chart (default: the first)
    lines_by: str | None = None  # one trend line per value of this column (the largest 8)
    smooth: bool = False  # a daily trend's 7-day average and anomaly flags
    compare: tuple[date, date] | None = None  # a second period beside start..end
    targets: tuple[Target, ...] = ()  # targets to show with their pace, by value
    why: str | None = None  # explain this KPI's change against the previous period
    why_by: str | None = None  # ... split across this column into mix and rate
    why_period: tuple[date, date] | None = None  # ... of this period (a trend point), not start-end
    convert: bool = False  # every amount in ``currency``, at each row's day's exchange rate

    def __post_init__(self) -> None:
        if not self.kpis:
            raise KpiLabError("choose at least one KPI (see the catalog for the ids)")
        for kpi_id in self.kpis:
            lookup(kpi_id, self.custom)  # an unknown KPI says which exist
        for name, value in (("sort", self.sort), ("chart_kpi", self.chart_kpi), ("why", self.why)):
            if value is not None and value not in self.kpis:
                raise KpiLabError(f"{value!r} is not one of the KPIs chosen", name)
        if self.grain is not None and self.grain not in GRAINS:
            raise KpiLabError(f"{self.grain!r} is not a grain: use {', '.join(GRAINS)}", "grain")
        if self.limit is not None and self.limit < 1:
            raise KpiLabError(f"must be at least 1, not {self.limit}", "limit")
        if self.start and self.end and self.start > self.end:
            raise KpiLabError(f"{self.start} is after the end date {self.end}", "start")
        if self.compare is not None and self.compare[0] > self.compare[1]:
            raise KpiLabError(
                f"starts on {self.compare[0]}, after its end {self.compare[1]}", "compare"
            )
        if (self.why_by or self.why_period) and not self.why:
            raise KpiLabError("needs a KPI to explain", "why_by")
        if self.why_period is not None and self.why_period[0] > self.why_period[1]:
            raise KpiLabError(
                f"starts on {self.why_period[0]}, after its end {self.why_period[1]}",
                "why_period",
            )
        if self.why:
            ratio_form(lookup(self.why, self.custom))
        if self.smooth and (self.grain != "day" or self.lines_by):
            raise KpiLabError("needs a daily trend with a single line", "smooth")
        if self.convert and not self.currency:
            raise KpiLabError("is needed to show every amount in one currency", "currency")

    @property
    def query(self) -> KpiQuery:
        """The rows and KPIs every part of the view reads."""
        return KpiQuery(
            self.kpis,
            start=self.start,
            end=self.end,
            filters=self.filters,
            currency=self.currency,
            custom=self.custom,
            convert=self.convert,
        )

    @property
    def trend_kpi(self) -> str:
        return self.chart_kpi or self.kpis[0]

    def to_view(self) -> dict:
        return {
            **header(self.PAGE, self.dataset_id),
            "kpis": list(self.kpis),
            "custom": custom_to_view(self.custom),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "filters": {name: list(values) for name, values in self.filters},
            "currency": self.currency,
            "by": list(self.by),
            "sort": self.sort,
            "limit": self.limit,
            "grain": self.grain,
            "chart_kpi": self.chart_kpi,
            "lines_by": self.lines_by,
            "smooth": self.smooth,
            "compare": [_iso(d) for d in self.compare] if self.compare else None,
            "targets": [
                {
                    "kpi": t.kpi,
                    "target": t.target,
                    "start": _iso(t.start),
                    "deadline": _iso(t.deadline),
                    "filters": {name: list(values) for name, values in t.filters},
                    "currency": t.currency,
                }
                for t in self.targets
            ],
            "why": self.why,
            "why_by": self.why_by,
            "why_period": [_iso(d) for d in self.why_period] if self.why_period else None,
            "convert": self.convert,
        }

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> KpiViewSpec:
        f = ViewFields(view, cls.__dataclass_fields__)
        by = view.get("by")
        return cls(
            dataset_id=f.text("dataset_id") or "",
            kpis=f.texts("kpis"),
            custom=f.custom(),
            start=f.day("start"),
            end=f.day("end"),
            filters=f.filters("filters"),
            currency=f.text("currency"),
            by=(f.text("by"),) if isinstance(by, str) else f.texts("by"),
            sort=f.text("sort"),
            limit=f.integer("limit", 0) or None,
            grain=f.text("grain"),
            chart_kpi=f.text("chart_kpi"),
            lines_by=f.text("lines_by"),
            smooth=f.flag("smooth"),
            compare=_period(f, view.get("compare")),
            targets=tuple(_target(t) for t in view.get("targets") or ()),
            why=f.text("why"),
            why_by=f.text("why_by"),
            why_period=_period(f, view.get("why_period"), "why_period"),
            convert=f.flag("convert"),
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _period(f: ViewFields, value: object, name: str = "compare") -> tuple[date, date] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise KpiLabError(f"must be two dates, from and to, not {value!r}", name)
    first = ViewFields({name: value[0]}, [name]).day(name)
    last = ViewFields({name: value[1]}, [name]).day(name)
    if first is None or last is None:
        raise KpiLabError(f"must be two dates, from and to, not {value!r}", name)
    return first, last


def _target(item: object) -> Target:
    if not isinstance(item, dict):
        raise KpiLabError(
            f"must be objects with kpi, target, start, deadline, not {item!r}", "targets"
        )
    f = ViewFields(item, ("kpi", "target", "start", "deadline", "filters", "currency"))
    start, deadline, value = f.day("start"), f.day("deadline"), f.number("target")
    if start is None or deadline is None or value is None or not f.text("kpi"):
        raise KpiLabError(f"need a kpi, a target, a start and a deadline, not {item!r}", "targets")
    return Target(
        f.text("kpi") or "", value, start, deadline, f.filters("filters"), f.text("currency")
    )


def default_kpis(dataset: Dataset, custom: tuple[Kpi, ...] = ()) -> tuple[str, ...]:
    """Five KPIs the dataset can compute, the usual campaign ones first."""
    needs = kpi_availability(dataset, custom)
    available = [k for k, missing in needs.items() if not missing]
    chosen = [k for k in DEFAULT_KPIS if k in available]
    chosen += [k for k in available if k not in chosen][: max(0, 5 - len(chosen))]
    return tuple(chosen)


def default_spec(dataset: Dataset) -> KpiViewSpec:
    """The KPIs page as it first opens: default KPIs by the first dimension, all dates, by day."""
    dims = dataset.dimensions
    kpis = default_kpis(dataset)
    return KpiViewSpec(
        dataset.dataset_id,
        kpis,
        by=(dims[0],) if dims else (),
        sort=kpis[0] if dims else None,
        limit=TABLE_LIMIT if dims else None,
        grain="day" if dataset.date_column else None,
    )


def from_legacy_view(view: dict[str, Any], custom: tuple[Kpi, ...]) -> KpiViewSpec:
    """A KPIs view saved before views had versions: ``by`` was one column (the breakdown,
    sorted by the first KPI, top 1,000), custom KPIs were named by id only (``custom`` gives
    the workspace's definitions) and the trend showed the first KPI."""
    f = ViewFields(view, ("kpis", "by", "grain", "start", "end", "filters", "currency"))
    kpis = f.texts("kpis")
    by = f.text("by")
    return KpiViewSpec(
        f.text("dataset_id") or "",
        kpis,
        tuple(k for k in custom if k.id in kpis),
        f.day("start"),
        f.day("end"),
        f.filters("filters"),
        f.text("currency"),
        (by,) if by else (),
        kpis[0] if by and kpis else None,
        TABLE_LIMIT if by else None,
        f.text("grain"),
    )
