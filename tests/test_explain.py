"""Why a KPI moved: the decompositions against hand-computed cases and an independent
formula, the declared parts against the catalog's formulas, the noise rule on seeded A/A
periods, and a planted change found with its planted sizes (engine and command line)."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import numpy as np
import pytest

from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.explain.analysis import run_explain
from kpi_engine.explain.form import Observed, noise_of, ratio_form
from kpi_engine.explain.spec import ExplainSpec, periods
from kpi_engine.ingest import import_file
from kpi_engine.kpis.catalog import CATALOG, PARTS, Kpi
from kpi_engine.stats.decompose import log_shares, shift_share, sum_changes

# --- the decomposition on hand-built cases ---------------------------------------------


def _kpi(n, d) -> float:
    return float(np.sum(n) / np.sum(d))


def test_a_pure_mix_shift_is_all_mix():
    """Rates stay (10% and 20%); the share moves from half-half to a quarter-three quarters."""
    split = shift_share([10, 20], [100, 100], [10, 60], [100, 300])
    assert split.mix.sum() == pytest.approx(0.175 - 0.15)
    assert np.allclose(split.rate, 0)


def test_a_pure_rate_change_is_all_rate():
    split = shift_share([10, 20], [100, 100], [15, 20], [100, 100])
    assert np.allclose(split.mix, 0)
    assert split.rate.tolist() == pytest.approx([0.025, 0.0])


def test_mix_and_rate_moving_in_opposite_directions():
    """Both groups' rates rise by half (10% → 15%, 20% → 30%) while the share moves to the
    lower one (half-half → 3/4-1/4): by hand, mix 0.25·0.125 − 0.25·0.25 = −0.03125 and rate
    0.625·0.05 + 0.375·0.1 = +0.06875; R goes 0.15 → 0.1875."""
    n0, d0, n1, d1 = [10, 20], [100, 100], [22.5, 15], [150, 50]
    split = shift_share(n0, d0, n1, d1)
    assert split.mix.sum() == pytest.approx(-0.03125)
    assert split.rate.sum() == pytest.approx(0.06875)
    assert split.total.sum() == pytest.approx(_kpi(n1, d1) - _kpi(n0, d0))


def test_a_group_in_one_period_only_is_all_mix():
    """A new channel with its own rate arrives: nothing of it is a rate change."""
    split = shift_share([10, 0], [100, 0], [10, 30], [100, 100])
    assert split.rate.tolist() == pytest.approx([0.0, 0.0])
    assert split.mix.sum() == pytest.approx(0.2 - 0.1)


def test_rows_without_a_denominator_still_add_up():
    """Conversions reported on a day without spend (a group with no denominator)."""
    n0, d0, n1, d1 = [10, 3], [100, 0], [12, 5], [100, 0]
    split = shift_share(n0, d0, n1, d1)
    assert split.total.sum() == pytest.approx(_kpi(n1, d1) - _kpi(n0, d0))


@pytest.mark.parametrize("seed", range(20))
def test_kitagawa_is_the_average_of_the_two_one_sided_splits(seed):
    """An independent formula: weighting by the first period's rates (Laspeyres) and by the
    second's (Paasche) gives two exact splits; the symmetric split is their average."""
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(2, 9))
    d0, d1 = rng.uniform(1, 100, groups), rng.uniform(1, 100, groups)
    n0, n1 = d0 * rng.uniform(0, 3, groups), d1 * rng.uniform(0, 3, groups)
    w0, w1, r0, r1 = d0 / d0.sum(), d1 / d1.sum(), n0 / d0, n1 / d1
    laspeyres_mix, paasche_mix = ((w1 - w0) * r0).sum(), ((w1 - w0) * r1).sum()
    split = shift_share(n0, d0, n1, d1, scale=1000)
    assert split.mix.sum() == pytest.approx(1000 * (laspeyres_mix + paasche_mix) / 2)
    assert split.total.sum() == pytest.approx(1000 * (_kpi(n1, d1) - _kpi(n0, d0)))


