"""Multiple exposures, daily totals, capping, CUPED, segments, non-inferiority and lift by week
since exposure, each checked against an independent computation (numpy, scipy, statsmodels)
on fresh synthetic data."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as st
from statsmodels.stats import proportion as sm_proportion

from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import display
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.capping import parse_cap
from kpi_engine.experiments.pairs import Pair
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.formatting import d3_format
from kpi_engine.ingest import import_file
from kpi_engine.stats import lifts
from kpi_engine.stats.compare import Comparison
from kpi_engine.stats.cuped import CovariateSums
from kpi_engine.stats.lifts import Mean
from kpi_engine.stats.sufficient import MEAN, ArmStats

START = date(2026, 3, 2)


def _import(store, tmp_path, frame: pd.DataFrame, name: str):
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return import_file(store, path).dataset


def _spec(dataset, kpis=("conversion_rate",), **kwargs) -> ExperimentSpec:
    return ExperimentSpec(dataset.dataset_id, "variant", "A", tuple(kpis), **kwargs)


def _one(result, kpi, variant="B"):
    return next(r for r in result.results if r.kpi == kpi and r.variant == variant)


def _users(n: int, seed: int, lift: float = 0.0, rho: float = 0.0) -> pd.DataFrame:
    """One row per user: variant, converted, revenue (heavy-tailed) and a pre-test revenue
    correlated with revenue by about ``rho`` and independent of the variant."""
    rng = np.random.default_rng(seed)
    variant = rng.choice(["A", "B"], size=n)
    latent = rng.normal(size=n)
    noise = rng.normal(size=n)
    value = 50 + 20 * (rho * latent + math.sqrt(1 - rho**2) * noise)
    revenue = value * (1 + lift * (variant == "B"))
    return pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "variant": variant,
            "converted": (rng.random(n) < 0.1 + 0.02 * (variant == "B")).astype(int),
            "revenue": revenue.round(4),
            "pre_revenue": (50 + 20 * latent).round(4),
            "device": rng.choice(["mobile", "desktop", "tablet"], size=n, p=[0.5, 0.4, 0.1]),
        }
    )


def _score_p(table: pd.DataFrame) -> float:
    """statsmodels' score test of B - A from a table of conversions ("sum") and users."""
    a, b = table.loc["A"], table.loc["B"]
    return sm_proportion.test_proportions_2indep(
        b["sum"], b["count"], a["sum"], a["count"], method="score", compare="diff"
    ).pvalue


# -- multiple exposures ------------------------------------------------------------------


def test_units_in_both_variants_are_excluded_and_the_rest_match_scipy(store, tmp_path):
    rng = np.random.default_rng(1)
    users = _users(6000, 1)
    shared = users.sample(300, random_state=2).copy()
    shared["variant"] = np.where(shared["variant"] == "A", "B", "A")
    shared["converted"] = rng.integers(0, 2, size=len(shared))
    frame = pd.concat([users, shared])
    dataset = _import(store, tmp_path, frame, "exposed")
    result = run_experiment(store, dataset, _spec(dataset))
    clean = users[~users["user_id"].isin(shared["user_id"])]
    table = clean.groupby("variant")["converted"].agg(["sum", "count"])
    r = _one(result, "conversion_rate")
    assert (r.n_control, r.n_variant) == (table.loc["A", "count"], table.loc["B", "count"])
    assert r.p_value == pytest.approx(_score_p(table), rel=1e-9)
    notice = next(w for w in result.warnings if w.code == "multiple_exposures")
    assert notice.count == 300 and "(5.0% of units)" in notice.message


# -- daily totals ----------------------------------------------------------------------------


def _daily_totals() -> pd.DataFrame:
    """Allocation to B ramps up while conversion falls day by day: the pooled lift is far below
    the within-day lifts (Simpson)."""
    rows = []
    for d in range(10):
        share_b = 0.1 + 0.08 * d
        base = 0.12 - 0.008 * d
        for variant, share, rate in (("A", 1 - share_b, base), ("B", share_b, base * 1.1)):
            users = int(20_000 * share)
            rows.append(
                {
                    "date": (START + timedelta(days=d)).isoformat(),
                    "variant": variant,
                    "users": users,
                    "conversions": round(users * rate),
                    "revenue": round(users * rate * 40.0, 2),
                }
            )
    return pd.DataFrame(rows)


