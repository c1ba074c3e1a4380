"""Draw a result's blocks with Streamlit: the live pages and the shared page use this one
drawer, so a stakeholder sees what its owner saw."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

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
from kpi_engine.export import to_csv_bytes, to_excel_bytes
from kpi_engine.formatting import NOT_AVAILABLE, format_cell
from ui.text import plain

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TONES = {"good": "background-color: #e7f5ec", "bad": "background-color: #fbeaea"}


def draw(blocks: tuple[Block, ...], slots: Mapping[str, DeltaGenerator] | None = None) -> None:
    """Draw ``blocks`` in order; a section whose id has a slot is drawn into that container
    (a page puts the widgets that set the section above it), without its title."""
    for block in blocks:
        if isinstance(block, Section) and slots and block.id in slots:
            with slots[block.id]:
                draw(block.blocks)
        else:
            _draw(block)


def markdown(text: Text) -> str:
    body = "".join(
        f"**{plain(s.text)}**" if isinstance(s, Strong) else plain(s) for s in text.spans
    )
    if text.icon and text.tone in ("plain", "caption"):
        return f":material/{text.icon}: {body}"
    return body


def _draw(block: Block) -> None:
    if isinstance(block, Text):
        _text(block)
    elif isinstance(block, Bullets):
        st.markdown("\n".join(f"- {markdown(item)}" for item in block.items))
    elif isinstance(block, Cards):
        _cards(block)
    elif isinstance(block, Table):
        _table(block)
    elif isinstance(block, Chart):
        st.plotly_chart(plain_labels(block.figure), key=block.key)
    elif isinstance(block, Download):
        st.download_button(
            block.label,
            block.data,
            file_name=block.file_name,
            mime=block.mime,
            icon=f":material/{block.icon}:",
            on_click="ignore",
            key=f"download_{block.file_name}",
        )
    elif isinstance(block, Progress):
        st.progress(min(max(block.fraction, 0.0), 1.0))
    elif isinstance(block, Section):
        if block.collapsed:
            icon = f":material/{block.icon}:" if block.icon else None
            with st.expander(plain(block.title or ""), icon=icon):
                draw(block.blocks)
        else:
            if block.title:
                st.subheader(plain(block.title), anchor=False)
            draw(block.blocks)
    elif isinstance(block, Columns):
        for column, parts in zip(st.columns(len(block.columns)), block.columns, strict=True):
            with column:
                draw(parts)


def _text(block: Text) -> None:
    body = markdown(block)
    icon = f":material/{block.icon}:" if block.icon else None
    if block.tone == "plain":
        st.markdown(body)
    elif block.tone == "caption":
        st.caption(body)
    else:
        getattr(st, block.tone)(body, icon=icon)


def _cards(block: Cards) -> None:
    items = block.items
    for offset in range(0, len(items), block.per_row):
        row = items[offset : offset + block.per_row]
        width = min(block.per_row, len(items))
        for column, card in zip(st.columns(width), row, strict=False):
            column.metric(
                card.label,  # a KPI name: the catalog's, or a custom id (letters, digits, _)
                card.value,
                delta=card.delta,
                delta_color=card.delta_color,
                chart_data=list(card.sparkline) or None,
                help=plain(card.help) if card.help else None,
                border=True,
            )


def _table(block: Table) -> None:
    """The table, its numbers written by the same rules as everywhere (``format_cell``)
    while sorting keeps the values; its downloads made only when clicked (an Excel file of
    1,000 rows takes longer to write than the page takes to draw)."""
    frame = block.with_totals()
    formats = {
        column: partial(format_cell, unit=unit, currency=block.currency)
        for column, unit in block.units.items()
        if unit != "text" and column in frame.columns
    }
    shown = frame.style.format(formats, na_rep=NOT_AVAILABLE)
    tones = block.tones_with_totals()
    if tones is not None:
        shown = shown.apply(lambda _: tones.map(lambda t: TONES.get(t, "")), axis=None)
    if block.download:
        units, money = block.units, block.currency
        files = [
            Download(
                "Download table (CSV)",
                lambda: to_csv_bytes(frame, units, money),
                f"{block.download}.csv",
                "text/csv",
            )
        ]
        if block.excel:
            files.append(
                Download(
                    "Download table (Excel)",
                    lambda: to_excel_bytes(
                        frame, units=units, currency=money, totals=bool(block.totals)
                    ),
                    f"{block.download}.xlsx",
                    XLSX,
                    "table_view",
                )
            )
        for column, file in zip(st.columns(2), files, strict=False):
            with column:
                _draw(file)
    st.dataframe(shown, hide_index=True)