def test_a_sum_has_no_mix():
    split = sum_changes([5, 7], [6, 4])
    assert split.mix.tolist() == [0, 0] and split.rate.tolist() == [1, -3]


def test_log_shares_add_to_one():
    cpc, cvr = 1.12, 0.95
    cpa_change = np.log(cpc / cvr)
    shares = log_shares(cpa_change, [np.log(cpc), -np.log(cvr)])
    assert sum(shares) == pytest.approx(1)  # type: ignore[arg-type]
    assert shares[0] == pytest.approx(np.log(1.12) / np.log(1.12 / 0.95))


# --- the parts multiply back to the KPI ------------------------------------------------


def _powers(kpi: Kpi, exponent: int = 1) -> dict[str, int]:
    form = ratio_form(kpi)
    found = {form.numerator: exponent}
    if form.denominator:
        found[form.denominator] = found.get(form.denominator, 0) - exponent
    return found


@pytest.mark.parametrize("kpi_id", sorted(PARTS))
def test_each_declared_split_multiplies_back_to_its_kpi(kpi_id):
    product: dict[str, int] = {}
    for part, exponent in PARTS[kpi_id]:
        for aggregate, power in _powers(CATALOG[part], exponent).items():
            product[aggregate] = product.get(aggregate, 0) + power
    assert {a: p for a, p in product.items() if p} == _powers(CATALOG[kpi_id])


def test_a_kpi_that_is_not_a_ratio_of_sums_is_refused_in_words():
    with pytest.raises(KpiLabError, match="not a sum or a ratio of two sums"):
        ratio_form(CATALOG["profit"])
    assert ratio_form(CATALOG["cpm"]).scale == 1000


# --- the noise rule on A/A periods -----------------------------------------------------


def _aa_rate(kpi_id: str, draw_day, runs: int = 2000, days: int = 28, seed: int = 7) -> float:
    """Two periods of ``days`` days from one process; how often the change is called more
    than noise."""
    rng = np.random.default_rng(seed)
    noise = noise_of(ratio_form(CATALOG[kpi_id]))
    flagged = 0
    for _ in range(runs):
        seen = []
        for _period in range(2):
            daily = [draw_day(rng) for _ in range(days)]
            seen.append(Observed({key: sum(d[key] for d in daily) for key in daily[0]}, daily))
        flagged += noise.within(*seen) is False
    return flagged / runs


def _ctr(rng):
    return {"sum(clicks)": float(rng.binomial(2_000, 0.02)), "sum(impressions)": 2_000.0}


def _cpa(mean):
    def draw(rng):
        return {"sum(spend)": 200.0, "sum(conversions)": float(rng.poisson(mean))}

    return draw


def _orders(sigma, mean_orders=8):
    """A day's orders with lognormal values: σ 1.5 is heavy-tailed (CV about 2.9)."""

    def draw(rng):
        orders = rng.poisson(mean_orders)
        revenue = float(rng.lognormal(3, sigma, orders).sum())
        return {"sum(revenue)": revenue, "sum(spend)": 300.0, "sum(conversions)": float(orders)}

    return draw


@pytest.mark.slow  # 2,000 pairs of periods each, permutations for revenue
@pytest.mark.parametrize(
    ("kpi_id", "draw"),
    [
        ("ctr", _ctr),
        ("cpa", _cpa(15)),
        ("cpa", _cpa(0.5)),
        ("roas", _orders(0.5)),
        ("roas", _orders(1.5)),
        ("aov", _orders(1.5, 3)),
    ],
    ids=["ctr-binomial", "cpa-poisson", "cpa-rare", "roas-days", "roas-heavy", "aov-heavy-rare"],
)
def test_a_change_between_two_periods_of_one_process_is_noise_95_percent_of_the_time(kpi_id, draw):
    assert 0.035 <= _aa_rate(kpi_id, draw) <= 0.065


