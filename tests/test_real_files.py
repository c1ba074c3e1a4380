"""Real exports from ../shared/data (skipped when absent). Expected totals come from Python's
csv module reading the same files, or from the numbers printed in the file itself."""

from __future__ import annotations

import csv

import pytest

from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.query import KpiQuery, run_kpis
from tests.conftest import SHARED_DATA

GOOGLE = SHARED_DATA / "google_ads_campaign_report_inr.csv"
FACEBOOK = SHARED_DATA / "kag_facebook_conversion_data.csv"
MERIDIAN = SHARED_DATA / "meridian_national_all_channels.csv"


def _needs(path):
    return pytest.mark.skipif(not path.exists(), reason=f"{path.name} is not in ../shared/data")


def _totals(store, dataset, kpis, **query):
    return run_kpis(store, dataset, KpiQuery(tuple(kpis), **query)).to_dict(orient="records")


@_needs(GOOGLE)
def test_google_ads_campaign_report(store):
    result = import_file(store, GOOGLE)
    dataset = result.dataset
    # the two campaign rows of the file: Impr. "25,881" and "20,287", Cost 1661.67 and 904.26,
    # Interactions "20,127" and "1,934", Conversions 0.00 and 15.00
    (row,) = _totals(store, dataset, ["impressions", "spend", "clicks", "conversions", "cpa"])
    assert row == pytest.approx(
        {
            "impressions": 46168,
            "spend": 2565.93,
            "clicks": 22061,
            "conversions": 15,
            "cpa": 2565.93 / 15,
        }
    )
    assert dataset.rows == 2 and dataset.platform == "google_ads" and dataset.currencies == ("INR",)
    codes = {w["code"]: w["count"] for w in result.warnings}
    assert codes["preamble_lines"] == 2 and codes["total_rows"] == 4
    assert "ratio_mismatch" not in codes  # its exported Avg. CPM, Cost / conv. agree with ours


@_needs(FACEBOOK)
def test_facebook_ad_level_file_with_bom(store):
    with open(FACEBOOK, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = {
        "impressions": sum(float(r["Impressions"]) for r in rows),
        "clicks": sum(float(r["Clicks"]) for r in rows),
        "spend": sum(float(r["Spent"]) for r in rows),
        "conversions": sum(float(r["Total_Conversion"]) for r in rows),
    }
    dataset = import_file(store, FACEBOOK).dataset
    assert dataset.rows == len(rows) == 1143
    assert dataset.roles["conversions"] == "Total_Conversion"
    (row,) = _totals(store, dataset, list(expected))
    assert row == pytest.approx(expected)
    by_gender = {
        r["gender"]: r["spend"] for r in _totals(store, dataset, ["spend"], by=("gender",))
    }
    assert by_gender == pytest.approx(
        {g: sum(float(r["Spent"]) for r in rows if r["gender"] == g) for g in ("F", "M")}
    )


@_needs(MERIDIAN)
def test_meridian_wide_weekly_data_unpivoted(store):
    with open(MERIDIAN, newline="") as fh:
        rows = list(csv.DictReader(fh))
    channels = [f"Channel{i}" for i in range(5)]
    result = import_file(store, MERIDIAN, options=ImportOptions(unpivot=True))
    dataset = result.dataset
    assert dataset.rows == len(rows) * (len(channels) + 1)  # + one "(all channels)" row a week
    spend = {r["channel"]: r["spend"] for r in _totals(store, dataset, ["spend"], by=("channel",))}
    for channel in channels:
        assert spend[channel] == pytest.approx(sum(float(r[f"{channel}_spend"]) for r in rows))
    (row,) = _totals(store, dataset, ["conversions", "revenue", "roas"])
    revenue = sum(float(r["conversions"]) * float(r["revenue_per_conversion"]) for r in rows)
    total_spend = sum(float(r[f"{c}_spend"]) for r in rows for c in channels)
    assert row == pytest.approx(
        {
            "conversions": sum(float(r["conversions"]) for r in rows),
            "revenue": revenue,
            "roas": revenue / total_spend,
        }
    )
    weekly = run_kpis(store, dataset, KpiQuery(("spend",), grain="week"))
    assert len(weekly) == len(rows)
