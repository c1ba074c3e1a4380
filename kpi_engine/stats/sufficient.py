"""Sufficient statistics of one arm of an experiment, for every kind of KPI.

Every KPI is a ratio over randomisation units: numerator m and denominator d per unit. A
conversion rate is a 0/1 m over d = 1 (one per user), revenue per user is a mean (d = 1), and
CTR over days is clicks over impressions per day. An arm is summarised by n, Σm, Σm², Σd, Σd²
and Σm·d, which one SQL GROUP BY returns; nothing else is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PROPORTION = "proportion"  # m in {0, 1}, d = 1: variance p(1 - p)
MEAN = "mean"  # d = 1: sample variance of m
RATIO = "ratio"  # delta method over units
TOTALS = "totals"  # only Σm and n are known: an estimate, no variance


@dataclass(frozen=True)
class ArmStats:
    kind: str
    n: float
    sum_m: float
    sumsq_m: float = 0.0
    sum_d: float = 0.0
    sumsq_d: float = 0.0
    sum_md: float = 0.0

    def __add__(self, other: ArmStats) -> ArmStats:
        return ArmStats(
            self.kind,
            self.n + other.n,
            self.sum_m + other.sum_m,
            self.sumsq_m + other.sumsq_m,
            self.sum_d + other.sum_d,
            self.sumsq_d + other.sumsq_d,
            self.sum_md + other.sum_md,
        )

    def __sub__(self, other: ArmStats) -> ArmStats:
        return ArmStats(
            self.kind,
            self.n - other.n,
            self.sum_m - other.sum_m,
            self.sumsq_m - other.sumsq_m,
            self.sum_d - other.sum_d,
            self.sumsq_d - other.sumsq_d,
            self.sum_md - other.sum_md,
        )

    @property
    def value(self) -> float:
        """The KPI: a ratio of sums (Σm / Σd), or Σm / n for proportions, means and totals."""
        if self.kind == RATIO:
            return self.sum_m / self.sum_d if self.sum_d else math.nan
        return self.sum_m / self.n if self.n else math.nan

    @property
    def has_variance(self) -> bool:
        return self.kind != TOTALS and self.n > 1

    @property
    def unit_variance(self) -> float:
        """Variance of one unit's contribution to the KPI (before dividing by n)."""
        n = self.n
        if self.kind == PROPORTION:
            p = self.value
            return p * (1 - p)
        var_m = (self.sumsq_m - self.sum_m**2 / n) / (n - 1)
        if self.kind == MEAN:
            return var_m
        if self.kind != RATIO:
            return math.nan
        mu_m, mu_d = self.sum_m / n, self.sum_d / n
        var_d = (self.sumsq_d - self.sum_d**2 / n) / (n - 1)
        cov = (self.sum_md - self.sum_m * self.sum_d / n) / (n - 1)
        return var_m / mu_d**2 - 2 * cov * mu_m / mu_d**3 + mu_m**2 * var_d / mu_d**4

    @property
    def variance(self) -> float:
        """Variance of the KPI estimate (delta method for a ratio)."""
        return self.unit_variance / self.n if self.has_variance else math.nan