def test_daily_totals_are_users_with_a_stratified_estimate_and_per_day_srm(store, tmp_path):
    frame = _daily_totals()
    dataset = _import(store, tmp_path, frame, "daily_totals")
    assert dataset.kind == "variant_totals"
    result = run_experiment(
        store, dataset, _spec(dataset, ("conversion_rate", "revenue_per_user"), split=(50, 50))
    )
    assert result.data.kind == "totals" and result.data.units == "users"
    conv = _one(result, "conversion_rate")
    pooled = frame.groupby("variant")[["users", "conversions"]].sum()
    assert conv.n_control == pooled.loc["A", "users"]
    table = pooled.rename(columns={"conversions": "sum", "users": "count"})
    assert conv.p_value == pytest.approx(_score_p(table), rel=1e-9)
    # the day-stratified lift, computed here with numpy on the daily table
    wide = frame.pivot(index="date", columns="variant", values=["users", "conversions"])
    weights = (wide["users"]["A"] + wide["users"]["B"]) / wide["users"].to_numpy().sum()
    rate = wide["conversions"] / wide["users"]
    pa, pb = float((weights * rate["A"]).sum()), float((weights * rate["B"]).sum())
    var_a = float((weights**2 * rate["A"] * (1 - rate["A"]) / wide["users"]["A"]).sum())
    var_b = float((weights**2 * rate["B"] * (1 - rate["B"]) / wide["users"]["B"]).sum())
    assert conv.stratified.rel_lift == pytest.approx(pb / pa - 1, rel=1e-9)
    # the test is of the difference, as for every other result
    z = (pb - pa) / math.sqrt(var_a + var_b)
    assert conv.stratified.p_value == pytest.approx(2 * st.norm.sf(abs(z)), rel=1e-9)
    assert conv.stratified.rel_lift == pytest.approx(0.1, abs=0.01)
    assert conv.rel_lift < 0.05  # the pooled lift is pulled down by the drifting split
    codes = {w.code for w in result.warnings}
    assert {"srm", "srm_by_day", "simpson"} <= codes
    assert len(result.srm.days_flagged) >= 8
    rpu = _one(result, "revenue_per_user")
    assert rpu.p_value is None and rpu.rel_lift is not None  # an estimate, no variance


# -- capping -----------------------------------------------------------------------------


def test_cap_text():
    assert parse_cap("p99") == parse_cap(":p99")
    cap = parse_cap("p1:p99")
    assert (cap.lower, cap.upper, cap.lower_pct, cap.upper_pct) == (0.01, 0.99, True, True)
    cap = parse_cap("0:500")
    assert (cap.lower, cap.upper, cap.lower_pct, cap.upper_pct) == (0, 500, False, False)
    for bad in ("p101", "abc", ":", "500:0", "pnan"):
        with pytest.raises(KpiLabError) as err:
            parse_cap(bad)
        assert err.value.field == "caps"


def test_percentile_caps_match_numpy_and_scipy(store, tmp_path):
    frame = _users(4000, 3)
    whales = frame.sample(40, random_state=4).index
    frame.loc[whales, "revenue"] *= 200
    frame.loc[frame.sample(30, random_state=5).index, "revenue"] = -5.0  # refunds
    dataset = _import(store, tmp_path, frame, "whales")
    spec = _spec(dataset, ("revenue_per_user",), caps=(("revenue_per_user", "p1:p99"),))
    result = run_experiment(store, dataset, spec)
    low, high = np.percentile(frame["revenue"], [1, 99])
    cap = result.capping["revenue_per_user"]
    assert cap.lower == pytest.approx(low, rel=1e-9) and cap.upper == pytest.approx(high, rel=1e-9)
    assert cap.units_capped == int(((frame["revenue"] < low) | (frame["revenue"] > high)).sum())
    capped = frame.assign(revenue=frame["revenue"].clip(low, high))
    a = capped.loc[capped["variant"] == "A", "revenue"]
    b = capped.loc[capped["variant"] == "B", "revenue"]
    r = _one(result, "revenue_per_user")
    assert r.control_value == pytest.approx(a.mean(), rel=1e-9)
    welch = st.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert r.ci_abs == pytest.approx((welch.low, welch.high), rel=1e-7)


