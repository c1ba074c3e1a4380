"""S-shaped responses: a Hill curve top·A^k / (A^k + h^k) with k > 1, where the data shows one.

Some campaigns do little until spend passes a threshold (awareness, video, a new market), so a
power curve through the data misreads them. For each fitted campaign a Hill curve is fitted
on the same adstocked spend, on a grid of shapes k and half-saturation points h (the level
top in closed form: the curve reproduces the campaign's total), and it replaces the power
curve only where it beats it by a clear margin: a quasi-likelihood-ratio statistic of
10.83 (p = 0.001 for one extra parameter) with h inside the range the data covers.

At a constant daily spend s the adstock is s / (1 − θ), so the steady-state curve is again a
Hill curve, with h·(1 − θ) as its half point. Its concave envelope on [lb, ub] (the hull of a
fine grid) is what the optimiser's water-filling can use: a campaign on an S-curve spends
either little or enough to be past the bend, never in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

K_GRID = np.array([1.5, 2.0, 2.5, 3.0, 4.0])
H_FACTORS = np.geomspace(0.25, 4.0, 17)  # x the median adstocked spend
MARGIN = 10.83
MIN_DOUBT = 0.01  # a shape less likely than this is left out of the draws
HULL_POINTS = 257


@dataclass
class Hill:
    """Steady-state S-curves: top·s^k / (s^k + half^k) where ``mask`` is set."""

    mask: np.ndarray
    top: np.ndarray
    half: np.ndarray
    k: np.ndarray
    _envelopes: dict = field(default_factory=dict, repr=False, compare=False)

    def envelopes(self, lb: np.ndarray, ub: np.ndarray) -> Envelopes:
        """The concave envelopes on these bounds (kept: an optimiser asks many times)."""
        key = (lb.tobytes(), ub.tobytes())
        if key not in self._envelopes:
            self._envelopes.clear()
            self._envelopes[key] = envelopes(self, lb, ub)
        return self._envelopes[key]

    def value(self, spend: np.ndarray) -> np.ndarray:
        s = np.maximum(spend, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            powered = np.power(s / np.where(self.mask, self.half, 1.0), self.k)
            return np.where(self.mask, self.top * powered / (1 + powered), 0.0)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        s = np.maximum(spend, 1e-12)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            powered = np.power(s / np.where(self.mask, self.half, 1.0), self.k)
            slope = self.top * self.k * powered / (s * (1 + powered) ** 2)
        return np.where(self.mask, np.nan_to_num(slope), 0.0)

    def elasticity(self, spend: np.ndarray) -> np.ndarray:
        """s·f'(s)/f(s) = k·h^k / (s^k + h^k): above 1 below the bend, falling past it."""
        powered = np.power(np.maximum(spend, 0.0) / np.where(self.mask, self.half, 1.0), self.k)
        return np.where(self.mask, self.k / (1 + powered), 0.0)

    def adstock_half(self, theta: np.ndarray) -> np.ndarray:
        """The half point on adstocked spend (the steady state's divided by 1 − θ)."""
        return self.half / (1 - theta)


@dataclass
class Doubt:
    """S-curves the data cannot tell from the power curves it keeps: each such campaign's best
    Hill curve and the chance it is the true shape (the quasi-likelihood ratio with a
    Schwarz penalty for the extra parameter, equal prior odds). The band draws it."""

    curves: Hill
    weight: np.ndarray


def none(campaigns: int) -> Hill:
    zeros = np.zeros(campaigns)
    return Hill(np.zeros(campaigns, dtype=bool), zeros, np.ones(campaigns), np.ones(campaigns))


