"""The data behind the KPIs view's trend chart beyond its lines, derived from the result."""

from __future__ import annotations

import pandas as pd

from kpi_engine.kpis.dashboard import anomalies, rolling_mean
from kpi_engine.kpis.result import Trend, TrendLine
from kpi_engine.typed_json import finite

AVERAGE = "7-day average"
ANOMALY = "anomaly"


def _series(line: TrendLine) -> pd.Series:
    return pd.Series(
        [float("nan") if v is None else v for v in line.values], index=list(line.periods)
    )


def _line(name: str, series: pd.Series) -> TrendLine:
    return TrendLine(name, tuple(series.index), tuple(finite(v) for v in series))


def average(trend: Trend) -> TrendLine | None:
    """A smoothed trend's 7-day average."""
    if not trend.smooth:
        return None
    return _line(AVERAGE, rolling_mean(_series(trend.lines[0])))


def anomaly_days(trend: Trend) -> TrendLine | None:
    """A smoothed trend's days outside the median of the previous 14 days ± 3.5 scaled MADs."""
    if not trend.smooth:
        return None
    series = _series(trend.lines[0])
    excluded = pd.Series([str(day)[:10] in trend.excluded for day in series.index], series.index)
    flags = anomalies(series, excluded=excluded)
    return _line(ANOMALY, flags.loc[flags["anomaly"], "value"])
