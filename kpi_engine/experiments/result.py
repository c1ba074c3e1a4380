"""What an experiment analysis returns: typed, and its JSON has the same shape
(``to_dict``/``from_dict``). A shared link stores the JSON and draws exactly this result."""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.stats.sufficient import ArmStats
from kpi_engine.typed_json import from_json, to_json


@dataclass(frozen=True)
class Notice:
    """A warning about the data or the design, with what it counts and a few examples."""

    code: str
    count: int
    message: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSummary:
    kind: str  # users, totals or campaign (see shapes.py)
    variants: tuple[str, ...]  # control first
    units: str  # what one unit of analysis is: users, days, days x campaign


@dataclass(frozen=True)
class KpiInfo:
    id: str
    name: str
    unit: str
    direction: str


@dataclass(frozen=True)
class SplitCheck:
    """Sample ratio mismatch: are the units split as intended? (Not checked on campaign rows.)"""

    checked: bool
    p_value: float | None = None
    flag: bool = False
    chi2: float | None = None
    counts: dict[str, float] = field(default_factory=dict)
    expected_share: dict[str, float] = field(default_factory=dict)
    days_flagged: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class TestDetails:
    """The numbers behind a comparison, for the analyst."""

    se_rel: float | None
    se_abs: float | None
    dof: float | None
    z: float | None = None  # conversion rates: the score statistic
    fisher_p: float | None = None  # conversion rates with small counts: Fisher's exact test


@dataclass(frozen=True)
class LiftSummary:
    """A relative lift by another estimator, next to the headline one."""

    rel_lift: float | None
    ci_rel: tuple[float | None, float | None]
    p_value: float | None


@dataclass(frozen=True)
class KpiComparison:
    """One KPI, one variant against the control."""

    kpi: str
    variant: str
    direction: str
    control_value: float | None
    variant_value: float | None
    abs_lift: float | None
    rel_lift: float | None
    n_control: float
    n_variant: float
    ci_abs: tuple[float | None, float | None]
    ci_rel: tuple[float | None, float | None]
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    chance_to_beat: float | None
    expected_loss: float | None
    method: str
    enough_data: bool
    days_more: float | None  # more days at this traffic to detect the spec's MDE (80% power)
    details: TestDetails | None
    verdict: str = ""
    variance_reduction: float | None = None  # CUPED: 1 - adjusted / unadjusted variance
    unadjusted: LiftSummary | None = None  # without CUPED, when the headline uses it
    stratified: LiftSummary | None = None  # day-stratified, beside the pooled headline
    non_inferior: bool | None = None  # asked for: not worse than the control by the margin
    p_non_inferiority: float | None = None  # one-sided, unadjusted
    margin: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.ci_rel[0] is not None and self.ci_rel[1] is not None

    @property
    def good(self) -> bool:
        """The variant moves the KPI in its better direction."""
        return (self.rel_lift or 0) != 0 and ((self.rel_lift or 0) > 0) == (
            self.direction != "lower"
        )


@dataclass(frozen=True)
class Guardrail:
    kpi: str
    variant: str
    max_loss: float
    worst_case: float
    status: str  # pass or fail


@dataclass(frozen=True)
class PowerSummary:
    """Conversion-rate power with the data in hand."""

    baseline: float
    n_per_arm: float
    reachable_mde: float | None
    alpha: float
    power: float
    users_per_day_per_arm: float | None = None
    n_per_arm_for_observed_lift: float | None = None


@dataclass(frozen=True)
class DailyArm:
    """One variant's sufficient statistics for one KPI on one day (the charts' data)."""

    day: str
    variant: str
    kpi: str
    stats: ArmStats
    scale: float = 1.0


@dataclass(frozen=True)
class CapSummary:
    """Where a KPI's per-unit values were capped, and how many units were beyond a cap."""

    lower: float | None
    upper: float | None
    units_capped: int
    lower_den: float | None = None  # a ratio's denominator is capped on its own
    upper_den: float | None = None


@dataclass(frozen=True)
class SegmentResult:
    """One KPI and variant within one segment, and whether its lift differs from the rest."""

    segment_col: str
    segment: str
    kpi: str
    variant: str
    n_control: float
    n_variant: float
    rel_lift: float | None
    ci_rel: tuple[float | None, float | None]
    p_value: float | None
    differs: bool
    p_differs: float | None
    too_few: bool = False  # too few units or conversions in an arm: no estimate


@dataclass(frozen=True)
class WeekLift:
    """The lift among units in their n-th week after first exposure (week 1 = days 0-6)."""

    kpi: str
    variant: str
    week: int
    n_control: float
    n_variant: float
    rel_lift: float | None
    ci_rel: tuple[float | None, float | None]
    p_value: float | None
    too_few: bool = False  # too few units or conversions in an arm: no estimate


@dataclass(frozen=True)
class ExperimentResult:
    data: DataSummary
    control: str
    alpha: float
    kpis: tuple[KpiInfo, ...]
    srm: SplitCheck
    results: tuple[KpiComparison, ...]
    guardrails: tuple[Guardrail, ...] = ()
    power: PowerSummary | None = None
    warnings: tuple[Notice, ...] = ()
    daily: tuple[DailyArm, ...] = ()
    capping: dict[str, CapSummary] = field(default_factory=dict)
    segments: tuple[SegmentResult, ...] = ()
    by_exposure_week: tuple[WeekLift, ...] = ()
    conversion: ConversionNote | None = None  # how amounts became one currency

    def kpi(self, kpi_id: str) -> KpiInfo:
        return next(k for k in self.kpis if k.id == kpi_id)

    def to_dict(self) -> dict:
        return to_json(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExperimentResult:
        return from_json(cls, data)