def test_absolute_caps_on_a_ratio_cap_numerator_and_denominator_separately(store, tmp_path):
    rng = np.random.default_rng(6)
    n = 3000
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "variant": rng.choice(["A", "B"], size=n),
            "orders": rng.poisson(2, size=n) + 1,
            "revenue": rng.gamma(2, 60, size=n).round(2),
        }
    )
    dataset = _import(store, tmp_path, frame, "orders")
    spec = _spec(dataset, ("aov",), caps=(("aov", ":300"),))
    result = run_experiment(store, dataset, spec)
    cap = result.capping["aov"]
    assert (cap.lower, cap.upper, cap.upper_den) == (None, 300.0, 300.0)
    capped = frame.assign(revenue=frame["revenue"].clip(upper=300))
    assert cap.units_capped == int((frame["revenue"] > 300).sum())
    a = capped[capped["variant"] == "A"]
    assert _one(result, "aov").control_value == pytest.approx(
        a["revenue"].sum() / a["orders"].sum(), rel=1e-9
    )


# -- CUPED -------------------------------------------------------------------------------


def _ols(y: np.ndarray, treated: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """The variant's coefficient and its standard error in OLS of y on the variant and x."""
    design = sm.add_constant(np.column_stack([np.asarray(treated), np.asarray(x)]))
    fit = sm.OLS(np.asarray(y), design).fit()
    return float(fit.params[1]), float(fit.bse[1])


def test_cuped_with_a_covariate_column_matches_ols(store, tmp_path):
    frame = _users(30_000, 7, lift=0.03, rho=0.7)
    dataset = _import(store, tmp_path, frame, "cuped_column")
    spec = _spec(dataset, ("revenue_per_user",), covariates=(("revenue_per_user", "pre_revenue"),))
    r = _one(run_experiment(store, dataset, spec), "revenue_per_user")
    effect, se = _ols(
        frame["revenue"], (frame["variant"] == "B").astype(float), frame["pre_revenue"]
    )
    assert r.abs_lift == pytest.approx(effect, rel=0.01)
    assert r.details.se_abs == pytest.approx(se, rel=0.05)
    assert r.variance_reduction == pytest.approx(0.49, abs=0.03)
    assert r.unadjusted.p_value is not None and "CUPED" in r.method
    # the plain result is one field away and agrees with Welch's t on the raw values
    a = frame.loc[frame["variant"] == "A", "revenue"]
    b = frame.loc[frame["variant"] == "B", "revenue"]
    assert r.unadjusted.rel_lift == pytest.approx(b.mean() / a.mean() - 1, rel=1e-9)


def test_cuped_on_rows_before_exposure_matches_ols_on_the_same_covariate(store, tmp_path):
    """Event rows: each user's pre-period rows (no variant yet) in the 14 days before the
    first row in the test; rows older than that do not count."""
    rng = np.random.default_rng(8)
    n = 20_000
    users = _users(n, 8, lift=0.05, rho=0.7)
    first = pd.Timestamp(START) + pd.to_timedelta(rng.integers(20, 34, size=n), unit="D")
    test_rows = users[["user_id", "variant", "revenue"]].assign(date=first)
    pre_rows = users[["user_id", "pre_revenue"]].rename(columns={"pre_revenue": "revenue"})
    pre_rows = pre_rows.assign(variant=None, date=first - pd.to_timedelta(3, unit="D"))
    old_rows = pre_rows.assign(date=first - pd.to_timedelta(30, unit="D"), revenue=1000.0)
    frame = pd.concat([test_rows, pre_rows, old_rows]).sort_values("date")
    frame["date"] = frame["date"].dt.date.astype(str)
    dataset = _import(store, tmp_path, frame, "cuped_rows")
    result = run_experiment(store, dataset, _spec(dataset, ("revenue_per_user",), cuped=True))
    r = _one(result, "revenue_per_user")
    effect, se = _ols(
        users["revenue"], (users["variant"] == "B").astype(float), users["pre_revenue"]
    )
    assert r.abs_lift == pytest.approx(effect, rel=0.01)
    assert r.details.se_abs == pytest.approx(se, rel=0.05)
    assert 0.4 < r.variance_reduction < 0.6
    assert "14 days before exposure" in r.method


def _cuped_sums(y: np.ndarray, x: np.ndarray) -> tuple[ArmStats, CovariateSums]:
    arm = ArmStats(MEAN, len(y), y.sum(), (y * y).sum(), len(y), len(y), y.sum())
    return arm, CovariateSums(x.sum(), (x * x).sum(), (x * y).sum())


def _simulate(rng: np.random.Generator, lift: float, n: int = 2000) -> Comparison:
    x = rng.normal(10, 3, size=2 * n)
    y = 10 + 0.7 * (x - 10) + rng.normal(0, 3 * math.sqrt(1 - 0.49), size=2 * n)
    y[n:] *= 1 + lift
    control, treated = _cuped_sums(y[:n], x[:n]), _cuped_sums(y[n:], x[n:])
    return Pair(control[0], treated[0], control[1], treated[1]).lift(0.05).relative


def test_cuped_keeps_its_false_positive_rate_and_coverage():
    rng = np.random.default_rng(9)
    false_positives = sum(_simulate(rng, 0.0).p_value < 0.05 for _ in range(500))
    assert 0.03 <= false_positives / 500 <= 0.07
    covered = 0
    for _ in range(500):
        rel = _simulate(rng, 0.05)
        covered += rel.ci[0] <= 0.05 <= rel.ci[1]
    assert 0.93 <= covered / 500 <= 0.97


# -- segments ----------------------------------------------------------------------------


def test_a_segment_whose_lift_differs_is_flagged_against_scipy(store, tmp_path):
    frame = _users(40_000, 10)
    mobile_b = (frame["device"] == "mobile") & (frame["variant"] == "B")
    frame.loc[mobile_b, "revenue"] *= 1.15
    dataset = _import(store, tmp_path, frame, "segments")
    spec = _spec(dataset, ("revenue_per_user",), segment_col="device")
    result = run_experiment(store, dataset, spec)
    rows = {s.segment: s for s in result.segments}
    assert set(rows) == {"mobile", "desktop", "tablet"}
    assert rows["mobile"].differs

    def lift(part: pd.DataFrame) -> tuple[float, float, float]:
        a = part.loc[part["variant"] == "A", "revenue"]
        b = part.loc[part["variant"] == "B", "revenue"]
        var_a, var_b = a.var() / len(a), b.var() / len(b)
        rel = b.mean() / a.mean() - 1
        se = math.sqrt(var_b / a.mean() ** 2 + var_a * b.mean() ** 2 / a.mean() ** 4)
        dof = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
        return rel, se, dof

    rel_s, se_s, _ = lift(frame[frame["device"] == "mobile"])
    rel_r, se_r, _ = lift(frame[frame["device"] != "mobile"])
    assert rows["mobile"].rel_lift == pytest.approx(rel_s, rel=1e-9)
    z = (rel_s - rel_r) / math.sqrt(se_s**2 + se_r**2)
    assert rows["mobile"].p_differs == pytest.approx(2 * st.norm.sf(abs(z)), rel=1e-3)
    assert (
        rows["mobile"].n_control
        == ((frame["device"] == "mobile") & (frame["variant"] == "A")).sum()
    )
    # without a planted difference nothing is flagged
    plain = _users(40_000, 15)
    dataset = _import(store, tmp_path, plain, "no_difference")
    result = run_experiment(
        store, dataset, spec.__class__(**{**spec.__dict__, "dataset_id": dataset.dataset_id})
    )
    assert not any(s.differs for s in result.segments)


def test_segments_beyond_twenty_are_grouped_as_other(store, tmp_path):
    frame = _users(5000, 11)
    frame["country"] = [f"c{i % 30:02d}" for i in range(len(frame))]
    dataset = _import(store, tmp_path, frame, "countries")
    result = run_experiment(
        store, dataset, _spec(dataset, ("conversion_rate",), segment_col="country")
    )
    segments = {s.segment for s in result.segments}
    assert len(segments) == 21 and "(other)" in segments
    total = sum(s.n_control + s.n_variant for s in result.segments)
    assert total == len(frame)


# -- non-inferiority ---------------------------------------------------------------------


def test_non_inferiority_is_a_one_sided_test_at_the_margin(store, tmp_path):
    frame = _users(20_000, 12, lift=-0.005)
    dataset = _import(store, tmp_path, frame, "cheaper")
    spec = _spec(
        dataset,
        ("revenue_per_user",),
        non_inferiority=(("revenue_per_user", 0.03),),
    )
    r = _one(run_experiment(store, dataset, spec), "revenue_per_user")
    a = frame.loc[frame["variant"] == "A", "revenue"]
    b = frame.loc[frame["variant"] == "B", "revenue"]
    # H0: mean B <= 0.97 x mean A, Fieller's statistic, Welch's degrees of freedom
    t = (b.mean() - 0.97 * a.mean()) / math.sqrt(b.var() / len(b) + 0.97**2 * a.var() / len(a))
    assert r.details.dof == pytest.approx(st.ttest_ind(b, a, equal_var=False).df, rel=1e-9)
    assert r.p_non_inferiority == pytest.approx(st.t.sf(t, r.details.dof), rel=1e-6)
    assert r.non_inferior is True and r.margin == 0.03
    spec = _spec(dataset, ("revenue_per_user",), non_inferiority=(("revenue_per_user", 0.001),))
    assert _one(run_experiment(store, dataset, spec), "revenue_per_user").non_inferior is False


def test_non_inferiority_where_lower_is_better():
    control, variant = Mean(100.0, 1.0, 1000), Mean(101.0, 1.0, 1000)  # CPA 1% higher
    p = lifts.ratio_p_value(control, variant, 1.05, higher_is_better=False, dof=math.inf)
    assert p == pytest.approx(st.norm.sf((105 - 101) / math.sqrt(1 + 1.05**2)), rel=1e-12)


# -- lift by week since exposure ---------------------------------------------------------


def test_lift_by_week_since_exposure_shows_a_novelty_effect(store, tmp_path):
    """B converts 50% more in a user's first week, as much as A afterwards."""
    rng = np.random.default_rng(13)
    rows = []
    for i in range(6000):
        variant = "AB"[i % 2]
        first = START + timedelta(days=int(rng.integers(0, 7)))
        rows.append((f"u{i}", variant, first, 0))
        for day in range(28):
            rate = 0.02 * (1.5 if variant == "B" and day < 7 else 1.0)
            if rng.random() < rate:
                rows.append((f"u{i}", variant, first + timedelta(days=day), 1))
    frame = pd.DataFrame(rows, columns=["user_id", "variant", "date", "converted"])
    frame["date"] = frame["date"].astype(str)
    dataset = _import(store, tmp_path, frame, "novelty")
    result = run_experiment(store, dataset, _spec(dataset, ("conversion_rate",)))
    weeks = {w.week: w for w in result.by_exposure_week}
    assert set(weeks) >= {1, 2, 3}
    first_week = frame.assign(
        week=(
            pd.to_datetime(frame["date"])
            - pd.to_datetime(frame.groupby("user_id")["date"].transform("min"))
        ).dt.days
        // 7
    )
    converted = first_week[first_week["week"] == 0].groupby("user_id")["converted"].max()
    by_variant = converted.groupby(
        frame.drop_duplicates("user_id").set_index("user_id")["variant"]
    ).mean()
    assert weeks[1].rel_lift == pytest.approx(by_variant["B"] / by_variant["A"] - 1, rel=1e-9)
    assert weeks[1].rel_lift > 0.3 and weeks[1].p_value < 0.01
    assert abs(weeks[3].rel_lift) < 0.2


# -- what cannot apply -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"caps": (("conversion_rate", "p99"),)}, "caps", "nothing to cap"),
        ({"covariates": (("conversion_rate", "nope"),)}, "covariates", "not a numeric column"),
        ({"segment_col": "nope"}, "segment_col", "names no column"),
    ],
)
def test_settings_that_cannot_apply_name_their_field(store, tmp_path, kwargs, field, words):
    dataset = _import(store, tmp_path, _users(500, 14), "small")
    with pytest.raises(KpiLabError) as err:
        run_experiment(store, dataset, _spec(dataset, **kwargs))
    assert err.value.field == field and words in str(err.value)


