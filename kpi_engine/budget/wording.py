"""Every sentence a reader of a budget plan sees: why each campaign moves, the moves, the
portfolio, and what the plan cannot know."""

from __future__ import annotations

from kpi_engine.budget.result import CampaignPlan, GoalResult, Move, Portfolio, SpendTest
from kpi_engine.formatting import format_value

EXTRAPOLATION = 1.2  # x the highest observed daily spend
CAVEATS = (
    "Reported conversions and revenue are what the platforms attribute, not incremental results.",
    "This re-splits the spend of the past window; it is not a forecast of future demand.",
    "The uplift band covers what the data leaves open about each curve (its elasticity,"
    " carryover and level), not a wrong curve shape or a change in demand.",
)
PLAN_TITLE = "The plan ahead"
WEEKS_UNITS = {"week": "text", "spend": "currency", "outcome": "number"}
TEST_TITLE = "A spend test would settle this"
TEST_QUESTION = "Would a spend test settle it?"
NO_TEST_NEEDED = (
    "No test needed: the suggested split is better than today's in at least 80% of the plausible"
    " response curves."
)
NO_DATASET = "No dataset yet. Upload a campaign report with daily spend and revenue or conversions."
NO_REVENUE = (
    "This dataset has no revenue column, so the plan maximises conversions: it compares"
    " marginal CPAs instead of ROAS."
)


def one_campaign(name: str, objective: str) -> str:
    kpi = "ROAS" if objective == "revenue" else "CPA"
    return (
        f"Only {name} has spend to move, so there is nothing to reallocate: a re-split needs"
        f" at least two campaigns. Its curve and {kpi} are on the KPIs page; to ask how much"
        " to spend on it, set a daily budget or a target instead."
    )


NO_MOVES = "No money moves: the current split is already the best within the bounds."
READ_FIRST = "Read before acting"
MOVES_CHART_TITLE = "Suggested change in daily spend"
CURVES_CHART_TITLE = "Response curves: today (open) and suggested (filled)"


def reason(
    plan: CampaignPlan,
    objective: str,
    level: float | None,
    stopped: str | None,
    max_change: float | None,
) -> str:
    """Why a campaign keeps, gains or loses spend. ``stopped`` is "upper" or "lower" when a
    bound decided it, ``max_change`` the ±share when that bound is the default one."""
    if plan.tier == "fixed":
        return "keep: " + ("locked" if "locked" in plan.flags else "no spend in the window")
    conv = objective == "conversions"
    unit = "marginal CPA" if conv else "marginal ROAS"
    mine = plan.marginal_cpa_current if conv else plan.marginal_roas_current
    portfolio = (1 / level if conv else level) if level else None
    versus = f" vs portfolio {portfolio:.2f}" if portfolio else ""
    mine_text = f"{unit} {mine:.2f}" if mine is not None else unit
    current, change = plan.current_spend, plan.change
    if "increasing returns" in plan.flags and change >= -1e-9:
        text = (
            "hold or grow: returns look increasing (elasticity above 1); run a spend test"
            f" rather than cutting; {mine_text}{versus}"
        )
    elif current > 0 and change > 0.005 * current:
        text = f"increase: {mine_text}{versus}"
        if stopped == "upper":
            text += "; stopped at its upper bound" + (
                f" (+{max_change:.0%})" if max_change is not None else ""
            )
    elif current > 0 and change < -0.005 * current:
        text = f"decrease: {mine_text}{versus}"
        if stopped == "lower":
            text += "; stopped at its lower bound" + (
                f" (-{max_change:.0%})" if max_change is not None else ""
            )
    else:
        text = f"keep: {mine_text}{versus}"
    if plan.tier == "rule":
        text += " (thin data: a shrunk average ratio, not a fitted curve)"
    if plan.curve.shape == "S-curve":
        text += "; its response is S-shaped: returns rise until its bend, then fall"
    if "extrapolation" in plan.flags:
        text += f"; above {EXTRAPOLATION:.1f}x the highest daily spend seen: an extrapolation"
    return text


def move(m: Move, currency: str | None) -> tuple[str, str, str]:
    """(before, amount, after): "Move " + amount + " a day from A to B"."""
    amount = format_value(m.amount, "currency", currency)
    if m.source and m.target:
        return "Move ", amount, f" a day from {m.source} to {m.target}"
    if m.target:
        return "Add ", amount, f" a day to {m.target}"
    return "Cut ", amount, f" a day from {m.source}"


def needs_columns(missing: list[str]) -> str:
    return (
        "Budget suggestions need daily rows per campaign with spend and revenue or conversions;"
        f" this dataset lacks {', '.join(missing) or 'revenue and conversions'}."
    )


def all_at_bound(which: str, max_change: float) -> str:
    sign = "+" if which == "upper" else "-"
    return (
        f"Every campaign that can move ends at its {which} bound ({sign}{max_change:.0%} of"
        " today's spend, or the limits you set): the bounds decided this answer, not the"
        " response curves. Widen the largest change to see where the curves would go."
    )


def window_caption(start: str, end: str, scenario: str) -> str:
    return f"Window {start} to {end} · {scenario} · daily amounts"


def unallocated(p: Portfolio, currency: str | None = None) -> str:
    return (
        f"{format_value(p.unallocated, 'currency', currency)} a day cannot be placed: every"
        " campaign is at its maximum. Raise the bounds or lower the budget."
    )


def outcome_label(objective: str) -> str:
    return f"{objective.capitalize()} a day"


def carryover(days: int, theta: float) -> str:
    """The carryover column: when half of a day's effect has landed."""
    if theta <= 0:
        return "none"
    return "same day" if days <= 1 else f"{days} days"


def move_confidence(m: Move) -> str:
    return "" if m.prob_helps is None else f" ({m.prob_helps:.0%} sure it helps)"


def uncertain(prob: float) -> str:
    return (
        f"Only {prob:.0%} of the curves the data allows say this plan helps: the data cannot"
        " rank these campaigns well enough to move money on it. Run the spend test below"
        " first, or treat the moves as a guess."
    )


def plan_period(start: str, end: str, total: str, outcome: str, band: str) -> str:
    return (
        f"From {start} to {end}: spend {total} in all for about {outcome} (p10 to p90: {band}),"
        " counting the carryover of what was spent before."
    )


def goal(g: GoalResult, spend: str, daily: str, target: str, best: str) -> str:
    if g.reachable:
        return f"To reach {target} {g.kpi} by {g.until}: spend {daily} a day ({spend} in all)."
    return (
        f"No plan within the bounds reaches {target} {g.kpi} by {g.until}: the most the bounds"
        f" allow is about {best}. Widen the largest change per campaign, or move the date."
    )


def spend_test(t: SpendTest, value: str) -> str:
    names = ", ".join(t.campaigns)
    pairs = zip(t.b_se_now, t.expected_b_se, strict=True)
    se = ", ".join(f"{now:.2f} → {after:.2f}" for now, after in pairs)
    worth = (
        f"worth about {value} over the next {t.horizon_days} days after the test's own cost"
        if t.value > 0
        else f"not worth its cost over the next {t.horizon_days} days ({value})"
    )
    return (
        f"For {t.days} days, spend {t.change:+.0%} and {-t.change:+.0%} of today's amount on"
        f" alternate days on {names}. Each elasticity's standard error would go {se}; deciding"
        f" after the test is {worth}."
    )


def plan_for_target(missing: str, kpi: str, deadline: str) -> str:
    return f"Plan the spend for the {missing} {kpi} still missing by {deadline}"
