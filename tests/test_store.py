import threading

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.store import Store
from tests.conftest import FIXTURES

TINY = FIXTURES / "tiny_campaigns.csv"


def test_datasets_survive_reopening_the_file(tmp_path):
    path = tmp_path / "ws.duckdb"
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
    monkeypatch.setenv("KPILAB_DB", str(tmp_path / "env.duckdb"))
    store = Store()
    assert store.path == str(tmp_path / "env.duckdb")
    store.close()
    assert (tmp_path / "env.duckdb").exists()


def test_memory_limit_is_set(monkeypatch):
    monkeypatch.setenv("KPILAB_MEMORY_LIMIT", "1GB")
    store = Store(":memory:")
    with store.cursor() as cur:
        (limit,) = cur.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit.startswith("953") or limit.startswith("1.0")  # 1GB = 953.6 MiB
    with pytest.raises(KpiLabError, match="not valid"):
        Store(":memory:", memory_limit="lots")


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
    with store.cursor() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert dataset.dataset_id not in tables


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
        with store.transaction() as cur:
            cur.execute("CREATE TABLE half (x INT)")
            cur.execute("INSERT INTO meta VALUES ('k', 'v')")
            raise RuntimeError("boom")
    with store.cursor() as cur:
        assert cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half'"
        ).fetchone() == (0,)
    assert store.get_meta("k") is None


def test_second_process_gets_a_clear_message(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    holder = Store(path)
    code = (
        "from kpi_engine.store import Store\n"
        "from kpi_engine.errors import KpiLabError\n"
        f"try:\n    Store({str(path)!r})\nexcept KpiLabError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    holder.close()
    assert "in use by another process" in out.stdout


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
    """The first sessions on a new database arrive together: none may fail creating a table
    another is creating (DuckDB's catalog write-write conflict, seen with 20 users)."""
    from kpi_engine.kpis.custom import saved_custom
    from kpi_engine.sharing.links import list_shares
    from kpi_engine.sharing.views import saved_views
    from kpi_engine.sharing.workspaces import create_workspace

    root = Store(tmp_path / "new.duckdb")

    def session():
        store, _ = create_workspace(root)
        saved_custom(store)
        list_shares(store)
        saved_views(store)

    errors = _at_once(session)
    root.close()
    assert errors == []


def test_two_changes_to_the_same_rows_at_once_get_a_message(store):
    dataset = import_file(store, FIXTURES / "tiny_campaigns.csv").dataset
    with pytest.raises(KpiLabError, match="at the same moment"):
        with store.transaction() as first:
            first.execute(
                "UPDATE datasets SET name = 'one' WHERE dataset_id = ?", [dataset.dataset_id]
            )
            with store.transaction() as second:
                second.execute(
                    "UPDATE datasets SET name = 'two' WHERE dataset_id = ?", [dataset.dataset_id]
                )
    assert store.dataset(dataset.dataset_id).name == dataset.name  # neither was saved
