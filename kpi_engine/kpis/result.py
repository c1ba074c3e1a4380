"""What the KPIs view computes: typed, and its JSON has the same shape (``to_dict``/
``from_dict``). Dates are ISO text and table cells plain JSON values, so a frozen result
reads back exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kpi_engine.annotations.annotation import Annotation
from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.explain.result import Explanation
from kpi_engine.typed_json import from_json, to_json


@dataclass(frozen=True)
class KpiMeta:
    id: str
    name: str
    unit: str
    direction: str
    formula: str
    description: str
    pitfall: str
    vanity: bool
    additive: bool  # a plain sum: it adds up over groups (a ratio does not)


@dataclass(frozen=True)
class KpiCard:
    """A KPI over the view's rows, against the previous period of the same length."""

    kpi: str
    value: float | None
    previous: float | None = None
    change: float | None = None
    sparkline: tuple[float, ...] = ()  # daily values
    typical: str | None = None  # "typical for search: 3.52%–6.42%" where the data's channel says


@dataclass(frozen=True)
class Mover:
    group: str
    before: float | None
    now: float | None
    change: float


@dataclass(frozen=True)
class Movers:
    """The groups whose first KPI improved and worsened most against the previous period."""

    kpi: str
    by: str
    better: tuple[Mover, ...]
    worse: tuple[Mover, ...]
    among: int | None = None  # set when only the groups with the most spend were compared


@dataclass(frozen=True)
class TrendLine:
    name: str
    periods: tuple[str, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Trend:
    kpi: str
    grain: str
    lines: tuple[TrendLine, ...]
    smooth: bool = False  # with its 7-day average and anomaly flags (kpis/charts.py)
    lines_by: str | None = None
    groups: int | None = None  # how many groups exist when lines are drawn per group
    more_groups: bool = False  # there are more groups than ``groups`` (counted up to a cap)
    excluded: tuple[str, ...] = ()  # days notes leave out of baselines (anomaly flags)


@dataclass(frozen=True)
class PeriodRow:
    kpi: str
    period_a: float | None
    period_b: float | None
    change: float | None


@dataclass(frozen=True)
class PeriodComparison:
    a: tuple[str, str]
    b: tuple[str, str]
    rows: tuple[PeriodRow, ...]


@dataclass(frozen=True)
class TargetStatus:
    kpi: str
    name: str
    unit: str
    target: float
    start: str
    deadline: str
    value: float | None
    status: str  # reached, on track, at risk, behind, missed, no data
    progress: float | None
    elapsed: float
    text: str
    scope: str = ""  # the rows it counts (its filters when set), empty for all


@dataclass(frozen=True)
class KpiViewResult:
    dataset_id: str
    kpis: tuple[KpiMeta, ...]
    rows: tuple[dict[str, Any], ...]  # the breakdown (or one row of totals): column -> value
    by: tuple[str, ...] = ()
    truncated: bool = False  # the breakdown stopped at the spec's limit
    start: str | None = None
    end: str | None = None
    previous: tuple[str, str] | None = None  # the period the cards compare with
    days: tuple[int, int] | None = None  # days with data: (selected period, previous period)
    compared: bool = False  # the previous period has data on enough days to compare with
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None
    cards: tuple[KpiCard, ...] = ()
    movers: Movers | None = None
    trend: Trend | None = None
    compare: PeriodComparison | None = None
    targets: tuple[TargetStatus, ...] = ()
    why: Explanation | None = None  # why the spec's ``why`` KPI changed
    dropped: tuple[tuple[str, int], ...] = ()  # days of the view with rows dropped at import
    annotations: tuple[Annotation, ...] = ()  # notes and events on the trend's dates
    conversion: ConversionNote | None = None  # how amounts became ``currency``

    def kpi(self, kpi_id: str) -> KpiMeta:
        return next(k for k in self.kpis if k.id == kpi_id)

    def to_dict(self) -> dict:
        return to_json(self)

    @classmethod
    def from_dict(cls, data: dict) -> KpiViewResult:
        return from_json(cls, data)
