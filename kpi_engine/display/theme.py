"""One Plotly look for every chart (page, shared link, report); axes formatted by unit.

The look is Plotly's default template, merged once at import: setting a template on each
figure made Plotly merge, validate and deep-copy it every time, 10-18 ms per chart and a
fifth of the server's CPU with 20 users (py-spy, benchmarks/load.py)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from kpi_engine.formatting import d3_format

# 16 colours that stay apart from each other, so 14 campaigns get 14 lines
COLORS = [
    "#3552C8",
    "#E4572E",
    "#17A398",
    "#F3A712",
    "#8A4FFF",
    "#5B6C8F",
    "#D7263D",
    "#29B6F6",
    "#2E7D32",
    "#AD1457",
    "#6D4C41",
    "#00838F",
    "#9E9D24",
    "#FF7043",
    "#455A64",
    "#7E57C2",
]
TEMPLATE = "kpilab"

pio.templates[TEMPLATE] = pio.templates.merge_templates(
    "plotly_white",
    go.layout.Template(
        layout=go.Layout(
            colorway=COLORS,
            font={"family": "Source Sans Pro, sans-serif", "size": 13},
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            hovermode="x unified",
            legend={"orientation": "h", "y": -0.2},
            xaxis={"showgrid": False},
            yaxis={"gridcolor": "#E6E9EF", "rangemode": "tozero"},
        )
    ),
)
pio.templates.default = TEMPLATE


def styled(fig: go.Figure, unit: str) -> go.Figure:
    return fig.update_yaxes(tickformat=d3_format(unit))


_TRACE_TEXT = ("name", "text", "hovertext", "x", "y")


def _plain(value):
    """Plotly draws a subset of HTML in labels (<a href>, <b>, <br>...): user text keeps
    its < and > as characters. Only < and > change, so applying it twice changes nothing."""
    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, (list, tuple, np.ndarray)) and any(isinstance(v, str) for v in value):
        return [_plain(v) for v in value]
    return value


def plain_labels(fig: go.Figure) -> go.Figure:
    """``fig`` with every label that can hold user text (trace names, categories, hover
    text, titles, annotations, menu labels) shown as text, never markup."""
    for trace in fig.data:
        for prop in _TRACE_TEXT:
            if prop in trace and trace[prop] is not None:
                trace[prop] = _plain(trace[prop])
    layout = fig.layout
    if layout.title.text:
        layout.title.text = _plain(layout.title.text)
    for axis in (layout.xaxis, layout.yaxis):
        if axis.title.text:
            axis.title.text = _plain(axis.title.text)
        if axis.ticktext:
            axis.ticktext = _plain(list(axis.ticktext))
    for note in layout.annotations:
        note.text = _plain(note.text)
    for menu in layout.updatemenus:
        for button in menu.buttons:
            button.label = _plain(button.label)
    return fig