# --- a planted change, end to end ------------------------------------------------------

START = date(2026, 3, 1)
DAYS = 28
# channel: (daily spend, clicks, conversions) before and after; Search's CPC rises 20%
# (same clicks and conversions for 20% more spend) and Display's volume doubles at its own
# rates, so conversions move to Display (a mix shift towards a dearer channel).
BEFORE = {"Search": (1000, 2000, 100), "Display": (500, 2500, 25), "Social": (600, 1500, 30)}
AFTER = {"Search": (1200, 2000, 100), "Display": (1000, 5000, 50), "Social": (600, 1500, 30)}


@pytest.fixture
def planted(tmp_path, store):
    path = tmp_path / "planted.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Date", "Channel", "Cost", "Clicks", "Conversions", "Impressions"])
        for day in range(2 * DAYS):
            rows = BEFORE if day < DAYS else AFTER
            for channel, (spend, clicks, conversions) in rows.items():
                when = (START + timedelta(days=day)).isoformat()
                out.writerow([when, channel, spend, clicks, conversions, clicks * 40])
    import_file(store, path, name="Planted")
    return store, store.datasets()[0], path


def _hand_cpa_split() -> tuple[float, float, float]:
    """Mix, rate and Search's rate term of CPA, by hand (Laspeyres/Paasche average)."""
    groups = list(BEFORE)
    d0 = np.array([BEFORE[g][2] for g in groups], float)
    d1 = np.array([AFTER[g][2] for g in groups], float)
    r0 = np.array([BEFORE[g][0] for g in groups]) / d0
    r1 = np.array([AFTER[g][0] for g in groups]) / d1
    w0, w1 = d0 / d0.sum(), d1 / d1.sum()
    mix = (((w1 - w0) * r0).sum() + ((w1 - w0) * r1).sum()) / 2
    rate_terms = (w0 + w1) / 2 * (r1 - r0)
    return mix, rate_terms.sum(), rate_terms[0]


def test_a_planted_price_rise_and_mix_shift_are_named_with_their_sizes(planted):
    store, dataset, _ = planted
    period, vs = periods(store.date_range(dataset))
    assert vs == (START, START + timedelta(days=DAYS - 1))
    found = run_explain(
        store, dataset, ExplainSpec(dataset.dataset_id, "cpa", period, vs, "channel")
    )
    before_cpa = sum(v[0] for v in BEFORE.values()) / sum(v[2] for v in BEFORE.values())
    after_cpa = sum(v[0] for v in AFTER.values()) / sum(v[2] for v in AFTER.values())
    assert found.previous == pytest.approx(before_cpa) and found.value == pytest.approx(after_cpa)
    mix, rate, search_rate = _hand_cpa_split()
    assert found.mix == pytest.approx(mix) and found.rate == pytest.approx(rate)
    assert found.mix + found.rate == pytest.approx(found.value - found.previous)
    search = next(c for c in found.contributors if c.group == "Search")
    assert search.rate == pytest.approx(search_rate) and search.mix + search.rate == search.total
    cpc = next(p for p in found.parts if p.kpi == "cpc")
    assert cpc.top_group == "Search" and cpc.top_group_change == pytest.approx(0.20, rel=0.10)
    assert sum(p.share for p in found.parts) == pytest.approx(1)  # type: ignore[misc]
    assert "Search: +20.0%" in found.sentence
    assert "come from conversions moving to Display" in found.sentence
    assert f"{mix / before_cpa * 100:.1f} points" in found.sentence


