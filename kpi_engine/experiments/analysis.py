"""An A/B/n experiment on a dataset: one query of sufficient statistics (units seen in several
variants excluded, values capped, CUPED covariates summed), the right test per KPI (see
METHODS.md), the day-stratified estimate beside the pooled one, non-inferiority, corrections
over the family the user chose, the design checks, segments, lift by week since exposure,
power, and a sentence per result."""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace

import pandas as pd
from scipy import stats as st

from kpi_engine.currencies.convert import note_if
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import applicable, checks, wording
from kpi_engine.experiments.capping import cap_summaries
from kpi_engine.experiments.exposure_weeks import week_lifts
from kpi_engine.experiments.pairs import Pair, pair_of
from kpi_engine.experiments.result import (
    DailyArm,
    DataSummary,
    ExperimentResult,
    KpiComparison,
    KpiInfo,
    LiftSummary,
    Notice,
    PowerSummary,
    TestDetails,
    WeekLift,
)
from kpi_engine.experiments.segments import segment_results
from kpi_engine.experiments.shapes import KpiShape, data_kind, kpi_shape
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.experiments.sums import (
    Sums,
    arm,
    exposures,
    fetch_sums,
    fetch_weeks,
    has_history,
)
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.query import lookup
from kpi_engine.stats import compare, lifts
from kpi_engine.stats.multiple import adjust
from kpi_engine.stats.power import POWER, days_needed, reachable_mde, sample_size_per_arm
from kpi_engine.stats.stratified import post_stratified
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO, ArmStats
from kpi_engine.store import Store
from kpi_engine.typed_json import finite

MAX_VARIANTS = 20
FAMILY_KEY = {
    "both": lambda r: 0,
    "variants": lambda r: r.kpi,
    "kpis": lambda r: r.variant,
}


def run_experiment(store: Store, dataset: Dataset, spec: ExperimentSpec) -> ExperimentResult:
    """The analysis of ``spec`` on ``dataset`` (the spec's dataset, or a frozen copy of it)."""
    kind = data_kind(dataset, spec.unit_col)
    kpis = {k: lookup(k, spec.custom) for k in spec.compared}
    shapes = {k: kpi_shape(kpi, dataset, kind) for k, kpi in kpis.items()}
    applicable.check(spec, dataset, kind, shapes)
    sums = fetch_sums(store, dataset, spec, kind, shapes)
    order = _variants(sums.by_day, spec)
    totals = sums.by_day.drop(columns="day").groupby("variant").sum(numeric_only=True)
    if (totals["n"] <= 0).any():
        raise KpiLabError("a variant has zero users or units: check the variant column")
    warnings = _exposure_notices(store, dataset, spec, kind) + _history_notices(dataset, spec, kind)
    warnings += _missing_notices(dataset, shapes)
    srm, notices = checks.split_check(sums.by_day, totals, order, spec, kind)
    warnings += notices
    days = sums.by_day["day"].dropna().nunique()
    results = []
    day_rows = _rows_by_day(sums.by_day)
    for i, (kpi_id, shape) in enumerate(shapes.items()):
        control = totals.loc[spec.control].to_dict()
        for variant in order[1:]:
            pair = pair_of(kind, control, totals.loc[variant].to_dict(), i, shape)
            if spec.cuped and _no_rows_before(pair):
                pair = Pair(pair.control, pair.treated)  # nothing to adjust with
                if not any(w.code == "empty_pre_period" for w in warnings):
                    notice = wording.empty_pre_period(spec.pre_days, spec.start is None)
                    warnings.append(Notice("empty_pre_period", 0, notice))
            result = compare_pair(kpis[kpi_id], shape, pair, variant, spec, kind, days)
            if shape.kind == RATIO:  # days are the units already: nothing to stratify
                results.append(result)
                continue
            strata = _strata(day_rows, kind, i, shape, spec.control, variant)
            stratified = post_stratified(strata, spec.alpha, shape.nonnegative)
            if stratified is not None:
                result = replace(result, stratified=_summary(stratified))
                if shape.kind == PROPORTION:
                    warnings += checks.simpson(
                        variant, strata, pair, stratified.difference, spec.alpha
                    )
            results.append(result)
    say = wording.verdict
    results = [
        replace(r, verdict=say(r, kpis[r.kpi].name, spec.alpha, spec.correction, spec.mde))
        for r in _adjust(results, spec)
    ]
    units = {"users": "users", "totals": "users", "campaign": "days"}[kind]
    if kind == "campaign" and spec.unit_col:
        units = f"days x {spec.unit_col}"
    return ExperimentResult(
        data=DataSummary(kind, tuple(order), units),
        control=spec.control,
        alpha=spec.alpha,
        kpis=tuple(KpiInfo(k.id, k.name, k.unit, k.direction) for k in kpis.values()),
        srm=srm,
        results=tuple(results),
        guardrails=tuple(checks.guardrails(results, spec)),
        power=_power(results, totals, spec, days),
        warnings=tuple(warnings),
        daily=_daily(sums.by_day, shapes, kind),
        capping=cap_summaries(sums.by_day, spec),
        segments=segment_results(sums.by_segment, totals, order, shapes, kind, spec),
        by_exposure_week=_weeks(store, dataset, spec, kind, shapes, sums, order)
        if spec.weeks
        else (),
        conversion=note_if(store, dataset, spec.convert, spec.currency, (spec.start, spec.end)),
    )


