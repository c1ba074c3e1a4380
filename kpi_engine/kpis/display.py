"""How the KPIs view is shown: the one renderer the KPIs page, a shared link and the HTML
report all draw. Sections: cards, why a KPI changed, breakdown, trend, compare, targets."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi_engine.annotations.annotation import Annotation
from kpi_engine.currencies.wording import conversion_line
from kpi_engine.display.blocks import (
    Block,
    Bullets,
    Card,
    Cards,
    Chart,
    Columns,
    Progress,
    Section,
    Table,
    text,
)
from kpi_engine.display.theme import styled
from kpi_engine.explain import wording as explain_wording
from kpi_engine.explain.display import blocks as explain_blocks
from kpi_engine.formatting import d3_format, format_compact
from kpi_engine.kpis import charts, wording
from kpi_engine.kpis.result import KpiViewResult, Mover, TrendLine

DELTA_COLORS = {"higher": "normal", "lower": "inverse"}


def blocks(result: KpiViewResult, title: str = "") -> tuple[Block, ...]:
    out: list[Block] = [Section("cards", None, card_blocks(result))]
    if result.why is not None:
        out.append(Section("why", explain_wording.TITLE, explain_blocks(result.why)))
    out.append(Section("breakdown", wording.breakdown_title(result.by), breakdown_blocks(result)))
    if result.trend is not None:
        trend: tuple[Block, ...] = (Chart(trend_figure(result), "trend"),)
        if result.annotations:
            trend += (timeline_list(result),)
        out.append(Section("trend", wording.TREND, trend))
        note = lines_caption(result)
        if note:
            out.append(Section("trend_note", None, (note,)))
    if result.compare is not None:
        out.append(Section("compare", wording.COMPARE, (compare_table(result),)))
    if result.targets:
        out.append(Section("targets", f"Targets ({len(result.targets)})", target_blocks(result)))
    return tuple(out)


def card_blocks(result: KpiViewResult) -> tuple[Block, ...]:
    scope = wording.scope(result.start, result.end, result.filters, result.currency)
    out: list[Block] = [text(scope, tone="caption", icon="filter_alt")]
    if all(k.vanity for k in result.kpis):
        out.append(text(wording.VANITY, tone="warning", icon="warning"))
    if result.dropped:
        out.append(text(wording.dropped_rows(result.dropped), tone="warning", icon="rule"))
    if result.conversion is not None:
        out.append(
            text(conversion_line(result.conversion), tone="caption", icon="currency_exchange")
        )
    if not result.cards:
        return (*out, text(wording.SEVERAL_CURRENCIES, tone="info", icon="payments"))
    if result.previous and result.days and not result.compared:
        out.append(text(wording.not_compared(result.previous, result.days), tone="caption"))
    elif result.previous and result.compared:
        out.append(text(wording.compared_with(result.previous), tone="caption"))
    cards = []
    for card in result.cards:
        kpi = result.kpi(card.kpi)
        cards.append(
            Card(
                kpi.name,
                format_compact(card.value, kpi.unit, result.currency),
                wording.card_delta(card.change),
                DELTA_COLORS.get(kpi.direction, "off"),
                wording.card_help(kpi, card.value, result.currency, card.typical),
                card.sparkline,
            )
        )
    return (*out, Cards(tuple(cards)))


def breakdown_blocks(result: KpiViewResult) -> tuple[Block, ...]:
    frame = pd.DataFrame(list(result.rows))
    names = {k.id: k.name for k in result.kpis}
    out: list[Block] = []
    if result.truncated and result.by:
        out.append(text(wording.truncated(len(frame), result.by, result.kpis[0]), tone="caption"))
    tones = _tones(result, frame) if result.by and result.cards else None
    shown = frame.rename(columns=names)
    stem = "KPIs by " + ", ".join(result.by) if result.by else "KPI totals"
    out.append(
        Table(
            "breakdown",
            shown,
            {k.name: k.unit for k in result.kpis},
            None if tones is None else tones.rename(columns=names),
            download=stem,
            excel=True,
            currency=result.currency,
            totals=_totals(result) if not result.truncated else None,
        )
    )
    if result.movers is not None:
        out.append(
            text(
                wording.movers_caption(
                    result.kpi(result.movers.kpi), result.movers.among, result.movers.by
                ),
                tone="caption",
            )
        )
        out.append(
            Columns(
                (
                    (_movers_table(result, result.movers.better, "better"),),
                    (_movers_table(result, result.movers.worse, "worse"),),
                )
            )
        )
    return tuple(out)


def _totals(result: KpiViewResult) -> dict | None:
    """The breakdown's totals row: each KPI over all the rows (a ratio of sums, as on the
    cards), never a sum or mean of the groups' ratios."""
    if not result.by or not result.cards:
        return None
    row: dict = {result.by[0]: wording.TOTAL}
    row |= {result.kpi(card.kpi).name: card.value for card in result.cards}
    return row


