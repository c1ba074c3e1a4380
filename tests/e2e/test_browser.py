"""What a person does in a browser: open, upload, see KPIs and the chart, refresh, restart."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it

_playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect, PlaywrightTimeout = _playwright.expect, _playwright.TimeoutError

TIMEOUT = 30_000
TINY = FIXTURES / "tiny_campaigns.csv"


def wait_for_text(page, text: str) -> None:
    """Wait for text, failing fast when the app shows an exception instead."""
    target, err = page.get_by_text(text).first, page.get_by_test_id("stException")
    expect(target.or_(err).first).to_be_visible(timeout=TIMEOUT)
    if err.count():
        raise AssertionError(f"Streamlit exception in app:\n{err.first.inner_text()}")
    expect(target).to_be_visible()


def wait_idle(page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)


def metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def upload(page, path) -> None:
    """Drop a file, check the detected mapping, import it."""
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(path))
    wait_for_text(page, f"Check the columns of {path.name}")
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_text(page, f"Imported 5 rows as {path.stem}")


def query_param(url: str, name: str) -> str:
    return parse_qs(urlparse(url).query)[name][0]


def workspace_token(page) -> str | None:
    """The visitor's private link, from the cookie that keeps it (never the address bar)."""
    assert "ws=" not in page.url
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies.get("kpilab_ws")


