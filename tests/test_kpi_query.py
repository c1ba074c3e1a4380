import math
from datetime import date

import pandas as pd
import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpis.query import KpiQuery, build_sql, kpi_availability, run_kpis
from tests.conftest import FIXTURES


@pytest.fixture
def tiny(store):
    return import_file(store, FIXTURES / "tiny_campaigns.csv").dataset


def test_ratio_of_sums_not_mean_of_daily_ratios(store, tiny):
    ctr = run_kpis(store, tiny, KpiQuery(("ctr",))).iloc[0]["ctr"]
    assert ctr == pytest.approx(230 / 6500)
    daily = [100 / 1000, 60 / 3000, 20 / 2000, 50 / 500]  # the zero-impression day has no CTR
    assert ctr != pytest.approx(sum(daily) / len(daily))


def test_by_campaign(store, tiny):
    table = run_kpis(store, tiny, KpiQuery(("spend", "cpa", "roas"), ("campaign",)))
    assert list(table.columns) == ["campaign", "spend", "cpa", "roas"]
    brand, prospecting = table.to_dict(orient="records")
    assert brand == {
        "campaign": "Brand",
        "spend": 105.0,
        "cpa": pytest.approx(7.0),
        "roas": pytest.approx(700 / 105),
    }
    assert prospecting["cpa"] == pytest.approx(20.0)


def test_division_by_zero_is_missing_never_inf_or_zero(store, tiny):
    table = run_kpis(store, tiny, KpiQuery(("ctr", "cpa"), ("Day", "Campaign")))
    zero_day = table[
        (table["Day"] == pd.Timestamp("2026-03-02")) & (table["Campaign"] == "Prospecting")
    ]
    assert math.isnan(zero_day.iloc[0]["ctr"]) and math.isnan(zero_day.iloc[0]["cpa"])


def test_date_range_is_inclusive(store, tiny):
    row = run_kpis(
        store,
        tiny,
        KpiQuery(("spend", "cpa", "roas"), start=date(2026, 3, 2), end=date(2026, 3, 8)),
    ).iloc[0]
    assert row["spend"] == 30.0 and math.isnan(row["cpa"]) and row["roas"] == 0.0


def test_filters_are_bound_values(store, tiny):
    row = run_kpis(store, tiny, KpiQuery(("clicks",), filters=(("channel", ("Social",)),))).iloc[0]
    assert row["clicks"] == 20
    hostile = (("campaign", ("Brand' OR '1'='1",)),)
    assert math.isnan(
        run_kpis(store, tiny, KpiQuery(("clicks",), filters=hostile)).iloc[0]["clicks"]
    )
    sql, params = build_sql(tiny, KpiQuery(("clicks",), filters=hostile))
    assert "OR '1'='1" not in sql and params == ["Brand' OR '1'='1"]


def test_sort_and_limit(store, tiny):
    table = run_kpis(store, tiny, KpiQuery(("ctr", "spend"), ("Day",), sort="ctr", limit=2))
    assert list(table["ctr"]) == pytest.approx([50 / 500, 120 / 3000])  # 03-02 (60/3000) is third
    with pytest.raises(KpiLabError, match="is not one of the KPIs asked for"):
        run_kpis(store, tiny, KpiQuery(("ctr",), sort="Day"))


def test_no_rows_gives_missing_values(store, tiny):
    row = run_kpis(store, tiny, KpiQuery(("spend", "ctr"), start=date(2030, 1, 1))).iloc[0]
    assert math.isnan(row["spend"]) and math.isnan(row["ctr"])


@pytest.mark.parametrize(
    "grain, expected",
    [
        ("day", {"2026-03-01": 90.0, "2026-03-02": 30.0, "2026-03-09": 25.0}),
        (
            "week",
            {"2026-02-23": 90.0, "2026-03-02": 30.0, "2026-03-09": 25.0},
        ),  # ISO weeks start Monday
        ("month", {"2026-03-01": 145.0}),
    ],
)
def test_trend_grains(store, tiny, grain, expected):
    table = run_kpis(store, tiny, KpiQuery(("spend",), grain=grain))
    assert {
        str(p.date()): s for p, s in zip(table["period"], table["spend"], strict=True)
    } == expected


@pytest.mark.parametrize(
    "query, message",
    [
        (KpiQuery(()), "at least one KPI"),
        (KpiQuery(("clicks",), ("nope",)), "names no column 'nope'"),
        (KpiQuery(("clicks",), grain="year"), "'year' is not a grain"),
        (KpiQuery(("clicks",), start=date(2026, 3, 9), end=date(2026, 3, 1)), "after the end date"),
        (KpiQuery(("nope",)), "unknown KPI"),
    ],
)
def test_bad_queries(store, tiny, query, message):
    with pytest.raises(KpiLabError, match=message):
        run_kpis(store, tiny, query)


def test_missing_columns_are_reported_not_raised(store, write_csv):
    dataset = import_file(
        store, write_csv("date,campaign,clicks,spend\n2026-01-01,A,3,1.5\n")
    ).dataset
    needs = kpi_availability(dataset)
    assert needs["cpc"] == [] and needs["ctr"] == ["impressions"] and needs["roas"] == ["revenue"]
    with pytest.raises(KpiLabError, match="KPI 'ctr' needs the column 'impressions'"):
        run_kpis(store, dataset, KpiQuery(("ctr",)))


def test_no_date_column(store, write_csv):
    dataset = import_file(store, write_csv("campaign,clicks\nA,3\n")).dataset
    with pytest.raises(KpiLabError, match="no date column"):
        run_kpis(store, dataset, KpiQuery(("clicks",), start=date(2026, 1, 1)))
    with pytest.raises(KpiLabError, match="needs a date column"):
        run_kpis(store, dataset, KpiQuery(("clicks",), grain="day"))


def test_conversion_rate_counts_users_once_like_the_experiments(store, tmp_path):
    """The KPIs page divided conversions by rows, the Experiments page converting users by
    users. With several rows per user both now count users: by hand, 2 of 3 users converted."""
    from kpi_engine.experiments.analysis import run_experiment
    from kpi_engine.experiments.spec import ExperimentSpec

    path = tmp_path / "users.csv"
    rows = ["user_id,variant,converted,revenue", "u1,A,0,0", "u1,A,1,30", "u2,A,0,0"]
    rows += ["u3,B,1,10", "u3,B,1,5"] + [f"b{i},B,0,0" for i in range(3)]
    path.write_text("\n".join(rows) + "\n")
    dataset = import_file(store, path).dataset
    kpis = ("conversion_rate", "revenue_per_user")
    total = run_kpis(store, dataset, KpiQuery(kpis)).iloc[0]
    assert total["conversion_rate"] == pytest.approx(2 / 6)  # u1 and u3 of 6 users
    assert total["revenue_per_user"] == pytest.approx(45 / 6)
    by = run_kpis(store, dataset, KpiQuery(kpis, ("variant",))).set_index("variant")
    spec = ExperimentSpec(dataset.dataset_id, "variant", "A", kpis, correction="none")
    result = run_experiment(store, dataset, spec)
    for r in result.results:
        assert by.loc["A", r.kpi] == pytest.approx(r.control_value)
        assert by.loc["B", r.kpi] == pytest.approx(r.variant_value)
