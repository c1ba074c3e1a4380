"""The data behind an experiment's charts, derived from its result (nothing is queried)."""

from __future__ import annotations

import math
from bisect import bisect_right

import pandas as pd

from kpi_engine.experiments.pairs import enough, enough_to_compare
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.stats.lifts import compare_arms, untestable

LIFT_COLUMNS = ["day", "kpi", "variant", "rel_lift", "ci_low", "ci_high"]


def forest_rows(result: ExperimentResult) -> pd.DataFrame:
    """One row per KPI and variant with the relative lift and its CI (a forest plot)."""
    rows = [
        {
            "label": f"{result.kpi(r.kpi).name} · {r.variant}",
            "kpi": r.kpi,
            "variant": r.variant,
            "rel_lift": r.rel_lift,
            "ci_low": r.ci_rel[0],
            "ci_high": r.ci_rel[1],
            "significant": r.significant,
            "direction": r.direction,
        }
        for r in result.results
        if r.has_interval and r.rel_lift is not None
    ]
    return pd.DataFrame(rows)


def week_rows(result: ExperimentResult) -> pd.DataFrame:
    """The lift by week since exposure, where it has an interval."""
    rows = [
        {
            "kpi": w.kpi,
            "variant": w.variant,
            "week": w.week,
            "rel_lift": w.rel_lift,
            "ci_low": w.ci_rel[0],
            "ci_high": w.ci_rel[1],
        }
        for w in result.by_exposure_week
        if w.rel_lift is not None and w.ci_rel[0] is not None and w.ci_rel[1] is not None
    ]
    return pd.DataFrame(rows, columns=["kpi", "variant", "week", "rel_lift", "ci_low", "ci_high"])


def daily_values(result: ExperimentResult) -> pd.DataFrame:
    """Each KPI's value per day and variant, where the day holds enough users (and
    conversions) to say something. A campaign's day is measured whole, not sampled: its
    value always shows."""
    measured = result.data.kind == "campaign"
    rows = [
        {"day": d.day, "variant": d.variant, "kpi": d.kpi, "value": d.stats.value * d.scale}
        for d in result.daily
        if measured or enough(d.stats)
    ]
    return pd.DataFrame(rows, columns=["day", "variant", "kpi", "value"])


def cumulative_lifts(result: ExperimentResult) -> pd.DataFrame:
    """The relative lift and its CI as the days accumulate, per KPI and variant, by the
    headline's test. A line starts once both arms hold enough units (and conversions) to
    estimate from, and each point has a finite interval."""
    running: dict[tuple[str, str], list] = {}
    for d in sorted(result.daily, key=lambda d: d.day):
        days, totals = running.setdefault((d.kpi, d.variant), ([], []))
        days.append(d.day)
        totals.append(d.stats if not totals else totals[-1] + d.stats)
    out = []
    for (kpi_id, variant), (days, totals) in running.items():
        if variant == result.control:
            continue
        base_days, base = running.get((kpi_id, result.control), ([], []))
        for day, b in zip(days, totals, strict=True):
            at = bisect_right(base_days, day) - 1  # the control's running total on that day
            if at < 0:
                continue
            a = base[at]
            if not enough_to_compare(a, b) or untestable(a, b) is not None:
                continue
            rel = compare_arms(a, b, result.alpha).relative
            if not (math.isfinite(rel.ci[0]) and math.isfinite(rel.ci[1])):
                continue
            out.append(
                {
                    "day": day,
                    "kpi": kpi_id,
                    "variant": variant,
                    "rel_lift": rel.estimate,
                    "ci_low": rel.ci[0],
                    "ci_high": rel.ci[1],
                }
            )
    frame = pd.DataFrame(out, columns=LIFT_COLUMNS)
    return frame.sort_values(["kpi", "variant", "day"], kind="stable").reset_index(drop=True)
