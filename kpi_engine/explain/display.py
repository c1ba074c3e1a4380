"""How "why did this change?" is shown: the one renderer the KPIs page, a shared link and the
HTML report draw. The sentence, the parts, and each group's mix and rate."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi_engine.display.blocks import Block, Chart, Table, text
from kpi_engine.explain import wording
from kpi_engine.explain.result import Explanation
from kpi_engine.formatting import d3_format, format_value
from kpi_engine.kpis import wording as kpi_wording

MIX_COLOR, RATE_COLOR = "#8C9BD9", "#3552C8"


def blocks(e: Explanation) -> tuple[Block, ...]:
    out: list[Block] = [
        text(e.sentence, icon="lightbulb"),
        text(wording.compared(e), tone="caption"),
    ]
    if e.within_noise:
        out.append(text(wording.NOISE_NOTE, tone="caption"))
    if e.parts:
        out.append(parts_table(e))
    elif e.parts_note:
        out.append(text(e.parts_note, tone="caption"))
    if e.by_note:
        out.append(text(e.by_note, tone="caption"))
    if e.contributors:
        out.append(Chart(contributions_figure(e), "why"))
        out.append(contributors_table(e))
        if e.weight is not None:
            out.append(text(wording.mix_help(e), tone="caption"))
    return tuple(out)


def parts_table(e: Explanation) -> Table:
    rows = [
        {
            "part": f"{p.name} ({'divides' if p.exponent < 0 else 'multiplies'})",
            "before": format_value(p.previous, p.unit, e.currency),
            "now": format_value(p.value, p.unit, e.currency),
            "change": p.change,
            "share of the change": p.share,
            "noise": wording.noise_word(p.within_noise),
        }
        for p in e.parts
    ]
    units = {"change": "signed_percent", "share of the change": "percent"}
    units |= {col: "text" for col in ("part", "before", "now", "noise")}
    return Table("why parts", pd.DataFrame(rows), units)


def contributors_table(e: Explanation) -> Table:
    by = e.by or "group"
    points = e.unit == "percent"  # a rate's mix and rate are in percentage points
    scale, unit = (100, "ratio") if points else (1, e.unit)
    mix, rate, total = (f"{name}{' (pp)' if points else ''}" for name in ("mix", "rate", "total"))
    rows = [
        {
            by: c.group,
            f"{e.name} before": c.previous,
            e.name: c.value,
            "share before": c.previous_weight,
            "share now": c.weight,
            mix: c.mix * scale,
            rate: c.rate * scale,
            total: c.total * scale,
            "noise": wording.noise_word(c.within_noise),
        }
        for c in e.contributors
    ]
    frame = pd.DataFrame(rows)
    if e.weight is None:
        frame = frame.drop(columns=["share before", "share now", mix])
    units = {f"{e.name} before": e.unit, e.name: e.unit, "noise": "text", by: "text"}
    units |= {"share before": "percent", "share now": "percent", mix: unit, rate: unit}
    units |= {total: unit}
    totals = {
        by: kpi_wording.TOTAL,
        f"{e.name} before": e.previous,
        e.name: e.value,
        "share before": 1.0,
        "share now": 1.0,
        mix: (e.mix or 0.0) * scale,
        rate: (e.rate or 0.0) * scale,
        total: ((e.value or 0.0) - (e.previous or 0.0)) * scale,
    }
    return Table(
        "why contributors",
        frame,
        units,
        download=f"why {e.name} changed by {by}",
        excel=True,
        currency=e.currency,
        totals=totals,
    )


def contributions_figure(e: Explanation) -> go.Figure:
    named = list(reversed(e.contributors))  # largest at the top
    groups = [c.group for c in named]
    fig = go.Figure()
    parts = (
        ("mix", MIX_COLOR, [c.mix for c in named]),
        ("rate", RATE_COLOR, [c.rate for c in named]),
    )
    for name, color, values in parts[0 if e.weight is not None else 1 :]:
        fig.add_trace(go.Bar(y=groups, x=values, name=name, orientation="h", marker_color=color))
    fig.update_layout(
        barmode="relative",
        title=wording.chart_title(e),
        showlegend=e.weight is not None,
        height=max(260, 40 * len(groups) + 120),
    )
    fig.update_xaxes(tickformat=d3_format(e.unit), zeroline=True)
    return fig.update_yaxes(type="category", rangemode="normal")
