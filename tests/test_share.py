"""Workspaces and share links: isolation, tokens, frozen results, revocation, expiry, links made
by the previous version, the command line's --share and share open."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from kpi_engine.analyses import run
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.export import to_csv_bytes
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.custom import delete_custom, save_custom
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.display import blocks as kpi_blocks
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.kpis.spec import KpiViewSpec, default_spec
from kpi_engine.samples import seed_samples
from kpi_engine.sharing.links import (
    INVALID,
    create_share,
    list_shares,
    open_share,
    revoke_share,
)
from kpi_engine.sharing.report import html_report
from kpi_engine.sharing.tokens import token_hash
from kpi_engine.sharing.views import save_view, saved_views
from kpi_engine.sharing.workspaces import create_workspace, open_workspace
from kpi_engine.state.schema import shares, workspaces
from kpi_engine.store import Store
from tests.conftest import FIXTURES, PROJECT

TINY = FIXTURES / "tiny_campaigns.csv"
MARGIN = "(sum(revenue) - sum(spend)) / sum(revenue)"


@pytest.fixture
def two(store):
    a, token_a = create_workspace(store)
    b, token_b = create_workspace(store)
    return a, token_a, b, token_b


@pytest.fixture
def seeded(store):
    seed_samples(store)
    return store


def _files(store: Store) -> set[str]:
    root = Path(store.data.root)
    return {str(p) for p in root.rglob("*.parquet") if ".tmp" not in p.relative_to(root).parts}


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
    with store.reading() as conn:
        dump = json.dumps([tuple(r) for r in conn.execute(select(workspaces))], default=str)
    assert token not in dump


def test_a_link_shows_what_its_owner_saw_after_appends_and_deletion(two, write_csv):
    a, _, b, _ = two
    dataset = import_file(a, TINY, name="report").dataset
    spec = default_spec(dataset)
    link = create_share(a, spec, title="Q1", expires_days=7)
    before = open_share(b, link["token"])  # anyone with the token
    import_file(
        a,
        write_csv("Day,Campaign,Cost\n2026-03-20,Brand,1000\n", "more.csv"),
        options=ImportOptions(append=dataset.dataset_id),
    )
    a.delete(dataset.dataset_id)
    after = open_share(b, link["token"])
    assert before == after and after.title == "Q1" and after.rows == 5
    assert {c.kpi: c.value for c in after.result.cards}["spend"] == 145.0
    assert after.spec == spec


def test_a_link_copies_no_rows(seeded):
    dataset = seeded.dataset("Sample campaigns")
    files = _files(seeded)
    for i in range(10):
        create_share(seeded, default_spec(dataset), title=f"link {i}")
    assert _files(seeded) == files  # no copy of the rows per link
    with seeded.reading() as conn:
        stored = conn.execute(
            select(func.sum(func.length(shares.c.result) + func.length(shares.c.state)))
        ).scalar_one()
    assert stored < 10 * 64_000  # ten links: kilobytes each


def test_the_result_matches_the_view(store):
    dataset = import_file(store, TINY).dataset
    spec = KpiViewSpec(
        dataset.dataset_id, ("spend", "cpa"), by=("campaign",), filters=(("channel", ("Search",)),)
    )
    shared = open_share(store, create_share(store, spec)["token"])
    expected = run_kpis(
        store,
        dataset,
        KpiQuery(("spend", "cpa"), ("campaign",), filters=(("channel", ("Search",)),)),
    )
    assert list(shared.result.rows) == [{"campaign": "Brand", "spend": 105.0, "cpa": 7.0}]
    assert expected.to_dict(orient="records") == list(shared.result.rows)


def test_revoked_expired_unknown_and_malformed(store):
    dataset = import_file(store, TINY).dataset
    link = create_share(store, default_spec(dataset), expires_days=1)
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
    with pytest.raises(KpiLabError) as info:
        create_share(store, default_spec(dataset), expires_days=0)
    assert info.value.field == "expires_days"


def test_owners_see_and_revoke_only_their_links(two):
    a, _, b, _ = two
    link = create_share(a, default_spec(import_file(a, TINY).dataset))
    assert [s["share_id"] for s in list_shares(a)] == [link["share_id"]] and list_shares(b) == []
    with pytest.raises(KpiLabError):
        revoke_share(b, link["token"])
    with pytest.raises(KpiLabError):
        revoke_share(b, link["share_id"])
    assert revoke_share(a, link["share_id"]) == {"share_id": link["share_id"], "revoked": True}


def test_saved_views_hold_the_spec(two):
    a, _, b, _ = two
    dataset = import_file(a, TINY).dataset
    spec = replace(default_spec(dataset), grain="week")
    save_view(a, "Weekly", spec)
    [view] = saved_views(a)
    assert view["name"] == "Weekly" and view["spec"] == spec and saved_views(b) == []
    with pytest.raises(KpiLabError, match="unknown dataset"):
        save_view(b, "Theirs", spec)


def test_a_link_to_a_custom_kpi_opens_after_the_kpi_is_edited_and_deleted(store):
    dataset = import_file(store, TINY).dataset
    margin = make_kpi("net_margin", MARGIN, "percent", "higher")
    save_custom(store, margin)
    spec = KpiViewSpec(dataset.dataset_id, ("spend", "net_margin"), (margin,), by=("campaign",))
    save_view(store, "with margin", spec)
    link = create_share(store, spec)
    shown = open_share(store, link["token"]).result
    save_custom(store, make_kpi("net_margin", "sum(spend) / sum(revenue)", "ratio", "lower"))
    delete_custom(store, "net_margin")
    again = open_share(store, link["token"])
    assert again.result == shown and again.spec.custom == (margin,)
    assert {c.kpi: c.value for c in shown.cards}["net_margin"] == pytest.approx(
        (790 - 145) / 790
    )  # the file, by hand
    assert saved_views(store)[0]["spec"] == spec  # the saved view still reads, by value


def test_report_is_self_contained_and_text_is_safe(store, write_csv):
    dataset = import_file(
        store,
        write_csv(
            'Day,Campaign,Cost,Clicks\n2026-01-01,"=HYPERLINK(""x"")",10,3\n'
            "2026-01-02,<script>alert(1)</script>,20,4\n"
        ),
    ).dataset
    spec = replace(default_spec(dataset), by=("Campaign",))
    shared = open_share(store, create_share(store, spec)["token"])
    page = html_report(shared)

    class Sources(HTMLParser):
        found: list = []
        scripts = 0

        def handle_starttag(self, tag, attrs):
            self.scripts += tag == "script"
            if tag in ("script", "link", "img", "iframe"):
                self.found += [v for k, v in attrs if k in ("src", "href")]

    parser = Sources()
    parser.feed(page)
    assert parser.found == [] and "Plotly.newPlot" in page  # plotly.js inline, nothing fetched
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "=HYPERLINK" not in page.replace("&#x27;=HYPERLINK", "")
    table = next(b for b in kpi_blocks(shared.result) if b.id == "breakdown").blocks[0]
    assert "'=HYPERLINK" in to_csv_bytes(table.frame).decode("utf-8-sig")


def test_experiment_and_budget_links_hold_their_results(seeded):
    ab = seeded.dataset("Sample A/B test (campaign)")
    spec = ExperimentSpec(ab.dataset_id, "variant", "A", ("cvr",), alpha=0.1)
    shared = open_share(seeded, create_share(seeded, spec)["token"])
    assert shared.result == run(seeded, ab, spec)
    assert "90% CI" in shared.result.results[0].verdict and shared.result.daily
    campaigns = seeded.dataset("Sample campaigns")
    spec = BudgetSpec(campaigns.dataset_id, bootstrap=10, locks=("Search - Brand",))
    shared = open_share(seeded, create_share(seeded, spec)["token"])
    assert shared.result == run(seeded, campaigns, spec) and shared.result.status == "ok"


# -- the command line -------------------------------------------------------------------------


def _cli(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 and "--json" in args else None, err


@pytest.mark.parametrize(
    "command",
    [
        ["kpis", "c", "--kpi", "spend", "--kpi", "roas", "--by", "channel", "--grain", "week"],
        ["experiment", "ab", "--variant-col", "variant", "--control", "A", "--kpi", "cvr",
         "--split", "70,30", "--guardrail", "cpa=5", "--alpha", "0.1"],
        ["budget", "c", "--bootstrap", "20", "--lock", "Search - Brand"],
    ],
)  # fmt: skip
def test_share_open_returns_the_document_the_command_printed(tmp_path, capsys, command):
    db = str(tmp_path / "ws.sqlite")
    main(["import", str(PROJECT / "sample_data" / "campaigns.csv"), "--name", "c", "--db", db])
    main(["import", str(PROJECT / "sample_data" / "ab_test_campaign.csv"), "--name", "ab",
          "--db", db])  # fmt: skip
    capsys.readouterr()
    code, doc, _ = _cli(capsys, *command, "--share", "--title", "T", "--db", db, "--json")
    assert code == 0 and set(doc["share"]) == {"token", "url"}
    link = doc.pop("share")
    assert link["url"] == f"http://localhost:8501/shared?token={link['token']}"
    code, opened, _ = _cli(capsys, "share", "open", link["token"], "--db", db, "--json")
    assert code == 0 and opened == doc  # the same keys and the same numbers


def test_cli_share_contract(tmp_path, capsys):
    db = str(tmp_path / "ws.sqlite")
    main(["import", str(TINY), "--name", "tiny", "--db", db])
    view = tmp_path / "view.json"
    view.write_text(json.dumps({"page": "kpis", "kpis": ["spend", "cpa"], "by": "campaign"}))
    capsys.readouterr()
    code, link, _ = _cli(
        capsys, "share", "create", "tiny", "--view", str(view), "--title", "T",
        "--expires-days", "3", "--db", db, "--json",
    )  # fmt: skip
    assert code == 0 and link["url_path"] == f"shared?token={link['token']}"
    code, opened, _ = _cli(capsys, "share", "open", link["token"], "--db", db, "--json")
    assert [c["kpi"] for c in opened["cards"]] == ["spend", "cpa"]
    assert [r["campaign"] for r in opened["rows"]] == ["Brand", "Prospecting"]
    code, listed, _ = _cli(capsys, "share", "list", "--db", db, "--json")
    assert listed["shares"][0]["title"] == "T"
    assert main(["share", "revoke", link["token"], "--db", db, "--json"]) == 0
    capsys.readouterr()
    assert main(["share", "open", link["token"], "--db", db]) == 2
    assert "revoked" in capsys.readouterr().err
    for bad in ("nope", "Q" * 32):
        assert main(["share", "open", bad, "--db", db]) == 2
        assert "not valid" in capsys.readouterr().err
    view.write_text(json.dumps({"version": 2, "page": "experiments", "alpha": "x"}))
    assert main(["share", "create", "tiny", "--view", str(view), "--db", db]) == 2
    assert "the view's 'alpha' must be a number" in capsys.readouterr().err


def test_cli_expired_link_exits_2(tmp_path):
    db = str(tmp_path / "ws.sqlite")
    main(["import", str(TINY), "--name", "tiny", "--db", db])
    cli = [sys.executable, "-m", "kpi_engine"]
    made = subprocess.run(
        [*cli, "kpis", "tiny", "--kpi", "spend", "--share", "--expires-days", "0.00001",
         "--db", db, "--json"],
        capture_output=True, text=True, cwd=PROJECT,
    )  # fmt: skip
    token = json.loads(made.stdout)["share"]["token"]
    time.sleep(1.2)
    opened = subprocess.run(
        [*cli, "share", "open", token, "--db", db], capture_output=True, text=True, cwd=PROJECT
    )
    assert opened.returncode == 2 and "expired on" in opened.stderr


def test_a_token_that_starts_with_a_dash_opens_from_the_command_line(tmp_path, capsys):
    """Found by CI: 1 token in 64 began with "-", and `share open TOKEN` read it as a flag."""
    from kpi_engine.sharing.tokens import new_token

    db = str(tmp_path / "ws.sqlite")
    main(["import", str(TINY), "--name", "tiny", "--db", db])
    capsys.readouterr()
    code, doc, _ = _cli(capsys, "kpis", "tiny", "--kpi", "spend", "--share", "--db", db, "--json")
    old = "-" + doc["share"]["token"][1:]  # a link made before tokens avoided "-"
    store = Store(db)
    with store.transaction() as conn:
        conn.execute(update(shares).values(token_hash=token_hash(old)))
    store.close()
    code, opened, _ = _cli(capsys, "share", "open", old, "--db", db, "--json")
    assert code == 0 and opened["rows"] == doc["rows"]
    code, opened, _ = _cli(capsys, "share", "open", "--", old, "--db", db, "--json")
    assert code == 0 and opened["rows"] == doc["rows"]  # "--" written the usual way
    assert not any(new_token().startswith("-") for _ in range(2000))
    code, revoked, _ = _cli(capsys, "share", "revoke", old, "--json", "--db", db)
    assert code == 0 and revoked["revoked"]
