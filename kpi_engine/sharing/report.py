"""A shared view as a file: a self-contained HTML report drawn from the same blocks as the
page (Plotly embedded, works offline)."""

from __future__ import annotations

from kpi_engine.analyses import ANALYSES
from kpi_engine.display import html
from kpi_engine.sharing import wording
from kpi_engine.sharing.links import Shared


def subtitle(shared: Shared) -> str:
    return wording.subtitle(shared.dataset_name, shared.rows, shared.created_at, shared.expires_at)


def blocks(shared: Shared):
    return ANALYSES[shared.page].blocks(shared.result)


def html_report(shared: Shared) -> str:
    return html.page(shared.title, subtitle(shared), blocks(shared))
