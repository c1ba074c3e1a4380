"""KPIs page in AppTest; expected numbers come from pandas on the sample file, not the engine."""

import pandas as pd
import pytest

from kpi_engine.formatting import format_compact
from kpi_engine.samples import SAMPLE_DIR
from tests.pages.conftest import (
    engine_store,
    figure,
    link_of,
    open_app,
    private_workspace,
    shown,
    values,
)

CAMPAIGNS = pd.read_csv(SAMPLE_DIR / "campaigns.csv", parse_dates=["date"])


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


LAST_28 = CAMPAIGNS[CAMPAIGNS["date"] >= "2026-08-01"]  # the sample ends on 28 Aug 2026
BEFORE_28 = CAMPAIGNS[(CAMPAIGNS["date"] >= "2026-07-04") & (CAMPAIGNS["date"] <= "2026-07-31")]


def _all_dates(at):
    _by_label(at.date_input, "Date range").set_value(
        (pd.Timestamp("2026-05-01").date(), pd.Timestamp("2026-08-28").date())
    ).run()


def test_opens_on_the_last_28_days_against_the_28_before(app):
    """As Looker Studio opens a report: every card shows its change on first view."""
    assert app.sidebar.selectbox(key="dataset").value is not None
    spend, revenue = LAST_28["spend"].sum(), LAST_28["revenue"].sum()
    clicks, impressions = LAST_28["clicks"].sum(), LAST_28["impressions"].sum()
    assert _metrics(app) == {
        "Spend": format_compact(spend, "currency"),
        "Revenue": format_compact(revenue, "currency"),
        "ROAS": f"{revenue / spend:.2f}",
        "CPA": f"{spend / LAST_28['conversions'].sum():,.2f}",
        "CTR": f"{clicks / impressions:.2%}",
    }
    deltas = {m.label: m.delta for m in app.metric}
    assert deltas["Spend"] == f"{spend / BEFORE_28['spend'].sum() - 1:+.1%}"
    assert all(deltas.values())
    _all_dates(app)
    assert _metrics(app)["Spend"] == format_compact(CAMPAIGNS["spend"].sum(), "currency")


def test_filters_change_every_number(app):
    _all_dates(app)
    _by_label(app.multiselect, "Channel").select("LinkedIn").run()
    part = CAMPAIGNS[CAMPAIGNS["channel"] == "LinkedIn"]
    assert _metrics(app)["ROAS"] == f"{part['revenue'].sum() / part['spend'].sum():.2f}"
    table = _breakdown_table(app)
    assert set(table["campaign"]) == set(part["campaign"])


def test_date_range_filter(app):
    _by_label(app.date_input, "Date range").set_value(
        (pd.Timestamp("2026-06-01").date(), pd.Timestamp("2026-06-30").date())
    ).run()
    june = CAMPAIGNS[(CAMPAIGNS["date"] >= "2026-06-01") & (CAMPAIGNS["date"] <= "2026-06-30")]
    assert _metrics(app)["CPA"] == f"{june['spend'].sum() / june['conversions'].sum():,.2f}"


def test_breakdown_by_channel_is_a_ratio_of_sums(app):
    _all_dates(app)
    _by_label(app.selectbox, "Break down by").set_value("channel").run()
    table = _breakdown_table(app, totals=True).set_index("channel")
    sums = CAMPAIGNS.groupby("channel")[["revenue", "spend"]].sum()
    for channel, row in sums.iterrows():
        assert table.loc[channel, "ROAS"] == pytest.approx(row["revenue"] / row["spend"])
    total = CAMPAIGNS["revenue"].sum() / CAMPAIGNS["spend"].sum()  # a ratio of sums
    assert table.index[-1] == "Total" and table.loc["Total", "ROAS"] == pytest.approx(total)


@pytest.mark.parametrize("grain, points", [("day", 120), ("week", 18), ("month", 4)])
def test_trend_by_grain(app, grain, points):
    _all_dates(app)
    _by_label(app.button_group, "Grain").set_value(grain).run()
    (trace,) = figure(app)["data"]
    assert len(values(trace["y"])) == points
    if grain == "month":
        monthly = CAMPAIGNS.groupby(CAMPAIGNS["date"].dt.to_period("M"))["spend"].sum().tolist()
        assert values(trace["y"]) == pytest.approx(monthly)


def test_one_line_per_campaign(app):
    _by_label(app.toggle, "One line per campaign").set_value(True).run()
    assert len(figure(app)["data"]) == 8


