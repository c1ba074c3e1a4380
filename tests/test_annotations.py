"""The timeline: notes people write and the events KPI Lab marks by itself, drawn on the
trend and frozen into links; a note's range left out of anomaly baselines and budget fits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch
from kpi_engine.annotations.notes import add_note, delete_note, excluded_days, notes
from kpi_engine.annotations.timeline import timeline
from kpi_engine.display.blocks import Bullets, Chart, Section
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.analysis import run_kpi_view
from kpi_engine.kpis.dashboard import anomalies
from kpi_engine.kpis.display import blocks
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.samples import seed_samples
from kpi_engine.sharing.links import create_share, open_share
from kpi_engine.sharing.views import save_view

SALE = (date(2026, 7, 10), date(2026, 7, 16))  # the sample data's planted promotion


@pytest.fixture
def campaigns(store):
    seed_samples(store)
    return store.dataset("Sample campaigns")


def test_notes_are_checked_kept_and_deleted(store, campaigns):
    with pytest.raises(KpiLabError, match="is empty"):
        add_note(store, campaigns, *SALE, "   ")
    with pytest.raises(KpiLabError, match="before the start"):
        add_note(store, campaigns, SALE[1], SALE[0], "Summer sale")
    sale = add_note(store, campaigns, *SALE, "Summer   sale", exclude=True)
    everywhere = add_note(store, None, date(2026, 8, 1), date(2026, 8, 1), "Price list <b>v2</b>")
    other = store.dataset("Sample A/B test (campaign)")
    assert [n.text for n in notes(store, campaigns)] == ["Summer sale", "Price list <b>v2</b>"]
    assert [n.text for n in notes(store, other)] == ["Price list <b>v2</b>"]  # on every dataset
    assert excluded_days(store, campaigns) == {date(2026, 7, d) for d in range(10, 17)}
    delete_note(store, sale.annotation_id)
    assert excluded_days(store, campaigns) == set()
    with pytest.raises(KpiLabError, match="no note"):
        delete_note(store, sale.annotation_id)
    assert everywhere.kind == "note"


def test_the_timeline_marks_imports_plans_alerts_and_tests(store, campaigns, monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")
    add_note(store, campaigns, *SALE, "Summer sale")
    from kpi_engine.budget.spec import BudgetSpec

    spec = KpiViewSpec(campaigns.dataset_id, ("spend",), grain="day")
    create_share(store, spec, run_kpi_view(store, campaigns, spec), "for the board")
    save_view(store, "Q3 plan", BudgetSpec(campaigns.dataset_id))
    ab = store.dataset("Sample experiment (users)")
    from kpi_engine.experiments.spec import ExperimentSpec

    test = ExperimentSpec(
        ab.dataset_id, "variant", "control", ("conversion_rate",),
        start=date(2026, 5, 3), end=date(2026, 5, 20),
    )  # fmt: skip
    save_view(store, "checkout test", test)
    add_watch(
        store, Watch("", "", campaigns.dataset_id, "range::1", "http://127.0.0.1:9/", kpi="ctr")
    )
    run_monitor(store, datetime(2026, 9, 1, 9, tzinfo=UTC))  # the hook is down: not sent
    marks = timeline(store, campaigns)
    kinds = {m.kind: m.text for m in marks}
    assert kinds["note"] == "Summer sale" and kinds["plan"] == "Budget plan saved: Q3 plan"
    assert "link" not in kinds  # a KPIs link is not an event of the data
    assert kinds["import"].startswith("Imported campaigns.csv")
    assert "alert" not in kinds  # only alerts that were sent are marked
    tests = [m.text for m in timeline(store, ab) if m.kind == "test"]
    assert tests == ["Test starts: checkout test", "Test ends: checkout test"]
    july = timeline(store, campaigns, date(2026, 7, 1), date(2026, 7, 31))
    assert [m.text for m in july] == ["Summer sale"]


def test_the_trend_draws_notes_and_a_link_freezes_them(store, campaigns):
    add_note(store, campaigns, *SALE, "Summer <b>sale</b>", exclude=True)
    add_note(store, campaigns, date(2026, 7, 20), date(2026, 7, 20), "Tracking outage")
    spec = KpiViewSpec(
        campaigns.dataset_id, ("revenue",), start=date(2026, 7, 1), end=date(2026, 7, 31),
        grain="day", smooth=True,
    )  # fmt: skip
    view = run_kpi_view(store, campaigns, spec)
    assert [m.text for m in view.annotations] == ["Summer <b>sale</b>", "Tracking outage"]
    trend = next(b for b in blocks(view) if isinstance(b, Section) and b.id == "trend")
    chart, listed = trend.blocks
    assert isinstance(chart, Chart) and isinstance(listed, Bullets)
    shapes = [(s.type, s.x0, s.x1) for s in chart.figure.layout.shapes]
    assert ("rect", "2026-07-10", "2026-07-16") in shapes and (
        "line",
        "2026-07-20",
        "2026-07-20",
    ) in shapes
    assert "(left out of baselines)" in str(listed.items[0])
    token = create_share(store, spec, view, "July")["token"]
    delete_note(store, notes(store, campaigns)[0].annotation_id)
    assert open_share(store, token).result.annotations == view.annotations  # frozen


def test_a_promotion_left_out_is_neither_flagged_nor_in_the_baseline():
    """A week of +60% (a sale): flagged every day without the note; with it, not flagged,
    and the days after are judged against normal days, not the sale."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-06-01", periods=60, freq="D")
    values = pd.Series(1000 + rng.normal(0, 20, 60), index=days)
    sale = (days >= "2026-07-10") & (days <= "2026-07-16")
    values[sale] *= 1.6
    plain = anomalies(values)
    assert plain.loc[sale, "anomaly"].sum() >= 3
    marked = anomalies(values, excluded=pd.Series(sale, index=days))
    assert not marked.loc[sale, "anomaly"].any()
    after = marked.loc["2026-07-17":"2026-07-20", "expected"]
    assert after.between(950, 1050).all()  # the baseline skips the sale's days
    pd.testing.assert_frame_equal(anomalies(values, excluded=pd.Series(False, index=days)), plain)


def test_a_budget_fit_leaves_the_excluded_days_out(store, campaigns):
    from kpi_engine.budget.spec import BudgetSpec
    from kpi_engine.budget.window import load_window

    spec = BudgetSpec(campaigns.dataset_id, window_days=90)
    before = load_window(store, campaigns, spec)
    add_note(store, campaigns, *SALE, "Summer sale", exclude=True)
    after = load_window(store, campaigns, spec)
    sale = [(before.start.toordinal() + i) for i in range(before.has_row.shape[1])]
    in_sale = np.array([SALE[0].toordinal() <= d <= SALE[1].toordinal() for d in sale])
    assert before.has_row[:, in_sale].any() and not after.has_row[:, in_sale].any()
    assert (after.has_row[:, ~in_sale] == before.has_row[:, ~in_sale]).all()
    assert (after.spend == before.spend).all()  # its spend still carries over
