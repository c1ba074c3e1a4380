"""Checks of the test's design: is the split as intended (overall and day by day), does a
drifting split make the pooled result lie (Simpson), do the guardrail KPIs hold?"""

from __future__ import annotations

import pandas as pd
from scipy import stats as st

from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import wording
from kpi_engine.experiments.pairs import Pair
from kpi_engine.experiments.result import Guardrail, KpiComparison, Notice, SplitCheck
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats.compare import Comparison
from kpi_engine.stats.srm import SRM_ALPHA, srm_check
from kpi_engine.stats.stratified import split_changed
from kpi_engine.stats.sufficient import ArmStats


def split_check(
    sums: pd.DataFrame, totals: pd.DataFrame, order: list[str], spec: ExperimentSpec, kind: str
) -> tuple[SplitCheck, list[Notice]]:
    """Chi-square of units per variant against the intended split, overall and per day."""
    weights = list(spec.split) if spec.split else None
    if weights is not None and len(weights) != len(order):
        raise KpiLabError(
            f"has {len(weights)} shares for {len(order)} variants ({', '.join(order)}): give one"
            " per variant, control first",
            "split",
        )
    if kind == "campaign":
        return SplitCheck(False, reason=wording.NO_SPLIT_CHECK), []
    counts = [float(totals.loc[v, "n"]) for v in order]
    result = srm_check(counts, weights)
    notices = []
    if result.flag:
        notices.append(Notice("srm", 1, wording.srm_mismatch(result.p_value)))
    bad_days, table = [], []
    per_day = sums.dropna(subset=["day"])
    for day, part in per_day.groupby("day"):
        day_counts = [float(part.loc[part["variant"] == v, "n"].sum()) for v in order]
        if min(day_counts) > 0:
            table.append(day_counts)
            if srm_check(day_counts, weights).p_value < SRM_ALPHA:
                bad_days.append(str(pd.Timestamp(day).date()))
    if bad_days:
        # the same off split every day is a wrong intended split, not a drift
        constant = len(table) < 2 or st.chi2_contingency(table)[1] >= SRM_ALPHA
        message = wording.split_drift(len(bad_days), constant)
        notices.append(Notice("srm_by_day", len(bad_days), message, tuple(bad_days[:3])))
    check = SplitCheck(
        True,
        result.p_value,
        result.flag,
        result.chi2,
        dict(zip(order, counts, strict=True)),
        dict(zip(order, result.expected_share, strict=True)),
        tuple(bad_days),
    )
    return check, notices


def simpson(
    variant: str,
    strata: list[tuple[ArmStats, ArmStats]],
    pair: Pair,
    stratified: Comparison,
    alpha: float,
) -> list[Notice]:
    """When the split changes from day to day, a pooled comparison can point the wrong way:
    warn when the split changed (p < 0.001) and the day-stratified difference disagrees with
    the pooled one in sign or in significance at ``alpha``."""
    if len(strata) < 2 or split_changed(strata) >= SRM_ALPHA:
        return []
    z = st.norm.ppf(1 - alpha / 2)
    pooled = pair.treated.value - pair.control.value
    se = stratified.se
    disagree = stratified.estimate * pooled < 0 or (
        bool(se) and (abs(stratified.estimate) > z * se) != (abs(pooled) > z * se)
    )
    if not disagree:
        return []
    shares = [b.n / (a.n + b.n) for a, b in strata]
    message = wording.simpson(variant, min(shares), max(shares), stratified.estimate, pooled)
    return [Notice("simpson", 1, message)]


def guardrails(results: list[KpiComparison], spec: ExperimentSpec) -> list[Guardrail]:
    """A guardrail passes when the worst end of its interval is within the allowed loss."""
    out = []
    for kpi_id, limit in spec.guardrails:
        for r in results:
            if r.kpi != kpi_id or not r.has_interval:
                continue
            worst = -r.ci_rel[1] if r.direction == "lower" else r.ci_rel[0]
            out.append(
                Guardrail(kpi_id, r.variant, limit, worst, "pass" if worst >= -limit else "fail")
            )
    return out
