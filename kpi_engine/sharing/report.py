"""A shared view as a file: a self-contained HTML report drawn from the same blocks as the
page (Plotly embedded, works offline)."""

from __future__ import annotations

from kpi_engine.analyses import ANALYSES
from kpi_engine.display import html
from kpi_engine.sharing.links import Shared


def subtitle(shared: Shared) -> str:
    expiry = f" · link valid until {shared.expires_at:%Y-%m-%d}" if shared.expires_at else ""
    return (
        f"Shared {shared.created_at:%Y-%m-%d %H:%M} · {shared.dataset_name}"
        f" ({shared.rows:,} rows, as they were then){expiry} · read-only"
    )


def blocks(shared: Shared):
    return ANALYSES[shared.page].blocks(shared.result)


def html_report(shared: Shared) -> str:
    return html.page(shared.title, subtitle(shared), blocks(shared))
