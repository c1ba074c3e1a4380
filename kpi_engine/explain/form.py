"""A KPI's formula read as ``scale · N / D`` (a ratio of two sums) or ``N`` (a sum): the only
shapes whose change splits exactly into parts and across groups. Which counts its noise
comes from."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.roles import METRIC_ROLES, MONEY_ROLES
from kpi_engine.stats.decompose import (
    binomial_log_variance,
    days_permutation_p,
    log_change,
    poisson_log_variance,
    within_noise,
)

# roles that count events (their sums are Poisson-like); money and durations are not counts
COUNT_ROLES = frozenset(r for r in METRIC_ROLES if r not in (*MONEY_ROLES, "cogs", "time_on_site"))
MIN_DAYS = 7  # fewer days than this say too little about day-to-day noise
NOISE_ALPHA = 0.05
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RatioForm:
    """``scale · numerator / denominator``; no denominator for a plain sum. Each side is the
    text of one aggregate (``sum(spend)``), the key its sums are read under."""

    numerator: str
    denominator: str | None = None
    scale: float = 1.0

    @property
    def aggregates(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator) if self.denominator else (self.numerator,)

    def value(self, sums: dict[str, float]) -> float | None:
        n = sums[self.numerator]
        if self.denominator is None:
            return self.scale * n
        d = sums[self.denominator]
        return self.scale * n / d if d else None


def _text(node: fx.Aggregate) -> str:
    column = (
        node.column if _PLAIN.match(node.column) else '"' + node.column.replace('"', '""') + '"'
    )
    return f"{node.func}({column})"


def _side(node: fx.Node) -> str | None:
    if isinstance(node, fx.Aggregate) and node.func in ("sum", "count"):
        return _text(node)
    return None


def ratio_form(kpi: Kpi) -> RatioForm:
    """The KPI as a sum or a ratio of two sums (times a constant), or a clear refusal."""
    node, scale = fx.parse(kpi.formula), 1.0
    while isinstance(node, fx.BinaryOp) and node.op in "*/":
        if isinstance(node.right, fx.Number) and node.right.value:
            scale *= node.right.value if node.op == "*" else 1 / node.right.value
            node = node.left
        elif node.op == "*" and isinstance(node.left, fx.Number):
            scale *= node.left.value
            node = node.right
        else:
            break
    if isinstance(node, fx.Aggregate) and node.func == "sum":
        return RatioForm(_text(node), None, scale)
    if isinstance(node, fx.BinaryOp) and node.op == "/":
        numerator, denominator = _side(node.left), _side(node.right)
        if numerator and denominator:
            return RatioForm(numerator, denominator, scale)
    raise KpiLabError(
        f"{kpi.name} ({kpi.formula}) is not a sum or a ratio of two sums, so its change cannot"
        " be split into parts: choose a KPI such as CPA, ROAS, CTR or spend"
    )


def _role(aggregate: str) -> str:
    return aggregate[aggregate.index("(") + 1 : -1]


@dataclass(frozen=True)
class Observed:
    """The sums over a period's rows (of one group), and the same sums for each of its days
    when a KPI's noise is read from its days."""

    sums: dict[str, float]
    daily: list[dict[str, float]] | None = None


@dataclass(frozen=True)
class Noise:
    """How a KPI's noise is judged (``kind``) and the counts it reads."""

    kind: str  # binomial, poisson, days or none
    form: RatioForm
    counts: tuple[str, ...] = ()

    def log_variance(self, sums: dict[str, float]) -> float | None:
        """Var(log KPI) over rows with these sums, for the count kinds; None otherwise."""
        if self.kind == "binomial" and self.form.denominator:
            n, d = sums[self.form.numerator], sums[self.form.denominator]
            if n <= d:
                return binomial_log_variance(n, d)
        if self.kind in ("binomial", "poisson"):
            return poisson_log_variance([sums[a] for a in self.counts])
        return None

    def within(self, before: Observed, now: Observed) -> bool | None:
        """Whether the KPI's move from ``before`` to ``now`` could be chance (95%); None
        when that is not judged (nothing counted, or too few days)."""
        v0, v1 = self.form.value(before.sums), self.form.value(now.sums)
        move = log_change(v0, v1)
        if move is None:
            return None
        if self.kind == "days":
            if min(len(before.daily or ()), len(now.daily or ())) < MIN_DAYS:
                return None
            p = days_permutation_p(self._days(before), self._days(now))
            return p >= NOISE_ALPHA
        var0, var1 = self.log_variance(before.sums), self.log_variance(now.sums)
        if var0 is None or var1 is None:
            return None
        return within_noise(move, math.sqrt(var0 + var1))

    def _days(self, seen: Observed) -> tuple[np.ndarray, np.ndarray | None]:
        daily = seen.daily or []
        numerators = np.array([day[self.form.numerator] for day in daily])
        if self.form.denominator is None:
            return numerators, None
        return numerators, np.array([day[self.form.denominator] for day in daily])


def noise_of(form: RatioForm) -> Noise:
    """``binomial`` for a rate of two counts (clicks / impressions); ``days`` when money other
    than spend is in it (revenue: no count says how skewed its order values are, so the
    periods' days are permuted); ``poisson`` over the counts in it otherwise (CPA: the
    conversions); ``none`` when nothing in it is counted (spend, which the marketer sets)."""
    counted = [a for a in form.aggregates if _role(a) in COUNT_ROLES or a.startswith("count(")]
    if form.denominator and len(counted) == 2:
        return Noise("binomial", form, tuple(counted))
    if any(a not in counted and _role(a) != "spend" for a in form.aggregates):
        return Noise("days", form)
    return Noise("poisson", form, tuple(counted)) if counted else Noise("none", form)


def explainable(kpis: list[Kpi]) -> list[str]:
    """The ids of ``kpis`` whose change can be explained, outcomes (CPA, ROAS) before plain
    volumes (spend, clicks)."""
    found = []
    for kpi in kpis:
        try:
            ratio_form(kpi)
        except KpiLabError:
            continue
        found.append(kpi)
    found.sort(key=lambda k: (k.additive or k.direction == "neutral", k.vanity))
    return [k.id for k in found]