def test_dataset_from_the_url_and_unavailable_kpis(workspace):
    at = open_app("Sample experiment (users)")
    users = next(d for d in engine_store(at).datasets() if d.name == "Sample experiment (users)")
    assert at.sidebar.selectbox(key="dataset").value == users.dataset_id
    notes = " ".join(c.value for c in at.caption)
    assert "CTR: needs column clicks, impressions" in notes
    assert {m.label for m in at.metric} == {
        "Revenue",
        "Conversions",
        "AOV",
        "Conversion rate (users)",
        "Revenue per user",
    }


def test_empty_workspace_points_to_the_data_page(app):
    for dataset in engine_store(app).datasets():
        engine_store(app).delete(dataset.dataset_id)
    app.run()
    assert not app.exception
    assert "No dataset yet" in app.info[0].value


def _breakdown_table(at, totals: bool = False):
    """The breakdown table (the catalog browser's table comes first), without its totals
    row unless asked."""
    table = next(d.value for d in at.dataframe if "KPI" not in d.value.columns)
    return table if totals else table.iloc[:-1]


def _by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_several_currencies_are_shown_one_at_a_time(workspace):
    from kpi_engine.ingest import import_file
    from tests.conftest import FIXTURES

    first = open_app()
    store = engine_store(first)
    import_file(store, FIXTURES / "import" / "multi_currency.csv")
    at = open_app("multi_currency", token=link_of(first))
    assert _metrics(at)["Spend"] == "€80.00" and _metrics(at)["ROAS"] == "2.50"  # EUR first
    _by_label(at.button_group, "Currency").set_value("USD").run()
    assert _metrics(at)["Spend"] == "$150.00" and _metrics(at)["ROAS"] == f"{400 / 150:.2f}"


def test_custom_kpi_and_vanity_warning(workspace):
    from kpi_engine.kpis.custom import save_custom
    from kpi_engine.kpis.definition import make_kpi

    first = open_app("Sample campaigns")
    save_custom(
        engine_store(first),
        make_kpi("net_margin", "(sum(revenue) - sum(spend)) / sum(revenue)", "percent", "higher"),
    )
    at = open_app("Sample campaigns", token=link_of(first))
    pick = _by_label(at.multiselect, "KPIs")
    assert "net_margin" in pick.options or any("net_margin" in o for o in pick.options)
    pick.set_value(["net_margin"]).run()
    _all_dates(at)
    revenue, spend = CAMPAIGNS["revenue"].sum(), CAMPAIGNS["spend"].sum()
    assert _metrics(at)["net_margin"] == f"{(revenue - spend) / revenue:.2%}"
    _by_label(at.multiselect, "KPIs").set_value(["impressions", "clicks"]).run()
    assert "volume metrics only" in at.warning[0].value


def test_cards_compare_with_the_previous_period(app):
    _by_label(app.date_input, "Date range").set_value(
        (pd.Timestamp("2026-07-01").date(), pd.Timestamp("2026-07-31").date())
    ).run()
    july = CAMPAIGNS[(CAMPAIGNS["date"] >= "2026-07-01") & (CAMPAIGNS["date"] <= "2026-07-31")]
    june = CAMPAIGNS[(CAMPAIGNS["date"] >= "2026-05-31") & (CAMPAIGNS["date"] <= "2026-06-30")]
    spend = next(m for m in app.metric if m.label == "Spend")
    expected = july["spend"].sum() / june["spend"].sum() - 1
    assert spend.delta == f"{expected:+.1%}"  # an ASCII sign: the arrow's direction
    captions = " ".join(c.value for c in app.caption).replace("\\", "")
    assert "Changes against the previous period, 2026-05-31 to 2026-06-30" in captions


def test_target_with_pace_and_anomaly_markers(workspace):
    from datetime import date

    from kpi_engine.kpis.dashboard import Target, save_target

    first = open_app("Sample campaigns")
    store = engine_store(first)
    dataset = store.dataset("Sample campaigns")
    save_target(store, dataset, Target("spend", 2_000_000.0, date(2026, 5, 1), date(2026, 8, 28)))
    at = open_app("Sample campaigns", token=link_of(first))
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    expected = CAMPAIGNS["spend"].sum() / 2_000_000
    assert f"{expected:.0%} of target with 100% of the period gone: behind" in text
    _by_label(at.toggle, "7-day average and anomalies").set_value(True).run()
    names = [t.get("name") for t in figure(at, 0)["data"]]
    assert "7-day average" in names and "anomaly" in names


