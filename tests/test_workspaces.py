"""Workspaces that hold nothing of anyone's are pruned; any trace of a user keeps one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpis.custom import save_custom
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.spec import default_spec
from kpi_engine.sharing.views import save_view
from kpi_engine.sharing.workspaces import open_workspace, prune_untouched
from kpi_engine.store import Store
from tests.conftest import FIXTURES, aged_workspace


def test_only_old_workspaces_with_nothing_of_their_own_go(tmp_path):
    root = Store(tmp_path / "ws.sqlite")
    idle, idle_token = aged_workspace(root, 40)
    recent, recent_token = aged_workspace(root, 2)
    uploaded, uploaded_token = aged_workspace(root, 40)
    import_file(uploaded, FIXTURES / "tiny_campaigns.csv")
    viewed, viewed_token = aged_workspace(root, 40)
    save_view(viewed, "mine", default_spec(viewed.datasets()[0]))
    custom, custom_token = aged_workspace(root, 40)
    save_custom(custom, make_kpi("my_margin", "(sum(revenue) - sum(spend)) / sum(revenue)"))
    renamed, renamed_token = aged_workspace(root, 40)
    renamed.rename("Sample campaigns", "Our campaigns")
    idle_files = {d.location for d in idle.datasets()}

    assert prune_untouched(root, 30) == {"removed": 1, "kept": 5}

    assert open_workspace(root, idle_token) is None
    assert idle.datasets() == [] and idle.setting("samples_seeded") is None
    assert all(Path(f).exists() for f in idle_files)  # the samples' files: the template's
    for token in (recent_token, uploaded_token, viewed_token, custom_token, renamed_token):
        kept = open_workspace(root, token)
        assert kept is not None and len(kept.datasets()) >= 3
    assert prune_untouched(root, 30)["removed"] == 0  # nothing else qualifies
    root.close()


def test_a_negative_age_is_refused(tmp_path):
    root = Store(tmp_path / "ws.sqlite")
    with pytest.raises(KpiLabError, match="0 or more"):
        prune_untouched(root, -1)
    root.close()


def test_the_command_line_works_in_a_browser_workspace_by_its_link(tmp_path, capsys):
    from kpi_engine.cli import main
    from kpi_engine.sharing.workspaces import create_workspace

    db = tmp_path / "ws.sqlite"
    root = Store(db)
    browser, token = create_workspace(root)
    root.close()
    link = f"http://localhost:8501/?ws={token}&dataset=ds_x"
    args = ["import", str(FIXTURES / "tiny_campaigns.csv"), "--name", "from a script"]
    assert main([*args, "--workspace", link, "--db", str(db)]) == 0
    assert main(["datasets", "--workspace", token, "--db", str(db), "--json"]) == 0
    assert "from a script" in capsys.readouterr().out
    root = Store(db)
    assert [d.name for d in open_workspace(root, token).datasets()] == ["from a script"]
    assert root.datasets() == []  # not in the command line's own default workspace
    root.close()
    assert main(["datasets", "--workspace", "http://localhost:8501/?ws=nope", "--db", str(db)]) == 2
    assert "--workspace opens no workspace" in capsys.readouterr().err


def test_a_teams_workspace_stays_however_long_it_holds_only_the_samples(tmp_path):
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from kpi_engine.access.teams import create_team
    from kpi_engine.state.schema import workspaces

    root = Store(tmp_path / "ws.sqlite")
    team = create_team(root, "Growth", "ada@example.com", verified=True)
    with root.transaction() as conn:
        conn.execute(
            update(workspaces)
            .where(workspaces.c.workspace_id == team.workspace)
            .values(created_at=datetime.now() - timedelta(days=400))
        )
    assert prune_untouched(root, 30)["removed"] == 0
    assert len(root.for_workspace(team.workspace).datasets()) >= 3
    root.close()


def test_housekeeping_sweeps_the_spool_and_prunes_each_round(tmp_path, monkeypatch):
    import os
    import time

    from kpi_engine.housekeeping import tidy
    from kpi_engine.repeat import every

    monkeypatch.setenv("KPILAB_SPOOL_DIR", str(tmp_path / "spool"))
    root = Store(tmp_path / "ws.sqlite")
    abandoned = tmp_path / "spool" / "a-crashed-session"
    abandoned.mkdir(parents=True)
    (abandoned / "upload.csv").write_text("a,b\n")
    old = time.time() - 7 * 3600
    os.utime(abandoned, (old, old))
    aged_workspace(root, 40)
    done = []
    stop = every(0.05, "test-housekeeping", lambda: done.append(tidy(root, 30)))
    try:
        for _ in range(100):
            if done:
                break
            time.sleep(0.05)
    finally:
        stop.set()
    assert done[0] == {"spool_folders": 1, "files_swept": 0, "workspaces_removed": 1}
    assert not abandoned.exists()
    root.close()
