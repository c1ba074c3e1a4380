"""Budget plans against campaigns whose true curves are known (``budget_truth.py``, seeded):
carryover, plans for a period ahead, goal-seek and the spend test. Every capture is printed."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from kpi_engine.cli import main
from tests.budget_truth import (
    TrueCampaign,
    capture,
    reference_args,
    simulate,
    true_optimum,
    write_csv,
)

CARRYOVER = [
    TrueCampaign("Search", 30, 0.55, 0.3, 300),
    TrueCampaign("Social", 12, 0.7, 0.6, 200),
    TrueCampaign("Video", 60, 0.4, 0.45, 400),
    TrueCampaign("Display", 20, 0.6, 0.5, 250),
]


def _run(db: str, *args: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*args, "--db", db, "--json"]) == 0
    return json.loads(out.getvalue())


def _capture_at_half_change(truth: list[TrueCampaign], result: dict) -> float:
    """The share of the true optimal uplift a same-total plan with --max-change 0.5 captures."""
    current = {c["campaign"]: c["current_spend"] for c in result["campaigns"]}
    suggested = {c["campaign"]: c["suggested_spend"] for c in result["campaigns"]}
    spend = np.array([current[c.name] for c in truth])
    best = true_optimum(truth, spend.sum(), spend * 0.5, spend * 1.5)
    return capture(truth, current, suggested, dict(zip([c.name for c in truth], best, strict=True)))


def _imported(tmp_path: Path, rows: list[list]) -> str:
    db = str(tmp_path / "ws.sqlite")
    _run(db, "import", str(write_csv(tmp_path / "campaigns.csv", rows)), "--name", "c")
    return db


def test_carryover_plans_capture_the_true_steady_state_optimum(tmp_path):
    """180 days, daily spend varying ±50% (log-sd 0.5), θ from 0.3 to 0.6: the median capture
    over 10 seeds is at least 90% and no seed loses money. Without carryover the same data
    gives a median of 81% (measured while building it)."""
    captures = []
    for seed in range(10):
        rows, _ = simulate(CARRYOVER, 180, 0.5, seed)
        (tmp_path / str(seed)).mkdir()
        db = _imported(tmp_path / str(seed), rows)
        result = _run(
            db,
            "budget",
            "c",
            "--lag-days",
            "0",
            "--window-days",
            "180",
            "--max-change",
            "0.5",
            "--bootstrap",
            "0",
        )
        captures.append(_capture_at_half_change(CARRYOVER, result))
        thetas = {c["campaign"]: round(c["carryover"], 2) for c in result["campaigns"]}
        print(f"\nseed {seed}: captured {captures[-1]:.1%}; carryover fitted {thetas}")
    print(f"median capture {np.median(captures):.1%}")
    assert np.median(captures) >= 0.90
    assert min(captures) > 0


REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "budget_reference.json"


def _s1() -> tuple[dict, list[TrueCampaign], list[list]]:
    doc = json.loads(REFERENCE.read_text())
    scenario = next(s for s in doc["scenarios"] if s["id"].startswith("S1"))
    truth = [
        TrueCampaign(
            c["campaign"],
            c["true_curve"]["params"]["a"],
            c["true_curve"]["params"]["b"],
            0.0,
            c["simulation"]["base_daily_spend"],
            c["value_per_conversion"],
        )
        for c in scenario["campaigns"]
    ]
    at = {name: i for i, name in enumerate(scenario["columns"])}
    rows = [
        [r[at["date"]], r[at["campaign"]], r[at["spend"]], r[at["conversions"]], r[at["revenue"]]]
        for r in scenario["rows"]
    ]
    return scenario, truth, rows


def _capture_of(result: dict, question: dict, truth: list[TrueCampaign]) -> float:
    current = {c["campaign"]: c["current_daily_spend"] for c in _s1()[0]["campaigns"]}
    suggested = {c["campaign"]: c["suggested_spend"] for c in result["campaigns"]}
    return capture(truth, current, suggested, question["truth"]["allocation"])


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is absent")
@pytest.mark.parametrize("question_id, wanted", [("S1.Q3", 0.85), ("S1.Q1", None)])
def test_the_spend_test_settles_s1(tmp_path, question_id, wanted):
    """The spend test proposed for S1, simulated from the true curves for the proposed days
    (10 seeds) and fed back. S1 without bounds (Q3) is undecided (P(it helps) under 80%): its
    test is worth running and lifts the median capture from 76% to at least 85%. S1 within
    ±30% (Q1) is sure of its direction (P about 0.94) and only 1.25% of revenue is at stake:
    the test is not needed and its value does not pay for a long one. Measured while building
    it: 4 campaigns for 56 days give Q1 a median of 82%, for 112 days 85%."""
    scenario, truth, rows = _s1()
    question = next(q for q in scenario["questions"] if q["id"] == question_id)
    args = reference_args(scenario, question)
    before = _run(_imported(tmp_path, rows), "budget", "c", *args, "--suggest-test")
    test = before["test"]
    print(
        f"\n{question_id}: captured {_capture_of(before, question, truth):.1%} before;"
        f" P(uplift > 0) {before['portfolio']['prob_positive']:.2f}; test {test}"
    )
    assert test["campaigns"] and test["needed"] == (wanted is not None)
    if wanted is not None:
        assert test["value"] > 0
    assert all(
        after < now for after, now in zip(test["expected_b_se"], test["b_se_now"], strict=True)
    )
    assert all(
        after < now for after, now in zip(test["expected_b_se"], test["b_se_now"], strict=True)
    )
    current = {c["campaign"]: c["current_spend"] for c in before["campaigns"]}
    last = date.fromisoformat(max(r[0] for r in rows))
    swing = np.where(np.arange(test["days"]) % 2 == 0, 1 + test["change"], 1 - test["change"])
    captures = []
    for seed in range(10):
        schedule = {name: current[name] * swing for name in test["campaigns"]}
        extra, _ = simulate(truth, test["days"], 0.3, seed, last + timedelta(days=1), schedule)
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        window = str(scenario["window"]["days"] + test["days"])
        after_args = [
            *args[: args.index("--window-days") + 1],
            window,
            *args[args.index("--window-days") + 2 :],
        ]
        after = _run(_imported(folder, rows + extra), "budget", "c", *after_args)
        captures.append(_capture_of(after, question, truth))
        print(f"seed {seed}: captured {captures[-1]:.1%} after the {test['days']}-day test")
    print(f"median {np.median(captures):.1%}")
    assert np.median(captures) >= (wanted or _capture_of(before, question, truth))


def test_goal_seek_finds_the_true_cheapest_budget(tmp_path):
    """Carryover campaigns, 180 days: the cheapest 28-day plan for a revenue goal is within 5%
    of the true cheapest budget. The plan aims at the expected outcome, so the true curves
    land within the fit's error of the goal (98.9% of it on this seed), not surely above."""
    rows, carried = simulate(CARRYOVER, 180, 0.5, seed=11)
    db = _imported(tmp_path, rows)
    last = date.fromisoformat(max(r[0] for r in rows))
    until = (last + timedelta(days=28)).isoformat()
    base = _run(db, "budget", "c", "--lag-days", "0", "--window-days", "180", "--bootstrap", "0")
    current = {c["campaign"]: c["current_spend"] for c in base["campaigns"]}
    names = [c.name for c in CARRYOVER]
    spend = np.array([current[n] for n in names])
    lb, ub = spend * 0.5, spend * 1.5

    def true_outcome(daily: np.ndarray) -> float:
        total = 0.0
        for c, s in zip(CARRYOVER, daily, strict=True):
            state = carried[c.name]
            for _ in range(28):
                state = s + c.theta * state
                total += c.a * state**c.b
        return total

    goal = 1.10 * true_outcome(spend)  # 10% more revenue than today's split brings

    def true_cheapest() -> float:
        lo, hi = lb.sum(), ub.sum()
        for _ in range(50):
            mid = (lo + hi) / 2
            reached = true_outcome(true_optimum(CARRYOVER, mid, lb, ub)) >= goal
            lo, hi = (lo, mid) if reached else (mid, hi)
        return hi * 28

    result = _run(
        db,
        "budget",
        "c",
        "--lag-days",
        "0",
        "--window-days",
        "180",
        "--max-change",
        "0.5",
        "--until",
        until,
        "--goal",
        f"revenue={goal}",
        "--bootstrap",
        "50",
    )
    found = result["goal"]
    truth = true_cheapest()
    suggested = np.array(
        [
            next(c["suggested_spend"] for c in result["campaigns"] if c["campaign"] == n)
            for n in names
        ]
    )
    print(
        f"\ngoal {goal:,.0f} by {until}: plan {found['total_spend']:,.0f}, true cheapest"
        f" {truth:,.0f} ({found['total_spend'] / truth - 1:+.1%}); the true curves give"
        f" {true_outcome(suggested):,.0f}"
    )
    assert found["reachable"] and found["until"] == until
    assert abs(found["total_spend"] / truth - 1) <= 0.05
    assert true_outcome(suggested) >= goal * 0.98
    plan = result["plan"]
    assert plan["days"] == 28 and plan["end"] == until
    assert plan["band"][0] <= plan["expected_outcome"] <= plan["band"][1]
    assert sum(w["outcome"] for w in plan["weeks"]) == pytest.approx(plan["expected_outcome"])