def test_cached_numbers_follow_appends_and_never_cross_workspaces(anonymous, tmp_path):
    from kpi_engine.ingest import ImportOptions, import_file

    a = open_app("Sample campaigns", token=private_workspace()[1])
    b = open_app("Sample campaigns", token=private_workspace()[1])
    before = _metrics(a)["Spend"]
    assert _metrics(b)["Spend"] == before  # same sample data, separate workspaces
    extra = tmp_path / "more.csv"
    extra.write_text(
        "date,campaign,channel,impressions,clicks,conversions,spend,revenue\n"
        "2026-08-28,Search - Brand,Google Ads,10,1,1,5000000,1\n"
    )
    store = engine_store(a)
    import_file(
        store, extra, options=ImportOptions(append=store.dataset("Sample campaigns").dataset_id)
    )
    a.run()
    b.run()
    assert _metrics(a)["Spend"] != before  # the append is seen at once, not a stale cache
    assert _metrics(b)["Spend"] == before  # and only in its own workspace


def test_deleting_a_custom_kpi_keeps_its_links(workspace):
    from kpi_engine.kpis.custom import save_custom, saved_custom
    from kpi_engine.kpis.definition import make_kpi
    from kpi_engine.sharing.links import open_share

    first = open_app("Sample campaigns")
    store = engine_store(first)
    save_custom(store, make_kpi("net_margin", "(sum(revenue) - sum(spend)) / sum(revenue)"))
    at = open_app("Sample campaigns", token=link_of(first))
    _by_label(at.multiselect, "KPIs").set_value(["spend", "net_margin"]).run()
    next(b for b in at.button if b.label == "Create read-only link").click().run()
    token = at.session_state["last_share_kpis"]["token"]
    next(b for b in at.button if b.key == "delete_kpi_net_margin").click().run()
    assert not at.exception and saved_custom(store) == ()
    assert "net_margin" not in _by_label(at.multiselect, "KPIs").options
    shared = open_share(store, token)
    assert [c.kpi for c in shared.result.cards] == ["spend", "net_margin"]


def test_every_append_is_a_new_version_even_within_a_second(store, tmp_path):
    """Found flaky: an append in the same second as the import kept the cache key (the
    import's time had seconds only, and a replacing append keeps the row count)."""
    from kpi_engine.ingest import ImportOptions, import_file
    from tests.conftest import FIXTURES
    from ui.cache import data_version

    dataset = import_file(store, FIXTURES / "tiny_campaigns.csv").dataset
    same = tmp_path / "same.csv"
    same.write_text("Day,Campaign,Channel,Cost\n2026-03-01,Brand,Search,99\n")
    again = import_file(store, same, options=ImportOptions(append=dataset.dataset_id)).dataset
    assert again.rows == dataset.rows and data_version(again) != data_version(dataset)


def test_no_change_against_a_previous_period_with_little_data(app):
    """It showed "+1199%" against a previous period with 9 of 103 days present."""
    _by_label(app.date_input, "Date range").set_value(
        (pd.Timestamp("2026-05-10").date(), pd.Timestamp("2026-06-30").date())
    ).run()
    assert not any(m.delta for m in app.metric)
    captions = " ".join(c.value for c in app.caption).replace("\\", "")
    assert "it has data on 9 days, the selected dates on 52" in captions  # May 1-9 in the file


def test_a_target_counts_its_own_rows_whatever_the_view_filters(workspace):
    """An all-channel spend target showed "31%, behind" when the page was filtered to one
    channel; a target counts the rows it was set on."""
    from datetime import date

    from kpi_engine.kpis.dashboard import Target, save_target, targets

    first = open_app("Sample campaigns")
    store = engine_store(first)
    dataset = store.dataset("Sample campaigns")
    total = CAMPAIGNS["spend"].sum()
    linkedin = CAMPAIGNS.loc[CAMPAIGNS["channel"] == "LinkedIn", "spend"].sum()
    save_target(store, dataset, Target("spend", total / 2, date(2026, 5, 1), date(2026, 8, 28)))
    save_target(
        store,
        dataset,
        Target(
            "spend",
            2 * linkedin,
            date(2026, 5, 1),
            date(2026, 8, 28),
            (("channel", ("LinkedIn",)),),
        ),
    )
    at = open_app("Sample campaigns", token=link_of(first))
    _by_label(at.multiselect, "Channel").set_value(["TikTok"]).run()
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "200% of target with 100% of the period gone: reached" in text  # all channels
    assert (
        "Spend (channel: LinkedIn)" in text and "50% of target by the deadline: missed" not in text
    )
    assert "50% of target with 100% of the period gone: behind" in text
    next(b for b in at.button if b.key == "delete_target_0").click().run()
    assert len(targets(store, dataset)) == 1


