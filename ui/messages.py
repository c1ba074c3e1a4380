"""An error on a page: one sentence, shown as text (user names in it are not Markdown), and
naming no file on the server unless the reader typed that path."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from kpi_engine.errors import KpiLabError, without_paths
from ui.text import plain


def show_error(
    problem: KpiLabError | str,
    labels: Mapping[str, str] | None = None,
    *,
    where: DeltaGenerator | None = None,
    icon: str | None = ":material/error:",
    paths: bool = False,
) -> None:
    """``problem`` in an error box. ``labels`` name its field as the page does; ``paths``
    keeps server paths (only where the reader typed them: the attach form)."""
    text = problem.describe(labels) if isinstance(problem, KpiLabError) else str(problem)
    (where or st).error(plain(text if paths else without_paths(text)), icon=icon)
