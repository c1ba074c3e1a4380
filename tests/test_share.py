"""Workspaces and share links: isolation, tokens, frozen snapshots, revocation, expiry."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.sharing.links import (
    INVALID,
    create_share,
    default_view,
    list_shares,
    open_share,
    revoke_share,
    save_view,
    saved_views,
    share_content,
)
from kpi_engine.sharing.report import csv_files, html_report
from kpi_engine.sharing.workspaces import create_workspace, open_workspace
from tests.conftest import FIXTURES, PROJECT

TINY = FIXTURES / "tiny_campaigns.csv"


@pytest.fixture
def two(store):
    a, token_a = create_workspace(store)
    b, token_b = create_workspace(store)
    return a, token_a, b, token_b


def test_workspaces_are_isolated(two):
    a, token_a, b, _ = two
    dataset = import_file(a, TINY, name="A's data").dataset
    a.save_preset("mine", {"Cost": "spend"})
    assert [d.name for d in a.datasets()] == ["A's data"] and b.datasets() == []
    with pytest.raises(KpiLabError, match="unknown dataset"):
        b.dataset(dataset.dataset_id)
    with pytest.raises(KpiLabError, match="unknown dataset"):
        b.delete(dataset.dataset_id)
    assert b.presets() == {}
    assert open_workspace(a, token_a).workspace == a.workspace


@pytest.mark.parametrize(
    "token", [None, "", "short", "x" * 33, "'; DROP TABLE workspaces; --", "A" * 32]
)
def test_bad_workspace_tokens_open_nothing(store, token):
    create_workspace(store)
    assert open_workspace(store, token) is None


def test_tokens_are_long_random_and_only_hashed_at_rest(store):
    _, token = create_workspace(store)
    assert len(token) == 32  # 24 bytes: 192 bits
    with store.cursor() as cur:
        dump = json.dumps(cur.execute("SELECT * FROM workspaces").fetchall(), default=str)
    assert token not in dump


def test_share_is_frozen_at_share_time(two, write_csv):
    a, _, b, _ = two
    dataset = import_file(a, TINY, name="report").dataset
    link = create_share(a, default_view(dataset), "Q1", expires_days=7)
    before = share_content(b, open_share(b, link["token"]))  # anyone with the token
    import_file(
        a,
        write_csv("Day,Campaign,Cost\n2026-03-20,Brand,1000\n", "more.csv"),
        options=ImportOptions(append=dataset.dataset_id),
    )
    a.delete(dataset.dataset_id)
    after = share_content(b, open_share(b, link["token"]))
    assert before == after
    assert {c["kpi"]: c["value"] for c in after["cards"]}["spend"] == 145.0
    assert after["title"] == "Q1" and after["rows"] == 5


def test_share_content_matches_the_view(store):
    dataset = import_file(store, TINY).dataset
    view = {
        **default_view(dataset),
        "kpis": ["spend", "cpa"],
        "by": "campaign",
        "filters": {"channel": ["Search"]},
    }
    content = share_content(store, open_share(store, create_share(store, view)["token"]))
    expected = run_kpis(
        store,
        dataset,
        KpiQuery(("spend", "cpa"), ("campaign",), filters=(("channel", ("Search",)),)),
    )
    assert content["table"] == [{"campaign": "Brand", "spend": 105.0, "cpa": 7.0}]
    assert expected.to_dict(orient="records") == content["table"]


def test_revoked_expired_unknown_and_malformed(store):
    dataset = import_file(store, TINY).dataset
    link = create_share(store, default_view(dataset), expires_days=1)
    later = datetime.now() + timedelta(days=2)
    with pytest.raises(KpiLabError, match="expired on"):
        open_share(store, link["token"], now=later)
    revoke_share(store, link["token"])
    with pytest.raises(KpiLabError, match="revoked by its owner"):
        open_share(store, link["token"])
    for bad in ("Z" * 32, "bad token", None, "'; SELECT * FROM shares; --"):
        with pytest.raises(KpiLabError) as info:
            open_share(store, bad)
        assert str(info.value) == INVALID


def test_owners_see_and_revoke_only_their_links(two):
    a, _, b, _ = two
    link = create_share(a, default_view(import_file(a, TINY).dataset))
    assert [s["share_id"] for s in list_shares(a)] == [link["share_id"]] and list_shares(b) == []
    with pytest.raises(KpiLabError):
        revoke_share(b, link["token"])
    with pytest.raises(KpiLabError):
        revoke_share(b, link["share_id"])
    assert revoke_share(a, link["share_id"]) == {"share_id": link["share_id"], "revoked": True}


def test_saved_views(two):
    a, _, b, _ = two
    dataset = import_file(a, TINY).dataset
    save_view(a, "Weekly", {**default_view(dataset), "grain": "week"})
    assert [v["name"] for v in saved_views(a)] == ["Weekly"] and saved_views(b) == []
    with pytest.raises(KpiLabError, match="unknown dataset"):
        save_view(b, "Theirs", default_view(dataset))


def test_report_is_self_contained_and_csvs_are_safe(store, write_csv):
    dataset = import_file(
        store,
        write_csv('Day,Campaign,Cost,Clicks\n2026-01-01,=HYPERLINK("x"),10,3\n2026-01-02,B,20,4\n'),
    ).dataset
    content = share_content(
        store,
        open_share(
            store, create_share(store, {**default_view(dataset), "by": "Campaign"})["token"]
        ),
    )
    page = html_report(content)
    from html.parser import HTMLParser

    class Scripts(HTMLParser):
        sources: list = []

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "link", "img", "iframe"):
                self.sources += [v for k, v in attrs if k in ("src", "href")]

    parser = Scripts()
    parser.feed(page)
    assert parser.sources == [] and "Plotly.newPlot" in page  # plotly.js inline, nothing fetched
    assert "=HYPERLINK" not in page.replace("'=HYPERLINK", "")
    files = csv_files(content)
    assert "'=HYPERLINK" in files["by Campaign.csv"].decode("utf-8-sig")


def test_experiment_and_budget_views_share_too(store):
    from kpi_engine.samples import seed_samples

    seed_samples(store)
    ab = store.dataset("Sample A/B test (campaign)")
    view = {
        "page": "experiments",
        "dataset_id": ab.dataset_id,
        "variant_col": "variant",
        "control": "A",
        "kpis": ["cvr"],
    }
    content = share_content(store, open_share(store, create_share(store, view)["token"]))
    assert "chance B is better" in content["experiment"]["results"][0]["verdict"]
    campaigns = store.dataset("Sample campaigns")
    view = {"page": "budget", "dataset_id": campaigns.dataset_id, "bootstrap": 10}
    content = share_content(store, open_share(store, create_share(store, view)["token"]))
    assert content["budget"]["status"] == "ok"


def test_cli_share_contract(tmp_path, capsys):
    db = str(tmp_path / "ws.duckdb")
    main(["import", str(TINY), "--name", "tiny", "--db", db])
    view = tmp_path / "view.json"
    view.write_text(json.dumps({"page": "kpis", "kpis": ["spend", "cpa"], "by": "campaign"}))
    capsys.readouterr()
    assert (
        main(
            [
                "share",
                "create",
                "tiny",
                "--view",
                str(view),
                "--title",
                "T",
                "--expires-days",
                "3",
                "--db",
                db,
                "--json",
            ]
        )
        == 0
    )
    link = json.loads(capsys.readouterr().out)
    assert (
        set(link) >= {"token", "url_path"} and link["url_path"] == f"shared?token={link['token']}"
    )
    assert main(["share", "open", link["token"], "--db", db, "--json"]) == 0
    opened = json.loads(capsys.readouterr().out)
    assert opened["title"] == "T" and [c["kpi"] for c in opened["cards"]] == ["spend", "cpa"]
    assert main(["share", "list", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shares"][0]["title"] == "T"
    assert main(["share", "revoke", link["token"], "--db", db, "--json"]) == 0
    capsys.readouterr()
    assert main(["share", "open", link["token"], "--db", db]) == 2
    assert "revoked" in capsys.readouterr().err
    for bad in ("nope", "Q" * 32):
        assert main(["share", "open", bad, "--db", db]) == 2
        assert "not valid" in capsys.readouterr().err


def test_cli_expired_link_exits_2(tmp_path):
    db = str(tmp_path / "ws.duckdb")
    main(["import", str(TINY), "--name", "tiny", "--db", db])
    run = [sys.executable, "-m", "kpi_engine"]
    made = subprocess.run(
        [*run, "share", "create", "tiny", "--expires-days", "0.00001", "--db", db, "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    token = json.loads(made.stdout)["token"]
    import time

    time.sleep(1.2)
    opened = subprocess.run(
        [*run, "share", "open", token, "--db", db], capture_output=True, text=True, cwd=PROJECT
    )
    assert opened.returncode == 2 and "expired on" in opened.stderr
