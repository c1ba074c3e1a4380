"""Blocks as one self-contained HTML page: the report a stakeholder downloads. Plotly's
JavaScript is inlined once, so the file opens offline; every text is escaped."""

from __future__ import annotations

import html

import plotly.io as pio

from kpi_engine.display.blocks import (
    Block,
    Bullets,
    Cards,
    Chart,
    Columns,
    Download,
    Progress,
    Section,
    Strong,
    Table,
    Text,
)
from kpi_engine.display.theme import plain_labels
from kpi_engine.export import neutralise
from kpi_engine.formatting import format_cell

STYLE = (
    "body{font-family:'Source Sans Pro',sans-serif;margin:2em;color:#222;max-width:1200px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;"
    "text-align:right}th{background:#f4f5f8}td.text{text-align:left}.good{background:#e7f5ec}"
    ".bad{background:#fbeaea}.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid"
    " #ddd;border-radius:8px;padding:8px 16px}.card .value{font-size:1.6em}.up{color:#1b7f3b}"
    ".down{color:#c0392b}.caption{color:#666;font-size:.9em}.info{background:#eef4fd}"
    ".success{background:#e7f5ec}.warning{background:#fff6e0}.error{background:#fbeaea}"
    ".info,.success,.warning,.error{padding:8px 12px;border-radius:6px}"
    ".columns{display:flex;gap:2em}.columns>div{flex:1}"
)


def page(title: str, subtitle: str, blocks: tuple[Block, ...]) -> str:
    """A whole HTML document: title, subtitle and the blocks."""
    state = {"plotly": False}
    body = "".join(_block(b, state) for b in blocks)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='caption'>{html.escape(subtitle)}</p>"
        f"{body}</body></html>"
    )


def _spans(text: Text) -> str:
    return "".join(
        f"<strong>{html.escape(s.text)}</strong>" if isinstance(s, Strong) else html.escape(s)
        for s in text.spans
    )


def _block(block: Block, state: dict) -> str:
    if isinstance(block, Text):
        return f"<p class='{block.tone}'>{_spans(block)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_spans(t)}</li>" for t in block.items) + "</ul>"
    if isinstance(block, Cards):
        return "<div class='cards'>" + "".join(_card(c) for c in block.items) + "</div>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        first = not state["plotly"]
        state["plotly"] = True
        figure = plain_labels(block.figure)
        return pio.to_html(figure, include_plotlyjs=first, full_html=False)
    if isinstance(block, Download):
        return ""
    if isinstance(block, Progress):
        return f"<progress value='{block.fraction:.4f}' max='1'></progress>"
    if isinstance(block, Section):
        inner = "".join(_block(b, state) for b in block.blocks)
        title = html.escape(block.title or "")
        if block.collapsed:
            return f"<details><summary>{title}</summary>{inner}</details>"
        return f"<section>{f'<h2>{title}</h2>' if title else ''}{inner}</section>"
    if isinstance(block, Columns):
        cols = "".join(
            "<div>" + "".join(_block(b, state) for b in column) + "</div>"
            for column in block.columns
        )
        return f"<div class='columns'>{cols}</div>"
    raise TypeError(f"no HTML for {type(block).__name__}")


def _card(card) -> str:
    delta = ""
    if card.delta:
        rising = not card.delta.lstrip().startswith(("-", "−"))
        good = {"normal": rising, "inverse": not rising}.get(card.delta_color)
        css = "" if good is None else ("up" if good else "down")
        delta = f"<div class='{css}'>{html.escape(card.delta)}</div>"
    return (
        f"<div class='card'><div>{html.escape(card.label)}</div>"
        f"<div class='value'>{html.escape(card.value)}</div>{delta}</div>"
    )


def _table(table: Table) -> str:
    frame, tones = table.with_totals(), table.tones_with_totals()
    head = "".join(f"<th>{html.escape(str(neutralise(c)))}</th>" for c in frame.columns)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            column = frame.columns[j]
            unit = table.units.get(column, "text")
            tone = tones.iat[i, j] if tones is not None else ""
            css = " ".join(x for x in ("text" if unit == "text" else "", tone or "") if x)
            shown = html.escape(str(neutralise(format_cell(value, unit, table.currency))))
            cells.append(f"<td class='{css}'>{shown}</td>" if css else f"<td>{shown}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