OVER_ATTRIBUTED = [
    TrueCampaign("Search", 30, 0.55, 0.0, 300),
    TrueCampaign("Social", 25, 0.6, 0.0, 300),
    TrueCampaign("Video", 40, 0.5, 0.0, 300),
]
INCREMENTAL_SHARE = {"Search": 1.0, "Social": 0.4, "Video": 1.0}  # the platform claims 2.5x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_lift_test_corrects_an_over_attributed_campaign(tmp_path, seed):
    """Social's platform reports 2.5 times what it adds. Fitted to attributed revenue, the plan
    moves money into Social and loses on the true (incremental) curves; a holdout result for
    Social at today's spend turns the plan around and recovers the share of the level."""
    truth = [replace(c, a=c.a * INCREMENTAL_SHARE[c.name]) for c in OVER_ATTRIBUTED]
    rows, _ = simulate(OVER_ATTRIBUTED, 90, 0.3, seed)
    db = _imported(tmp_path, rows)
    args = ("budget", "c", "--lag-days", "0", "--bootstrap", "100")
    plain = _run(db, *args)
    current = {c["campaign"]: c["current_spend"] for c in plain["campaigns"]}
    measured = float(truth[1].steady(current["Social"]))
    lifted = _run(db, *args, "--lift", f"Social={measured:.2f}@{current['Social']:.2f}")
    names = [c.name for c in truth]
    spend = np.array([current[n] for n in names])
    best = dict(zip(names, true_optimum(truth, spend.sum(), spend * 0.7, spend * 1.3), strict=True))

    def captured(result: dict) -> float:
        suggested = {c["campaign"]: c["suggested_spend"] for c in result["campaigns"]}
        return capture(truth, current, suggested, best)

    social = [next(c for c in r["campaigns"] if c["campaign"] == "Social") for r in (plain, lifted)]
    share = social[1]["outcome_current"] / social[0]["outcome_current"]
    print(
        f"\nseed {seed}: captured {captured(plain):.1%} without the lift test,"
        f" {captured(lifted):.1%} with it; Social's level x{share:.2f} (truth x0.40)"
    )
    assert captured(plain) < 0 < 0.5 < captured(lifted)
    assert "lift-calibrated" in social[1]["flags"]
    assert 0.3 < share < 0.55
    assert lifted["portfolio"]["uplift_band"] != plain["portfolio"]["uplift_band"]


