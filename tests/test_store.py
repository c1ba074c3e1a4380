import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.state.schema import presets
from kpi_engine.store import Store
from tests.conftest import FIXTURES
from tests.conftest import rows as stored_rows

TINY = FIXTURES / "tiny_campaigns.csv"


def test_datasets_survive_reopening_the_file(tmp_path):
    path = tmp_path / "ws.sqlite"
    first = Store(path)
    imported = import_file(first, TINY).dataset
    first.close()
    again = Store(path)
    (dataset,) = again.datasets()
    assert dataset.dataset_id == imported.dataset_id
    assert dataset.rows == 5 and dataset.roles["spend"] == "Cost"
    assert len(again.preview(dataset.dataset_id)) == 5
    again.close()


def test_kpilab_db_environment_variable_sets_the_path(tmp_path, monkeypatch):
    monkeypatch.delenv("KPILAB_DATABASE_URL", raising=False)
    monkeypatch.delenv("KPILAB_DATA_DIR", raising=False)
    monkeypatch.setenv("KPILAB_DB", str(tmp_path / "env.sqlite"))
    store = Store()
    assert store.path == str(tmp_path / "env.sqlite")
    assert store.data.root == str(tmp_path / "env-data")
    import_file(store, TINY)
    store.close()
    assert (tmp_path / "env.sqlite").exists() and list((tmp_path / "env-data").rglob("*.parquet"))


def test_memory_limit_is_set(monkeypatch):
    from kpi_engine.ingest.staging import sniffing

    monkeypatch.setenv("KPILAB_MEMORY_LIMIT", "1GB")
    with sniffing() as cur:
        (limit,) = cur.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit.startswith("953") or limit.startswith("1.0")  # 1GB = 953.6 MiB
    monkeypatch.setenv("KPILAB_MEMORY_LIMIT", "lots")
    with pytest.raises(KpiLabError, match="not valid"):
        with sniffing():
            pass


def test_rename_delete_and_lookup_by_name(store):
    dataset = import_file(store, TINY, name="Q1 search").dataset
    assert store.dataset("q1 search").dataset_id == dataset.dataset_id
    renamed = store.rename(dataset.dataset_id, "  Q1   paid  ")
    assert renamed.name == "Q1 paid"
    other = import_file(store, TINY, name="Other").dataset
    with pytest.raises(KpiLabError, match="already named"):
        store.rename(other.dataset_id, "q1 PAID")
    with pytest.raises(KpiLabError, match="cannot be empty"):
        store.rename(other.dataset_id, "   ")
    store.delete(dataset.dataset_id)
    assert [d.name for d in store.datasets()] == ["Other"]
    assert store.sweep(older_than=0) == [dataset.location.removeprefix(store.data.root + "/")]
    assert Path(other.location).exists() and not Path(dataset.location).exists()


def test_duplicate_names_get_a_suffix(store):
    names = [import_file(store, TINY, name="Report").dataset.name for _ in range(3)]
    assert names == ["Report", "Report (2)", "Report (3)"]


def test_unknown_dataset_message_lists_known_ones(store):
    import_file(store, TINY, name="Known")
    with pytest.raises(
        KpiLabError, match=r"unknown dataset 'nope': known datasets are ds_\w+ \(Known\)"
    ):
        store.dataset("nope")


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            store.set_setting(conn, "k", "v")
            conn.execute(insert(presets).values(workspace="default", name="p", mapping="{}",
                                                created_at=datetime.now()))  # fmt: skip
            raise RuntimeError("boom")
    assert store.setting("k") is None and store.presets() == {}


def test_a_second_process_works_on_the_same_store_at_once(tmp_path):
    """Before the state database, a second process was refused ("the database is in use")."""
    import subprocess
    import sys

    path = tmp_path / "shared.sqlite"
    holder = Store(path)
    mine = import_file(holder, TINY, name="mine").dataset
    code = (
        "from kpi_engine.store import Store\n"
        "from kpi_engine.ingest import import_file\n"
        f"s = Store({str(path)!r})\n"
        f"import_file(s, {str(TINY)!r}, name='theirs')\n"
        "print(sorted(d.name for d in s.datasets()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['mine', 'theirs']"
    assert sorted(d.name for d in holder.datasets()) == ["mine", "theirs"]
    assert len(holder.preview("theirs")) == 5 and holder.dataset("mine") == mine
    holder.close()


def _at_once(work, threads: int = 8) -> list[Exception]:
    """Run ``work`` on that many threads released together; the exceptions they raised."""
    gate = threading.Barrier(threads)
    errors: list[Exception] = []

    def run():
        try:
            gate.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


def test_reads_from_many_threads_share_one_store(store):
    dataset = import_file(store, TINY).dataset

    def read():
        for _ in range(20):
            assert store.dataset(dataset.dataset_id).rows == 5
            assert len(store.preview(dataset.dataset_id, 3)) == 3

    assert _at_once(read) == []


def test_sessions_at_once_on_a_new_database(tmp_path):
    """The first sessions on a new database arrive together: none may fail."""
    from kpi_engine.kpis.custom import saved_custom
    from kpi_engine.sharing.links import list_shares
    from kpi_engine.sharing.views import saved_views
    from kpi_engine.sharing.workspaces import create_workspace

    root = Store(tmp_path / "new.sqlite")

    def session():
        store, _ = create_workspace(root)
        saved_custom(store)
        list_shares(store)
        saved_views(store)

    errors = _at_once(session)
    root.close()
    assert errors == []


def test_appends_at_once_all_land(store, write_csv):
    """Each append writes a new version from the one it read; the registry takes a version
    only over the one it was made from, so a loser is done again on top of the winner."""
    from kpi_engine.ingest import ImportOptions

    dataset = import_file(store, TINY, name="base").dataset
    files = [
        write_csv(f"Day,Campaign,Cost\n2026-04-{day:02d},Brand,{day}\n", f"day{day}.csv")
        for day in range(1, 7)
    ]
    works = iter(files)
    lock = threading.Lock()

    def append():
        with lock:
            path = next(works)
        import_file(store, path, options=ImportOptions(append=dataset.dataset_id))

    assert _at_once(append, threads=6) == []
    days = {str(d)[:10] for (d,) in stored_rows(store, store.dataset("base"), _days(store))}
    assert {f"2026-04-{day:02d}" for day in range(1, 7)} <= days
    assert store.dataset("base").rows == 5 + 6


def _days(store) -> str:
    return f"SELECT DISTINCT Day FROM {store.dataset('base').table}"