def test_a_target_past_its_deadline_is_missed():
    from datetime import date

    from kpi_engine.kpis.catalog import CATALOG
    from kpi_engine.kpis.dashboard import Target, pace
    from kpi_engine.kpis.wording import pace_text

    target = Target("spend", 1000.0, date(2026, 1, 1), date(2026, 1, 10))
    late = pace(CATALOG["spend"], target, 600.0, today=date(2026, 1, 20))
    assert late.status == "missed" and pace_text(late) == "60% of target by the deadline: missed"
    rate = pace(CATALOG["cpa"], Target("cpa", 10.0, date(2026, 1, 1), date(2026, 1, 10)), 12.0,
                today=date(2026, 2, 1))  # fmt: skip
    assert rate.status == "missed" and pace_text(rate).endswith(": missed")


def test_an_unknown_dataset_in_the_url_is_said(workspace):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    first = open_app()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = link_of(first)
    at.query_params["dataset"] = "ds_000000000000"
    at.run()
    assert "not in your workspace" in at.sidebar.info[0].value
    assert at.sidebar.selectbox(key="dataset").value is not None  # the first dataset instead


def test_comparing_two_periods_defaults_to_one_with_data(app):
    """With all dates selected it defaulted to the period before the data: all n/a."""
    _all_dates(app)
    _by_label(app.toggle, "Put another period beside the selected dates").set_value(True).run()
    other = _by_label(app.date_input, "Compare the selected dates with").value
    assert tuple(str(d) for d in other) == ("2026-05-01", "2026-06-29")  # the first half
    table = next(d.value for d in app.dataframe if "change" in d.value.columns)
    assert "n/a" not in table.iloc[:, 1].tolist()


def test_the_catalog_browser_shows_meaning_and_pitfall_in_full(app):
    from kpi_engine.kpis.catalog import CATALOG

    text = " ".join(m.value for m in app.markdown).replace("\\", "")
    for kpi in ("ctr", "cpa", "frequency"):
        assert CATALOG[kpi].description in text and CATALOG[kpi].pitfall in text


def test_a_conversions_target_behind_opens_the_plan_that_reaches_it(workspace):
    from datetime import date

    from kpi_engine.kpis.dashboard import Target, save_target

    first = open_app("Sample campaigns")
    store = engine_store(first)
    dataset = store.dataset("Sample campaigns")
    save_target(
        store, dataset, Target("conversions", 40_000.0, date(2026, 8, 1), date(2026, 9, 30))
    )
    save_target(store, dataset, Target("ctr", 0.5, date(2026, 8, 1), date(2026, 9, 30)))
    at = open_app("Sample campaigns", token=link_of(first))
    plans = [b for b in at.button if b.label.startswith("Plan the spend")]
    assert len(plans) == 1  # the rate target has no budget plan
    so_far = CAMPAIGNS.loc[CAMPAIGNS["date"] >= "2026-08-01", "conversions"].sum()
    assert f"{40_000 - so_far:,.0f} conversions still missing by 2026-09-30" in plans[0].label
    plans[0].click().run()  # the Budget page opens with the goal set
    assert [t.value for t in at.title] == ["Budget"] and not at.exception
    said = " ".join(m.value for m in (*at.success, *at.warning, *at.markdown))
    assert "conversions by 2026\\-09\\-30" in said


def test_why_did_this_change_runs_when_opened_and_goes_into_the_link(app):
    """The sentence on the page is the engine's on the same rows, and a link freezes it."""
    from datetime import date

    from kpi_engine.explain.analysis import run_explain
    from kpi_engine.explain.spec import ExplainSpec
    from kpi_engine.sharing.links import open_share

    dataset_id = app.sidebar.selectbox(key="dataset").value
    closed = " ".join(m.value for m in app.markdown)
    assert "lightbulb" not in closed  # closed: nothing computed
    app.session_state[f"why_open_{dataset_id}"] = True
    app.run()
    _by_label(app.selectbox, "Split by").set_value("channel").run()
    assert not app.exception
    store = engine_store(app)
    dataset = store.dataset(dataset_id)
    question = ExplainSpec(
        dataset_id, "roas", (date(2026, 8, 1), date(2026, 8, 28)),
        (date(2026, 7, 4), date(2026, 7, 31)), "channel",
    )  # fmt: skip
    expected = run_explain(store, dataset, question)
    assert expected.sentence.startswith("ROAS ") and "points" in expected.sentence
    shown = " ".join(m.value for m in app.markdown).replace("\\", "")
    assert expected.sentence in shown
    assert any("Google Ads" in str(d.value.iloc[:, 0].tolist()) for d in app.dataframe)
    next(b for b in app.button if b.label == "Create read-only link").click().run()
    token = app.session_state["last_share_kpis"]["token"]
    assert open_share(store, token).result.why == expected