def test_a_lift_file_and_its_bad_inputs(tmp_path, capsys):
    rows, _ = simulate(OVER_ATTRIBUTED, 60, 0.3, seed=5)
    db = _imported(tmp_path, rows)
    good = tmp_path / "lifts.csv"
    good.write_text("campaign,spend_change,incremental,standard_error\nSocial,-150,-900,120\n")
    result = _run(db, "budget", "c", "--lag-days", "0", "--lift-file", str(good))
    assert (
        "lift-calibrated"
        in next(c for c in result["campaigns"] if c["campaign"] == "Social")["flags"]
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("campaign,incremental\nSocial,5\n")
    cases = [
        (["--lift-file", str(bad)], "needs the columns campaign, spend_change"),
        (["--lift", "Nope=10@100"], "'Nope', which is not a campaign"),
        (["--lift", "Social=10@0"], "changes no spend"),
        (["--lift", "Social=ten@100"], "write CAMPAIGN=INCREMENTAL_PER_DAY@SPEND"),
    ]
    for extra, message in cases:
        capsys.readouterr()
        code = main(["budget", "c", "--lag-days", "0", *extra, "--db", db])
        err = capsys.readouterr().err
        assert code == 2 and message in err, (extra, err)


S_CURVE = [
    TrueCampaign("Search", 30, 0.55, 0.0, 300),
    TrueCampaign("Social", 25, 0.6, 0.0, 300),
    TrueCampaign("Video", 2000, 3.0, 0.0, 300, half=200.0),  # past its bend, saturating
    TrueCampaign("Display", 20, 0.6, 0.0, 250),
]


def _s_curve_captures(tmp_path: Path) -> tuple[list[float], list[list[str]]]:
    captures, shapes = [], []
    for seed in range(6):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir(parents=True)
        db = _imported(folder, simulate(S_CURVE, 120, 0.4, seed)[0])
        result = _run(
            db,
            "budget",
            "c",
            "--lag-days",
            "0",
            "--window-days",
            "120",
            "--max-change",
            "0.5",
            "--bootstrap",
            "0",
        )
        captures.append(_capture_at_half_change(S_CURVE, result))
        shapes.append(
            [c["campaign"] for c in result["campaigns"] if c["curve"]["shape"] != "power"]
        )
    return captures, shapes


def test_an_s_shaped_campaign_is_detected_and_planned_on_its_shape(tmp_path, monkeypatch):
    """Video responds on an S-curve and is past its bend: a power curve through its data
    overstates what more spend returns. Detected, it is planned on its own shape."""
    captures, shapes = _s_curve_captures(tmp_path / "hill")
    monkeypatch.setattr("kpi_engine.budget.hill.MARGIN", float("inf"))
    as_power, _ = _s_curve_captures(tmp_path / "power")
    for seed, (with_shape, without, found) in enumerate(
        zip(captures, as_power, shapes, strict=True)
    ):
        print(
            f"\nseed {seed}: captured {with_shape:.1%} (power curves only: {without:.1%});"
            f" S-curves {found}"
        )
    print(f"median {np.median(captures):.1%}, power curves only {np.median(as_power):.1%}")
    assert sum(found == ["Video"] for found in shapes) >= 5
    assert np.median(captures) >= 0.85 and np.median(captures) > np.median(as_power)


def test_power_curves_are_not_taken_for_s_curves(tmp_path):
    """The carryover scenario's four power-curve campaigns over 10 seeds: no S-curve."""
    for seed in range(10):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        db = _imported(folder, simulate(CARRYOVER, 180, 0.5, seed)[0])
        result = _run(
            db, "budget", "c", "--lag-days", "0", "--window-days", "180", "--bootstrap", "0"
        )
        assert all(c["curve"]["shape"] == "power" for c in result["campaigns"]), seed


def test_a_target_behind_becomes_a_goal(tmp_path):
    from kpi_engine.budget.goals import goal_for_target
    from kpi_engine.kpis.result import TargetStatus
    from kpi_engine.store import Store

    db = _imported(tmp_path, simulate(OVER_ATTRIBUTED, 30, 0.3, seed=1)[0])
    dataset = Store(db).dataset("c")

    def status(kpi="conversions", state="behind", scope="", value=300.0) -> TargetStatus:
        return TargetStatus(
            kpi, kpi, "count", 1000.0, "2025-01-01", "2025-02-28", value, state, 0.3, 0.5, "", scope
        )

    goal = goal_for_target(dataset, status())
    assert goal.goal_target == 700.0 and goal.until == "2025-02-28"
    assert goal.objective == "conversions" and goal.question == "goal"
    assert goal_for_target(dataset, status(kpi="ctr")) is None
    assert goal_for_target(dataset, status(state="on track")) is None
    assert goal_for_target(dataset, status(scope="channel: Meta")) is None
    assert goal_for_target(dataset, status(value=1200.0)) is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_move_onto_a_thin_campaign_carries_its_borrowed_elasticity_s_doubt(tmp_path, seed):
    """A new campaign with ten days of data and a high ROAS is saturated (true b = 0.1); its
    b is borrowed from the portfolio (about 0.6). The plan moves money onto it and loses on the
    true curves. The old day bootstrap held that b fixed and was 0.99 sure; the draws now
    carry the prior's doubt about it."""
    fitted = [TrueCampaign(name, a, 0.6, 0.0, 300) for name, a in (("A", 30), ("B", 28), ("C", 32))]
    new = TrueCampaign("New", 600, 0.1, 0.0, 100)
    rows, _ = simulate(fitted, 60, 0.3, seed)
    late, _ = simulate([new], 10, 0.3, seed + 100, start=date(2025, 2, 20))
    db = _imported(tmp_path, rows + late)
    result = _run(db, "budget", "c", "--lag-days", "0", "--window-days", "60")
    plans = {c["campaign"]: c for c in result["campaigns"]}
    truth = {c.name: c for c in [*fitted, new]}
    true_uplift = sum(
        float(truth[n].steady(p["suggested_spend"]) - truth[n].steady(p["current_spend"]))
        for n, p in plans.items()
    )
    onto_new = [m for m in result["moves"] if m["to"] == "New"]
    print(
        f"\nseed {seed}: true uplift {true_uplift:+.1f} a day; P(uplift > 0)"
        f" {result['portfolio']['prob_positive']:.3f}; moves onto New"
        f" {[(m['from'], round(m['amount']), m['prob_helps']) for m in onto_new]}"
    )
    assert plans["New"]["tier"] == "rule" and true_uplift < 0
    assert onto_new and all(0.5 < m["prob_helps"] < 0.95 for m in onto_new)
    assert result["portfolio"]["prob_positive"] < 0.99