def _tones(result: KpiViewResult, frame: pd.DataFrame) -> pd.DataFrame:
    """A ratio KPI (CTR, CPA, ROAS...) is green where a group does better than the total and
    red where worse, by the KPI's direction. Counts and money are not coloured: every group
    has less than the total, which says nothing."""
    tones = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for card in result.cards:
        kpi = result.kpi(card.kpi)
        if kpi.direction == "neutral" or card.value is None or kpi.additive:
            continue
        sign = 1 if kpi.direction == "higher" else -1
        values = pd.to_numeric(frame[kpi.id], errors="coerce")
        tones[kpi.id] = [
            ""
            if pd.isna(v) or v == card.value
            else ("good" if sign * (v - card.value) > 0 else "bad")
            for v in values
        ]
    return tones


def _movers_table(result: KpiViewResult, movers: tuple[Mover, ...], name: str) -> Table:
    kpi = result.kpi(result.movers.kpi)
    by = result.movers.by
    frame = pd.DataFrame(
        [(m.group, m.before, m.now, m.change) for m in movers],
        columns=[by, f"{kpi.name} before", kpi.name, "change"],
    )
    units = {f"{kpi.name} before": kpi.unit, kpi.name: kpi.unit, "change": "signed_percent"}
    return Table(f"movers {name}", frame, units, currency=result.currency)


def trend_figure(result: KpiViewResult) -> go.Figure:
    trend = result.trend
    kpi = result.kpi(trend.kpi)
    fig = go.Figure()
    single = len(trend.lines) == 1 and not trend.lines_by
    for line in trend.lines:
        fig.add_trace(_trace(line, mode="lines+markers" if single else "lines"))
    if trend.smooth:
        fig.add_trace(_trace(charts.average(trend), mode="lines", line={"dash": "dot"}))
        marker = {"size": 12, "color": "#D7263D", "symbol": "x"}
        fig.add_trace(_trace(charts.anomaly_days(trend), mode="markers", marker=marker))
    for day, count in result.dropped:
        if (result.start and day < result.start) or (result.end and day > result.end):
            continue  # a day of the previous period: the cards' change, not this chart
        fig.add_vline(x=day, line={"dash": "dot", "color": "#D7263D", "width": 1})
        fig.add_annotation(
            x=day, y=1, yref="paper", text=f"{count} dropped", showarrow=False,
            font={"size": 10, "color": "#D7263D"}, yanchor="bottom",
        )  # fmt: skip
    for mark in result.annotations:
        _annotate(fig, mark)
    fig.update_layout(
        title=wording.trend_title(kpi, trend.grain),
        showlegend=not single or trend.smooth,
    )
    fig.update_traces(hovertemplate=f"%{{y:{d3_format(kpi.unit)}}}")
    return styled(fig, kpi.unit)


MARK_COLORS = {"note": "#5B6C8F", "import": "#17A398", "plan": "#3552C8", "alert": "#E4572E"}


def _annotate(fig: go.Figure, mark: Annotation) -> None:
    """A note or an event on the trend: a band for a range, a line for a day; its text is
    user text, which ``plain_labels`` keeps as text when the figure is drawn."""
    color = MARK_COLORS.get(mark.kind, "#8A4FFF")
    label = {"text": mark.text[:40], "font": {"size": 10, "color": color}}
    if mark.start != mark.end:
        fig.add_vrect(
            x0=mark.start, x1=mark.end, fillcolor=color, opacity=0.15 if mark.exclude else 0.08,
            line_width=0, annotation=label, annotation_position="top left",
        )  # fmt: skip
    else:
        fig.add_vline(
            x=mark.start, line={"dash": "dash", "color": color, "width": 1},
            annotation=label, annotation_position="top right",
        )  # fmt: skip


def timeline_list(result: KpiViewResult) -> Bullets:
    return Bullets(tuple(text(wording.annotation_line(a)) for a in result.annotations))


def _trace(series: TrendLine, **style) -> go.Scatter:
    return go.Scatter(x=list(series.periods), y=list(series.values), name=series.name, **style)


def lines_caption(result: KpiViewResult):
    trend = result.trend
    if trend is None or not trend.lines_by or trend.groups is None:
        return None
    note = wording.lines_note(len(trend.lines), trend.groups, trend.more_groups, trend.lines_by)
    return text(note, tone="caption") if note else None


def compare_table(result: KpiViewResult) -> Table:
    comparison = result.compare
    a, b = wording.period_label(comparison.a), wording.period_label(comparison.b)
    rows = []
    for row in comparison.rows:
        kpi = result.kpi(row.kpi)
        rows.append(
            {
                "KPI": kpi.name,
                a: format_compact(row.period_a, kpi.unit, result.currency),
                b: format_compact(row.period_b, kpi.unit, result.currency),
                "change": row.change,
            }
        )
    frame = pd.DataFrame(rows, columns=["KPI", a, b, "change"])
    return Table("two periods", frame, {"change": "signed_percent"})


def target_blocks(result: KpiViewResult) -> tuple[Block, ...]:
    out: list[Block] = []
    for status in result.targets:
        line = wording.target_line(status, result.currency)
        out.append(text(line, icon=wording.STATUS_ICONS.get(status.status, "flag")))
        if status.progress is not None:
            out.append(Progress(status.progress))
    return tuple(out)