def test_the_command_line_gives_the_issues_json(planted, capsys, tmp_path):
    store, dataset, path = planted
    db = str(tmp_path / "cli.sqlite")
    assert main(["import", str(path), "--name", "Planted", "--db", db, "--json"]) == 0
    capsys.readouterr()
    args = ["explain", "Planted", "--kpi", "cpa", "--by", "channel", "--db", db, "--json"]
    assert main([*args, "--period", "2026-03-29:2026-04-25", "--vs", "2026-03-01:2026-03-28"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"kpi", "period", "vs", "value", "previous", "change", "parts", "by"}
    assert set(doc) >= {"mix", "rate", "contributors", "sentence"}
    assert doc["period"] == ["2026-03-29", "2026-04-25"] and doc["by"] == "channel"
    assert {"kpi", "change", "share"} <= set(doc["parts"][0])
    assert {"group", "mix", "rate", "total"} <= set(doc["contributors"][0])
    assert doc["mix"] + doc["rate"] == pytest.approx(doc["value"] - doc["previous"])
    assert main(["explain", "Planted", "--kpi", "cpa", "--db", db]) == 0
    human = capsys.readouterr().out
    assert human.splitlines()[0].startswith("CPA +") and "CPC" in human
    assert main(["explain", "Planted", "--kpi", "cpa", "--period", "March", "--db", db]) == 2
    assert "START:END" in capsys.readouterr().err
    assert main(["explain", "Planted", "--kpi", "profit", "--db", db]) == 2
    assert main(["explain", "Planted", "--kpi", "cpa", "--by", "nope", "--db", db]) == 2
    assert "--by 'nope' is not a column" in capsys.readouterr().err


def test_noise_and_empty_periods_are_said(planted):
    store, dataset, _ = planted
    spec = ExplainSpec(
        dataset.dataset_id,
        "ctr",
        (date(2026, 4, 1), date(2026, 4, 7)),
        (date(2026, 4, 8), date(2026, 4, 14)),
    )
    steady = run_explain(store, dataset, spec)
    assert steady.change == pytest.approx(0) and steady.within_noise is True
    assert steady.noise == "binomial"
    empty = ExplainSpec(dataset.dataset_id, "cpa", (date(2027, 1, 1), date(2027, 1, 7)), spec.vs)
    said = run_explain(store, dataset, empty)
    assert said.value is None and "nothing to compare" in said.sentence


# --- the noise rule against independent references --------------------------------------


@pytest.mark.parametrize(("clicks0", "clicks1"), [(40, 60), (400, 452), (9, 3), (1000, 1000)])
def test_a_rate_of_counts_is_statsmodels_log_ratio_test(clicks0, clicks1):
    from statsmodels.stats.proportion import test_proportions_2indep

    noise = noise_of(ratio_form(CATALOG["ctr"]))
    before = {"sum(clicks)": clicks0, "sum(impressions)": 2000.0}
    now = {"sum(clicks)": clicks1, "sum(impressions)": 2500.0}
    ours = np.log((clicks1 / 2500) / (clicks0 / 2000)) / np.sqrt(
        noise.log_variance(before) + noise.log_variance(now)
    )
    theirs = test_proportions_2indep(
        clicks1, 2500, clicks0, 2000, compare="ratio", method="log", correction=False
    )
    assert ours == pytest.approx(theirs.statistic, rel=1e-9)
    assert noise.within(Observed(before), Observed(now)) == (theirs.pvalue >= 0.05)


@pytest.mark.parametrize(("conversions0", "conversions1"), [(40, 60), (400, 452), (3, 9)])
def test_cost_per_count_is_statsmodels_poisson_wald_log_test(conversions0, conversions1):
    """CPA with spend as the exposure: its conversions are Poisson."""
    from statsmodels.stats.rates import test_poisson_2indep

    noise = noise_of(ratio_form(CATALOG["cpa"]))
    before = {"sum(spend)": 1000.0, "sum(conversions)": conversions0}
    now = {"sum(spend)": 1300.0, "sum(conversions)": conversions1}
    ours = np.log((1300 / conversions1) / (1000 / conversions0)) / np.sqrt(
        noise.log_variance(before) + noise.log_variance(now)
    )
    theirs = test_poisson_2indep(conversions0, 1000, conversions1, 1300, method="wald-log")
    assert abs(ours) == pytest.approx(abs(theirs.statistic), rel=1e-9)
    assert noise.within(Observed(before), Observed(now)) == (theirs.pvalue >= 0.05)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_days_permutation_matches_scipy(seed):
    from scipy.stats import permutation_test

    from kpi_engine.stats.decompose import days_permutation_p

    rng = np.random.default_rng(seed)
    revenue = rng.lognormal(5, 1.2, 40) * np.r_[np.ones(20), np.full(20, 1.4)]
    spend = rng.uniform(80, 120, 40)

    def statistic(a, b):
        return np.abs(
            np.log((revenue[b].sum() / spend[b].sum()) / (revenue[a].sum() / spend[a].sum()))
        )

    theirs = permutation_test(
        (np.arange(20), np.arange(20, 40)),
        statistic,
        permutation_type="independent",
        alternative="greater",
        n_resamples=20_000,
        random_state=seed,
    ).pvalue
    ours = days_permutation_p((revenue[:20], spend[:20]), (revenue[20:], spend[20:]), 20_000)
    assert ours == pytest.approx(theirs, abs=0.01)


def test_a_split_across_too_many_groups_is_declined_in_words(planted, monkeypatch):
    from kpi_engine.explain import analysis

    store, dataset, _ = planted
    monkeypatch.setattr(analysis, "MAX_GROUPS", 2)
    period, vs = periods(store.date_range(dataset))
    found = run_explain(
        store, dataset, ExplainSpec(dataset.dataset_id, "cpa", period, vs, "channel")
    )
    assert found.mix is None and found.contributors == ()
    assert found.by_note.startswith("channel has 3 values in these periods: too many")
    assert found.parts  # the parts are still there


def test_the_samples_planted_price_rise_and_mix_shift_are_found_with_their_sizes(store):
    """The sample generator plants, from 1 August, a 20% dearer click on Google Ads and twice
    LinkedIn's volume at its own rates; pandas on the file gives the sizes to compare with."""
    import pandas as pd

    from kpi_engine.samples import SAMPLE_DIR, seed_samples

    seed_samples(store)
    dataset = store.dataset("Sample campaigns")
    period, vs = (date(2026, 8, 1), date(2026, 8, 28)), (date(2026, 7, 4), date(2026, 7, 31))
    found = run_explain(
        store, dataset, ExplainSpec(dataset.dataset_id, "cpa", period, vs, "channel")
    )
    rows = pd.read_csv(SAMPLE_DIR / "campaigns.csv", parse_dates=["date"])
    now = (
        rows[rows["date"].between(str(period[0]), str(period[1]))]
        .groupby("channel")
        .sum(numeric_only=True)
    )
    before = (
        rows[rows["date"].between(str(vs[0]), str(vs[1]))].groupby("channel").sum(numeric_only=True)
    )
    cpc = next(p for p in found.parts if p.kpi == "cpc")
    google = now.loc["Google Ads"], before.loc["Google Ads"]
    by_hand = (google[0]["spend"] / google[0]["clicks"]) / (
        google[1]["spend"] / google[1]["clicks"]
    )
    assert cpc.top_group == "Google Ads" and cpc.top_group_change == pytest.approx(by_hand - 1)
    assert cpc.top_group_change == pytest.approx(0.20, rel=0.10)  # planted: +20%
    linkedin = next(c for c in found.contributors if c.group == "LinkedIn")
    share = (now["conversions"] / now["conversions"].sum())["LinkedIn"]
    share_before = (before["conversions"] / before["conversions"].sum())["LinkedIn"]
    assert (linkedin.weight, linkedin.previous_weight) == pytest.approx((share, share_before))
    assert linkedin.weight / linkedin.previous_weight == pytest.approx(2, rel=0.10)  # doubled
    assert linkedin.mix > 0 and "come from conversions moving to LinkedIn" in found.sentence
