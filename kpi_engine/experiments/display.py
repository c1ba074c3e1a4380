"""How an experiment's result is shown: the one renderer the Experiments page, a shared link
and the HTML report all draw."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go

from kpi_engine.currencies.wording import conversion_line
from kpi_engine.display.blocks import Block, Chart, Download, Section, Table, text
from kpi_engine.display.theme import COLORS, styled
from kpi_engine.experiments import wording
from kpi_engine.experiments.charts import cumulative_lifts, daily_values, forest_rows, week_rows
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.formatting import d3_format, format_value


def blocks(result: ExperimentResult) -> tuple[Block, ...]:
    out: list[Block] = [text(wording.data_caption(result.data.kind), tone="caption")]
    if result.conversion is not None:
        out.append(
            text(conversion_line(result.conversion), tone="caption", icon="currency_exchange")
        )
    tone, sentence = wording.split_summary(result.srm)
    out.append(text(sentence, tone=tone, icon={"error": "report", "success": "balance"}.get(tone)))
    out += [
        text(w.message, tone="warning", icon="warning") for w in result.warnings if w.code != "srm"
    ]
    for r in result.results:
        icon = (
            ("check_circle" if r.good else "error") if r.significant else "radio_button_unchecked"
        )
        out.append(text(r.verdict, icon=icon))
    out += [text(line, icon="info") for line in wording.method_notes(result)]
    out += [text(wording.guardrail_line(g, result.kpi(g.kpi).name)) for g in result.guardrails]
    if result.power is not None:
        out.append(text(wording.power_sentence(result.power), tone="caption"))
    for key, figure in (
        ("forest", forest_figure(result)),
        ("cumulative", cumulative_figure(result)),
        ("daily", daily_figure(result)),
    ):
        if figure is not None:
            out.append(Chart(figure, key))
        if key in _left_out(result):
            out.append(text(wording.too_few_left_out(key), tone="caption"))
    weeks = weeks_figure(result)
    if weeks is not None:
        shown: tuple[Block, ...] = (Chart(weeks, "weeks"), text(wording.WEEKS_HINT, tone="caption"))
        if "weeks" in _left_out(result):
            shown += (text(wording.too_few_left_out("weeks"), tone="caption"),)
        out.append(Section("weeks", wording.WEEKS_TITLE, shown))
    if result.segments:
        out.append(
            Section(
                "segments",
                wording.SEGMENTS_TITLE,
                (
                    text(wording.SEGMENT_HINT, tone="caption"),
                    Table("segments", segments_table(result), SEGMENT_UNITS, download="segments"),
                ),
            )
        )
    out.append(
        Section(
            "numbers",
            "Every number behind the sentences",
            (
                Table("experiment", numbers_table(result), NUMBER_UNITS, download="experiment"),
                Download(
                    "Download every number (JSON)",
                    lambda: json.dumps(result.to_dict(), indent=1).encode(),
                    "experiment.json",
                    "application/json",
                ),
            ),
            collapsed=True,
        )
    )
    return tuple(out)


def _left_out(result: ExperimentResult) -> set[str]:
    """The charts that leave out weeks or days holding too few users or conversions."""
    out = set()
    if any(w.too_few for w in result.by_exposure_week):
        out.add("weeks")
    if len(daily_values(result)) < len(result.daily):
        out.add("daily")
    return out


NUMBER_UNITS = {
    "KPI": "text",
    "variant": "text",
    "control": "text",
    "variant value": "text",
    "abs lift": "text",
    "rel lift": "signed_percent",
    "rel CI low": "signed_percent",
    "rel CI high": "signed_percent",
    "p": "p_value",
    "p adjusted": "p_value",
    "chance to beat": "percent",
    "expected loss": "percent",
    "unadjusted rel lift": "signed_percent",
    "variance reduction": "percent",
    "stratified rel lift": "signed_percent",
    "p non-inferiority": "p_value",
    "method": "text",
}
SEGMENT_UNITS = {
    "segment": "text",
    "KPI": "text",
    "variant": "text",
    "users (control)": "count",
    "users (variant)": "count",
    "rel lift": "signed_percent",
    "rel CI low": "signed_percent",
    "rel CI high": "signed_percent",
    "p": "p_value",
    "differs from the rest": "text",
    "p differs": "p_value",
}


def segments_table(result: ExperimentResult) -> pd.DataFrame:
    rows = [
        {
            "segment": s.segment,
            "KPI": result.kpi(s.kpi).name,
            "variant": s.variant,
            "users (control)": s.n_control,
            "users (variant)": s.n_variant,
            "rel lift": s.rel_lift,
            "rel CI low": s.ci_rel[0],
            "rel CI high": s.ci_rel[1],
            "p": s.p_value,
            "differs from the rest": _differs(s),
            "p differs": s.p_differs,
        }
        for s in result.segments
    ]
    return pd.DataFrame(rows, columns=list(SEGMENT_UNITS))


def _differs(s) -> str:
    if s.too_few:
        return wording.TOO_FEW
    return "yes: look closer" if s.differs else "no"


def numbers_table(result: ExperimentResult) -> pd.DataFrame:
    rows = []
    for r in result.results:
        kpi = result.kpi(r.kpi)
        rows.append(
            {
                "KPI": kpi.name,
                "variant": r.variant,
                "control": format_value(r.control_value, kpi.unit),
                "variant value": format_value(r.variant_value, kpi.unit),
                "abs lift": format_value(r.abs_lift, kpi.unit),
                "rel lift": r.rel_lift,
                "rel CI low": r.ci_rel[0],
                "rel CI high": r.ci_rel[1],
                "p": r.p_value,
                "p adjusted": r.p_value_adjusted,
                "chance to beat": r.chance_to_beat,
                "expected loss": r.expected_loss,
                "unadjusted rel lift": r.unadjusted.rel_lift if r.unadjusted else None,
                "variance reduction": r.variance_reduction,
                "stratified rel lift": r.stratified.rel_lift if r.stratified else None,
                "p non-inferiority": r.p_non_inferiority,
                "method": r.method,
            }
        )
    return pd.DataFrame(rows, columns=list(NUMBER_UNITS))


def forest_figure(result: ExperimentResult) -> go.Figure | None:
    rows = forest_rows(result)
    if rows.empty:
        return None
    fig = go.Figure(
        go.Scatter(
            x=rows["rel_lift"],
            y=rows["label"],
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": rows["ci_high"] - rows["rel_lift"],
                "arrayminus": rows["rel_lift"] - rows["ci_low"],
            },
            marker={"size": 10},
        )
    )
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(title=wording.FOREST_TITLE, height=120 + 50 * len(rows))
    return styled(fig, "ratio").update_xaxes(tickformat=d3_format("percent"))


def _kpi_menu(fig: go.Figure, result: ExperimentResult, owners: list[str], title) -> None:
    """A dropdown that shows one KPI's traces at a time (drawn by Plotly itself, so it works
    the same on the page, in a shared link and in the report)."""
    kpis = list(dict.fromkeys(owners))
    if len(kpis) < 2:
        return
    buttons = [
        {
            "label": result.kpi(k).name,
            "method": "update",
            "args": [
                {"visible": [o == k for o in owners]},
                {"title.text": title(k), "yaxis.tickformat": _tick(result, k)},
            ],
        }
        for k in kpis
    ]
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.18, "yanchor": "top"}]
    )


def _tick(result: ExperimentResult, kpi_id: str | None) -> str:
    return d3_format("percent") if kpi_id is None else d3_format(result.kpi(kpi_id).unit)


def cumulative_figure(result: ExperimentResult) -> go.Figure | None:
    lifts = cumulative_lifts(result)
    if lifts.empty:
        return None
    order = [k.id for k in result.kpis if k.id in set(lifts["kpi"])]
    fig = go.Figure()
    owners: list[str] = []
    for kpi_id in order:
        for v, variant in enumerate(result.data.variants[1:], start=1):  # control is colour 0
            line = lifts[(lifts["kpi"] == kpi_id) & (lifts["variant"] == variant)]
            if line.empty:
                continue
            color, visible = COLORS[v % len(COLORS)], kpi_id == order[0]
            fig.add_trace(
                go.Scatter(
                    x=line["day"],
                    y=line["ci_high"],
                    line={"width": 0, "color": color},
                    showlegend=False,
                    hoverinfo="skip",
                    visible=visible,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=line["day"],
                    y=line["ci_low"],
                    fill="tonexty",
                    fillcolor=_faint(color),
                    line={"width": 0, "color": color},
                    name=f"{variant}: CI",
                    visible=visible,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=line["day"],
                    y=line["rel_lift"],
                    name=f"{variant}: lift",
                    line={"color": color},
                    visible=visible,
                )
            )
            owners += [kpi_id] * 3
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(title=_cumulative_title(result, order[0]))
    _kpi_menu(fig, result, owners, lambda k: _cumulative_title(result, k))
    return styled(fig, "percent").update_yaxes(tickformat=d3_format("percent"))


def _faint(color: str) -> str:
    """A hex colour at a fifth of its strength (an interval's band)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.2)"


def _cumulative_title(result: ExperimentResult, kpi_id: str) -> str:
    return f"{wording.CUMULATIVE_TITLE} ({result.kpi(kpi_id).name})"


def daily_figure(result: ExperimentResult) -> go.Figure | None:
    daily = daily_values(result)
    if daily.empty:
        return None
    order = [k.id for k in result.kpis if k.id in set(daily["kpi"])]
    fig = go.Figure()
    owners: list[str] = []
    for kpi_id in order:
        for v, variant in enumerate(result.data.variants):
            part = daily[(daily["kpi"] == kpi_id) & (daily["variant"] == variant)]
            fig.add_trace(
                go.Scatter(
                    x=part["day"],
                    y=part["value"],
                    name=variant,
                    line={"color": COLORS[v % len(COLORS)]},
                    visible=kpi_id == order[0],
                )
            )
            owners.append(kpi_id)
    fig.update_layout(title=wording.daily_title(result.kpi(order[0]).name))
    _kpi_menu(fig, result, owners, lambda k: wording.daily_title(result.kpi(k).name))
    return styled(fig, result.kpi(order[0]).unit)


def weeks_figure(result: ExperimentResult) -> go.Figure | None:
    """Relative lift by week since first exposure, with its CI, a KPI at a time."""
    weeks = week_rows(result)
    if weeks.empty:
        return None
    order = [k.id for k in result.kpis if k.id in set(weeks["kpi"])]
    fig = go.Figure()
    owners: list[str] = []
    for kpi_id in order:
        for v, variant in enumerate(result.data.variants[1:], start=1):
            line = weeks[(weeks["kpi"] == kpi_id) & (weeks["variant"] == variant)]
            fig.add_trace(
                go.Scatter(
                    x=line["week"],
                    y=line["rel_lift"],
                    name=variant,
                    mode="lines+markers",
                    line={"color": COLORS[v % len(COLORS)]},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": line["ci_high"] - line["rel_lift"],
                        "arrayminus": line["rel_lift"] - line["ci_low"],
                    },
                    visible=kpi_id == order[0],
                )
            )
            owners.append(kpi_id)
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(title=_weeks_title(result, order[0]))
    fig.update_xaxes(title="week since first exposure", dtick=1)
    _kpi_menu(fig, result, owners, lambda k: _weeks_title(result, k))
    return styled(fig, "percent").update_yaxes(tickformat=d3_format("percent"))


def _weeks_title(result: ExperimentResult, kpi_id: str) -> str:
    return f"{wording.WEEKS_TITLE} ({result.kpi(kpi_id).name})"
