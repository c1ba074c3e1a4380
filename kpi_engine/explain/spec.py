"""The question "why did this KPI change?": one KPI, two periods, optionally a dimension."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.dashboard import DEFAULT_DAYS, last_complete_days, previous_period
from kpi_engine.kpis.query import lookup


@dataclass(frozen=True)
class ExplainSpec:
    dataset_id: str
    kpi: str
    period: tuple[date, date]
    vs: tuple[date, date]
    by: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None
    custom: tuple[Kpi, ...] = ()  # the custom KPI the id names, by value
    convert: bool = False  # every amount in ``currency``, at each row's day's exchange rate

    def __post_init__(self) -> None:
        lookup(self.kpi, self.custom)
        if self.convert and not self.currency:
            raise KpiLabError("is needed to show every amount in one currency", "currency")
        for name, (first, last) in (("period", self.period), ("vs", self.vs)):
            if first > last:
                raise KpiLabError(f"starts on {first}, after its end {last}", name)


def periods(
    data_range: tuple[date, date] | None,
    period: tuple[date, date] | None = None,
    vs: tuple[date, date] | None = None,
    today: date | None = None,
) -> tuple[tuple[date, date], tuple[date, date]]:
    """The periods a question left open: the data's last 28 complete days (the KPIs page's
    default), else its last 28 days; and as many days just before the period."""
    if period is None:
        if data_range is None:
            raise KpiLabError("this dataset has no dated rows: give the periods", "period")
        period = last_complete_days(data_range, today or date.today()) or (
            data_range[1] - timedelta(days=DEFAULT_DAYS - 1),
            data_range[1],
        )
    return period, vs or previous_period(*period)
