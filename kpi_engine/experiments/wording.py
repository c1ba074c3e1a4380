"""Every sentence an experiment's reader sees: verdicts, warnings, the split check, methods,
guardrails and power, on the page, in a shared link, in the report and on the command line."""

from __future__ import annotations

import math

from kpi_engine.experiments.pairs import MIN_CONVERSIONS, MIN_UNITS, MIN_USERS
from kpi_engine.experiments.planner import Plan
from kpi_engine.experiments.result import (
    ExperimentResult,
    Guardrail,
    KpiComparison,
    PowerSummary,
    SplitCheck,
)

KIND_TEXT = {
    "users": "one row per user: conversion rates, revenue per user and ratios over users, with"
    " an SRM check on users",
    "totals": "totals per variant (or per variant and day): conversion rates with users as"
    " units, and by day the day-stratified estimate beside the pooled one; other KPIs get an"
    " estimate without a p-value (no per-user values, no variance)",
    "campaign": "rows per day and variant: ratio KPIs (CTR, CVR, CPA, ROAS...) with days as"
    " units; no SRM check, because clicks and impressions are not users",
}
NO_DATASET = "No dataset yet. Upload an experiment file on the Data page."
NO_TEXT_COLUMN = "This dataset has no text column that could name the variants."
NO_VARIANT_COLUMN = (
    "This dataset has no column detected as the variant (A/B). Pick the column that names the"
    " variants, or choose a test dataset in the sidebar (the samples include a campaign A/B"
    " test and a user-level experiment)."
)
PICK_KPIS = "Pick at least one KPI to compare."
NO_PLANNER = (
    "No power planner here: it plans users for a conversion-rate test, and this test's units"
    " are days. Each verdict says how many more days the observed lift needs."
)
BAD_SPLIT = "The intended split needs numbers separated by commas, e.g. 50,50."
NO_SPLIT_CHECK = (
    "campaign rows have no randomisation units (impressions and clicks are not users), so the"
    " split cannot be checked"
)
NO_VARIANCE = (
    "only totals per variant: without per-user values there is no variance, so no confidence"
    " interval and no p-value"
)
CORRECTION_NAMES = {"holm": "Holm", "bh": "BH"}
FOREST_TITLE = "Relative lift with its confidence interval"
CUMULATIVE_TITLE = "Cumulative relative lift: the interval narrows as data comes in"
NO_PRE_PERIOD = (
    "CUPED from rows before exposure has nothing to use here: every user has a single row in"
    " this dataset, so none has earlier rows. Choose a column with each user's pre-test value"
    " instead; the results below are unadjusted"
)


def missing_values(count: int, column: str) -> str:
    return (
        f"{count:,} rows have no {column} value: they count as 0 here. If they are unknown"
        " rather than 0, fill them in or leave those rows out before reading the results."
    )


def empty_pre_period(pre_days: int, no_start: bool) -> str:
    text = (
        f"CUPED found no rows in the {pre_days} days before any user's exposure, so the results"
        " below are unadjusted."
    )
    if no_start:
        text += (
            " If every row carries a variant, exposure looks like each user's first row: give"
            " the test's start date (Test dates in Settings, or --start) so the rows before it"
            " are the pre-period and are left out of the outcome."
        )
    return text


NO_CUPED_FOR_RATIO = "; no CUPED (it adjusts per-user KPIs, and this one is a ratio)"
EMPTY_SEGMENT = "(empty)"
OTHER_SEGMENT = "(other)"
SEGMENTS_TITLE = "By segment"
SEGMENT_HINT = (
    "A flagged segment's lift differs from the rest of the test (Welch test at alpha divided"
    " by the number of segments): a hint to look closer, not a finding."
)
TOO_FEW = "too few"


def too_few_left_out(chart: str) -> str:
    cells = {"weeks": "Weeks", "daily": "Days"}[chart]
    return (
        f"{cells} with fewer than {MIN_USERS} users per variant and {MIN_CONVERSIONS}"
        f" conversions in all (or {MIN_UNITS} days) show no estimate: too few to say anything."
    )


WEEKS_TITLE = "Relative lift by week since first exposure"
WEEKS_TITLE = "Lift by week since exposure"
WEEKS_HINT = (
    "Each week counts the users whose whole week lies inside the data, on their rows of that"
    " week (no capping or CUPED here)."
)