def test_user_level_methods_on_campaign_rows_say_what_they_need(store):
    from kpi_engine.samples import seed_samples

    seed_samples(store)
    dataset = store.dataset("Sample A/B test (campaign)")
    for kwargs, field in (
        ({"caps": (("cpa", "p99"),)}, "caps"),
        ({"cuped": True}, "cuped"),
        ({"segment_col": "campaign"}, "segment_col"),
    ):
        spec = ExperimentSpec(dataset.dataset_id, "variant", "A", ("cpa",), **kwargs)
        with pytest.raises(KpiLabError) as err:
            run_experiment(store, dataset, spec)
        assert err.value.field == field and "user-level data" in str(err.value)


def test_a_spec_refuses_settings_about_kpis_it_does_not_compare():
    with pytest.raises(KpiLabError) as err:
        ExperimentSpec("d", "variant", "A", ("conversion_rate",), caps=(("aov", "p99"),))
    assert err.value.field == "caps"
    with pytest.raises(KpiLabError) as err:
        ExperimentSpec(
            "d", "variant", "A", ("conversion_rate",), non_inferiority=(("conversion_rate", 2),)
        )
    assert err.value.field == "non_inferiority"
    with pytest.raises(KpiLabError) as err:
        ExperimentSpec("d", "variant", "A", ("conversion_rate",), pre_days=0)
    assert err.value.field == "pre_days"


