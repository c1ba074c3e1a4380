"""What "why did this change?" finds: typed, with the JSON shape of ``explain --json``."""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.typed_json import from_json, to_json


@dataclass(frozen=True)
class Part:
    """A KPI the explained one multiplies (``exponent`` 1) or divides (-1) by."""

    kpi: str
    name: str
    unit: str
    exponent: int
    value: float | None
    previous: float | None
    change: float | None  # relative
    share: float | None  # of the explained KPI's log change; the parts' shares add to 1
    within_noise: bool | None = None
    top_group: str | None = None  # the group whose own move drove this part most
    top_group_change: float | None = None


@dataclass(frozen=True)
class Contributor:
    """One group's part of the change, in the KPI's units: ``mix + rate == total``."""

    group: str
    mix: float
    rate: float
    total: float
    value: float | None = None  # the group's own KPI in the period
    previous: float | None = None
    weight: float | None = None  # its share of the KPI's denominator in the period
    previous_weight: float | None = None
    within_noise: bool | None = None  # the group's own KPI moved no more than chance would
    groups: int = 1  # more than 1: the smaller groups folded into one row


@dataclass(frozen=True)
class Explanation:
    dataset_id: str
    kpi: str
    name: str
    unit: str
    direction: str
    period: tuple[str, str]
    vs: tuple[str, str]
    value: float | None
    previous: float | None
    change: float | None  # relative: value / previous - 1
    sentence: str
    within_noise: bool | None = None
    noise: str = "none"  # binomial, poisson or none (no count behind the KPI)
    parts: tuple[Part, ...] = ()
    parts_note: str | None = None  # why there are no parts
    by: str | None = None
    weight: str | None = None  # what the groups' shares are shares of (the denominator)
    mix: float | None = None  # in the KPI's units; mix + rate == value - previous
    rate: float | None = None
    contributors: tuple[Contributor, ...] = ()
    by_note: str | None = None  # why the change is not split across ``by``
    currency: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    conversion: ConversionNote | None = None  # how amounts became ``currency``

    def to_dict(self) -> dict:
        return to_json(self)

    @classmethod
    def from_dict(cls, data: dict) -> Explanation:
        return from_json(cls, data)
