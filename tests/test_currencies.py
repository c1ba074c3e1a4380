"""One reporting currency: rates files (long and the ECB's wide CSV) read or refused with the
line at fault; money converted at each row's day against totals worked out by hand here
(the last earlier rate on days without one, cross rates through the file's base, monthly
means); the KPIs view, the budget and an experiment on converted rows equal the same
analyses of a file converted before import; and who may change the rates."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import numpy as np
import pytest

from kpi_engine.budget.analysis import run_budget
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.cli import main
from kpi_engine.currencies.rates import parse_rates, rate_table
from kpi_engine.currencies.workspace_rates import (
    clear_rates,
    save_rates,
    set_pick,
    workspace_rates,
)
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.explain.analysis import run_explain
from kpi_engine.explain.spec import ExplainSpec
from kpi_engine.ingest import import_file
from kpi_engine.kpis.analysis import run_kpi_view
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.sharing.workspaces import prune_untouched

# --- reading rates files -------------------------------------------------------------------

ECB = b"""Date,USD,JPY,INR,
2026-03-06,1.10,160.0,95.0,
2026-03-03,1.08,161.0,94.0,
2026-03-02,1.07,N/A,93.5,
"""


def test_the_ecbs_wide_csv_reads_as_rates_against_eur():
    table = parse_rates(ECB, "eurofxref-hist.csv")
    assert table.base == "EUR" and table.currencies == ("INR", "JPY", "USD")
    assert table.series["USD"] == (
        (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 6)),
        (1.07, 1.08, 1.10),
    )
    assert table.series["JPY"][0] == (date(2026, 3, 3), date(2026, 3, 6))  # N/A is no rate


def test_a_long_file_names_its_base_by_the_currency_quoted_at_one():
    text = b"date,currency,rate\n2026-03-02,USD,1\n2026-03-02,EUR,0.92\n2026-03-03,USD,1\n"
    table = parse_rates(text, "usd.csv")
    assert table.base == "USD" and table.currencies == ("EUR",)
    alone = parse_rates(b"date,currency,rate\n2026-03-02,EUR,0.92\n", "eur.csv")
    assert alone.base is None  # quoted against whatever currency the report is in


@pytest.mark.parametrize(
    "text, words",
    [
        (b"", "is empty"),
        (b"day,cur,value\n2026-01-01,USD,1\n", "neither the columns date,currency,rate"),
        (b"date,currency,rate\n03/02/2026,USD,1.1\n", "line 2: '03/02/2026' is not a date"),
        (b"date,currency,rate\n2026-03-02,US Dollar,1.1\n", "not a three-letter currency"),
        (b"date,currency,rate\n2026-03-02,USD,-1\n", "line 2: '-1' is not a rate"),
        (b"date,currency,rate\n2026-03-02,USD,0\n", "is not a rate"),
        (b"date,currency,rate\n2026-03-02,USD,1.1\n2026-03-02,USD,1.2\n", "a second rate"),
        (b"Date,USD\n2026-03-02,1.1\n2026-03-02,1.2\n", "line 3 repeats the date"),
        (b"Date,Campaign,Cost\n2026-03-02,A,1\n", "'Campaign', which is not a currency code"),
        (b"\xff\xfe\x00", "is not UTF-8"),
    ],
)
def test_a_broken_rates_file_is_refused_saying_where(text, words):
    with pytest.raises(KpiLabError) as caught:
        parse_rates(text, "rates.csv")
    assert words in str(caught.value)


# --- converting against hand-worked totals --------------------------------------------------

ROWS = [  # date, campaign, currency, cost, revenue, clicks, conversions
    ("2026-03-02", "A", "EUR", 100, 300, 50, 5),
    ("2026-03-02", "B", "INR", 9000, 20000, 40, 4),
    ("2026-03-02", "C", "USD", 50, 80, 10, 1),
    ("2026-03-03", "A", "EUR", 120, 360, 60, 6),
    ("2026-03-03", "B", "INR", 9500, 21000, 42, 4),
    ("2026-03-07", "A", "EUR", 80, 200, 30, 2),  # a Saturday: no ECB rate that day
    ("2026-03-07", "B", "INR", 8000, 16000, 30, 3),
]
# by hand, in USD: EUR × USD rate; INR × USD rate / INR rate; Saturday uses Friday (03-06)
USD_SPEND = (
    100 * 1.07 + 9000 * 1.07 / 93.5 + 50
    + 120 * 1.08 + 9500 * 1.08 / 94.0
    + 80 * 1.10 + 8000 * 1.10 / 95.0
)  # fmt: skip
USD_REVENUE = (
    300 * 1.07 + 20000 * 1.07 / 93.5 + 80
    + 360 * 1.08 + 21000 * 1.08 / 94.0
    + 200 * 1.10 + 16000 * 1.10 / 95.0
)  # fmt: skip


HEADER = ("Date", "Campaign", "Currency", "Cost", "Revenue", "Clicks", "Conversions")


def _write(path, rows, header=HEADER):
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


@pytest.fixture
def mixed(store, tmp_path):
    import_file(store, _write(tmp_path / "mixed.csv", ROWS), name="Mixed")
    save_rates(store, parse_rates(ECB, "ecb.csv"))
    return store, store.dataset("Mixed")


def test_money_in_three_currencies_adds_up_in_one_as_by_hand(mixed):
    store, dataset = mixed
    query = KpiQuery(("spend", "revenue", "roas", "clicks"), currency="USD", convert=True)
    row = run_kpis(store, dataset, query).iloc[0]
    assert row["spend"] == pytest.approx(USD_SPEND, rel=1e-12)
    assert row["revenue"] == pytest.approx(USD_REVENUE, rel=1e-12)
    assert row["roas"] == pytest.approx(USD_REVENUE / USD_SPEND, rel=1e-12)
    assert row["clicks"] == 262  # counts are never converted
    in_eur = run_kpis(store, dataset, KpiQuery(("spend",), currency="EUR", convert=True))
    eur = 300 + 9000 / 93.5 + 50 / 1.07 + 9500 / 94.0 + 8000 / 95.0
    assert in_eur["spend"].iloc[0] == pytest.approx(eur, rel=1e-12)


def test_the_view_states_the_rates_and_the_days_an_earlier_rate_stood_in(mixed):
    store, dataset = mixed
    spec = KpiViewSpec(dataset.dataset_id, ("spend",), currency="USD", convert=True)
    result = run_kpi_view(store, dataset, spec)
    note = result.conversion
    assert result.currency == "USD" and note.to == "USD" and note.source == "ecb.csv"
    assert note.currencies == ("EUR", "INR", "USD")
    assert [(f.currency, f.days, f.first) for f in note.filled] == [
        ("EUR", 1, "2026-03-07"),  # the USD rate of that Saturday is missing too
        ("INR", 1, "2026-03-07"),
    ]
    assert result.cards[0].value == pytest.approx(USD_SPEND)
    again = type(result).from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result  # a shared link draws the same note


def test_monthly_rates_use_the_months_mean(mixed):
    store, dataset = mixed
    set_pick(store, "month")
    usd, inr = (1.07 + 1.08 + 1.10) / 3, (93.5 + 94.0 + 95.0) / 3
    spend = run_kpis(store, dataset, KpiQuery(("spend",), currency="USD", convert=True))
    hand = (100 + 120 + 80) * usd + (9000 + 9500 + 8000) * usd / inr + 50
    assert spend["spend"].iloc[0] == pytest.approx(hand, rel=1e-12)
    note = run_kpi_view(
        store, dataset, KpiViewSpec(dataset.dataset_id, ("spend",), currency="USD", convert=True)
    ).conversion
    assert note.pick == "month" and note.filled == ()


def test_rates_quoted_against_the_reporting_currency(store, tmp_path):
    import_file(store, _write(tmp_path / "m.csv", ROWS[:3]), name="Mixed")
    text = b"date,currency,rate\n2026-03-01,EUR,0.9\n2026-03-01,INR,80\n"
    store = store.using_rates(parse_rates(text, "usd_based.csv"))
    query = KpiQuery(("spend",), currency="USD", convert=True)
    found = run_kpis(store, store.dataset("Mixed"), query)
    assert found["spend"].iloc[0] == pytest.approx(100 / 0.9 + 9000 / 80 + 50, rel=1e-12)


@pytest.mark.parametrize(
    "rates, to, words",
    [
        (ECB, "GBP", "have no rate for GBP, only for INR, JPY, USD"),
        (b"Date,USD,INR\n2026-03-03,1.08,94\n", "USD", "no EUR→USD rate on or before 2026-03-02"),
        (b"Date,USD\n2026-03-02,1.07\n", "USD", "have no rate for INR"),
    ],
)
def test_a_conversion_rates_cannot_make_says_what_to_add(store, tmp_path, rates, to, words):
    import_file(store, _write(tmp_path / "m.csv", ROWS), name="Mixed")
    store = store.using_rates(parse_rates(rates, "r.csv"))
    with pytest.raises(KpiLabError) as caught:
        run_kpis(store, store.dataset("Mixed"), KpiQuery(("spend",), currency=to, convert=True))
    assert words in str(caught.value)


def test_without_rates_converting_says_where_to_get_them(store, tmp_path):
    import_file(store, _write(tmp_path / "m.csv", ROWS), name="Mixed")
    with pytest.raises(KpiLabError) as caught:
        run_kpis(store, store.dataset("Mixed"), KpiQuery(("spend",), currency="USD", convert=True))
    assert "upload them on the Data page" in str(caught.value)
    split = run_kpis(store, store.dataset("Mixed"), KpiQuery(("spend",)))  # today's split stays
    assert dict(zip(split["currency"], split["spend"], strict=True)) == {
        "EUR": 300,
        "INR": 26500,
        "USD": 50,
    }


def test_rows_without_a_currency_keep_their_counts_and_add_no_money(store, tmp_path):
    rows = [*ROWS[:3], ("2026-03-02", "D", "", 999, 999, 7, 1)]
    import_file(store, _write(tmp_path / "m.csv", rows), name="Mixed")
    store = store.using_rates(parse_rates(ECB, "ecb.csv"))
    dataset = store.dataset("Mixed")
    found = run_kpis(store, dataset, KpiQuery(("spend", "clicks"), currency="EUR", convert=True))
    assert found["spend"].iloc[0] == pytest.approx(100 + 9000 / 93.5 + 50 / 1.07)
    assert found["clicks"].iloc[0] == 107
    spec = KpiViewSpec(dataset.dataset_id, ("spend",), currency="EUR", convert=True)
    assert run_kpi_view(store, dataset, spec).conversion.without_currency == 1


def test_a_one_currency_file_converts_by_its_symbol(store, tmp_path):
    path = tmp_path / "inr.csv"
    path.write_text("Date,Campaign,Cost\n2026-03-02,A,₹9000\n2026-03-06,A,₹9500\n")
    import_file(store, path, name="Rupees")
    dataset = store.dataset("Rupees")
    assert dataset.currencies == ("INR",) and "currency" not in dataset.roles
    store = store.using_rates(parse_rates(ECB, "ecb.csv"))
    found = run_kpis(store, dataset, KpiQuery(("spend",), currency="EUR", convert=True))
    assert found["spend"].iloc[0] == pytest.approx(9000 / 93.5 + 9500 / 95.0)


# --- every analysis on converted rows equals it on a file converted by hand ------------------

DAYS = 120
START = date(2026, 1, 1)
CAMPAIGNS = {  # currency, daily spend, return
    "Search": ("EUR", 300.0, 1.2),
    "Social": ("INR", 25000.0, 0.5),
    "Video": ("USD", 180.0, 0.8),
}


def _daily_rates(rng) -> dict[tuple[date, str], float]:
    """Weekday ECB-style rates that wander; none on weekends."""
    rates, usd, inr = {}, 1.08, 92.0
    for i in range(DAYS):
        day = START + timedelta(days=i)
        usd *= float(np.exp(rng.normal(0, 0.004)))
        inr *= float(np.exp(rng.normal(0, 0.004)))
        if day.weekday() < 5:
            rates[(day, "USD")], rates[(day, "INR")] = usd, inr
    return rates


def _in_usd(amount: float, code: str, day: date, rates) -> float:
    def rate(c: str) -> float:
        if c == "EUR":
            return 1.0
        d = day
        while (d, c) not in rates:
            d -= timedelta(days=1)
        return rates[(d, c)]

    return amount * (rate("USD") / rate(code))


@pytest.fixture
def campaigns(store, tmp_path):
    """Three campaigns in three currencies with diminishing returns, and the same rows
    converted to USD here, beforehand."""
    rng = np.random.default_rng(7)
    rates = _daily_rates(rng)
    mixed, converted = [], []
    for i in range(DAYS):
        day = START + timedelta(days=i)
        for name, (code, spend, gain) in CAMPAIGNS.items():
            cost = spend * float(np.exp(rng.normal(0, 0.25)))
            revenue = gain * spend * 3 * (cost / spend) ** 0.6 * float(np.exp(rng.normal(0, 0.1)))
            clicks = int(rng.poisson(200))
            row = (day.isoformat(), name, code)
            mixed.append((*row, round(cost, 2), round(revenue, 2), clicks, clicks // 10))
            usd = [_in_usd(round(v, 2), code, day, rates) for v in (cost, revenue)]
            converted.append((*row[:2], "USD", *usd, clicks, clicks // 10))
    import_file(store, _write(tmp_path / "mixed.csv", mixed), name="Mixed")
    import_file(store, _write(tmp_path / "usd.csv", converted), name="By hand")
    table = rate_table("wander.csv", [(d, c, r) for (d, c), r in rates.items()], "EUR")
    save_rates(store, table)
    return store, store.dataset("Mixed"), store.dataset("By hand")


def test_the_kpis_view_and_its_explanation_equal_a_file_converted_by_hand(campaigns):
    store, mixed, by_hand = campaigns
    period, vs = (date(2026, 4, 1), date(2026, 4, 28)), (date(2026, 3, 4), date(2026, 3, 31))
    kpis = ("spend", "revenue", "roas", "cpa")

    def view(dataset, **money):
        spec = KpiViewSpec(
            dataset.dataset_id, kpis, start=period[0], end=period[1], by=("campaign",), **money
        )
        return run_kpi_view(store, dataset, spec)

    ours, theirs = view(mixed, currency="USD", convert=True), view(by_hand)
    assert [c.value for c in ours.cards] == pytest.approx([c.value for c in theirs.cards])
    assert [c.change for c in ours.cards] == pytest.approx([c.change for c in theirs.cards])
    for a, b in zip(ours.rows, theirs.rows, strict=True):
        assert a["campaign"] == b["campaign"]
        assert [a[k] for k in kpis] == pytest.approx([b[k] for k in kpis])

    def why(dataset, **money):
        spec = ExplainSpec(dataset.dataset_id, "roas", period, vs, "campaign", **money)
        return run_explain(store, dataset, spec)

    one, other = why(mixed, currency="USD", convert=True), why(by_hand)
    assert (one.mix, one.rate, one.value) == pytest.approx((other.mix, other.rate, other.value))


def test_the_budget_on_converted_rows_equals_one_on_rows_converted_by_hand(campaigns):
    store, mixed, by_hand = campaigns
    converting = BudgetSpec(mixed.dataset_id, currency="USD", convert=True, bootstrap=40)
    ours = run_budget(store, mixed, converting)
    theirs = run_budget(store, by_hand, BudgetSpec(by_hand.dataset_id, bootstrap=40))
    assert ours.currency == "USD" and ours.conversion.source == "wander.csv"
    assert [c.campaign for c in ours.campaigns] == [c.campaign for c in theirs.campaigns]
    for a, b in zip(ours.campaigns, theirs.campaigns, strict=True):
        assert a.current_spend == pytest.approx(b.current_spend, rel=1e-9)
        assert a.suggested_spend == pytest.approx(b.suggested_spend, rel=1e-4, abs=1e-6)
    with pytest.raises(KpiLabError, match="never mixed across currencies"):
        run_budget(store, mixed, BudgetSpec(mixed.dataset_id, bootstrap=0))


def test_an_experiment_on_converted_revenue_equals_one_converted_by_hand(store, tmp_path):
    rng = np.random.default_rng(11)
    rates = _daily_rates(rng)
    header = ("Date", "user_id", "variant", "Currency", "Revenue", "Conversions")
    mixed, by_hand = [], []
    for user in range(1500):
        day = START + timedelta(days=int(rng.integers(0, 60)))
        code = ("EUR", "INR", "USD")[user % 3]
        amount = {"EUR": 40.0, "INR": 3500.0, "USD": 45.0}[code] * float(rng.lognormal(0, 1))
        bought = int(rng.random() < 0.3)
        amount = round(amount * bought, 2)
        row = (day.isoformat(), f"u{user}", "AB"[user % 2])
        mixed.append((*row, code, amount, bought))
        by_hand.append((*row, "USD", _in_usd(amount, code, day, rates), bought))
    import_file(store, _write(tmp_path / "ab.csv", mixed, header), name="AB mixed")
    import_file(store, _write(tmp_path / "abu.csv", by_hand, header), name="AB by hand")
    table = rate_table("wander.csv", [(d, c, r) for (d, c), r in rates.items()], "EUR")
    store = store.using_rates(table)

    def test(name, **money):
        dataset = store.dataset(name)
        spec = ExperimentSpec(dataset.dataset_id, "variant", "A", ("revenue_per_user",), **money)
        return run_experiment(store, dataset, spec)

    ours, theirs = test("AB mixed", currency="USD", convert=True), test("AB by hand")
    a, b = ours.results[0], theirs.results[0]
    assert (a.control_value, a.variant_value, a.p_value) == pytest.approx(
        (b.control_value, b.variant_value, b.p_value), rel=1e-9
    )
    assert a.control_value > 0 and a.n_control == b.n_control == 750
    assert ours.conversion.to == "USD"


# --- who may change them, the command line -------------------------------------------------


def test_only_editors_change_rates_and_a_pruned_workspace_takes_its_rates_along(store):
    from kpi_engine.access.principal import Principal

    viewer = store.acting(Principal("vi@example.com", "viewer", "member"))
    table = parse_rates(ECB, "ecb.csv")
    for change in (lambda: save_rates(viewer, table), lambda: clear_rates(viewer)):
        with pytest.raises(KpiLabError, match="viewer"):
            change()
    save_rates(store, table)
    assert workspace_rates(viewer).currencies == table.currencies  # everyone reads them
    clear_rates(store)
    assert workspace_rates(store) is None
    assert prune_untouched(store, 0)["removed"] == 0  # the local workspace is never pruned


def test_the_command_line_converts_with_a_file_or_the_workspaces_rates(tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    data, ecb = _write(tmp_path / "mixed.csv", ROWS), tmp_path / "ecb.csv"
    ecb.write_bytes(ECB)
    assert main(["import", str(data), "--name", "Mixed", "--db", db]) == 0
    capsys.readouterr()
    args = ["kpis", "Mixed", "--kpi", "spend", "--currency", "USD", "--db", db]
    assert main([*args, "--rates", str(ecb), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cards"][0]["value"] == pytest.approx(USD_SPEND)
    assert doc["conversion"]["filled"][1] == {"currency": "INR", "days": 1, "first": "2026-03-07"}
    assert main(args) == 0  # no rates anywhere: --currency keeps the USD rows, as before
    assert capsys.readouterr().out.splitlines()[0] == "Spend: $50.00"
    assert main(["rates", "import", str(ecb), "--db", db]) == 0
    assert "3 currencies against EUR" in capsys.readouterr().out
    assert main(args) == 0  # the workspace's rates now
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Spend: ${USD_SPEND:,.2f}" and out[1].startswith("Amounts in USD")
    assert main(["rates", "clear", "--db", db]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_text("date,currency,rate\n2026-03-02,USD,x\n")
    assert main([*args, "--rates", str(bad)]) == 2
    assert "--rates line 2: 'x' is not a rate" in capsys.readouterr().err
    assert main(["kpis", "Mixed", "--kpi", "spend", "--rates", str(ecb), "--db", db]) == 2
    assert "--rates needs --currency CODE" in capsys.readouterr().err