def test_why_explains_one_point_of_the_trend_against_the_one_before(app):
    """Weekly trend; the week of 17 August against the 7 days before it, as the engine says."""
    from datetime import date

    from kpi_engine.explain.analysis import run_explain
    from kpi_engine.explain.spec import ExplainSpec
    from kpi_engine.kpis.spec import KpiViewSpec

    dataset_id = app.sidebar.selectbox(key="dataset").value
    _by_label(app.button_group, "Grain").set_value("week").run()
    app.session_state[f"why_open_{dataset_id}"] = True
    app.run()
    period = _by_label(app.selectbox, "Period")
    assert period.options[:3] == [
        "The dates chosen",
        "Week of 2026-08-24 (2026-08-24 to 2026-08-28)",  # cut by the dates chosen
        "Week of 2026-08-17",
    ]
    period.set_value((date(2026, 8, 17), date(2026, 8, 23))).run()
    assert not app.exception
    store = engine_store(app)
    question = ExplainSpec(
        dataset_id, "roas", (date(2026, 8, 17), date(2026, 8, 23)),
        (date(2026, 8, 10), date(2026, 8, 16)), "channel",
    )  # fmt: skip
    expected = run_explain(store, store.dataset(dataset_id), question).sentence
    assert expected in " ".join(m.value for m in app.markdown).replace("\\", "")
    spec = KpiViewSpec(dataset_id, ("roas",), why="roas", why_period=question.period)
    assert KpiViewSpec.from_view(spec.to_view()) == spec


def test_a_note_added_on_the_page_is_drawn_on_the_trend_at_once(app):
    """The result cache keys on the timeline too: a new note shows on the next run."""
    from datetime import date

    from kpi_engine.annotations.notes import notes

    _all_dates(app)
    dataset_id = app.sidebar.selectbox(key="dataset").value
    app.date_input(key=f"note_dates_{dataset_id}").set_value((date(2026, 7, 10), date(2026, 7, 16)))
    _by_label(app.text_input, "What happened").set_value("Summer <b>sale</b>")
    _by_label(app.checkbox, "Leave out of baselines").check()
    next(b for b in app.button if b.label == "Add note").click().run()
    assert not app.exception and not app.error
    (note,) = notes(engine_store(app), engine_store(app).dataset(dataset_id))
    assert note.exclude and note.text == "Summer <b>sale</b>"
    shapes = [(s["type"], s["x0"], s["x1"]) for s in figure(app)["layout"]["shapes"]]
    assert ("rect", "2026-07-10", "2026-07-16") in shapes
    notes_text = " ".join(c.value for c in app.caption).replace("\\", "")
    assert "2026-07-10 to 2026-07-16 · Summer <b>sale</b> (left out of baselines)" in notes_text
    next(b for b in app.button if b.key == f"delete_note_{note.annotation_id}").click().run()
    assert notes(engine_store(app), engine_store(app).dataset(dataset_id)) == []


def test_with_exchange_rates_every_amount_shows_in_the_currency_chosen(workspace):
    from kpi_engine.currencies.rates import parse_rates
    from kpi_engine.currencies.workspace_rates import save_rates
    from kpi_engine.ingest import import_file
    from tests.conftest import FIXTURES

    first = open_app()
    store = engine_store(first)
    import_file(store, FIXTURES / "import" / "multi_currency.csv")
    save_rates(store, parse_rates(b"Date,USD,\n2024-01-01,1.10,\n2024-01-02,1.09,\n", "ecb.csv"))
    at = open_app("multi_currency", token=link_of(first))
    picker = _by_label(at.selectbox, "Currency")
    assert picker.value == "EUR" and picker.options == ["EUR", "USD"]  # the rates' base first
    spend, revenue = 80 + 100 / 1.10 + 50 / 1.09, 200 + 300 / 1.10 + 100 / 1.09
    assert _metrics(at)["Spend"] == f"€{spend:,.2f}"
    assert _metrics(at)["ROAS"] == f"{revenue / spend:.2f}"
    assert any("Amounts in EUR, converted from USD" in c.value for c in at.caption)
    picker.set_value("USD").run()
    assert _metrics(at)["Spend"] == f"${80 * 1.10 + 150:,.2f}"
    data = open_app("multi_currency", "pages/data.py", token=link_of(first))
    assert any("ecb.csv: 1 currency against EUR (USD)" in shown(m) for m in data.markdown)
