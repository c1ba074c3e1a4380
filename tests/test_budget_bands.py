"""The budget plan's claims against the truth: seeded portfolios whose curves are known
(``budget_truth.scenario``: power and Hill curves, with and without carryover, demand that
moves spend and revenue together), and the sample data, whose true curves are in
``sample_data/generate.py``."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from kpi_engine.cli import main
from tests.budget_truth import score_scenario
from tests.conftest import PROJECT

SCENARIOS = 60


@pytest.mark.slow
def test_the_band_covers_the_true_uplift_about_80_percent_of_the_time(tmp_path):
    scored = [score_scenario(seed, tmp_path) for seed in range(SCENARIOS)]
    power = [s for s in scored if not s.s_curve]
    covered = sum(s.covered for s in power) / len(power)
    error = statistics.median(s.error for s in scored)
    print(f"\npower curves: {covered:.0%} of {len(power)} covered; median error {error:.0%}")
    assert 0.70 <= covered <= 0.90
    assert error < 0.25
    # S-curves met near their bend are read as power curves: under-covered, measured in
    # benchmarks/budget_coverage.py and left to a model that can tell them apart
    assert sum(s.covered for s in scored) / len(scored) >= 0.65


def _sample_truth():
    sys.path.insert(0, str(PROJECT / "sample_data"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    return generate


def test_the_sample_plan_claims_what_its_true_curves_give(tmp_path):
    """Scored on the true curves of the sample data, at the window's average demand."""
    truth = _sample_truth()
    db = str(tmp_path / "ws.sqlite")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["import", str(PROJECT / "sample_data" / "campaigns.csv"), "--name", "c", "--db", db])
        out.seek(0), out.truncate()
        assert main(["budget", "c", "--db", db, "--json"]) == 0
    result = json.loads(out.getvalue())
    window = result["window"]
    first, last = date.fromisoformat(window["start"]), date.fromisoformat(window["end"])
    days = [i for i in range(truth.DAYS) if first <= truth.START + timedelta(days=i) <= last]
    demand = np.mean(
        [
            (1.08 if (truth.START + timedelta(days=i)).weekday() < 5 else 0.9)
            * truth._day_factor(truth.START + timedelta(days=i), i)
            for i in days
        ]
    )
    gain, errors = 0.0, []
    curves = {c.name: c for c in truth.CAMPAIGNS}
    for c in result["campaigns"]:
        true = curves[c["campaign"]]
        a = true.roas_at_base * true.base_spend / true.base_spend**true.elasticity
        gain += (
            a
            * demand
            * (c["suggested_spend"] ** true.elasticity - c["current_spend"] ** true.elasticity)
        )
        errors.append(abs(c["elasticity"] - true.elasticity))
        assert c["elasticity"] < 0.95 and "increasing returns" not in c["flags"]
    assert np.mean(errors) < 0.1  # no pile-up at the cap (true values 0.40-0.85)
    low, high = result["portfolio"]["uplift_band"]
    assert low <= gain <= high
    assert abs(result["portfolio"]["uplift"] - gain) / gain < 0.25
