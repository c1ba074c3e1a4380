"""Which kind of experiment data a dataset holds, and how each KPI becomes a per-unit numerator
and denominator on it (see METHODS.md).

  users      one row per randomisation unit (user), or several rows per user: proportions,
             means and ratios over users
  totals     one row per variant (or per variant and day) with users and conversions:
             proportions with users as units; means without per-user data have no variance,
             so they get an estimate and no p-value
  campaign   rows per day (or day x campaign) and variant: ratio KPIs by the delta method with
             days as units, because impressions and clicks are not independent
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi_engine.aggregate_sql import Cap, Measure
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.spec import CUPED_ROWS
from kpi_engine.ingest.mapping import AD_METRICS
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import CATALOG, Kpi
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO

ALLOWED = {
    "users": "conversion_rate, revenue_per_user and ratio KPIs such as aov",
    "totals": "conversion_rate",
    "campaign": "ratio KPIs: ctr, cpc, cpm, cvr, cpa, roas, aov, rpc",
}


@dataclass(frozen=True)
class KpiShape:
    """How a KPI becomes per-unit numerators and denominators."""

    kind: str  # PROPORTION, MEAN or RATIO
    num: str  # column names (already resolved from roles)
    den: str | None
    scale: float = 1.0
    nonnegative: bool = True  # the KPI cannot go below 0 (its relative interval stops at -100%)

    def measure(self, cap: Cap | None = None, covariate: str | None = None) -> Measure:
        """The per-unit measure, capped and with a CUPED covariate column when given; with
        ``covariate`` == CUPED_ROWS, the covariate is the measure's own pre-exposure rows."""
        return Measure(
            self.num,
            self.den,
            self.kind == PROPORTION,
            cap,
            None if covariate == CUPED_ROWS else covariate,
            covariate == CUPED_ROWS,
        )


def data_kind(dataset: Dataset, unit_col: str | None = None) -> str:
    """users, totals (per variant, or per variant and day) or campaign rows."""
    roles = dataset.roles
    if unit_col and unit_col != roles.get("date"):
        if dataset.kind == "user_level" or "unit" in roles and unit_col == roles["unit"]:
            return "users"
    if "unit" in roles:
        return "users"
    if "users" in roles and ("date" not in roles or not any(r in roles for r in AD_METRICS)):
        return "totals"
    return "campaign"


def unit_column(dataset: Dataset, unit_col: str | None) -> str | None:
    return unit_col or dataset.roles.get("unit")


def one_row_per_unit(dataset: Dataset, unit_col: str | None) -> bool:
    """Every row is a different user already (checked at import): no grouping needed."""
    unit = unit_column(dataset, unit_col)
    return unit == dataset.roles.get("unit") and dataset.report.get("unique_units") is True


def kpi_shape(kpi: Kpi, dataset: Dataset, kind: str) -> KpiShape:
    """Per-unit numerator and denominator of a KPI, or an error saying why it cannot be
    tested on this data."""
    node = fx.parse(kpi.formula)
    scale = 1.0
    if isinstance(node, fx.BinaryOp) and node.op == "*" and isinstance(node.right, fx.Number):
        node, scale = node.left, node.right.value
    roles = dataset.roles
    refuse = KpiLabError(
        f"{kpi.id!r} cannot be tested on {kind} data: choose {ALLOWED[kind]}", "kpis"
    )
    if not (isinstance(node, fx.BinaryOp) and node.op == "/"):
        raise refuse
    num, den = node.left, node.right
    if not (
        isinstance(num, fx.Aggregate)
        and num.func in ("sum", "users")
        and isinstance(den, fx.Aggregate)
    ):
        raise refuse
    per_unit = den.func == "count" and den.column == "unit"
    if num.func == "users" and not per_unit:
        raise refuse
    if (per_unit and kind == "campaign") or (
        not per_unit and (den.func != "sum" or kind == "totals")
    ):
        raise refuse
    names = {**roles, **{c.name: c.name for c in dataset.columns if c.role is None}}
    # per-variant totals: the users column counts the units
    missing = [c for c in kpi.requires if c not in names and not (kind == "totals" and c == "unit")]
    if missing:
        raise KpiLabError(
            f"{kpi.id!r} needs the column(s) {', '.join(missing)}, which"
            f" dataset {dataset.name!r} does not have",
            "kpis",
        )
    if per_unit:  # users(x) / count(unit): a proportion of units; sum(x) / count(unit): a mean
        kind_of = PROPORTION if num.func == "users" or num.column == "conversions" else MEAN
        return KpiShape(kind_of, names[num.column], None, scale, kpi.nonnegative)
    return KpiShape(RATIO, names[num.column], names[den.column], scale, kpi.nonnegative)


def testable_kpis(dataset: Dataset, kind: str, custom: tuple[Kpi, ...] = ()) -> list[str]:
    """The KPIs (catalog, then custom) an experiment on this dataset can compare."""
    found = []
    for kpi in (*CATALOG.values(), *custom):
        try:
            kpi_shape(kpi, dataset, kind)
        except KpiLabError:
            continue
        found.append(kpi.id)
    return found


def per_user_kpis(dataset: Dataset, kind: str, kpis: list[Kpi]) -> dict[str, str]:
    """The KPIs a per-user method applies to, by id: PROPORTION, MEAN or RATIO."""
    if kind != "users":
        return {}
    return {kpi.id: kpi_shape(kpi, dataset, kind).kind for kpi in kpis}