def one_value(column: str) -> str:
    return f"Column {column} has fewer than two values: it cannot split a test."


def nothing_testable(allowed: str) -> str:
    return f"No KPI of the catalog can be tested on this data: it needs {allowed}."


def planner(mde: float, plan: Plan) -> tuple[str, ...]:
    """The power planner's answer: (before, the number, after) for one bold number; its
    days are rounded up, as the verdicts' are."""
    before = f"To detect a {pct(mde).lstrip('+')} lift (the smallest worth detecting, set in"
    before += " Settings): "
    rest = f" users per variant ({plan.n_total:,} for two variants)"
    if plan.in_hand is not None and plan.reach is not None:
        rest += (
            f". With the {plan.in_hand:,.0f} users per variant in hand, the smallest detectable"
            f" lift is {plan.reach:.1%}"
        )
        if plan.more_days is not None and math.isfinite(plan.more_days):
            rest += (
                f"; reaching {plan.n_per_arm:,} takes about {math.ceil(plan.more_days)} more days"
            )
    return before, f"{plan.n_per_arm:,}", rest + "."


def data_caption(kind: str) -> str:
    return f"Data: {KIND_TEXT[kind]}."


def daily_title(kpi_name: str) -> str:
    return f"{kpi_name} by day and variant"


def method_proportion(fisher_p: float | None) -> str:
    text = (
        "Miettinen-Nurminen score test, with its score intervals of the difference and of the"
        " ratio (they agree with the test)"
    )
    if fisher_p is not None:
        text += f"; few conversions: Fisher's exact test gives {_p(fisher_p)}"
    return text


def method_mean() -> str:
    return (
        "Welch t test of the difference from sums and sums of squares; Fieller interval of the"
        " relative lift (it agrees with the test)"
    )


def method_ratio(units: int, unit_name: str, dof: float) -> str:
    return (
        f"Welch t test of the difference, delta-method variances over {units} units"
        f" ({unit_name}), {dof:.1f} degrees of freedom; Fieller interval of the relative lift"
    )


def no_relative_interval(reason: str) -> str:
    return f"; no relative interval: {reason}"


def bayes(method: str) -> str:
    if method == "score":
        return "; Bayesian: flat Beta priors, exact chance to beat"
    return "; Bayesian: flat prior, normal posterior of the difference"


def method_sequential(tuning: float) -> str:
    return f"; sequential confidence sequence (tuning {tuning:,.0f} units)"


def method_estimate_only(reason: str) -> str:
    return f"estimate only ({reason})"


# -- warnings -------------------------------------------------------------------------------


def multiple_exposures(shared: int, units: int, kept: bool) -> str:
    share = f"{shared / units:.1%}" if units else "some"
    if kept:
        return (
            f"{shared:,} units ({share} of units) appear in more than one variant; as asked,"
            " each is counted in every variant it appears in"
        )
    return (
        f"{shared:,} units ({share} of units) appear in more than one variant and are left out"
        " of the analysis (their outcome cannot be credited to one variant)"
    )


def method_cuped(reduction: float | None, column: str | None, pre_days: int) -> str:
    source = (
        f"column {column}" if column else f"the same KPI in the {pre_days} days before exposure"
    )
    gain = f", variance {reduction:.0%} lower" if reduction is not None else ""
    return (
        f"CUPED (covariate: {source}{gain}); Welch t test of the adjusted difference; Fieller"
        " interval of the relative lift"
    )


def cuped_sentence(name: str, reduction: float) -> str:
    """What variance reduction buys, in users."""
    if reduction <= 0:
        return f"CUPED did not make {name} more precise: the covariate does not predict it."
    more = 1 / (1 - reduction) - 1 if reduction < 1 else math.inf
    return (
        f"CUPED made {name} as precise as a test with {more:.0%} more users"
        f" (variance {reduction:.0%} lower); the unadjusted result is in the numbers below."
    )


