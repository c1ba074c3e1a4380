"""How a budget plan is shown: the one renderer the Budget page, a shared link and the HTML
report all draw."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi_engine.budget import wording
from kpi_engine.budget.charts import curve_points
from kpi_engine.budget.result import ONE_CAMPAIGN, BudgetResult
from kpi_engine.budget.spend_test import NEEDED_BELOW
from kpi_engine.currencies.wording import conversion_line
from kpi_engine.display.blocks import (
    Block,
    Bullets,
    Card,
    Cards,
    Chart,
    Columns,
    Section,
    Strong,
    Table,
    text,
)
from kpi_engine.display.theme import styled
from kpi_engine.formatting import d3_format, format_value, money

PLAN_UNITS = {
    "campaign": "text",
    "current": "currency",
    "suggested": "currency",
    "change": "currency",
    "change %": "signed_percent",
    "ROAS": "ratio",
    "CPA": "currency",
    "marginal ROAS now": "ratio",
    "marginal ROAS after": "ratio",
    "tier": "text",
    "shape": "text",
    "half the effect within": "text",
    "flags": "text",
    "why": "text",
}


def blocks(result: BudgetResult) -> tuple[Block, ...]:
    w = result.window
    if result.status == ONE_CAMPAIGN:  # one sentence: no cards, chart, band or test
        return (
            text(wording.window_caption(w.start, w.end, result.scenario), tone="caption"),
            *(text(note, tone="info", icon="info") for note in result.notes),
        )
    prob = result.portfolio.prob_better_split
    out: list[Block] = [
        *(
            (text(wording.uncertain(prob), tone="warning", icon="warning"),)
            if prob is not None and prob < NEEDED_BELOW
            else ()
        ),
        *(text(note, tone="info", icon="info") for note in result.notes),
        text(wording.window_caption(w.start, w.end, result.scenario), tone="caption"),
        *(
            (text(conversion_line(result.conversion), tone="caption", icon="currency_exchange"),)
            if result.conversion
            else ()
        ),
        Cards(portfolio_cards(result), per_row=4),
    ]
    if result.portfolio.unallocated > 0:
        out.append(
            text(
                wording.unallocated(result.portfolio, result.currency),
                tone="warning",
                icon="warning",
            )
        )
    out += ahead_blocks(result)
    out.append(
        Section(
            "campaigns",
            "Per campaign",
            (
                Table(
                    "budget plan",
                    plan_table(result),
                    _plan_units(result),
                    download="budget plan",
                    currency=result.currency,
                ),
            ),
        )
    )
    out.append(
        Columns(
            (
                (Section("moves", "The moves", (moves_list(result),)),),
                (Section("ranking", f"Ranked by {_ratio(result)}", (ranking_table(result),)),),
            )
        )
    )
    out.append(Chart(moves_figure(result), "moves_chart"))
    out.append(Chart(curves_figure(result), "curves_chart"))
    out.append(
        Section("caveats", wording.READ_FIRST, (Bullets(tuple(text(c) for c in result.caveats)),))
    )
    return tuple(out)


def ahead_blocks(result: BudgetResult) -> list[Block]:
    """The goal, the plan for the days ahead by week, and the spend test, where asked."""
    cur, out = result.currency, []
    unit = "currency" if result.objective == "revenue" else "count"
    if result.goal is not None:
        g = result.goal
        daily = _money(result.portfolio.suggested_spend, cur)
        sentence = wording.goal(
            g,
            _money(g.total_spend, cur),
            daily,
            format_value(g.target, unit, cur),
            format_value(g.best_reachable, unit, cur),
        )
        out.append(text(sentence, tone="success" if g.reachable else "warning"))
    if result.plan is not None:
        p = result.plan
        summary = wording.plan_period(
            p.start,
            p.end,
            _money(p.total_spend, cur),
            format_value(p.expected_outcome, unit, cur),
            _band(*p.band, unit, cur),
        )
        weeks = pd.DataFrame(
            [(w.week, w.spend, w.outcome) for w in p.weeks], columns=list(wording.WEEKS_UNITS)
        )
        units = {**wording.WEEKS_UNITS, "outcome": unit}
        out.append(
            Section(
                "plan",
                wording.PLAN_TITLE,
                (text(summary), Table("plan by week", weeks, units, currency=cur)),
            )
        )
    if result.test is not None:
        sentence = wording.spend_test(result.test, format_value(result.test.value, unit, cur))
        out.append(Section("test", wording.TEST_TITLE, (text(sentence),)))
    return out


def _money(value: float | None, currency: str | None) -> str:
    return format_value(value, "currency", currency)


def portfolio_cards(result: BudgetResult) -> tuple[Card, ...]:
    p, cur = result.portfolio, result.currency
    unit = "currency" if result.objective == "revenue" else "count"
    lo, hi = p.uplift_band
    return (
        Card(
            "Spend a day",
            _money(p.suggested_spend, cur),
            _money(p.suggested_spend - p.current_spend, cur),
        ),
        Card(
            wording.outcome_label(result.objective),
            format_value(p.suggested_outcome, unit, cur),
            format_value(p.uplift, unit, cur),
            "normal",
        ),
        Card("Uplift, p10 to p90", _band(lo, hi, unit, cur)),
        Card(
            "Chance the uplift is positive",
            "n/a" if p.prob_positive is None else f"{p.prob_positive:.0%}",
        ),
    )


def _band(lo: float | None, hi: float | None, unit: str, currency: str | None) -> str:
    """A range that fits a card: whole numbers once they are large (€1,612–€2,204)."""
    if lo is None or hi is None:
        return "n/a"

    def one(x: float) -> str:
        if min(abs(lo), abs(hi)) < 100:
            return format_value(x, unit, currency)
        whole = f"{round(x):,}"
        return money(whole, currency) if unit == "currency" else whole

    return f"{one(lo)}–{one(hi)}"


def _ratio(result: BudgetResult) -> str:
    """What the plan compares: ROAS for revenue, CPA for conversions."""
    return "ROAS" if result.objective == "revenue" else "CPA"


def _plan_units(result: BudgetResult) -> dict[str, str]:
    """The plan table's columns: marginal ROAS for revenue, marginal CPA for conversions; a
    ROAS column only where there is revenue."""
    units = dict(PLAN_UNITS)
    if result.objective == "conversions":
        units = {
            k.replace("marginal ROAS", "marginal CPA"): ("currency" if "marginal" in k else v)
            for k, v in units.items()
        }
    if all(c.roas is None for c in result.campaigns):
        units.pop("ROAS")
    return units


def plan_table(result: BudgetResult) -> pd.DataFrame:
    cpa = result.objective == "conversions"
    units = _plan_units(result)
    rows = []
    for c in result.campaigns:
        row = {
            "campaign": c.campaign,
            "current": c.current_spend,
            "suggested": c.suggested_spend,
            "change": c.change,
            "change %": c.change_pct,
            "ROAS": c.roas,
            "CPA": c.cpa,
            "marginal CPA now" if cpa else "marginal ROAS now": (
                c.marginal_cpa_current if cpa else c.marginal_roas_current
            ),
            "marginal CPA after" if cpa else "marginal ROAS after": (
                c.marginal_cpa_suggested if cpa else c.marginal_roas_suggested
            ),
            "tier": c.tier,
            "shape": c.curve.shape,
            "half the effect within": wording.carryover(c.half_life_days, c.carryover),
            "flags": ", ".join(c.flags),
            "why": c.reason,
        }
        rows.append({k: row[k] for k in units})
    return pd.DataFrame(rows, columns=list(units))


def moves_list(result: BudgetResult) -> Block:
    if not result.moves:
        return text(wording.NO_MOVES, tone="caption")
    items = []
    for m in result.moves:
        before, amount, after = wording.move(m, result.currency)
        items.append(text(before, Strong(amount), after + wording.move_confidence(m)))
    return Bullets(tuple(items))


def ranking_table(result: BudgetResult) -> Table:
    """Best first: by ROAS (highest) for revenue, by CPA (lowest) for conversions."""
    by = _ratio(result)
    frame = pd.DataFrame(
        [(c.campaign, c.roas, c.cpa, c.current_spend) for c in result.campaigns],
        columns=["campaign", "ROAS", "CPA", "spend a day"],
    ).sort_values(by, ascending=by == "CPA", na_position="last")
    units = {"campaign": "text", "ROAS": "ratio", "CPA": "currency", "spend a day": "currency"}
    if frame["ROAS"].isna().all():
        frame, units = frame.drop(columns="ROAS"), {k: v for k, v in units.items() if k != "ROAS"}
    return Table("ranking", frame, units, currency=result.currency)


def moves_figure(result: BudgetResult) -> go.Figure:
    rows = sorted(result.campaigns, key=lambda c: c.change)
    fig = go.Figure(
        go.Bar(x=[c.change for c in rows], y=[c.campaign for c in rows], orientation="h")
    )
    fig.update_layout(title=wording.MOVES_CHART_TITLE, height=140 + 28 * len(rows))
    return styled(fig, "currency").update_xaxes(tickformat=d3_format("currency"))


def curves_figure(result: BudgetResult) -> go.Figure:
    fig = go.Figure()
    for c in result.campaigns:
        if c.tier == "fixed" or not c.current_spend:
            continue
        spend, value = curve_points(c)
        fig.add_trace(go.Scatter(x=spend, y=value, mode="lines", name=c.campaign))
        fig.add_trace(
            go.Scatter(
                x=[c.current_spend, c.suggested_spend],
                y=[c.outcome_current, c.outcome_suggested],
                mode="markers",
                marker={"symbol": ["circle-open", "circle"], "size": 10},
                showlegend=False,
                name=c.campaign,
            )
        )
    fig.update_layout(title=wording.CURVES_CHART_TITLE)
    return styled(fig, "currency")
