"""The dashboard's engine: previous periods, anomalies, movers, period comparison, targets."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpi_engine.export import to_excel_bytes
from kpi_engine.ingest import import_file
from kpi_engine.kpis.catalog import CATALOG
from kpi_engine.kpis.dashboard import (
    Target,
    anomalies,
    as_number,
    compare_periods,
    movers,
    pace,
    previous_period,
    relative_change,
    rolling_mean,
    save_target,
    sparklines,
    targets,
)
from kpi_engine.kpis.query import KpiQuery
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.kpis.wording import pace_text
from kpi_engine.sharing.workspaces import create_workspace
from tests.conftest import FIXTURES

TINY = FIXTURES / "tiny_campaigns.csv"


def test_previous_period_and_change():
    assert previous_period(date(2026, 3, 8), date(2026, 3, 14)) == (
        date(2026, 3, 1),
        date(2026, 3, 7),
    )
    assert relative_change(110, 100) == pytest.approx(0.1)
    assert relative_change(5, 0) is None and relative_change(None, 3) is None


def test_anomalies_flag_a_planted_spike_and_nothing_else():
    rng = np.random.default_rng(0)
    values = pd.Series(100 + rng.normal(0, 5, 60))
    values[40] = 180
    flags = anomalies(values)
    assert list(flags.index[flags["anomaly"]]) == [40]
    assert not flags["anomaly"].iloc[:14].any()  # no band before two weeks of history
    assert rolling_mean(pd.Series(range(10))).iloc[6] == pytest.approx(3.0)


def test_compare_periods_and_sparklines(store):
    dataset = import_file(store, TINY).dataset
    query = KpiQuery(("spend", "cpa"))
    table = compare_periods(
        store,
        dataset,
        query,
        (date(2026, 3, 1), date(2026, 3, 2)),
        (date(2026, 3, 9), date(2026, 3, 9)),
    )
    spend = table.set_index("kpi").loc["spend"]
    assert spend["period_a"] == 120.0 and spend["period_b"] == 25.0
    assert spend["change"] == pytest.approx(25 / 120 - 1)
    lines = sparklines(store, dataset, query)
    assert lines["spend"] == [90.0, 30.0, 25.0]


def test_movers_are_direction_aware(store, write_csv):
    rows = ["Day,Campaign,Cost,Conversions"]
    for day, costs in (("2026-01-01", (100, 100, 100)), ("2026-01-02", (100, 200, 50))):
        for name, cost in zip("ABC", costs, strict=True):
            rows.append(f"{day},{name},{cost},10")
    dataset = import_file(store, write_csv("\n".join(rows) + "\n")).dataset
    top, bottom, among = movers(
        store,
        dataset,
        KpiQuery(("cpa",)),
        "campaign",
        CATALOG["cpa"],
        date(2026, 1, 2),
        date(2026, 1, 2),
    )
    assert list(top["campaign"])[0] == "C"  # CPA halved: the best mover for a lower-is-better KPI
    assert list(bottom["campaign"])[0] == "B"
    assert among is None  # every campaign compared


def test_rankings_over_very_many_groups_are_capped_and_say_so(store, write_csv, monkeypatch):
    """A breakdown by a column with millions of values (a user id) brings at most the cap's
    groups to Python: movers among those with the most spend, trend lines of more than N."""
    from kpi_engine.kpis import analysis, dashboard, wording

    for module in (analysis, dashboard):
        monkeypatch.setattr(module, "GROUP_CAP", 5)
    rows = ["Day,Campaign,Cost,Conversions"]
    for day, second in (("2026-01-01", False), ("2026-01-02", True)):
        for i in range(12):  # c11 spends most; c00 halves its CPA, the best mover of all
            cost = (100 + 10 * i) * ((1.1 if i % 2 else 0.9) if second else 1)
            conversions = 20 if i == 0 and second else 10
            rows.append(f"{day},c{i:02d},{cost:.2f},{conversions}")
    dataset = import_file(store, write_csv("\n".join(rows) + "\n")).dataset
    top, bottom, among = movers(
        store, dataset, KpiQuery(("cpa",)), "campaign", CATALOG["cpa"],
        date(2026, 1, 2), date(2026, 1, 2),
    )  # fmt: skip
    assert among == 5
    assert "c00" not in set(top["campaign"]) | set(bottom["campaign"])  # not among the top 5
    spec = KpiViewSpec(
        dataset.dataset_id, ("spend", "cpa"), start=date(2026, 1, 2), end=date(2026, 1, 2),
        by=("campaign",), grain="day", lines_by="campaign",
    )  # fmt: skip
    result = analysis.run_kpi_view(store, dataset, spec)
    assert result.trend.groups == 5 and result.trend.more_groups  # "more than 5"
    assert [line.name for line in result.trend.lines][:2] == ["c11", "c09"]  # most spend on the day
    trend = result.trend
    assert "of more than 5." in wording.lines_note(2, trend.groups, trend.more_groups, "campaign")
    assert result.movers is not None and result.movers.among == 5
    assert "among the 5 campaign values" in wording.movers_caption(
        result.kpis[0], result.movers.among, "campaign"
    )


@pytest.mark.parametrize(
    "kpi, value, status",
    [
        ("spend", 820.0, "on track"),
        ("spend", 450.0, "behind"),
        ("spend", 1000.0, "reached"),
        ("spend", 540.0, "at risk"),
        ("cpa", 9.0, "on track"),
        ("cpa", 11.0, "behind"),
    ],
)
def test_pace(kpi, value, status):
    target = Target(kpi, 1000.0 if kpi == "spend" else 10.0, date(2026, 1, 1), date(2026, 1, 10))
    result = pace(CATALOG[kpi], target, value, today=date(2026, 1, 6))  # 60% of the period gone
    assert result.status == status
    if kpi == "spend" and value == 820.0:
        assert pace_text(result) == "82% of target with 60% of the period gone: on track"


def test_targets_are_saved_per_workspace(store):
    a, _ = create_workspace(store)
    b, _ = create_workspace(store)
    dataset = import_file(a, TINY).dataset
    save_target(a, dataset, Target("spend", 500.0, date(2026, 3, 1), date(2026, 3, 31)))
    save_target(a, dataset, Target("spend", 600.0, date(2026, 3, 1), date(2026, 3, 31)))
    assert [t.target for t in targets(a, dataset)] == [600.0] and targets(b, dataset) == []


def test_excel_export_keeps_formulas_as_text():
    from openpyxl import load_workbook

    data = to_excel_bytes(pd.DataFrame({"campaign": ["=1+1", "Brand"], "spend": [1.0, 2.0]}))
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet["A"]] == ["campaign", "'=1+1", "Brand"]
    assert [c.value for c in sheet["B"]][1:] == [1.0, 2.0]


@pytest.mark.parametrize(
    "raw, expected", [(3, 3.0), ("2.5", 2.5), (None, None), (float("nan"), None), ("--", None)]
)
def test_as_number_turns_missing_and_nan_into_none(raw, expected):
    assert as_number(raw) == expected


def test_trend_points_are_the_trends_days_weeks_and_months_cut_to_the_dates():
    from datetime import date

    from kpi_engine.kpis.dashboard import trend_points
    from kpi_engine.kpis.wording import trend_point

    start, end = date(2026, 7, 29), date(2026, 8, 12)  # a Wednesday to a Wednesday
    weeks = trend_points(start, end, "week")
    assert weeks == [
        (date(2026, 8, 10), date(2026, 8, 12)),
        (date(2026, 8, 3), date(2026, 8, 9)),
        (date(2026, 7, 29), date(2026, 8, 2)),
    ]
    assert [trend_point(w, "week") for w in weeks[:2]] == [
        "Week of 2026-08-10 (2026-08-10 to 2026-08-12)",
        "Week of 2026-08-03",
    ]
    months = trend_points(start, end, "month")
    assert months == [(date(2026, 8, 1), date(2026, 8, 12)), (date(2026, 7, 29), date(2026, 7, 31))]
    assert trend_point((date(2026, 2, 1), date(2026, 2, 28)), "month") == "February 2026"
    days = trend_points(start, end, "day")
    assert len(days) == 15 and days[0] == (end, end) and trend_point(days[0], "day") == "2026-08-12"
    assert trend_point(None, "day") == "The dates chosen"
