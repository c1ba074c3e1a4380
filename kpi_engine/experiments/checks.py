"""Checks of the test's design: is the split as intended (overall and day by day), does a
drifting split make the pooled result lie (Simpson), do the guardrail KPIs hold?"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as st

from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import wording
from kpi_engine.experiments.result import Guardrail, KpiComparison, Notice, SplitCheck
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats.srm import SRM_ALPHA, srm_check


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
    bad_days = []
    per_day = sums.dropna(subset=["day"])
    for day, part in per_day.groupby("day"):
        day_counts = [float(part.loc[part["variant"] == v, "n"].sum()) for v in order]
        if min(day_counts) > 0 and srm_check(day_counts, weights).p_value < SRM_ALPHA:
            bad_days.append(str(pd.Timestamp(day).date()))
    if bad_days:
        notices.append(
            Notice(
                "srm_by_day", len(bad_days), wording.split_drift(len(bad_days)), tuple(bad_days[:3])
            )
        )
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


def simpson(sums: pd.DataFrame, i: int, spec: ExperimentSpec, others: list[str]) -> list[Notice]:
    """When the split changes from day to day, a pooled comparison can point the wrong way:
    compare it with the day-stratified (post-stratified) difference, at the spec's alpha."""
    per_day = sums.dropna(subset=["day"])
    if per_day["day"].nunique() < 2:
        return []
    z = st.norm.ppf(1 - spec.alpha / 2)
    out = []
    for variant in others:
        table = per_day[per_day["variant"].isin([spec.control, variant])]
        pivot_n = table.pivot_table(
            index="day", columns="variant", values="n", aggfunc="sum"
        ).dropna()
        if len(pivot_n) < 2:
            continue
        pivot_m = table.pivot_table(
            index="day", columns="variant", values=f"m{i}", aggfunc="sum"
        ).loc[pivot_n.index]
        shares = pivot_n[variant] / pivot_n.sum(axis=1)
        _, p_split, _, _ = st.chi2_contingency(pivot_n.values.T)
        pa = pivot_m[spec.control] / pivot_n[spec.control]
        pb = pivot_m[variant] / pivot_n[variant]
        w = pivot_n.sum(axis=1) / pivot_n.values.sum()
        stratified = float((w * (pb - pa)).sum())
        var = float(
            (
                w**2 * (pa * (1 - pa) / pivot_n[spec.control] + pb * (1 - pb) / pivot_n[variant])
            ).sum()
        )
        pooled = float(
            pivot_m[variant].sum() / pivot_n[variant].sum()
            - pivot_m[spec.control].sum() / pivot_n[spec.control].sum()
        )
        se = math.sqrt(var) if var > 0 else math.nan
        disagree = (stratified * pooled < 0) or (
            se and (abs(stratified) > z * se) != (abs(pooled) > z * se)
        )
        if p_split < SRM_ALPHA and disagree:
            message = wording.simpson(variant, shares.min(), shares.max(), stratified, pooled)
            out.append(Notice("simpson", 1, message))
    return out


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
