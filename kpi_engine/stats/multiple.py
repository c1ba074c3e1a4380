"""Adjusted p-values for a family of comparisons (several variants, several KPIs, or both)."""

from __future__ import annotations

import math

CORRECTIONS = ("holm", "bh", "none")


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni: controls the chance of any false positive in the family."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, p_values[i] * (m - rank)))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg: controls the expected share of false positives among the wins."""
    order = sorted(range(len(p_values)), key=lambda i: -p_values[i])
    m = len(p_values)
    adjusted = [0.0] * m
    running = 1.0
    for rank, i in enumerate(order):
        running = min(running, p_values[i] * m / (m - rank))
        adjusted[i] = min(1.0, running)
    return adjusted


def adjust(p_values: list[float], method: str) -> list[float]:
    """Adjust the finite p-values; missing ones (no variance) stay missing."""
    present = [i for i, p in enumerate(p_values) if not math.isnan(p)]
    values = [p_values[i] for i in present]
    if method == "holm":
        values = holm(values)
    elif method == "bh":
        values = benjamini_hochberg(values)
    out = list(p_values)
    for i, value in zip(present, values, strict=True):
        out[i] = value
    return out
