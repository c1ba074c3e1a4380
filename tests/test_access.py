"""Each person does only what they may, checked in the engine by the principal a store acts
for (never only by what a page showed): roles, teams and invitations, personal tokens, the
audit log, where alerts may be e-mailed, who may open a team's links."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kpi_engine.access.audit import entries
from kpi_engine.access.principal import ANONYMOUS
from kpi_engine.access.teams import (
    create_team,
    email_allowed,
    invite,
    members_of,
    memberships,
    remove_member,
    set_email_domains,
    set_link_policy,
    sign_in,
    team_store,
)
from kpi_engine.access.tokens import acting_by_token, issue_token, revoke_token
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch, remove_watch
from kpi_engine.annotations.notes import add_note
from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.kpis.custom import save_custom
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.spec import default_spec
from kpi_engine.sharing.links import SignInNeeded, create_share, open_share, revoke_share
from kpi_engine.sharing.views import save_view
from tests.conftest import FIXTURES

TINY = FIXTURES / "tiny_campaigns.csv"
HOOK = "http://127.0.0.1:9/hook"  # checked, never sent to, in these tests


@pytest.fixture(autouse=True)
def _loopback_webhooks(monkeypatch):
    monkeypatch.setenv("KPILAB_ALLOW_PRIVATE_WEBHOOKS", "1")


@pytest.fixture
def team(store):
    """A team made by its first admin, with an editor and a viewer: their stores."""
    (admin_of,) = sign_in(store, "Ada@Example.com", verified=True, team_name="Growth")
    admin = team_store(store, admin_of, "ada@example.com")
    invite(admin, "ed@example.com", "editor")
    invite(admin, "vi@example.com", "viewer")
    (ed,) = sign_in(store, "ed@example.com", verified=True)
    (vi,) = sign_in(store, "vi@example.com", verified=False)
    return {
        "admin": admin,
        "editor": team_store(store, ed, "ed@example.com"),
        "viewer": team_store(store, vi, "vi@example.com"),
    }


def _refused(work, *words) -> None:
    with pytest.raises(KpiLabError) as caught:
        work()
    for word in words:
        assert word in str(caught.value), str(caught.value)


def test_the_first_person_on_an_empty_server_is_its_admin_and_no_one_else(store):
    (first,) = sign_in(store, "first@example.com", verified=True)
    assert first.role == "admin" and first.team.name == "example.com team"
    assert sign_in(store, "second@example.com", verified=True) == []  # not invited
    admin = team_store(store, first, "first@example.com")
    assert [d.name for d in admin.datasets()][0] == "Sample campaigns"  # the samples are there


def test_a_viewer_reads_and_the_engine_refuses_every_change(team, tmp_path):
    viewer, admin = team["viewer"], team["admin"]
    dataset = viewer.datasets()[0]
    assert viewer.dataset(dataset.dataset_id) == dataset  # reads
    _refused(lambda: import_file(viewer, TINY), "viewer", "cannot change")
    _refused(lambda: viewer.rename(dataset.dataset_id, "mine"), "viewer")
    _refused(lambda: viewer.delete(dataset.dataset_id), "cannot delete datasets")
    _refused(lambda: save_view(viewer, "v", default_spec(dataset)), "viewer")
    _refused(lambda: create_share(viewer, default_spec(dataset)), "read-only links")
    _refused(lambda: save_custom(viewer, make_kpi("m", "sum(spend)")), "viewer")
    watch = Watch("", "", dataset.dataset_id, "anomaly", HOOK, kpi="ctr")
    _refused(lambda: add_watch(viewer, watch), "add or remove watches")
    _refused(lambda: entries(viewer), "audit log")
    _refused(lambda: invite(viewer, "x@example.com", "admin"), "members")
    day = date(2026, 7, 10)
    _refused(lambda: add_note(viewer, dataset, day, day, "Summer sale"), "viewer")
    assert admin.dataset(dataset.dataset_id).name == dataset.name  # nothing changed


def test_an_editor_edits_but_neither_deletes_attaches_nor_manages(team, tmp_path, monkeypatch):
    editor = team["editor"]
    imported = import_file(editor, TINY, name="q1").dataset
    link = create_share(editor, default_spec(imported))
    revoke_share(editor, link["share_id"])
    _refused(lambda: editor.delete(imported.dataset_id), "editor", "an admin")
    monkeypatch.setenv("KPILAB_ATTACH_ROOTS", str(tmp_path))
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    _refused(lambda: attach(editor, AttachOptions(path=str(tmp_path / "x.parquet"))), "attach")
    _refused(lambda: invite(editor, "x@example.com", "viewer"), "members")
    _refused(lambda: issue_token(editor, "ed@example.com"), "tokens")


def test_an_anonymous_visitor_can_neither_attach_nor_email(store, tmp_path, monkeypatch):
    from kpi_engine.sharing.workspaces import create_workspace

    visitor, _ = create_workspace(store)
    visitor = visitor.acting(ANONYMOUS)
    dataset = import_file(visitor, TINY).dataset  # an editor of their own workspace
    monkeypatch.setenv("KPILAB_ATTACH_ROOTS", str(tmp_path))
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    _refused(lambda: attach(visitor, AttachOptions(path=str(tmp_path / "x.parquet"))), "account")
    mail = Watch("", "", dataset.dataset_id, "anomaly", "boss@example.com", kpi="ctr")
    _refused(lambda: add_watch(visitor, mail), "e-mail", "account")


def test_invitations_roles_and_the_last_admin(team, store):
    admin = team["admin"]
    listed = {m["email"]: (m["role"], m["status"]) for m in members_of(admin)}
    assert listed == {
        "ada@example.com": ("admin", "member"),
        "ed@example.com": ("editor", "member"),
        "vi@example.com": ("viewer", "member"),
    }
    invite(admin, "new@example.com", "editor")
    assert {"new@example.com": ("editor", "invited")}.items() <= {
        m["email"]: (m["role"], m["status"]) for m in members_of(admin)
    }.items()
    _refused(lambda: remove_member(admin, "ada@example.com"), "last admin")
    _refused(lambda: invite(admin, "ada@example.com", "viewer"), "last admin")
    invite(admin, "vi@example.com", "admin")  # a member's role changes at once
    assert memberships(store, "vi@example.com")[0].role == "admin"
    invite(admin, "ada@example.com", "editor")  # now another admin exists
    remove_member(admin, "ed@example.com")
    assert memberships(store, "ed@example.com") == []


def test_another_teams_data_stays_invisible(team, store):
    assert sign_in(store, "zed@elsewhere.org", verified=True) == []  # not invited anywhere
    admin = team["admin"]
    secret = import_file(admin, TINY, name="growth only").dataset
    create_team(store, "Rivals", "zed@elsewhere.org", verified=True)  # an operator made it
    (other_of,) = sign_in(store, "zed@elsewhere.org", verified=True)
    other = team_store(store, other_of, "zed@elsewhere.org")
    assert other.workspace != admin.workspace
    assert secret.dataset_id not in {d.dataset_id for d in other.datasets()}
    _refused(lambda: other.dataset(secret.dataset_id), "unknown dataset")
    _refused(lambda: other.delete(secret.dataset_id), "unknown dataset")
    token = create_share(admin, default_spec(secret))["token"]
    assert open_share(store, token).spec.dataset_id == secret.dataset_id  # links still open


def test_personal_tokens_act_as_their_member_with_the_role_they_have_now(team, store):
    admin = team["admin"]
    made = issue_token(admin, "vi@example.com", "laptop")
    acting = acting_by_token(store, made["token"])
    assert acting.actor.who == "vi@example.com" and acting.actor.role == "viewer"
    assert acting.workspace == admin.workspace
    invite(admin, "vi@example.com", "editor")
    assert acting_by_token(store, made["token"]).actor.role == "editor"
    revoke_token(admin, made["token_id"])
    assert acting_by_token(store, made["token"]) is None
    again = issue_token(admin, "ed@example.com")
    remove_member(admin, "ed@example.com")  # a removed member's tokens stop working
    assert acting_by_token(store, again["token"]) is None
    assert acting_by_token(store, "kpl_" + "x" * 32) is None
    _refused(lambda: issue_token(admin, "stranger@example.com"), "not a member")


def test_the_audit_log_names_who_did_what(team, store):
    admin, editor = team["admin"], team["editor"]
    dataset = import_file(editor, TINY, name="q1").dataset
    import_file(editor, TINY, options=ImportOptions(append="q1"))
    link = create_share(editor, default_spec(dataset), title="for the board")
    revoke_share(editor, link["share_id"])
    watch = add_watch(
        editor,
        Watch("", "", dataset.dataset_id, "anomaly", HOOK, kpi="ctr"),
    )
    remove_watch(editor, watch.watch_id)
    admin.delete("q1")
    issue_token(admin, "ed@example.com")
    log = [(e["actor"], e["action"], e["subject"]) for e in reversed(entries(admin))]
    assert ("ed@example.com", "import", "q1") in log
    assert ("ed@example.com", "append", "q1") in log
    assert ("ed@example.com", "share", "for the board") in log
    assert ("ed@example.com", "revoke", link["share_id"]) in log
    assert ("ed@example.com", "add watch", "ctr") in log
    assert ("ed@example.com", "remove watch", watch.watch_id) in log
    assert ("ada@example.com", "delete", "q1") in log
    assert ("ada@example.com", "invite", "ed@example.com") in log
    assert ("ed@example.com", "join", "ed@example.com") in log
    assert ("ada@example.com", "issue token", "ed@example.com") in log


def test_alerts_are_emailed_only_to_confirmed_members_or_allowed_domains(team):
    admin, editor = team["admin"], team["editor"]
    assert email_allowed(editor, "ed@example.com")  # confirmed by the provider
    assert not email_allowed(editor, "vi@example.com")  # a member, not confirmed
    assert not email_allowed(editor, "anyone@victim.org")
    dataset = editor.datasets()[0]
    to = Watch("", "", dataset.dataset_id, "anomaly", "anyone@victim.org", kpi="ctr")
    _refused(lambda: add_watch(editor, to), "allow its domain")
    set_email_domains(admin, ["victim.org"])
    assert add_watch(editor, to).destination == "anyone@victim.org"


def test_a_team_can_open_its_links_to_signed_in_people_only(team, store):
    admin = team["admin"]
    token = create_share(admin, default_spec(admin.datasets()[0]))["token"]
    assert open_share(store, token).opens == 1
    set_link_policy(admin, True, "example.com")
    _refused(lambda: open_share(store, token), "signed in with an address at example.com")
    with pytest.raises(SignInNeeded):
        open_share(store, token, signed_in="someone@else.org")
    assert open_share(store, token, signed_in="boss@example.com").opens == 2
    set_link_policy(admin, False, None)
    assert open_share(store, token).opens == 3


def test_the_command_line_acts_as_a_tokens_member(tmp_path, capsys):
    from kpi_engine.store import SYSTEM_SETTINGS, Store

    db = str(tmp_path / "team.sqlite")
    root = Store(db)
    (admin_of,) = sign_in(root, "ada@example.com", verified=True)
    admin = team_store(root, admin_of, "ada@example.com")
    invite(admin, "vi@example.com", "viewer")
    sign_in(root, "vi@example.com", verified=True)
    viewer_token = issue_token(admin, "vi@example.com")["token"]
    admin_token = issue_token(admin, "ada@example.com")["token"]
    with root.transaction() as conn:  # what the app records when it runs with sign-in
        root.for_workspace(SYSTEM_SETTINGS).set_setting(conn, "server_mode", "signin")
    root.close()
    capsys.readouterr()
    assert main(["datasets", "--db", db]) == 2
    assert "--token" in capsys.readouterr().err  # with sign-in, a token is required
    assert main(["import", str(TINY), "--token", viewer_token, "--db", db]) == 2
    assert "viewer" in capsys.readouterr().err
    assert main(["datasets", "--token", viewer_token, "--db", db, "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)["datasets"]]
    assert "Sample campaigns" in names  # the team's workspace
    assert main(["import", str(TINY), "--token", admin_token, "--db", db]) == 0
    capsys.readouterr()
    assert main(["audit", "--token", admin_token, "--db", db, "--json"]) == 0
    log = json.loads(capsys.readouterr().out)["entries"]
    assert log[0]["action"] == "import" and log[0]["actor"] == "ada@example.com"
    assert main(["audit", "--token", viewer_token, "--db", db]) == 2
    assert main(["datasets", "--token", "kpl_nothing", "--db", db]) == 2
    assert main(["monitor", "--db", db, "--json"]) == 0  # the operator's, from cron


def test_an_operator_makes_a_team_and_its_admin_runs_it_from_the_command_line(tmp_path, capsys):
    from kpi_engine.store import Store

    db = str(tmp_path / "team.sqlite")
    assert (
        main(["team", "create", "Brand  Marketing", "--admin", "Bo@Example.com", "--db", db]) == 0
    )
    assert "made team Brand Marketing" in capsys.readouterr().out
    root = Store(db)
    (bo,) = memberships(root, "bo@example.com")
    assert (bo.team.name, bo.role) == ("Brand Marketing", "admin")
    token = issue_token(team_store(root, bo, "bo@example.com"), "bo@example.com")["token"]
    root.close()
    assert main(["team", "invite", "al@example.com", "--role", "editor", "--token", token,
                 "--db", db]) == 0  # fmt: skip
    assert "al@example.com: editor (invited)" in capsys.readouterr().out
    assert main(["team", "members", "--token", token, "--db", db]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["bo@example.com", "admin", "member"],
        ["al@example.com", "editor", "invited"],
    ]
    assert main(["token", "issue", "bo@example.com", "--label", "cron", "--token", token,
                 "--db", db]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert printed.startswith("kpl_") and "shown only now" in printed
    assert main(["team", "create", "x", "--admin", "not an address", "--db", db]) == 2
    assert "not an e-mail address" in capsys.readouterr().err
