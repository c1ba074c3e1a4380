"""Capping (winsorising) settings as a user writes them: ``p99`` caps at the 99th percentile,
``p1:p99`` at both ends, ``0:500`` or ``:500`` at numbers. Percentiles are taken over every
unit of the analysis, pooled across variants (see METHODS.md)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kpi_engine.aggregate_sql import Cap
from kpi_engine.errors import KpiLabError
from kpi_engine.typed_json import finite

if TYPE_CHECKING:
    import pandas as pd

    from kpi_engine.experiments.result import CapSummary
    from kpi_engine.experiments.spec import ExperimentSpec

EXAMPLES = "p99, p1:p99, 0:500 or :500"


def _bound(text: str, spec: str) -> tuple[float | None, bool]:
    text = text.strip().lower()
    if not text:
        return None, False
    pct = text.startswith("p")
    try:
        value = float(text[1:] if pct else text)
    except ValueError:
        raise KpiLabError(f"{spec!r} is not a cap: write {EXAMPLES}", "caps") from None
    if not math.isfinite(value) or (pct and not 0 <= value <= 100):
        raise KpiLabError(
            f"{spec!r}: a percentile is between p0 and p100, a number is finite", "caps"
        )
    return (value / 100 if pct else value), pct


def parse_cap(spec: str) -> Cap:
    """The cap a setting such as ``p1:p99`` names, or an error naming the field."""
    lower_text, colon, upper_text = spec.partition(":")
    if not colon:
        lower_text, upper_text = "", lower_text
    lower, lower_pct = _bound(lower_text, spec)
    upper, upper_pct = _bound(upper_text, spec)
    if lower is None and upper is None:
        raise KpiLabError(f"{spec!r} caps nothing: write {EXAMPLES}", "caps")
    if lower is not None and upper is not None and lower_pct == upper_pct and lower > upper:
        raise KpiLabError(f"{spec!r}: the lower cap is above the upper one", "caps")
    return Cap(lower, upper, lower_pct, upper_pct)


def cap_summaries(by_day: pd.DataFrame, spec: ExperimentSpec) -> dict[str, CapSummary]:
    """Per capped KPI: the cap values used (the same in every row of the sums) and the units
    beyond a cap."""
    from kpi_engine.experiments.result import CapSummary  # not needed to parse a cap

    out = {}
    index = {kpi: i for i, kpi in enumerate(spec.compared)}
    for kpi, _ in spec.caps:
        i = index[kpi]
        lm, hm, ld, hd = (_used(by_day, f"{name}{i}") for name in ("lm", "hm", "ld", "hd"))
        out[kpi] = CapSummary(lm, hm, int(by_day[f"c{i}"].sum()), ld, hd)
    return out


def _used(by_day: pd.DataFrame, column: str) -> float | None:
    return finite(by_day[column].max()) if column in by_day else None
