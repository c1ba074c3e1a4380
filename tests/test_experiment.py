"""Experiments end to end on stored data; expected values from pandas/numpy on the same files
or from the reference libraries' published numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep

from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.charts import cumulative_lifts
from kpi_engine.experiments.pairs import MIN_UNITS
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.samples import SAMPLE_DIR, seed_samples
from tests.conftest import FIXTURES, SHARED_DATA

COOKIE_CATS = SHARED_DATA / "cookie_cats.csv"
REFERENCE = SHARED_DATA.parent / "reference" / "stats_reference.json"


@pytest.fixture
def seeded(store):
    seed_samples(store)
    return store


def _one(result, kpi):
    return next(r for r in result.results if r.kpi == kpi)


def _spec(dataset, *args, **kwargs) -> ExperimentSpec:
    return ExperimentSpec(dataset.dataset_id, *args, **kwargs)


def test_user_level_sample_matches_pandas_and_covers_the_planted_lift(seeded):
    dataset = seeded.dataset("Sample experiment (users)")
    result = run_experiment(
        seeded,
        dataset,
        _spec(dataset, "variant", "control", ("conversion_rate", "revenue_per_user")),
    )
    frame = pd.read_csv(SAMPLE_DIR / "experiment_users.csv")
    rates = frame.groupby("variant")["converted"].mean()
    conv = _one(result, "conversion_rate")
    assert conv.control_value == pytest.approx(rates["control"])
    assert conv.variant_value == pytest.approx(rates["treatment"])
    assert conv.ci_rel[0] < 0.12 < conv.ci_rel[1]  # the planted +12%
    counts = frame["variant"].value_counts()
    assert result.srm.counts == {"control": counts["control"], "treatment": counts["treatment"]}
    assert result.srm.p_value == pytest.approx(st.chisquare(counts.values).pvalue)
    rpu = _one(result, "revenue_per_user")
    welch = st.ttest_ind(
        frame.loc[frame.variant == "treatment", "revenue"],
        frame.loc[frame.variant == "control", "revenue"],
        equal_var=False,
    )
    t = rpu.abs_lift / rpu.details.se_abs  # Welch from sums = Welch on raw values
    assert t == pytest.approx(welch.statistic, rel=1e-9)
    assert 2 * st.t.sf(abs(t), rpu.details.dof) == pytest.approx(welch.pvalue, rel=1e-9)
    assert result.results[0].p_value_adjusted >= result.results[0].p_value


def test_campaign_sample_uses_days_as_units(seeded):
    dataset = seeded.dataset("Sample A/B test (campaign)")
    result = run_experiment(seeded, dataset, _spec(dataset, "variant", "A", ("cvr", "cpa")))
    frame = pd.read_csv(SAMPLE_DIR / "ab_test_campaign.csv")
    daily = frame.groupby(["variant", "date"])[["conversions", "clicks"]].sum()
    cvr = _one(result, "cvr")
    a = daily.loc["A"]
    assert cvr.control_value == pytest.approx(a["conversions"].sum() / a["clicks"].sum())
    assert cvr.n_control == 28  # days
    assert cvr.ci_rel[0] < 0.15 < cvr.ci_rel[1]  # the planted +15% CVR lift
    assert "delta-method variances over 56 units (days)" in cvr.method
    assert not result.srm.checked
    cpa = _one(result, "cpa")
    assert cpa.direction == "lower" and cpa.rel_lift < 0
    assert cpa.chance_to_beat > 0.5  # a lower CPA is a win
    assert "lowers CPA" in cpa.verdict
    lifts = cumulative_lifts(result)
    first, last = lifts[lifts.kpi == "cvr"].iloc[2], lifts[lifts.kpi == "cvr"].iloc[-1]
    assert (last.ci_high - last.ci_low) < (first.ci_high - first.ci_low)  # the interval narrows
    # on the last day the running totals are the whole test: the same lift and interval
    assert last.rel_lift == pytest.approx(cvr.rel_lift, rel=1e-9)
    assert [last.ci_low, last.ci_high] == pytest.approx(cvr.ci_rel, rel=1e-9)
    days = list(lifts[lifts.kpi == "cvr"].day)
    # a day shows an estimate once each arm has MIN_UNITS days behind it: days 7 to 28
    assert days == sorted(days) and len(days) == 28 - MIN_UNITS + 1


def test_per_variant_totals(store):
    dataset = import_file(store, FIXTURES / "variant_totals.csv").dataset
    result = run_experiment(
        store,
        dataset,
        _spec(dataset, "variant", "A", ("conversion_rate", "revenue_per_user"), correction="none"),
    )
    conv = _one(result, "conversion_rate")
    assert result.data.kind == "totals"
    # statsmodels 0.15: test_proportions_2indep(560, 10000, 500, 10000, method="score")
    assert conv.p_value == pytest.approx(0.058264093462225885, rel=1e-9)
    rpu = _one(result, "revenue_per_user")
    assert rpu.p_value is None and rpu.ci_rel == (None, None)
    assert rpu.variant_value == 5.55 and "no variance" in rpu.verdict


def test_sequential_is_wider_and_guardrails(seeded):
    dataset = seeded.dataset("Sample experiment (users)")
    fixed = run_experiment(
        seeded, dataset, _spec(dataset, "variant", "control", ("conversion_rate",))
    )
    peeking = run_experiment(
        seeded,
        dataset,
        _spec(
            dataset,
            "variant",
            "control",
            ("conversion_rate",),
            sequential=True,
            tuning=40000,
            guardrails=(("conversion_rate", 0.5),),
        ),
    )

    def width(result):
        return result.results[0].ci_rel[1] - result.results[0].ci_rel[0]

    assert 1.2 < width(peeking) / width(fixed) < 2.5
    assert peeking.guardrails[0].status == "pass"


def test_srm_flag_and_intended_split(store, tmp_path):
    rows = (
        ["user_id,variant,converted"]
        + [f"u{i},A,0" for i in range(600)]
        + [f"v{i},B,1" for i in range(400)]
    )
    path = tmp_path / "skewed.csv"
    path.write_text("\n".join(rows) + "\n")
    dataset = import_file(store, path).dataset
    equal = run_experiment(store, dataset, _spec(dataset, "variant", "A", ("conversion_rate",)))
    assert equal.srm.flag and "srm" in {w.code for w in equal.warnings}
    intended = run_experiment(
        store, dataset, _spec(dataset, "variant", "A", ("conversion_rate",), split=(60, 40))
    )
    assert not intended.srm.flag


def _by_day(store, path, days):
    """A user-level test written day by day: (date, users per variant, converts(i, n))."""
    rows, k = ["user_id,date,variant,converted"], 0
    for day, arms, converts in days:
        for arm, n in arms.items():
            for i in range(n):
                rows.append(f"u{k},{day},{arm},{int(converts(i, n))}")
                k += 1
    path.write_text("\n".join(rows) + "\n")
    dataset = import_file(store, path).dataset
    return run_experiment(store, dataset, _spec(dataset, "variant", "A", ("conversion_rate",)))


def test_simpson_warning_when_the_split_drifts(store, tmp_path):
    # day 1: 90% of users in A, both arms convert at 10%; day 2: 90% in B, both at 30%.
    days = [
        ("2026-01-01", {"A": 1800, "B": 200}, lambda i, n: i < n * 0.1),
        ("2026-01-02", {"A": 200, "B": 1800}, lambda i, n: i < n * 0.3),
    ]
    result = _by_day(store, tmp_path / "drift.csv", days)
    assert _one(result, "conversion_rate").rel_lift > 0.5  # pooled: B looks far better
    codes = {w.code for w in result.warnings}
    assert "simpson" in codes and "srm_by_day" in codes


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("variant", "Z", ("cvr",)), {}, "'Z' is not a variant"),
        (("nope", "A", ("cvr",)), {}, "names no column 'nope'"),
        (("variant", "A", ("spend",)), {}, "cannot be tested on campaign data"),
        (("variant", "A", ("conversion_rate",)), {}, "cannot be tested on campaign"),
        (("date", "2026-06-30", ("cvr",)), {}, "28 values: an experiment compares a few"),
    ],
)
def test_bad_experiments(seeded, args, kwargs, message):
    dataset = seeded.dataset("Sample A/B test (campaign)")
    with pytest.raises(KpiLabError, match=message):
        run_experiment(seeded, dataset, _spec(dataset, *args, **kwargs))


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"correction": "bonf"}, "correction", "'bonf' is not a correction"),
        ({"kpis": ()}, "kpis", "choose at least one KPI"),
        ({"alpha": 0.9}, "alpha", "must be between 0 and 0.5"),
        ({"split": (50,)}, "split", "a positive share per variant"),
        ({"tuning": -3.0}, "tuning", "positive number of units"),
    ],
)
def test_bad_settings_name_their_field(kwargs, field, message):
    settings = {"dataset_id": "ds_x", "variant_col": "variant", "control": "A", "kpis": ("cvr",)}
    with pytest.raises(KpiLabError, match=message) as info:
        ExperimentSpec(**{**settings, **kwargs})
    assert info.value.field == field


def test_single_variant(store, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("user_id,variant,converted\nu1,A,1\nu2,A,0\n")
    dataset = import_file(store, path).dataset
    with pytest.raises(KpiLabError, match="a single variant"):
        run_experiment(store, dataset, _spec(dataset, "variant", "A", ("conversion_rate",)))


def test_not_enough_data_says_so(store, tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(
        "user_id,variant,converted\n"
        + "".join(f"u{i},{'AB'[i % 2]},{int(i % 15 == 0)}\n" for i in range(60))
    )
    dataset = import_file(store, path).dataset
    result = run_experiment(store, dataset, _spec(dataset, "variant", "A", ("conversion_rate",)))
    r = result.results[0]
    assert r.verdict.startswith("Not enough data yet")
    # few conversions: the score test is the result, and Fisher's exact p is shown beside it
    assert "score test" in r.method and "Fisher" in r.method
    table = [[r.n_control - 2, 2], [r.n_variant - 2, 2]]
    assert r.details.fisher_p == pytest.approx(st.fisher_exact(table).pvalue, rel=1e-12)


@pytest.mark.skipif(not COOKIE_CATS.exists(), reason="cookie_cats.csv is not in ../shared/data")
@pytest.mark.parametrize(
    "column, z, p",
    [
        # statsmodels 0.15 test_proportions_2indep(method="score"): the score test's z and p
        ("retention_1", -1.7840763339506382, 0.0744112622588693),
        ("retention_7", -3.164341369767981, 0.001554343672214093),
    ],
)
def test_cookie_cats_published_results(store, column, z, p):
    dataset = import_file(
        store, COOKIE_CATS, options=ImportOptions(mapping={column: "conversions"})
    ).dataset
    assert dataset.kind == "user_level" and dataset.rows == 90189
    result = run_experiment(
        store,
        dataset,
        _spec(dataset, "version", "gate_30", ("conversion_rate",), correction="none"),
    )
    r = result.results[0]
    assert r.details.z == pytest.approx(z, rel=1e-9)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    counts = pd.read_csv(COOKIE_CATS).groupby("version")[column].agg(["sum", "count"])
    a, b = counts.loc["gate_30"], counts.loc["gate_40"]
    low, high = confint_proportions_2indep(
        b["sum"], b["count"], a["sum"], a["count"], method="score", compare="ratio"
    )
    assert r.ci_rel == pytest.approx((low - 1, high - 1), rel=1e-6)
    assert result.srm.p_value == pytest.approx(0.008607987810836262, rel=1e-6)
    assert not result.srm.flag  # 0.0086 > 0.001: noted, not flagged
    if REFERENCE.exists():
        cases = {c["id"]: c for c in json.loads(REFERENCE.read_text())["cases"]}
        label = f"{'r1' if column == 'retention_1' else 'r7'}: gbstats frequentist relative lift"
        gb = next(
            x["output"] for x in cases["dataset_cookie_cats"]["results"] if x["label"] == label
        )
        assert r.rel_lift == pytest.approx(gb["expected"], rel=1e-6)


# -- command line ---------------------------------------------------------------------------


def test_cli_experiment_contract(capsys, tmp_path):
    db = str(tmp_path / "x.duckdb")
    main(["import", str(SAMPLE_DIR / "ab_test_campaign.csv"), "--name", "ab", "--db", db])
    capsys.readouterr()
    code = main(
        [
            "experiment",
            "ab",
            "--variant-col",
            "variant",
            "--control",
            "A",
            "--kpi",
            "cpa",
            "--kpi",
            "cvr",
            "--correction",
            "bh",
            "--db",
            db,
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and set(doc) >= {"srm", "results", "warnings"}
    assert set(doc["srm"]) >= {"p_value", "flag"}
    row = doc["results"][0]
    assert set(row) >= {
        "kpi",
        "variant",
        "control_value",
        "variant_value",
        "abs_lift",
        "rel_lift",
        "ci_abs",
        "ci_rel",
        "p_value",
        "p_value_adjusted",
        "chance_to_beat",
        "expected_loss",
        "method",
        "verdict",
    }
    assert row["rel_lift"] == pytest.approx(row["variant_value"] / row["control_value"] - 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--control", "Z", "--kpi", "cpa"], "--control 'Z' is not a variant"),
        (["--control", "A", "--kpi", "spend"], "cannot be tested"),
        (["--control", "A", "--kpi", "cpa", "--split", "50"], "a positive share per variant"),
        (["--control", "A", "--kpi", "cpa", "--split", "50,30,20"], "3 shares for 2 variants"),
    ],
)
def test_cli_experiment_bad_input(capsys, tmp_path, args, message):
    db = str(tmp_path / "x.duckdb")
    main(["import", str(SAMPLE_DIR / "ab_test_campaign.csv"), "--name", "ab", "--db", db])
    capsys.readouterr()
    code = main(["experiment", "ab", "--variant-col", "variant", *args, "--db", db])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_power(capsys):
    assert main(["power", "--baseline", "0.05", "--mde", "0.10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_per_arm"] == 31231 and doc["n_total"] == 62462
    assert main(["power", "--baseline", "5", "--mde", "0.1"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_users_with_several_rows_are_one_unit(store, tmp_path):
    # u1 converts on its second row; u9 shows up in both variants
    rows = ["user_id,variant,converted,revenue", "u1,A,0,0", "u1,A,1,30", "u9,A,0,0", "u9,B,1,10"]
    rows += [f"a{i},A,{int(i % 4 == 0)},0" for i in range(200)]
    rows += [f"b{i},B,{int(i % 3 == 0)},0" for i in range(200)]
    path = tmp_path / "repeats.csv"
    path.write_text("\n".join(rows) + "\n")
    dataset = import_file(store, path).dataset
    assert dataset.report["unique_units"] is False
    kpis = ("conversion_rate", "revenue_per_user")
    kept = run_experiment(
        store, dataset, _spec(dataset, "variant", "A", kpis, keep_multiple_exposures=True)
    )
    conv = _one(kept, "conversion_rate")
    assert conv.n_control == 202 and conv.n_variant == 201  # u1 once; u9 in both arms
    assert conv.control_value == pytest.approx((1 + 50) / 202)
    assert _one(kept, "revenue_per_user").control_value == pytest.approx(30 / 202)
    notice = next(w for w in kept.warnings if w.code == "multiple_exposures")
    assert notice.count == 1 and "counted in every variant" in notice.message
    # by default u9, seen in both variants, is left out and counted in the warning
    result = run_experiment(store, dataset, _spec(dataset, "variant", "A", kpis))
    conv = _one(result, "conversion_rate")
    assert conv.n_control == 201 and conv.n_variant == 200
    assert conv.control_value == pytest.approx((1 + 50) / 201)
    notice = next(w for w in result.warnings if w.code == "multiple_exposures")
    assert notice.count == 1 and "(0.2% of units)" in notice.message
    assert "left out" in notice.message


def test_one_row_per_user_takes_the_fast_path_with_the_same_numbers(store, tmp_path):
    rows = ["user_id,variant,converted,revenue"]
    rows += [f"u{i},{'AB'[i % 2]},{int(i % 7 == 0)},{(i % 7 == 0) * 25}" for i in range(2000)]
    path = tmp_path / "unique.csv"
    path.write_text("\n".join(rows) + "\n")
    dataset = import_file(store, path).dataset
    assert dataset.report["unique_units"] is True
    spec = _spec(dataset, "variant", "A", ("conversion_rate", "revenue_per_user"))
    fast = run_experiment(store, dataset, spec).results
    from dataclasses import replace

    slow = run_experiment(store, replace(dataset, report={}), spec).results
    for a, b in zip(fast, slow, strict=True):
        assert a.p_value == pytest.approx(b.p_value, rel=1e-12)
        assert a.ci_rel == pytest.approx(b.ci_rel, rel=1e-12)


def test_a_constant_split_that_is_not_the_intended_one_is_not_called_drift(store, tmp_path):
    """60/40 every day against an intended 50/50: the same gap each day, not a drift."""
    days = [
        (f"2026-01-{d:02d}", {"A": 600, "B": 400}, lambda i, n: i % 10 == 0) for d in range(1, 11)
    ]
    result = _by_day(store, tmp_path / "constant.csv", days)
    notice = next(w for w in result.warnings if w.code == "srm_by_day")
    assert "by the same amount every day" in notice.message
    assert "allocation changed" not in notice.message