# -- the command line's contract ---------------------------------------------------------


def test_the_command_line_carries_every_setting_and_the_json_contract(tmp_path, capsys):
    from kpi_engine.cli import main

    frame = _users(3000, 16, lift=0.02, rho=0.6)
    swapped = frame.head(30).assign(variant=lambda f: np.where(f["variant"] == "A", "B", "A"))
    frame = pd.concat([frame, swapped])  # 30 users in both variants
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    db = str(tmp_path / "cli.sqlite")
    assert main(["import", str(path), "--db", db, "--name", "users", "--json"]) == 0
    capsys.readouterr()
    args = ["experiment", "users", "--db", db, "--variant-col", "variant", "--control", "A"]
    args += ["--kpi", "conversion_rate", "--kpi", "revenue_per_user", "--json"]
    args += ["--cap", "revenue_per_user=p1:p99", "--covariate", "revenue_per_user=pre_revenue"]
    args += ["--segment-col", "device", "--non-inferiority", "conversion_rate=10"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    warning = next(w for w in doc["warnings"] if w["code"] == "multiple_exposures")
    assert warning["count"] == 30 and "% of units" in warning["message"]
    assert set(doc["capping"]["revenue_per_user"]) >= {"lower", "upper", "units_capped"}
    results = {r["kpi"]: r for r in doc["results"]}
    assert results["revenue_per_user"]["variance_reduction"] > 0.2
    assert results["conversion_rate"]["variance_reduction"] is None
    assert isinstance(results["conversion_rate"]["non_inferior"], bool)
    assert 0 <= results["conversion_rate"]["p_non_inferiority"] <= 1
    keys = {"segment_col", "segment", "kpi", "variant", "n_control", "n_variant", "rel_lift"}
    keys |= {"ci_rel", "p_value", "differs", "p_differs"}
    assert doc["segments"] and set(doc["segments"][0]) >= keys
    first = doc["results"][0]
    assert first["n_control"] + first["n_variant"] == 3000 - 30
    assert main([*args, "--keep-multiple-exposures"]) == 0
    first = json.loads(capsys.readouterr().out)["results"][0]
    assert first["n_control"] + first["n_variant"] == 3000 + 30
    assert main([*args, "--cap", "revenue_per_user=lots"]) == 2
    assert "--cap" in capsys.readouterr().err
    assert main([*args, "--pre-days", "0"]) == 2
    assert "--pre-days" in capsys.readouterr().err


def test_cuped_from_rows_on_one_row_per_user_says_there_is_no_history(store, tmp_path):
    frame = _users(2000, 17).assign(date=START.isoformat())
    dataset = _import(store, tmp_path, frame, "single_rows")
    assert dataset.report["unique_units"] is True
    result = run_experiment(store, dataset, _spec(dataset, ("revenue_per_user",), cuped=True))
    assert _one(result, "revenue_per_user").variance_reduction is None
    notice = next(w for w in result.warnings if w.code == "no_pre_period")
    assert "Choose a column" in notice.message


def test_cuped_without_a_start_says_when_it_finds_no_earlier_rows(store, tmp_path):
    """Every row carries the variant, so each user's first row looks like the exposure: CUPED
    has nothing before it, and says how to fix that instead of doing nothing quietly."""
    rng = np.random.default_rng(31)
    users = _users(4000, 31, rho=0.7)
    first = pd.Timestamp(START) + pd.to_timedelta(rng.integers(20, 34, size=len(users)), "D")
    test_rows = users[["user_id", "variant", "revenue"]].assign(date=first)
    pre_rows = users[["user_id", "variant", "pre_revenue"]].rename(
        columns={"pre_revenue": "revenue"}
    )
    pre_rows = pre_rows.assign(date=first - pd.to_timedelta(3, unit="D"))
    frame = pd.concat([test_rows, pre_rows]).sort_values("date")
    frame["date"] = frame["date"].dt.date.astype(str)
    dataset = _import(store, tmp_path, frame, "variant_everywhere")
    result = run_experiment(store, dataset, _spec(dataset, ("revenue_per_user",), cuped=True))
    notice = next(w for w in result.warnings if w.code == "empty_pre_period")
    assert "give the test's start date" in notice.message
    r = _one(result, "revenue_per_user")
    assert r.variance_reduction is None and "CUPED" not in r.method
    # each user's two rows are both in the outcome: the sum of both, as pandas has it
    by_user = frame.groupby(["user_id", "variant"])["revenue"].sum().reset_index()
    assert r.control_value == pytest.approx(by_user[by_user.variant == "A"].revenue.mean())


def test_nan_and_empty_revenue_are_missing_and_the_experiment_says_so(store, tmp_path):
    frame = _users(1000, 32)
    frame["revenue"] = frame["revenue"].astype(object)
    frame.loc[frame.index[:7], "revenue"] = "NaN"  # a script's "not a number"
    frame.loc[frame.index[7:20], "revenue"] = None  # empty cells
    dataset = _import(store, tmp_path, frame, "gaps")  # not refused as "too large"
    assert any(w["code"] == "not_a_number" and w["count"] == 7 for w in dataset.report["warnings"])
    result = run_experiment(store, dataset, _spec(dataset, ("revenue_per_user",)))
    notice = next(w for w in result.warnings if w.code == "missing_values")
    assert notice.count == 20 and "count as 0" in notice.message
    known = pd.to_numeric(frame["revenue"], errors="coerce").fillna(0)
    a = known[frame["variant"] == "A"]
    assert _one(result, "revenue_per_user").control_value == pytest.approx(a.mean())


def test_weeks_and_segments_with_too_few_conversions_show_no_estimate(store, tmp_path):
    """Week 2 holds a handful of conversions and the tablet segment a few dozen users: no
    lift is drawn from them, and the page says "too few"."""
    rng = np.random.default_rng(17)
    rows = []
    for i in range(4000):
        variant = "AB"[i % 2]
        device = "tablet" if i < 60 else "mobile"
        first = START + timedelta(days=int(rng.integers(0, 7)))
        rows.append((f"u{i}", variant, first, 0, device))
        for day in range(21):
            rate = 0.02 if day < 7 else 0.0004  # busy first week, almost nothing after
            if rng.random() < rate:
                rows.append((f"u{i}", variant, first + timedelta(days=day), 1, device))
    frame = pd.DataFrame(rows, columns=["user_id", "variant", "date", "converted", "device"])
    frame["date"] = frame["date"].astype(str)
    dataset = _import(store, tmp_path, frame, "sparse")
    spec = _spec(dataset, ("conversion_rate",), segment_col="device")
    result = run_experiment(store, dataset, spec)
    weeks = {w.week: w for w in result.by_exposure_week}
    assert not weeks[1].too_few and weeks[1].rel_lift is not None
    assert weeks[2].too_few and weeks[2].rel_lift is None and weeks[2].ci_rel == (None, None)
    tablet = next(s for s in result.segments if s.segment == "tablet")
    assert tablet.too_few and tablet.rel_lift is None and not tablet.differs
    drawn = display.blocks(result)
    weeks_section = next(b for b in drawn if getattr(b, "id", None) == "weeks")
    texts = [str(b.spans) for b in (*drawn, *weeks_section.blocks) if hasattr(b, "spans")]
    assert any("show no estimate: too few" in t for t in texts)
    table = display.segments_table(result).set_index("segment")
    assert table.loc["tablet", "differs from the rest"] == "too few"
    # lift axes keep half-percent steps apart (".0%" printed −3% −3% −2% −2%)
    assert display.forest_figure(result).layout.xaxis.tickformat == d3_format("percent") == ".2~%"
