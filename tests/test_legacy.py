"""Existing users keep their data: a workspace database written by the version before the
state database (one DuckDB file, ``tests/fixtures/legacy``) moves over on first start or
with ``migrate --from``, and every link keeps opening with the same numbers."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from kpi_engine.alerts.watches import list_watches
from kpi_engine.cli import main
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.dashboard import targets
from kpi_engine.sharing.links import list_shares, open_share
from kpi_engine.sharing.views import saved_views
from kpi_engine.sharing.workspaces import open_workspace
from kpi_engine.store import Store
from kpi_engine.time_zone import time_zone
from tests.conftest import FIXTURES

LEGACY = FIXTURES / "legacy" / "kpilab-before-issue-25.duckdb"
META = json.loads(Path(str(LEGACY) + ".json").read_text())


@pytest.fixture
def old_file(tmp_path) -> Path:
    path = tmp_path / "kpilab.duckdb"
    with gzip.open(str(LEGACY) + ".gz") as packed, open(path, "wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def _same(a, b, path="") -> list[str]:
    """Where two result documents differ (floats at 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        added = {k for k in set(a) - set(b) if a[k] in (None, [], {}, False)}  # newer fields
        keys = (set(a) | set(b)) - added
        return [m for k in sorted(keys) for m in _same(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [m for i, (x, y) in enumerate(zip(a, b, strict=True)) for m in _same(x, y, path)]
    if isinstance(a, float) and isinstance(b, float):
        return [] if a == pytest.approx(b, rel=1e-9, abs=1e-12) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _check_everything_came_over(store: Store) -> None:
    assert [(d.name, d.rows) for d in store.datasets()] == [("tiny", 5)]
    browser = open_workspace(store, META["workspace_token"])
    assert browser is not None  # the private link still opens the workspace
    assert {d.name: d.rows for d in browser.datasets()} == META["datasets"]["browser"]
    assert browser.presets() == {"my preset": {"Cost": "spend"}}
    assert [k.id for k in saved_custom(browser)] == ["net_margin"]
    assert [t.kpi for t in targets(browser, browser.dataset("campaigns"))] == ["spend"]
    assert time_zone(browser) == "Europe/Berlin"
    assert [v["name"] for v in saved_views(browser)] == [META["view"]]
    assert saved_views(browser)[0]["problem"] is None
    assert [w.watch_id for w in list_watches(browser)] == [META["watch"]]
    revoked = [s for s in list_shares(browser) if s["revoked"]]
    assert [s["share_id"] for s in revoked] == [META["revoked_share_id"]]
    for page, token in META["links"].items():
        shown = open_share(store, token).result.to_dict()
        assert not _same(shown, META["expected"][page]), (
            page,
            _same(shown, META["expected"][page]),
        )
    old_kind = open_share(store, META["snapshot_link"])  # it kept rows, now its result
    assert [c.kpi for c in old_kind.result.cards] == ["spend", "roas"]
    assert {r["channel"] for r in old_kind.result.rows} >= {"Google Ads", "Meta Ads"}
    for dataset in browser.datasets():  # the rows are there, as Parquet
        assert Path(dataset.location).exists() and len(browser.preview(dataset.dataset_id)) > 0


def test_the_first_start_on_an_old_file_moves_everything_over(old_file):
    """``--db OLD.duckdb`` (or KPILAB_DB): the state goes to OLD.sqlite beside it."""
    before = old_file.read_bytes()
    store = Store(old_file)
    assert store.path == str(old_file.with_suffix(".sqlite"))
    _check_everything_came_over(store)
    store.close()
    again = Store(old_file)  # a second start moves nothing twice
    assert len(again.datasets()) == 1
    _check_everything_came_over(again)
    again.close()
    assert old_file.read_bytes() == before  # the old file is only read: a backup


def test_the_migrate_command(old_file, tmp_path, capsys):
    target = tmp_path / "new" / "state.sqlite"
    code = main(["migrate", "--from", str(old_file), "--db", str(target), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["moved"]["datasets"] == 3 and out["moved"]["shares"] == 5
    store = Store(target)
    _check_everything_came_over(store)
    store.close()
    assert main(["migrate", "--from", str(tmp_path / "nothing.duckdb"), "--db", str(target)]) == 2


def test_migrating_into_either_database(old_file, state_store):
    """The same move into a SQLite file or a team's Postgres."""
    from kpi_engine.legacy import migrate_from

    counts = migrate_from(state_store, old_file)
    assert counts["datasets"] == 3 and counts["watches"] == 1
    _check_everything_came_over(state_store)
