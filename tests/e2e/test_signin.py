"""A team on a server with sign-in, in a real browser against a real OIDC provider: the first
person is the admin, who invites the others; each sees what their role allows, the engine
refuses the rest, and a team sees no other team's data."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, PROJECT
from tests.e2e.test_browser import TIMEOUT, expect, picker, upload, wait_for_text

TINY = FIXTURES / "tiny_campaigns.csv"


def sign_in(browser, server, email: str):
    """A new browser that signs in as ``email`` through the provider's form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=TIMEOUT)
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(server.url + "/**", timeout=TIMEOUT)
    return page


def go(page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()


def datasets_offered(page) -> list[str]:
    picker(page).click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible(timeout=TIMEOUT)
    names = options.all_inner_texts()
    page.keyboard.press("Escape")
    return names


def whoami(page, line: str) -> None:
    wait_for_text(page, line)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpi_engine", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_team_signs_in_and_each_role_does_only_what_it_may(signin_server, browser):
    from kpi_engine.access.teams import create_team, invite, memberships, team_store
    from kpi_engine.access.tokens import issue_token
    from kpi_engine.ingest import import_file
    from kpi_engine.store import Store

    db = str(signin_server.db)
    ada = sign_in(browser, signin_server, "ada@example.com")  # the first one: the admin
    whoami(ada, "ada@example.com · example.com team · admin")
    go(ada, "Data")
    upload(ada, TINY)
    go(ada, "Team")
    for email, role in (("ed@example.com", "editor"), ("vi@example.com", "viewer")):
        ada.get_by_label("E-mail address").fill(email)
        ada.get_by_test_id("stForm").first.get_by_role("combobox").click()
        ada.get_by_role("option", name=role, exact=True).click()
        ada.get_by_role("button", name="Invite or change role").click()
        wait_for_text(ada, f"Invited {email} as a {role}")

    # the operator makes a second team; its admin imports data of their own
    root = Store(db)
    create_team(root, "Rivals", "zed@rivals.org", verified=True)
    (zed_of,) = memberships(root, "zed@rivals.org")
    import_file(team_store(root, zed_of, "zed@rivals.org"), TINY, name="rival secret")

    vi = sign_in(browser, signin_server, "vi@example.com")
    whoami(vi, "vi@example.com · example.com team · viewer")
    assert "tiny_campaigns" in datasets_offered(vi)  # the team's data
    go(vi, "Data")
    wait_for_text(vi, "Datasets")
    expect(vi.get_by_test_id("stFileUploader")).to_have_count(0)
    expect(vi.get_by_role("button", name="Delete")).to_have_count(0)
    # a request the page never offered: the engine refuses it by the viewer's role
    (admin_of,) = memberships(root, "ada@example.com")
    admin = team_store(root, admin_of, "ada@example.com")
    viewer_token = issue_token(admin, "vi@example.com", "forced")["token"]
    forced = cli("import", str(TINY), "--token", viewer_token, "--db", db)
    assert forced.returncode == 2 and "viewer" in forced.stderr, forced.stderr

    ed = sign_in(browser, signin_server, "ed@example.com")
    whoami(ed, "ed@example.com · example.com team · editor")
    offered = datasets_offered(ed)
    assert "tiny_campaigns" in offered and "rival secret" not in offered
    go(ed, "Data")
    expect(ed.get_by_test_id("stFileUploader")).to_have_count(1, timeout=TIMEOUT)
    expect(ed.get_by_text("Attach a table from a data lake")).to_have_count(0)
    expect(ed.get_by_test_id("stSidebarNav").get_by_text("Team")).to_have_count(0)

    # someone in two teams switches between them
    invite(admin, "zed@rivals.org", "viewer")
    zed = sign_in(browser, signin_server, "zed@rivals.org")
    team = zed.get_by_test_id("stSidebar").get_by_role("combobox", name="Team")
    expect(team).to_be_visible(timeout=TIMEOUT)
    team.click()
    zed.get_by_role("option", name="Rivals (admin)").click()
    whoami(zed, "zed@rivals.org · Rivals · admin")
    offered = datasets_offered(zed)
    assert "rival secret" in offered and "tiny_campaigns" not in offered
    team.click()
    zed.get_by_role("option", name="example.com team (viewer)").click()
    whoami(zed, "zed@rivals.org · example.com team · viewer")
    offered = datasets_offered(zed)
    assert "tiny_campaigns" in offered and "rival secret" not in offered

    stranger = sign_in(browser, signin_server, "stranger@else.org")
    wait_for_text(stranger, "no team has invited this address yet")
    expect(stranger.get_by_test_id("stSidebarNav")).to_have_count(0)
    root.close()
