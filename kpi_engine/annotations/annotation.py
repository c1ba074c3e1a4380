"""One mark on a timeline: a day or a range of the data, and what happened then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Annotation:
    """A day or a range of the data with what happened then. ``kind``: note (someone wrote
    it), import, plan, alert or test (KPI Lab saw it happen)."""

    start: str  # ISO dates
    end: str
    text: str
    kind: str = "note"
    exclude: bool = False  # left out of baselines (anomaly flags, budget curve fits)
    annotation_id: str | None = None  # notes only: the others are events

    def covers(self, day: date) -> bool:
        return self.start <= day.isoformat() <= self.end

    def overlaps(self, start: date | None, end: date | None) -> bool:
        return (end is None or self.start <= end.isoformat()) and (
            start is None or self.end >= start.isoformat()
        )
