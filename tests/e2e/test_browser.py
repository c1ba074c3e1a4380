"""What a person does in a browser: open, upload, see KPIs and the chart, refresh, restart."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

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


def workspace_token(page) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(page.url).query)["ws"][0]


def picker(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Dataset")


def test_upload_see_kpis_and_chart_then_refresh(server, page):
    page.goto(server.url + "/")
    wait_for_text(page, "Breakdown")
    expect(picker(page)).to_have_value("Sample campaigns", timeout=TIMEOUT)
    expect(page.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(
        timeout=TIMEOUT
    )

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
    token = workspace_token(page)

    server.stop()
    server.start()
    page.goto(f"{server.url}/data?ws={token}")  # the private link, on a fresh server process
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
