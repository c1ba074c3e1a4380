"""What a result looks like, as a list of blocks: sentences, cards, tables, charts, sections.

Each analysis has one renderer (``kpis/display.py``, ``experiments/display.py``,
``budget/display.py``) that turns its result into blocks. The live page and the shared
page draw those blocks with Streamlit (``ui/blocks.py``), the report draws them as HTML
(``display/html.py``): one drawing of a result, three places that show it.

Text is plain text, never markup: a campaign called ``**x**`` or ``<script>`` is shown as
written. Emphasis is a ``Strong`` span, which each drawer renders its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

Tone = Literal["plain", "caption", "info", "success", "warning", "error"]
DeltaColor = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Strong:
    text: str


Span = str | Strong


@dataclass(frozen=True)
class Text:
    spans: tuple[Span, ...]
    tone: Tone = "plain"
    icon: str | None = None  # a Material icon name ("warning", "check_circle")


def text(*spans: Span, tone: Tone = "plain", icon: str | None = None) -> Text:
    return Text(tuple(spans), tone, icon)


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text, ...]


@dataclass(frozen=True)
class Card:
    """A headline number: its value and, optionally, its change and a sparkline. With
    ``delta_color`` "normal" a rise is good (green), "inverse" a fall is, "off" neither."""

    label: str
    value: str
    delta: str | None = None
    delta_color: DeltaColor = "off"
    help: str | None = None
    sparkline: tuple[float, ...] = ()


@dataclass(frozen=True)
class Cards:
    items: tuple[Card, ...]
    per_row: int = 5  # six to a row cut money values off at 1,400 px with the sidebar open


@dataclass(frozen=True, eq=False)
class Table:
    """A table of raw values with a unit per numeric column (``formatting`` units, plus
    "signed_percent" for changes); ``tones`` marks cells "good" or "bad"; ``download`` is
    the file name (without extension) its CSV and, with ``excel``, Excel downloads take."""

    name: str
    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)
    tones: pd.DataFrame | None = None
    download: str | None = None
    excel: bool = False
    currency: str | None = None  # the money columns' currency, for its symbol
    totals: dict | None = None  # a last row of totals (ratios of sums, not sums of ratios)

    def with_totals(self) -> pd.DataFrame:
        """The frame, with its totals row at the bottom when it has one."""
        if self.totals is None:
            return self.frame
        row = pd.DataFrame([{c: self.totals.get(c) for c in self.frame.columns}])
        return pd.concat([self.frame, row], ignore_index=True)

    def tones_with_totals(self) -> pd.DataFrame | None:
        if self.tones is None or self.totals is None:
            return self.tones
        blank = pd.DataFrame([dict.fromkeys(self.tones.columns, "")])
        return pd.concat([self.tones, blank], ignore_index=True)


@dataclass(frozen=True, eq=False)
class Chart:
    figure: go.Figure
    key: str


@dataclass(frozen=True, eq=False)
class Download:
    """A file the reader can take away (on a page; the HTML report leaves it out). ``data``
    may be a function that makes the bytes, called only when the reader asks for them."""

    label: str
    data: bytes | Callable[[], bytes]
    file_name: str
    mime: str
    icon: str = "download"


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0 to 1


@dataclass(frozen=True)
class Section:
    """A titled part of a result. A page may draw a section into a place of its own (next to
    the widgets that set it); ``collapsed`` sections open on demand."""

    id: str
    title: str | None
    blocks: tuple[Block, ...]
    collapsed: bool = False
    icon: str | None = None


@dataclass(frozen=True)
class Columns:
    columns: tuple[tuple[Block, ...], ...]


Block = Text | Bullets | Cards | Table | Chart | Download | Progress | Section | Columns
