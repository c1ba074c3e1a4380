"""The result per segment (device, country, campaign...), and which segments' lifts differ
from the rest of the test: a Welch test of the segment's lift against the lift of all other
units, flagged at alpha / number of segments (Statsig's "differential impact"). A flag is a
hint to look closer, not a finding."""

from __future__ import annotations

import pandas as pd

from kpi_engine.experiments import wording
from kpi_engine.experiments.pairs import Pair, pair_of
from kpi_engine.experiments.result import SegmentResult
from kpi_engine.experiments.shapes import KpiShape
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.stats import compare
from kpi_engine.typed_json import finite

TOP_SEGMENTS = 20


def group_segments(by_segment: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """The segments, largest first (ties by name) and "other" last, and their sums per
    variant: the 20 largest segments by units are kept and the rest summed as "other"."""
    size = by_segment.groupby("segment")["n"].sum().reset_index()
    size = size.sort_values(["n", "segment"], ascending=[False, True])
    top = set(size["segment"].iloc[:TOP_SEGMENTS])
    labels = by_segment["segment"].map(
        lambda s: (s or wording.EMPTY_SEGMENT) if s in top else wording.OTHER_SEGMENT
    )
    grouped = by_segment.assign(segment=labels).groupby(["segment", "variant"])
    order = [s or wording.EMPTY_SEGMENT for s in size["segment"].iloc[:TOP_SEGMENTS]]
    if len(size) > TOP_SEGMENTS:
        order.append(wording.OTHER_SEGMENT)
    return order, grouped.sum(numeric_only=True).reset_index()


def _lift(pair: Pair, alpha: float, shape: KpiShape) -> compare.Comparison | None:
    """The relative lift by the headline's test (its delta-method standard error for the
    comparison with the rest), or None where no test is defined or the arms hold too few
    units or conversions to estimate from."""
    if pair.reason or not pair.enough:
        return None
    return pair.lift(alpha, shape.nonnegative).relative


def segment_results(
    by_segment: pd.DataFrame | None,
    totals: pd.DataFrame,
    order: list[str],
    shapes: dict[str, KpiShape],
    kind: str,
    spec: ExperimentSpec,
) -> tuple[SegmentResult, ...]:
    if by_segment is None or by_segment.empty:
        return ()
    segments, grouped = group_segments(by_segment)
    threshold = spec.alpha / len(segments)
    rows = {(r["segment"], r["variant"]): r for r in grouped.to_dict(orient="records")}
    out = []
    for i, (kpi, shape) in enumerate(shapes.items()):
        for variant in order[1:]:
            whole = pair_of(
                kind, totals.loc[spec.control].to_dict(), totals.loc[variant].to_dict(), i, shape
            )
            for segment in segments:
                control, treated = rows.get((segment, spec.control)), rows.get((segment, variant))
                if control is None or treated is None:
                    continue
                pair = pair_of(kind, control, treated, i, shape)
                lift = _lift(pair, spec.alpha, shape)
                rest = _lift(whole - pair, spec.alpha, shape)
                p_differs = compare.differ(lift, rest) if lift and rest else None
                out.append(
                    SegmentResult(
                        spec.segment_col or "",
                        segment,
                        kpi,
                        variant,
                        pair.control.n,
                        pair.treated.n,
                        finite(lift.estimate) if lift else None,
                        (finite(lift.ci[0]), finite(lift.ci[1])) if lift else (None, None),
                        finite(lift.p_value) if lift else None,
                        p_differs is not None and p_differs < threshold,
                        finite(p_differs),
                        too_few=not pair.enough,
                    )
                )
    return tuple(out)