def method_notes(result: ExperimentResult) -> list[str]:
    """What capping, CUPED, stratification, non-inferiority and segments add, one sentence
    each, after the verdicts."""
    lines = []
    for kpi, cap in result.capping.items():
        lines.append(capping_sentence(result.kpi(kpi).name, cap.lower, cap.upper, cap.units_capped))
    several = len(result.data.variants) > 2
    for r in result.results:
        name = result.kpi(r.kpi).name + (f" ({r.variant})" if several else "")
        if r.variance_reduction is not None:
            lines.append(cuped_sentence(name, r.variance_reduction))
        if r.stratified is not None and result.data.kind == "totals":
            lines.append(stratified_sentence(r, result.kpi(r.kpi).name))
        if r.margin is not None:
            lines.append(
                non_inferiority_sentence(r, result.kpi(r.kpi).name, result.control, result.alpha)
            )
    for seg in result.segments:
        if seg.differs and seg.p_differs is not None:
            name = result.kpi(seg.kpi).name
            lines.append(
                segment_flag(name, seg.variant, seg.segment, seg.segment_col, seg.p_differs)
            )
    return lines


def non_inferiority_sentence(r: KpiComparison, name: str, control: str, alpha: float) -> str:
    margin = f"{r.margin:.0%}" if r.margin and r.margin >= 0.01 else f"{(r.margin or 0):.1%}"
    p = "n/a" if r.p_non_inferiority is None else _p(r.p_non_inferiority)
    if r.non_inferior:
        return f"{r.variant} is not worse than {control} on {name} by more than {margin} ({p})."
    return (
        f"{r.variant} is not shown to be within {margin} of {control} on {name} ({p}, one-sided"
        f" at {alpha:g}): it may be worse by more than that."
    )


def capping_sentence(name: str, lower: float | None, upper: float | None, units: int) -> str:
    ends = " and ".join(
        f"{side} {value:,.4g}"
        for side, value in (("below at", lower), ("above at", upper))
        if value is not None
    )
    return f"{name} capped {ends} per user: {units:,} user(s) beyond a cap."


def stratified_sentence(r: KpiComparison, name: str) -> str:
    s = r.stratified
    lift = "n/a" if s is None or s.rel_lift is None else pct(s.rel_lift)
    p = "" if s is None or s.p_value is None else f", {_p(s.p_value)}"
    return f"{name} · {r.variant}, stratified by day: {lift}{p} (pooled {pct(r.rel_lift or 0)})."


def segment_flag(kpi_name: str, variant: str, segment: str, column: str, p: float) -> str:
    return (
        f"{variant} on {kpi_name}: the lift in {column} = {segment} differs from the rest of"
        f" the test ({_p(p)}). {SEGMENT_HINT.split(': ')[1].capitalize()}"
    )


def srm_mismatch(p_value: float) -> str:
    return (
        f"sample ratio mismatch: the users are not split as intended (p = {p_value:.2g}); fix"
        " the assignment before trusting any result"
    )


def split_drift(days: int, constant: bool) -> str:
    if constant:
        return (
            f"the split differs from the intended one on {days} day(s), by the same amount every"
            " day: check the intended split, or the assignment"
        )
    return f"the split drifts on {days} day(s): allocation changed during the test"


def simpson(variant: str, low: float, high: float, stratified: float, pooled: float) -> str:
    return (
        f"the share of users in {variant} changed from day to day ({low:.0%} to {high:.0%}) and"
        f" the day-stratified conversion difference ({stratified:+.4f}) disagrees with the pooled"
        f" one ({pooled:+.4f}): trust the stratified estimate"
    )


# -- verdicts -------------------------------------------------------------------------------


def _p(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.2g}"


def pct(x: float) -> str:
    """A relative change: +12%, −3.4% (one decimal below 10%)."""
    text = f"{x * 100:+.1f}%" if abs(x) < 0.1 else f"{x * 100:+.0f}%"
    return text.replace("-", "−")


def verdict(r: KpiComparison, name: str, alpha: float, correction: str, mde: float) -> str:
    """One sentence a marketer can act on, with the numbers behind it."""
    v = r.variant
    if r.p_value is None:
        change = f" ({pct(r.rel_lift)})" if r.rel_lift is not None else ""
        return (
            f"{v} vs control on {name}: {_g(r.variant_value)} vs {_g(r.control_value)}{change};"
            f" {r.method.removeprefix('estimate only (')[:-1]}."
        )
    if not r.enough_data:
        return (
            f"Not enough data yet for {name}: so far {_change(r, name, alpha)}{_p(r.p_value)},"
            f" from {r.n_variant:,.0f} units in {v}. Wait for at"
            f" least {MIN_USERS} users per variant and {MIN_CONVERSIONS} conversions in all (or"
            f" {MIN_UNITS} days per variant) before reading this result."
        )
    text = _change(r, name, alpha)
    better = r.chance_to_beat or 0.0
    after = f" after {CORRECTION_NAMES[correction]} correction" if correction != "none" else ""
    if r.significant:
        text += f"significant ({_p(r.p_value_adjusted)}{after});"
        text += f" {better:.0%} chance {v} is better"
        return text + (f": {v} wins on {name}." if r.good else f": {v} is worse on {name}.")
    if r.p_value < alpha and correction != "none":
        text += f"not significant{after} ({_p(r.p_value_adjusted)}, {_p(r.p_value)} before)"
    else:
        text += f"not significant at {alpha:.0%}"
    return text + f"; {better:.0%} chance {v} is better" + keep_testing(r, mde) + "."