def _exposure_notices(
    store: Store, dataset: Dataset, spec: ExperimentSpec, kind: str
) -> list[Notice]:
    shared, units = exposures(store, dataset, spec, kind)
    if not shared:
        return []
    kept = spec.keep_multiple_exposures
    return [Notice("multiple_exposures", shared, wording.multiple_exposures(shared, units, kept))]


def _missing_notices(dataset: Dataset, shapes: dict[str, KpiShape]) -> list[Notice]:
    """Empty cells the import found in a column these KPIs add up: they count as 0."""
    used = {c for shape in shapes.values() for c in (shape.num, shape.den) if c}
    out = []
    for found in dataset.report.get("warnings", []):
        role = str(found.get("code", "")).removeprefix("missing_")
        column = dataset.roles.get(role)
        if found.get("code", "").startswith("missing_") and column in used:
            count = int(found.get("count", 0))
            out.append(Notice("missing_values", count, wording.missing_values(count, column)))
    return out


def _history_notices(dataset: Dataset, spec: ExperimentSpec, kind: str) -> list[Notice]:
    if spec.cuped and kind == "users" and not has_history(dataset, spec):
        return [Notice("no_pre_period", 0, wording.NO_PRE_PERIOD)]
    return []


def _no_rows_before(pair: Pair) -> bool:
    """CUPED on earlier rows found none in either arm (a column covariate may be 0, rows
    cannot all be missing)."""
    if not pair.adjusted:
        return False
    return not any((pair.control_x.sumsq_x, pair.treated_x.sumsq_x))


def _rows_by_day(by_day: pd.DataFrame) -> list[dict[str, dict]]:
    """Per day (in order): the sums' row of each variant."""
    days: dict = {}
    for row in by_day.dropna(subset=["day"]).to_dict(orient="records"):
        days.setdefault(row["day"], {})[row["variant"]] = row
    return [days[d] for d in sorted(days)]


def _strata(
    day_rows: list[dict[str, dict]], kind: str, i: int, shape: KpiShape, control: str, variant: str
) -> list[tuple[ArmStats, ArmStats]]:
    """Per day with units in both arms: (control, variant) sufficient statistics."""
    return [
        (arm(kind, arms[control], i, shape), arm(kind, arms[variant], i, shape))
        for arms in day_rows
        if control in arms and variant in arms
    ]


def _summary(lift: lifts.Lift) -> LiftSummary:
    rel = lift.relative
    return LiftSummary(finite(rel.estimate), _pair(rel.ci), finite(lift.difference.p_value))


def _weeks(
    store: Store,
    dataset: Dataset,
    spec: ExperimentSpec,
    kind: str,
    shapes: dict[str, KpiShape],
    sums: Sums,
    order: list[str],
) -> tuple[WeekLift, ...]:
    """Lift by week since exposure, where some unit's rows span a week or more."""
    if kind != "users" or "span" not in sums.by_day or not sums.by_day["span"].max() >= 7:
        return ()
    frame, last_day = fetch_weeks(store, dataset, spec, shapes)
    return week_lifts(frame, sums.by_day, last_day, order, shapes, spec.alpha)


