"""Calibration by lift tests: a measured incremental outcome constrains a campaign's curve.

Platforms report attributed outcome, and a curve fitted to it inherits its bias. A lift test
(a holdout, a geo test, a conversion-lift study) measures what a change in spend really
added: f(base + change) − f(base) = incremental ± se. The curve becomes k·a(b)·s^b, where a(b)
is the level that reproduces the campaign's attributed total at elasticity b and k the share
of it that is incremental. The prior is the fit's posterior for b and log k ~ N(0, 0.5²)
(attributed within a factor of about 1.6 of incremental, one standard deviation); the lift
result is one more observation of the curve. The posterior is computed on a grid of (b, log k)
and replaces the campaign's curve; the draws sample the same grid, so the plan's band follows.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kpi_engine.budget import carryover as co
from kpi_engine.budget import curves as cv
from kpi_engine.budget.tiers import Fitted
from kpi_engine.budget.window import Window
from kpi_engine.errors import KpiLabError

LOG_K_SD = 0.5
DEFAULT_RELATIVE_SE = 0.2  # a lift given without its standard error counts as ±20%
GRID = 61
FILE_COLUMNS = ("campaign", "spend_change", "incremental", "standard_error")

Lift = tuple[str, float | None, float, float, float]  # campaign, base, change, incremental, se


def lift_tests(given: list[tuple[str, float, float]], path: str | None) -> tuple[Lift, ...]:
    """Lifts from ``--lift CAMPAIGN=INCREMENTAL@SPEND`` (the campaign at that daily spend
    against none) and from a lift file (a change from today's spend)."""
    out: list[Lift] = [
        (name, 0.0, spend, incremental, abs(incremental) * DEFAULT_RELATIVE_SE)
        for name, incremental, spend in given
    ]
    if path:
        out += _read_file(Path(path))
    return tuple(out)


def _read_file(path: Path) -> list[Lift]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise KpiLabError(f"cannot be read ({exc})", "lift_file") from None
    header = set(rows[0]) if rows else set()
    missing = [c for c in FILE_COLUMNS if c not in header]
    if missing:
        raise KpiLabError(
            f"needs the columns {', '.join(FILE_COLUMNS)}; it lacks {', '.join(missing)}",
            "lift_file",
        )
    out: list[Lift] = []
    for line, row in enumerate(rows, start=2):
        try:
            numbers = [float(row[c]) for c in FILE_COLUMNS[1:]]
        except (TypeError, ValueError):
            raise KpiLabError(
                f"line {line}: spend_change, incremental and standard_error must be numbers",
                "lift_file",
            ) from None
        out.append((row["campaign"].strip(), None, *numbers))
    return out


def check(lifts: tuple[Lift, ...]) -> None:
    """Lifts a curve can use: a spend change, a finite result and a positive error."""
    for name, base, change, incremental, se in lifts:
        values = (change, incremental, se) + (() if base is None else (base,))
        if not all(math.isfinite(v) for v in values):
            raise KpiLabError(f"for {name!r} has a missing or infinite number", "lifts")
        if change == 0:
            raise KpiLabError(f"for {name!r} changes no spend: give the spend tested", "lifts")
        if se <= 0:
            raise KpiLabError(f"for {name!r} needs a positive standard error", "lifts")
        if base is not None and (base < 0 or base + change < 0):
            raise KpiLabError(f"for {name!r} tests a negative spend", "lifts")


@dataclass
class Calibrated:
    """The (b, log k) grid and its posterior weights for one campaign, and a(b)."""

    b: np.ndarray
    log_k: np.ndarray
    weights: np.ndarray  # b x log k, summing to 1
    level_at: Callable[[np.ndarray], np.ndarray]

    def means(self) -> tuple[float, float]:
        """Posterior means of b and log k."""
        return (
            float((self.weights.sum(1) * self.b).sum()),
            float((self.weights.sum(0) * self.log_k).sum()),
        )

    def b_sd(self) -> float:
        b = self.means()[0]
        return float(math.sqrt((self.weights.sum(1) * (self.b - b) ** 2).sum()))


def _level(window: Window, fitted: Fitted, i: int) -> Callable[[np.ndarray], np.ndarray]:
    """a(b): the steady-state level that reproduces the campaign's attributed total, for an
    array of b (a thin-data or locked campaign's curve passes through today's point)."""
    current = fitted.current[i]
    today = fitted.curves.a[i] * current ** fitted.curves.b[i]
    theta = np.array([fitted.theta[i]])
    spend = window.spend[i : i + 1]
    adstocked = co.adstock(spend, theta, co.state_at(spend, window.spend_before[i : i + 1], theta))
    use = window.has_row[i] & (window.spend[i] > 0)
    logs, total = np.log(adstocked[0][use]), window.outcome[i][use].sum()

    def at(b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if not fitted.gated[i]:
            return today * np.power(current, -b)
        powered = np.exp(b[..., None] * logs).sum(-1)
        anchored = np.where(powered > 0, total / np.where(powered > 0, powered, 1), 0.0)
        return anchored * np.power(1 - theta[0], -b)

    return at


def apply(fitted: Fitted, window: Window, lifts: tuple[Lift, ...]) -> Fitted:
    """The fit with each lift-tested campaign's curve replaced by its calibrated one."""
    if not lifts:
        return fitted
    check(lifts)
    index = {name: i for i, name in enumerate(window.campaigns)}
    by_campaign: dict[int, list[tuple[float, float, float, float]]] = {}
    for name, base, change, incremental, se in lifts:
        if name not in index:
            raise KpiLabError(f"names {name!r}, which is not a campaign of the window", "lifts")
        i = index[name]
        start = fitted.current[i] if base is None else base
        by_campaign.setdefault(i, []).append((start, change, incremental, se))
    a, b = fitted.curves.a.copy(), fitted.curves.b.copy()
    flags = [list(f) for f in fitted.flags]
    calibrated = {}
    sd = fitted.b_sd()
    for i, results in by_campaign.items():
        cal = calibrate(float(b[i]), float(sd[i]), _level(window, fitted, i), results)
        b_mean, log_k = cal.means()
        a[i], b[i] = math.exp(log_k) * float(cal.level_at(np.array(b_mean))), b_mean
        flags[i].append("lift-calibrated")
        calibrated[i] = cal
    hill = fitted.curves.hill
    if hill is not None:  # a lift-calibrated curve is a power curve
        hill = replace(hill, mask=hill.mask & ~np.isin(np.arange(len(a)), list(calibrated)))
    curves = replace(fitted.curves, a=a, b=b, hill=hill)
    return replace(fitted, curves=curves, flags=flags, calibrated=calibrated)


def calibrate(
    b_mean: float,
    b_sd: float,
    level_at,
    lifts: list[tuple[float, float, float, float]],
) -> Calibrated:
    """The posterior of (b, log k) given the campaign's lift results (base, change,
    incremental, se)."""
    b = np.clip(b_mean + b_sd * np.linspace(-4, 4, GRID), cv.B_MIN, cv.B_MAX)
    log_k = LOG_K_SD * np.linspace(-4, 4, GRID)
    log_post = -((b - b_mean) ** 2) / (2 * b_sd**2)
    log_post = log_post[:, None] - log_k[None, :] ** 2 / (2 * LOG_K_SD**2)
    a = level_at(b)
    for base, change, incremental, se in lifts:
        gain = a * (np.power(base + change, b) - np.power(base, b))
        predicted = np.exp(log_k)[None, :] * gain[:, None]
        log_post = log_post - (predicted - incremental) ** 2 / (2 * se**2)
    weights = np.exp(log_post - log_post.max())
    return Calibrated(b, log_k, weights / weights.sum(), level_at)


def sample(cal: Calibrated, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n draws of (b, log k) from the grid posterior."""
    flat = rng.choice(cal.weights.size, size=n, p=cal.weights.ravel())
    rows, cols = np.unravel_index(flat, cal.weights.shape)
    return cal.b[rows], cal.log_k[cols]
