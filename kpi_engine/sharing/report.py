"""A shared view as a file: a self-contained HTML report (Plotly embedded, works offline) and
CSV tables with spreadsheet formulas neutralised."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from kpi_engine.export import safe_frame, to_csv_bytes
from kpi_engine.formatting import d3_format
from kpi_engine.kpis.catalog import CATALOG


def trend_figure(content: dict) -> go.Figure | None:
    """The KPI view's trend: one line per KPI of the first unit family chosen."""
    trend = pd.DataFrame(content.get("trend") or [])
    if trend.empty:
        return None
    kpi = content["cards"][0]["kpi"]
    fig = go.Figure(
        go.Scatter(x=trend["period"], y=trend[kpi], mode="lines+markers", name=CATALOG[kpi].name)
    )
    fig.update_layout(
        title=f"{CATALOG[kpi].name} by {content.get('grain') or 'period'}", template="plotly_white"
    )
    fig.update_yaxes(tickformat=d3_format(CATALOG[kpi].unit), rangemode="tozero")
    return fig


def tables(content: dict) -> dict[str, pd.DataFrame]:
    """The view's tables, by file name."""
    out = {}
    if content.get("cards"):
        out["totals"] = pd.DataFrame(
            [{"KPI": c["name"], "value": c["value"]} for c in content["cards"]]
        )
    if content.get("table"):
        out[f"by {content['by']}"] = pd.DataFrame(content["table"])
    if content.get("experiment"):
        out["experiment"] = pd.DataFrame(content["experiment"]["results"]).drop(
            columns=["details"], errors="ignore"
        )
    if content.get("budget"):
        out["budget"] = pd.DataFrame(content["budget"]["campaigns"]).drop(
            columns=["curve"], errors="ignore"
        )
    return out


def csv_files(content: dict) -> dict[str, bytes]:
    return {f"{name}.csv": to_csv_bytes(frame) for name, frame in tables(content).items()}


def html_report(content: dict) -> str:
    """One HTML file: title, date, the cards, tables and the chart, with plotly.js inline."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(content['title'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}"
        "th{background:#f4f5f8}.card{display:inline-block;border:1px solid #ddd;border-radius:8px;"
        "padding:8px 16px;margin:4px}</style></head><body>",
        f"<h1>{esc(content['title'])}</h1>",
        f"<p>Shared {esc(content['shared_at'])} · {esc(content['dataset'])}"
        f" ({content['rows']:,} rows)</p>",
    ]
    for card in content.get("cards", []):
        parts.append(
            f"<div class='card'><div>{esc(card['name'])}</div>"
            f"<strong>{esc(card['formatted'])}</strong></div>"
        )
    for verdict in (content.get("experiment") or {}).get("results", []):
        parts.append(f"<p>{esc(verdict['verdict'])}</p>")
    for name, frame in tables(content).items():
        parts.append(f"<h2>{esc(name)}</h2>")
        parts.append(safe_frame(frame).to_html(index=False, escape=True, na_rep="n/a"))
    figure = trend_figure(content)
    if figure is not None:
        parts.append(pio.to_html(figure, include_plotlyjs=True, full_html=False))
    parts.append("</body></html>")
    return "".join(parts)