def _variants(sums: pd.DataFrame, spec: ExperimentSpec) -> list[str]:
    """The variants, control first, others in alphabetical order."""
    variants = sorted(sums["variant"].unique().tolist())
    if not variants and (spec.start or spec.end):
        raise KpiLabError(
            f"leaves no rows of this test (from {spec.start or 'the start'} to"
            f" {spec.end or 'the end'}): widen the test dates",
            "start",
        )
    if not variants:
        raise KpiLabError(f"{spec.variant_col!r} is empty in every row", "variant_col")
    if spec.control not in variants:
        raise KpiLabError(
            f"{spec.control!r} is not a variant in column {spec.variant_col!r}: the variants"
            f" are {', '.join(variants) or 'none'}",
            "control",
        )
    if len(variants) > MAX_VARIANTS:
        raise KpiLabError(
            f"{spec.variant_col!r} has {len(variants):,} values: an experiment compares a few"
            f" variants (at most {MAX_VARIANTS}); choose the column that names them",
            "variant_col",
        )
    if len(variants) < 2:
        raise KpiLabError(
            f"{spec.variant_col!r} has a single variant ({spec.control}): an experiment needs"
            " at least two",
            "variant_col",
        )
    return [spec.control, *(v for v in variants if v != spec.control)]


def compare_pair(
    kpi: Kpi,
    shape: KpiShape,
    pair: Pair,
    variant: str,
    spec: ExperimentSpec,
    kind: str,
    days: int,
) -> KpiComparison:
    """The one test that fits the KPI (``stats.lifts``), and every number of the result from
    it; the verdict and the adjusted p-value come later. A KPI without a test says why."""
    alpha, scale = spec.alpha, shape.scale
    control, treated = pair.control, pair.treated
    common = {
        "kpi": kpi.id,
        "variant": variant,
        "direction": kpi.direction,
        "control_value": finite(control.value * scale),
        "variant_value": finite(treated.value * scale),
        "abs_lift": finite((treated.value - control.value) * scale),
        "rel_lift": finite(treated.value / control.value - 1) if control.value else None,
        "n_control": float(control.n),
        "n_variant": float(treated.n),
        "p_value_adjusted": None,
        "significant": False,
    }
    reason = pair.reason
    if reason:
        return _estimate_only(common, reason)
    n_total = control.n + treated.n
    sequence = (n_total, spec.tuning) if spec.sequential else None
    lift = pair.lift(alpha, shape.nonnegative, sequence=sequence)
    diff, rel = lift.difference, lift.relative
    details = TestDetails(finite(rel.se), finite(diff.se * scale), finite(diff.dof))
    extra: dict = {}
    if pair.adjusted:
        plain = pair.lift(alpha, shape.nonnegative, adjusted=False, sequence=sequence)
        reduction = 1 - diff.se**2 / plain.difference.se**2 if plain.difference.se else None
        extra = {"variance_reduction": finite(reduction), "unadjusted": _summary(plain)}
        common["abs_lift"] = finite(diff.estimate * scale)
        common["rel_lift"] = finite(rel.estimate)
        method = wording.method_cuped(reduction, dict(spec.covariates).get(kpi.id), spec.pre_days)
    elif lift.method == lifts.SCORE:
        z, _ = lifts.score_test(control, treated)
        small = lifts.small_counts(control, treated)
        fisher = lifts.fisher_p(control, treated) if small else None
        details = replace(details, z=finite(z), fisher_p=finite(fisher))
        method = wording.method_proportion(fisher)
    elif shape.kind == MEAN:
        method = wording.method_mean()
    else:
        unit_name = "days" if kind == "campaign" else "users"
        method = wording.method_ratio(int(n_total), unit_name, diff.dof)
    if spec.cuped and shape.kind == RATIO and kind == "users":
        method += wording.NO_CUPED_FOR_RATIO
    if spec.sequential:
        method += wording.method_sequential(spec.tuning)
    if lift.relative_reason:
        method += wording.no_relative_interval(lift.relative_reason)
    higher = kpi.direction != "lower"
    chance = lift.chance_to_beat if higher else 1 - lift.chance_to_beat
    control_value = pair.arms()[0].value
    return KpiComparison(
        **common,
        ci_abs=_pair((diff.ci[0] * scale, diff.ci[1] * scale)),
        ci_rel=_pair(rel.ci),
        p_value=finite(diff.p_value),
        chance_to_beat=finite(chance),
        expected_loss=finite(lifts.expected_loss(lift, control_value, higher)),
        method=method + wording.bayes(lift.method),
        enough_data=pair.enough,
        days_more=_days_more(shape, pair, rel, days, spec),
        details=details,
        **extra,
        **_non_inferiority(kpi, pair, diff.dof, spec),
    )