def _change(r: KpiComparison, name: str, alpha: float) -> str:
    """ "B raises X by 8% (95% CI +2% to +15%); ", or in absolute terms where the relative
    lift has no interval (a control at 0, a control too uncertain)."""
    level = f"{1 - alpha:.0%}"
    lo, hi = r.ci_rel
    if r.rel_lift is not None and lo is not None and hi is not None:
        rel = r.rel_lift
        verb = "raises" if rel > 0 else "lowers" if rel < 0 else "does not change"
        amount = pct(abs(rel)).lstrip("+")
        return f"{r.variant} {verb} {name} by {amount} ({level} CI {pct(lo)} to {pct(hi)}); "
    diff = r.abs_lift or 0.0
    verb = "raises" if diff > 0 else "lowers" if diff < 0 else "does not change"
    a_lo, a_hi = r.ci_abs
    interval = f"{level} CI {_signed(a_lo)} to {_signed(a_hi)}"
    return (
        f"{r.variant} {verb} {name} from {_g(r.control_value)} to {_g(r.variant_value)}"
        f" (difference {_signed(diff)}, {interval}); "
    )


def keep_testing(r: KpiComparison, mde: float) -> str:
    """What to do about a result that is not significant, by one rule the power planner
    shares: plan for the smallest lift worth detecting (``mde``), not for the lift seen."""
    lo, hi = r.ci_rel
    target = pct(mde).lstrip("+")
    if lo is not None and hi is not None:
        best = hi if r.direction != "lower" else -lo  # the largest improvement still plausible
        if best < mde:
            return (
                f"; the interval already rules out an improvement of {target} or more: more"
                " data will not show one, so stop or test a bolder change"
            )
    days = r.days_more
    if days is None or not math.isfinite(days):
        return ""
    if days == 0:
        return (
            f"; the test already has the units to detect a {target} change and found none that"
            " large: stop, or test a bolder change"
        )
    if days < 365:
        return f"; to detect a {target} change, keep testing about {math.ceil(days)} more days"
    return f"; a {target} change is too small to detect at this traffic: stop or rethink the test"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4g}".replace("-", "−")


def _g(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


# -- the summary above the numbers ---------------------------------------------------------


def split_summary(srm: SplitCheck) -> tuple[str, str]:
    """(tone, sentence) for the split check."""
    if srm.flag:
        return "error", (
            f"Sample ratio mismatch (p = {srm.p_value:.2g}): the users are not split as"
            " intended. Fix the assignment before trusting any result."
        )
    if srm.checked:
        return "success", (
            "Split check passed: users per variant match the intended split"
            f" (SRM p = {srm.p_value:.2f})."
        )
    return "caption", f"No split check: {srm.reason}."


def guardrail_line(g: Guardrail, name: str) -> str:
    status = "passes" if g.status == "pass" else "FAILS"
    return (
        f"Guardrail {name} · {g.variant}: {status} (worst plausible change {g.worst_case:+.1%},"
        f" limit −{g.max_loss:.0%})"
    )


def power_sentence(power: PowerSummary) -> str:
    """What the data in hand can detect."""
    text = (
        f"With {power.n_per_arm:,.0f} users per variant and a {power.baseline:.2%} baseline, the"
        f" smallest lift this test can detect ({power.power:.0%} power, alpha {power.alpha:g})"
    )
    if power.reachable_mde is None:
        return text + " is larger than any a rate allows: the test is far too small."
    text += f" is {power.reachable_mde:.1%}"
    if power.n_per_arm_for_observed_lift:
        text += (
            f"; detecting the lift seen so far needs about"
            f" {power.n_per_arm_for_observed_lift:,.0f} users per variant"
        )
    return text + "."