def fit_hill(
    adstocked: np.ndarray,
    outcome: np.ndarray,
    use: np.ndarray,
    power_deviance: np.ndarray,
    dispersion: np.ndarray,
    candidates: np.ndarray,
    theta: np.ndarray,
    log_demand: np.ndarray | None = None,
) -> tuple[Hill, Doubt]:
    """Hill curves for the ``candidates`` whose data clearly prefers one (arrays campaigns x
    days of adstocked spend and outcome), with each day's shared demand as the power curves
    have it; steady-state parameters at an average day."""
    demand = np.ones(adstocked.shape[-1]) if log_demand is None else np.exp(log_demand)
    campaigns = len(adstocked)
    found = none(campaigns)
    if not candidates.any():
        return found, Doubt(found, np.zeros(campaigns))
    x = np.where(use, adstocked, np.nan)
    median = np.nanmedian(np.where(candidates[:, None], x, 1.0), axis=1)
    y = np.where(use, outcome, 0.0)
    total = y.sum(1)
    best = np.full(campaigns, np.inf)
    top, half, k = (np.zeros(campaigns) for _ in range(3))
    inside = np.zeros(campaigns, dtype=bool)
    for shape in K_GRID:
        for j, factor in enumerate(H_FACTORS):
            h = factor * median
            with np.errstate(invalid="ignore"):
                powered = np.power(x / h[:, None], shape)
                g = np.where(use, powered / (1 + powered), 0.0) * demand
            level = np.where(g.sum(1) > 0, total / np.maximum(g.sum(1), 1e-300), 0.0)
            mu = np.maximum(level[:, None] * g, 1e-12)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0) - (y - mu)
            deviance = 2 * np.where(use, term, 0.0).sum(1)
            better = deviance < best
            best = np.where(better, deviance, best)
            top, half, k = (
                np.where(better, level, top),
                np.where(better, h, half),
                np.where(better, shape, k),
            )
            inside = np.where(better, 0 < j < len(H_FACTORS) - 1, inside)
    gain = (power_deviance - best) / np.maximum(dispersion, 1e-12)
    mask = candidates & (gain > MARGIN) & inside
    hill = Hill(mask, np.where(mask, top, 0.0), np.where(mask, half * (1 - theta), 1.0), k)
    days = use.sum(1)
    weight = 1 / (1 + np.exp(np.clip(np.log(np.maximum(days, 2)) / 2 - gain / 2, -50, 50)))
    unsure = candidates & ~mask & inside & (weight > MIN_DOUBT)
    doubt = Hill(unsure, np.where(unsure, top, 0.0), np.where(unsure, half * (1 - theta), 1.0), k)
    return hill, Doubt(doubt, np.where(unsure, weight, 0.0))


@dataclass
class Envelopes:
    """The S-curve campaigns' concave envelopes as vertex arrays (campaigns x vertices,
    padded with the last vertex; slopes padded with -inf)."""

    index: np.ndarray
    spend: np.ndarray
    slopes: np.ndarray

    def at_level(self, level: float | np.ndarray) -> np.ndarray:
        """Each campaign's furthest vertex whose incoming segment still returns ``level``
        (slopes fall along a concave envelope); for levels of shape (rows, 1), one row of
        vertices per level."""
        steps = (self.slopes >= np.asarray(level)[..., None]).sum(-1)
        return self.spend[np.arange(len(self.index)), steps]


def envelopes(hill: Hill, lb: np.ndarray, ub: np.ndarray) -> Envelopes:
    index = np.flatnonzero(hill.mask)
    hulls = [hull(hill, int(i), float(lb[i]), float(ub[i])) for i in index]
    width = max((len(h[0]) for h in hulls), default=1)
    spend = np.zeros((len(index), width))
    slopes = np.full((len(index), max(width - 1, 0)), -np.inf)
    for row, (x, y) in enumerate(hulls):
        spend[row, : len(x)], spend[row, len(x) :] = x, x[-1]
        slopes[row, : len(x) - 1] = np.diff(y) / np.maximum(np.diff(x), 1e-300)
    return Envelopes(index, spend, slopes)


def hull(hill: Hill, i: int, lb: float, ub: float) -> tuple[np.ndarray, np.ndarray]:
    """The vertices (spend, value) of the concave envelope of campaign i's curve on [lb, ub]."""
    spend = np.linspace(lb, ub, HULL_POINTS)
    one = Hill(hill.mask[i : i + 1], hill.top[i : i + 1], hill.half[i : i + 1], hill.k[i : i + 1])
    value = one.value(spend[:, None])[:, 0]
    keep = [0]
    for j in range(1, len(spend)):
        while len(keep) >= 2:
            p, q = keep[-2], keep[-1]
            cross = (spend[q] - spend[p]) * (value[j] - value[p]) - (value[q] - value[p]) * (
                spend[j] - spend[p]
            )
            if cross >= 0:  # q lies on or under the chord p-j: not a vertex of the envelope
                keep.pop()
            else:
                break
        keep.append(j)
    return spend[keep], value[keep]