def _estimate_only(common: dict, reason: str) -> KpiComparison:
    """Values and lifts without an interval, and why (no variance, too few units...)."""
    return KpiComparison(
        **common,
        ci_abs=(None, None),
        ci_rel=(None, None),
        p_value=None,
        chance_to_beat=None,
        expected_loss=None,
        method=wording.method_estimate_only(reason),
        enough_data=False,
        days_more=None,
        details=None,
    )


def _non_inferiority(kpi: Kpi, pair: Pair, dof: float, spec: ExperimentSpec) -> dict:
    """The one-sided test at the KPI's margin (fixed horizon, unadjusted), when asked:
    "the variant is no better than (1 - margin) x the control" where higher is better."""
    margin = dict(spec.non_inferiority).get(kpi.id)
    if margin is None:
        return {}
    higher = kpi.direction != "lower"
    control, treated = pair.arms()
    ratio = 1 - margin if higher else 1 + margin
    p_value = lifts.ratio_p_value(control, treated, ratio, higher, dof)
    return {
        "margin": margin,
        "p_non_inferiority": finite(p_value),
        "non_inferior": bool(p_value < spec.alpha),
    }


def _pair(values) -> tuple[float | None, float | None]:
    return finite(values[0]), finite(values[1])


def _days_more(
    shape: KpiShape, pair: Pair, rel: compare.Comparison, days: int, spec: ExperimentSpec
) -> float | None:
    """More days at the current traffic until the test could detect the smallest lift worth
    detecting (``spec.mde``) with 80% power: for a conversion rate the power planner's own
    sample size, otherwise the relative lift's standard error shrinking with the square
    root of the units. 0 when the test already has enough."""
    control, treated = pair.control, pair.treated
    n_now = min(control.n, treated.n)
    if not days or not n_now:
        return None
    needed = None
    if shape.kind == PROPORTION and not pair.adjusted:
        with contextlib.suppress(KpiLabError):
            needed = math.ceil(sample_size_per_arm(control.value, spec.mde, spec.alpha, POWER))
    if needed is None:
        if not rel.se or not math.isfinite(rel.se):
            return None
        z = st.norm.ppf(1 - spec.alpha / 2) + st.norm.ppf(POWER)
        needed = math.ceil(n_now * (z * rel.se / spec.mde) ** 2)
    return finite(days_needed(needed, n_now, n_now / days))


def _adjust(results: list[KpiComparison], spec: ExperimentSpec) -> list[KpiComparison]:
    """Adjusted p-values over the family the user chose; significance uses them."""
    groups: dict = {}
    for index, r in enumerate(results):
        groups.setdefault(FAMILY_KEY[spec.family](r), []).append(index)
    out = list(results)
    for members in groups.values():
        raw = [math.nan if results[i].p_value is None else results[i].p_value for i in members]
        for i, p in zip(members, adjust(raw, spec.correction), strict=True):
            adjusted = None if math.isnan(p) else float(p)
            out[i] = replace(
                results[i],
                p_value_adjusted=adjusted,
                significant=adjusted is not None and adjusted < spec.alpha,
            )
    return out


def _power(
    results: list[KpiComparison], totals: pd.DataFrame, spec: ExperimentSpec, days: int
) -> PowerSummary | None:
    conv = next((r for r in results if r.kpi == "conversion_rate"), None)
    if conv is None or conv.control_value is None or not 0 < conv.control_value < 1:
        return None
    baseline = conv.control_value
    n_per_arm = float(totals["n"].min())
    needed = None
    lift = conv.rel_lift
    if lift and 0 < baseline * (1 + lift) < 1:
        needed = sample_size_per_arm(baseline, lift, spec.alpha, POWER)
    return PowerSummary(
        baseline=baseline,
        n_per_arm=n_per_arm,
        reachable_mde=finite(reachable_mde(baseline, n_per_arm, spec.alpha, POWER)),
        alpha=spec.alpha,
        power=POWER,
        users_per_day_per_arm=n_per_arm / days if days else None,
        n_per_arm_for_observed_lift=finite(needed),
    )


def _daily(sums: pd.DataFrame, shapes: dict[str, KpiShape], kind: str) -> tuple[DailyArm, ...]:
    """Per day, variant and KPI: that day's sufficient statistics (for the charts)."""
    per_day = sums.dropna(subset=["day"]).sort_values(["day", "variant"])
    records = []
    for row in per_day.to_dict(orient="records"):
        day = pd.Timestamp(row["day"]).date().isoformat()
        for i, (kpi_id, shape) in enumerate(shapes.items()):
            records.append(
                DailyArm(day, row["variant"], kpi_id, arm(kind, row, i, shape), shape.scale)
            )
    return tuple(records)