def picker(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Dataset")


def _why_did_this_change_on_the_sample_data(page) -> None:
    """The KPIs page opens on the last 28 days against the 28 before; "Why did this change?"
    splits CPA's change by channel, in the sentence the engine writes for those rows, and
    that sentence names the sample's planted changes with their sizes: Google Ads' CPC +20%
    and conversions moving to LinkedIn (whose volume doubled)."""
    import re
    from datetime import date

    from kpi_engine.explain.analysis import run_explain
    from kpi_engine.explain.spec import ExplainSpec
    from kpi_engine.samples import seed_samples
    from kpi_engine.store import Store

    store = Store(":memory:")
    seed_samples(store)
    dataset = store.dataset("Sample campaigns")
    question = ExplainSpec(
        dataset.dataset_id, "cpa", (date(2026, 8, 1), date(2026, 8, 28)),
        (date(2026, 7, 4), date(2026, 7, 31)), "channel",
    )  # fmt: skip
    expected = run_explain(store, dataset, question).sentence
    store.close()

    page.set_viewport_size({"width": 1400, "height": 1000})
    wait_for_text(page, "Changes against the previous period, 2026-07-04 to 2026-07-31.")
    page.get_by_text("Why did this change?").click()
    _choose(page, "Explain", "CPA")
    _choose(page, "Split by", "channel")
    wait_for_text(page, expected)
    box = page.get_by_test_id("stExpander").filter(has_text="Why did this change?")
    shown = box.get_by_text(expected).inner_text()
    planted = re.search(r"CPC \+[\d.]+% \(Google Ads: \+([\d.]+)%\)", shown)
    assert planted and 18 <= float(planted.group(1)) <= 22, shown  # planted: +20% ± 10%
    assert "come from conversions moving to LinkedIn" in shown, shown
    expect(box.get_by_test_id("stPlotlyChart")).to_have_count(1, timeout=TIMEOUT)
    for value in page.get_by_test_id("stMetricValue").all():  # cards never cut a value off
        assert value.evaluate("e => e.scrollWidth <= e.clientWidth")


def test_upload_see_kpis_and_chart_then_refresh(server, page):
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    expect(picker(page)).to_have_value("Sample campaigns", timeout=TIMEOUT)
    expect(page.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(
        timeout=TIMEOUT
    )
    _why_did_this_change_on_the_sample_data(page)  # on this test's server: one start fewer

    page.get_by_test_id("stSidebarNav").get_by_text("Data").click()
    wait_for_text(page, "Campaign file")
    upload(page, TINY)
    expect(picker(page)).to_have_value("tiny_campaigns", timeout=TIMEOUT)
    wait_for_text(page, "Columns and detected roles")

    page.get_by_test_id("stSidebarNav").get_by_text("KPIs").click()
    wait_for_text(page, "Breakdown")
    expect(metric(page, "Spend")).to_have_text("145.00", timeout=TIMEOUT)
    expect(metric(page, "CPA")).to_have_text("8.53")  # 145 / 17, added up by hand
    expect(page.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(
        timeout=TIMEOUT
    )
    wait_idle(page)
    assert "dataset=ds_" in page.url

    page.reload()
    wait_for_text(page, "Breakdown")
    expect(picker(page)).to_have_value("tiny_campaigns", timeout=TIMEOUT)
    expect(metric(page, "Spend")).to_have_text("145.00", timeout=TIMEOUT)


def test_dataset_survives_a_server_restart(server, page):
    page.goto(server.url + "/data")
    wait_for_text(page, "Campaign file")
    upload(page, TINY)
    wait_idle(page)

    server.stop()
    server.start()
    page.goto(f"{server.url}/data")  # the local workspace, on a fresh server process
    wait_for_text(page, "Datasets")
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("KPIs")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_contain_text("tiny_campaigns", timeout=TIMEOUT)
    expect(table).to_contain_text("Sample campaigns")


def test_experiment_and_budget_pages(server, page):
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    picker(page).click()
    page.get_by_role("option", name="Sample A/B test (campaign)").click()
    expect(picker(page)).to_have_value("Sample A/B test (campaign)", timeout=TIMEOUT)
    page.get_by_test_id("stSidebarNav").get_by_text("Experiments").click()
    wait_for_text(page, "chance B is better")
    expect(page.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(
        timeout=TIMEOUT
    )
    picker(page).click()
    page.get_by_role("option", name="Sample campaigns").click()
    page.get_by_test_id("stSidebarNav").get_by_text("Budget").click()
    wait_for_text(page, "Read before acting")
    expect(page.get_by_role("heading", name="Per campaign")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Move ").first).to_be_visible(timeout=TIMEOUT)


def _share_from_kpis_page(page) -> str:
    """Share the view on the page (any page with the share button); the link's token."""
    page.get_by_role("button", name="Save or share this view").click()
    page.get_by_role("button", name="Create read-only link").click()
    link = page.get_by_test_id("stCode").filter(has_text="shared?token=").first
    expect(link).to_be_visible(timeout=TIMEOUT)
    return query_param(link.inner_text().strip(), "token")


def test_share_link_between_two_people(anonymous_server, browser):
    server = anonymous_server
    a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    # A uploads a file, looks at its KPIs and shares the view
    a.goto(server.url + "/data")
    wait_for_text(a, "Campaign file")
    upload(a, TINY)
    a.get_by_test_id("stSidebarNav").get_by_text("KPIs").click()
    expect(metric(a, "Spend")).to_have_text("145.00", timeout=TIMEOUT)
    token = _share_from_kpis_page(a)
    dataset_id = query_param(a.url, "dataset")

    # B opens the link: the same numbers, read-only, no navigation, no upload
    b.goto(f"{server.url}/shared?token={token}")
    expect(metric(b, "Spend")).to_have_text("145.00", timeout=TIMEOUT)
    expect(metric(b, "CPA")).to_have_text("8.53")
    expect(b.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(b.get_by_test_id("stFileUploader")).to_have_count(0)

    # B cannot reach A's dataset by putting its id in a URL: B has no workspace of A's
    b.goto(f"{server.url}/?dataset={dataset_id}")
    wait_for_text(b, "Breakdown")
    expect(picker(b)).to_have_value("Sample campaigns", timeout=TIMEOUT)
    assert workspace_token(a) and workspace_token(b) is None  # B has changed nothing yet
    b.goto(f"{server.url}/data?ws={'A' * 32}")
    wait_for_text(b, "workspace link is not valid")

    # A revokes the link; B's next visit shows the message and no data
    a.get_by_test_id("stSidebarNav").get_by_text("Sharing").click()
    a.get_by_role("button", name="Revoke").first.click()
    wait_for_text(a, "revoked")
    b.goto(f"{server.url}/shared?token={token}")
    wait_for_text(b, "revoked by its owner")
    expect(b.get_by_test_id("stMetric")).to_have_count(0)


def test_workspace_and_share_links_survive_a_restart(anonymous_server, page, browser):
    """A visitor's private workspace comes back by its cookie after a restart, with no token
    in any address; its link opens it in another browser."""
    server = anonymous_server
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    token = _share_from_kpis_page(page)  # the first change: the workspace is made now
    workspace = workspace_token(page)
    assert workspace
    server.stop()
    server.start()
    page.goto(f"{server.url}/shared?token={token}")
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=TIMEOUT)
    page.goto(f"{server.url}/sharing")  # the cookie brings the workspace back
    wait_for_text(page, "Shared links")
    expect(page.get_by_role("button", name="Revoke")).to_have_count(1, timeout=TIMEOUT)
    elsewhere = browser.new_context().new_page()  # another browser, by the private link
    elsewhere.goto(f"{server.url}/sharing?ws={workspace}")
    wait_for_text(elsewhere, "Shared links")
    expect(elsewhere.get_by_role("button", name="Revoke")).to_have_count(1, timeout=TIMEOUT)
    assert "ws=" not in elsewhere.url  # taken out of the address bar


def _verdicts(page) -> list[str]:
    markdown = page.get_by_test_id("stMarkdown").filter(has_text="chance treatment is better")
    expect(markdown.first).to_be_visible(timeout=TIMEOUT)
    return sorted(markdown.all_inner_texts())


def _user_experiment(server, browser):
    """A new visitor on the Experiments page with the user-level sample."""
    owner = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    owner.goto(server.url + "/")
    wait_for_text(owner, "Breakdown")
    picker(owner).click()
    owner.get_by_role("option", name="Sample experiment (users)").click()
    expect(picker(owner)).to_have_value("Sample experiment (users)", timeout=TIMEOUT)
    owner.get_by_test_id("stSidebarNav").get_by_text("Experiments").click()
    wait_for_text(owner, "Split check passed")
    return owner


def test_a_shared_experiment_shows_the_owners_verdicts_alarm_and_forest_plot(server, browser):
    owner = _user_experiment(server, browser)
    owner.get_by_text("Settings: significance").click()
    split = owner.get_by_label("Intended split, control first")
    split.fill("70,30")
    split.press("Enter")
    wait_for_text(owner, "Sample ratio mismatch")
    wait_idle(owner)
    seen = _verdicts(owner)
    token = _share_from_kpis_page(owner)

    stakeholder = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    stakeholder.goto(f"{server.url}/shared?token={token}")
    wait_for_text(stakeholder, "Sample ratio mismatch")
    forest = stakeholder.locator(".gtitle", has_text="Relative lift with its confidence interval")
    expect(forest).to_be_visible(timeout=TIMEOUT)
    assert _verdicts(stakeholder) == seen
    expect(stakeholder.get_by_test_id("stSidebarNav")).to_have_count(0)


def _choose(page, label: str, option: str) -> None:
    """Pick an option of a select box; a click while its expander still opens, or while a
    rerun redraws the box, can miss, so it is tried again."""
    box, choice = page.get_by_role("combobox", name=label), page.get_by_role("option", name=option)
    for attempt in range(3):
        wait_idle(page)
        box.click()
        try:
            expect(choice).to_be_visible(timeout=3_000)
            choice.click(timeout=5_000)
            break
        except (AssertionError, PlaywrightTimeout):
            if attempt == 2:
                raise
    wait_idle(page)


def test_cuped_and_segments_reach_a_shared_link(server, browser):
    owner = _user_experiment(server, browser)
    owner.get_by_text("Methods: exposures, capping").click()
    _choose(owner, "CUPED", "column pre_revenue")
    wait_for_text(owner, "CUPED made Revenue per user as precise as a test with")
    _choose(owner, "Segment by", "device")
    wait_for_text(owner, "By segment")
    cuped = owner.get_by_text("CUPED made Revenue per user").first.inner_text()
    token = _share_from_kpis_page(owner)

    stakeholder = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    stakeholder.goto(f"{server.url}/shared?token={token}")
    wait_for_text(stakeholder, "By segment")
    assert stakeholder.get_by_text("CUPED made Revenue per user").first.inner_text() == cuped


def test_a_watch_added_on_the_alerts_page(server, page):
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    page.get_by_test_id("stSidebarNav").get_by_text("Alerts").click()
    wait_for_text(page, "Watch a KPI of Sample campaigns")
    _choose(page, "KPI", "CTR")
    _choose(page, "Rule", "a change on the previous 7 days beyond ±X%")
    page.get_by_label("Send to").first.fill("team@example.com")
    page.get_by_role("button", name="Add watch").first.click()
    wait_for_text(page, "Now: CTR over the 7 days to 2026-08-28 was")
    expect(page.get_by_role("button", name="Remove")).to_have_count(1, timeout=TIMEOUT)


def test_a_plan_for_the_coming_weeks_reaches_a_shared_link(server, browser):
    owner = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    owner.goto(server.url + "/budget")
    wait_for_text(owner, "Read before acting")
    _choose(owner, "Question", "Plan the coming weeks with a total")
    wait_for_text(owner, "counting the carryover of what was spent before")
    expect(owner.get_by_role("heading", name="The plan ahead")).to_be_visible(timeout=TIMEOUT)
    plan = owner.get_by_text("counting the carryover").first.inner_text()
    token = _share_from_kpis_page(owner)

    stakeholder = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    stakeholder.goto(f"{server.url}/shared?token={token}")
    wait_for_text(stakeholder, "The plan ahead")
    assert stakeholder.get_by_text("counting the carryover").first.inner_text() == plan


# the app server starts its own driver JVM: in the Spark tier after make test (make
# test-clusters, run by .ci/run), which keeps make test under 8 minutes on 2 cores
@pytest.mark.cluster
def test_attach_a_lake_table_and_read_its_kpis(server, page, tmp_path):
    """A Parquet copy of the sample campaigns, attached from the Data page, shows the same
    cards on the KPIs page as the imported sample (the server starts its own Spark)."""
    from tests.conftest import SAMPLE_CAMPAIGNS, spark_missing

    if reason := spark_missing():
        pytest.skip(reason)
    import duckdb

    parquet = tmp_path / "campaigns.parquet"
    duckdb.sql(f"SELECT * FROM read_csv('{SAMPLE_CAMPAIGNS}')").write_parquet(str(parquet))
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    sample_spend = metric(page, "Spend").inner_text()

    page.get_by_test_id("stSidebarNav").get_by_text("Data").click()
    page.get_by_text("Attach a table from a data lake or a catalog").click()
    page.get_by_label("Parquet file, folder or glob").fill(str(parquet))
    page.get_by_label("Name", exact=True).fill("lake campaigns")
    page.get_by_label("Name", exact=True).press("Enter")
    page.get_by_role("button", name="Read its columns").click()
    expect(page.get_by_role("button", name="Attach", exact=True)).to_be_visible(timeout=90_000)
    page.get_by_role("button", name="Attach", exact=True).click()
    wait_for_text(page, "Attached lake campaigns")
    expect(picker(page)).to_have_value("lake campaigns (on Spark)", timeout=TIMEOUT)

    page.get_by_test_id("stSidebarNav").get_by_text("KPIs").click()
    wait_for_text(page, "Breakdown")
    expect(metric(page, "Spend")).to_have_text(sample_spend, timeout=60_000)


def test_without_sign_in_the_app_serves_only_this_machine(server, browser):
    """Local mode: a request a proxy forwarded from another machine gets a refusal, not the
    workspace (the server also listens on 127.0.0.1 only, by .streamlit/config.toml)."""
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    remote = context.new_page()
    remote.goto(server.url + "/data")
    wait_for_text(remote, "This KPI Lab serves only the machine it runs on")
    expect(remote.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(remote.get_by_test_id("stFileUploader")).to_have_count(0)
    context.close()
