"""A custom KPI from a user's name and formula, checked: no database, so that a view or a
command line can build one before anything is opened (``custom.py`` stores them)."""

from __future__ import annotations

import re

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import CATALOG, DIRECTIONS, UNITS, Kpi

FAMILY = "Custom"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


def make_kpi(name: str, formula: str, unit: str = "ratio", direction: str = "neutral") -> Kpi:
    """A KPI from a user's formula, or a ``KpiLabError`` that says what is wrong."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise KpiLabError(
            f"custom KPI name {name!r}: use letters, digits and _ (e.g."
            " profit_per_click), starting with a letter, at most 40 characters"
        )
    if name in CATALOG:
        raise KpiLabError(f"{name!r} is already a catalog KPI: pick another name")
    if unit not in UNITS or direction not in DIRECTIONS:
        raise KpiLabError(
            f"unit must be one of {', '.join(UNITS)} and direction one of {', '.join(DIRECTIONS)}"
        )
    fx.parse(formula)
    return Kpi(
        name,
        name,
        FAMILY,
        formula,
        unit,
        direction,
        f"Custom KPI: {formula}",
        "Defined by a user of this workspace.",
    )


def parse_custom(pairs: list[str]) -> tuple[Kpi, ...]:
    """``["NAME=FORMULA", ...]`` from the command line."""
    kpis = []
    for pair in pairs:
        name, sep, formula = pair.partition("=")
        if not sep:
            raise KpiLabError(
                f"--custom {pair!r} needs the form NAME=FORMULA,"
                " e.g. margin=(sum(revenue) - sum(spend)) / sum(revenue)"
            )
        kpis.append(make_kpi(name, formula))
    return tuple(kpis)
