"""``attach`` end to end: a Parquet copy of a CSV, attached on Spark, answers ``kpis``,
``experiment`` and ``budget --json`` exactly as the CSV imported; the rows of an attached
dataset cannot be changed; known differences between the engines are caught or stated."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import duckdb
import pytest

from kpi_engine.cli import main
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it

IGNORED = {"dataset_id", "name", "source_file", "engine", "created_at", "imported_at", "action"}


def _cli(db: Path, *args: str) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--db", str(db), "--json"])
    return code, (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()


def _mismatches(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - IGNORED
        return [m for k in sorted(keys) for m in _mismatches(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            m
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for m in _mismatches(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, (int, float)):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.fixture(scope="module")
def twins(lake, tmp_path_factory) -> Path:
    """A workspace file with each sample both imported (``X``) and attached (``lake X``)
    through the command line."""
    db = tmp_path_factory.mktemp("cli") / "ws.sqlite"
    for name in ("campaigns", "campaign_test", "users"):
        code, doc, err = _cli(db, "import", str(lake.csv[name]), "--name", name)
        assert code == 0, err
        parquet = lake.folder / f"{name}.parquet"
        code, attached, err = _cli(
            db, "attach", str(parquet), "--engine", "spark", "--name", f"lake {name}"
        )
        assert code == 0, err
        assert attached["engine"] == "spark" and attached["action"] == "attach"
        for key in ("dataset_id", "name", "rows", "columns", "kind", "currencies", "warnings"):
            assert key in attached
        assert not _mismatches(doc, attached, "import")
    return db


@pytest.mark.parametrize(
    "command",
    [
        (
            "kpis",
            "campaigns",
            "--kpi",
            "spend",
            "--kpi",
            "roas",
            "--kpi",
            "cpa",
            "--by",
            "campaign",
            "--grain",
            "week",
            "--filter",
            "channel=Google Ads,Meta Ads",
        ),
        (
            "experiment",
            "campaign_test",
            "--variant-col",
            "variant",
            "--control",
            "A",
            "--kpi",
            "cpa",
            "--kpi",
            "roas",
            "--sequential",
        ),
        (
            "experiment",
            "users",
            "--variant-col",
            "variant",
            "--control",
            "control",
            "--kpi",
            "conversion_rate",
            "--kpi",
            "revenue_per_user",
            "--cuped",
            "--cap",
            "revenue_per_user=p99",
        ),
        (
            "budget",
            "campaigns",
            "--bootstrap",
            "100",
            "--seed",
            "7",
            "--days",
            "28",
            "--suggest-test",
        ),
    ],
    ids=["kpis", "experiment on days", "experiment on users", "budget"],
)
def test_commands_answer_the_same_on_the_attached_copy(twins, command):
    name, dataset, *flags = command
    code, imported, err = _cli(twins, name, dataset, *flags)
    assert code == 0, err
    code, attached, err = _cli(twins, name, f"lake {dataset}", *flags)
    assert code == 0, err
    assert not _mismatches(imported, attached)


def test_the_rows_of_an_attached_dataset_cannot_be_changed(twins, lake):
    for flag in ("--append", "--replace"):
        code, _, err = _cli(twins, "import", str(lake.csv["campaigns"]), flag, "lake campaigns")
        assert code == 2 and "only reads it" in err and "Traceback" not in err
    store = Store(twins)
    try:
        dataset = store.dataset("lake campaigns")
        with pytest.raises(KpiLabError, match="only reads it"):
            import_file(
                store, lake.csv["campaigns"], options=ImportOptions(append="lake campaigns")
            )
        store.delete(dataset.dataset_id)  # forgets it here; the lake keeps its rows
        assert all(d.dataset_id != dataset.dataset_id for d in store.datasets())
    finally:
        store.close()
    assert (lake.folder / "campaigns.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("/nowhere/at/all.parquet",), "not inside a folder this server allows"),
        (("{folder}/nowhere.parquet",), "does not exist"),
        (("x.parquet", "--table", "main.sales"), "not both"),
        (("--table", "bad name; drop"), "is not a table name"),
        (("{folder}/campaigns.parquet", "--map", "campaign=spend"), "is not a number column"),
        (("{folder}/campaigns.parquet", "--map", "spend=date"), "not a date"),
        (("{folder}/campaigns.parquet", "--format", "csv"), "no metric column"),
    ],
)
def test_bad_attach_input_is_one_clear_line(lake, tmp_path, args, message):
    args = [a.replace("{folder}", str(lake.folder)) for a in args]
    code, _, err = _cli(tmp_path / "ws.sqlite", "attach", *args)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_an_integer_sum_past_64_bits_is_a_clear_error_on_spark(spark_session, tmp_path):
    """DuckDB widens the sum; Spark's ANSI mode refuses it: a message, not a wrong number."""
    path = tmp_path / "big.parquet"
    duckdb.sql(
        "SELECT DATE '2026-01-01' + CAST(i AS INTEGER) AS date, 'c' AS campaign,"
        f" CAST({2**62} AS BIGINT) AS clicks FROM range(4) t(i)"
    ).write_parquet(str(path))
    store = Store(":memory:")
    dataset = attach(store, AttachOptions(path=str(path))).dataset
    with pytest.raises(KpiLabError, match="passed the largest 64-bit integer"):
        run_kpis(store, dataset, KpiQuery(("clicks",)))
    store.close()


def test_filters_on_a_number_column_round_trip_on_spark(lake):
    """Filter values are compared as text, and numbers print differently on the engines
    (10000000.0 on DuckDB, 1.0E7 on Spark): each engine offers the values it then matches."""
    _, remote = lake.pairs["campaigns"]
    store = lake.store
    values = store.distinct_values(remote, "impressions", 3)
    rows = run_kpis(store, remote, KpiQuery(("impressions",), filters=(("impressions", values),)))
    expected = sum(float(v) for v in values)
    assert rows["impressions"].iloc[0] >= expected


def test_views_are_not_named_by_anything_a_user_can_type(lake, spark_session):
    """All workspaces share one Spark session: a view named by its dataset id could be
    attached from another workspace as a table (issue 24)."""
    _, remote = lake.pairs["campaigns"]
    run_kpis(lake.store, remote, KpiQuery(("spend",)))
    names = {t.name for t in spark_session.catalog.listTables()}
    assert remote.dataset_id not in names
    assert any(n.startswith("kpilab_view_") and len(n) == 44 for n in names)


def _spend(sql: str, **tables) -> float:
    con = duckdb.connect()
    for name, rows in tables.items():
        con.register(name, rows)
    return float(con.execute(sql).fetchall()[0][0])


def test_a_delta_table_counts_only_its_current_files(delta_table, tmp_path):
    """Read as Parquet, the folder held 2.5x the rows; as delta, exactly the table's current
    version (delta-rs's own reading is the reference), partition column included."""
    from deltalake import DeltaTable

    current = DeltaTable(str(delta_table)).to_pyarrow_table()
    expected = _spend("SELECT sum(spend) FROM current", current=current)
    meta = _spend("SELECT sum(spend) FROM current WHERE channel = 'Meta Ads'", current=current)
    stale = _spend(f"SELECT sum(spend) FROM read_parquet('{delta_table}/**/*.parquet')")
    assert not math.isclose(stale, expected, rel_tol=1e-6)  # the folder holds removed files
    db = tmp_path / "ws.sqlite"
    code, made, err = _cli(db, "attach", str(delta_table), "--format", "delta", "--name", "d")
    assert code == 0, err
    assert made["rows"] == current.num_rows
    code, doc, err = _cli(db, "kpis", "d", "--kpi", "spend", "--by", "channel")
    assert code == 0, err
    assert math.isclose(doc["cards"][0]["value"], expected, rel_tol=1e-9)
    by_channel = {row["channel"]: row["spend"] for row in doc["rows"]}
    assert math.isclose(by_channel["Meta Ads"], meta, rel_tol=1e-9)


def test_a_delta_table_is_read_at_its_attached_version_until_read_again(lake):
    """Every process reads the version the registry holds (results are cached by it), not
    whatever the table holds when a process first asks; reading it again moves it on."""
    from deltalake import write_deltalake

    from kpi_engine.compute import spark
    from kpi_engine.ingest.attach import refresh

    table = lake.folder / "growing_delta"
    rows = duckdb.sql(f"SELECT * FROM '{lake.folder / 'campaigns.parquet'}'").to_arrow_table()
    write_deltalake(str(table), rows)
    dataset = attach(lake.store, AttachOptions(path=str(table), format="delta")).dataset
    total = run_kpis(lake.store, dataset, KpiQuery(("spend",)))["spend"].iloc[0]
    write_deltalake(str(table), rows, mode="append")
    spark.forget(dataset.dataset_id)  # as a process that has not read it yet
    assert run_kpis(lake.store, dataset, KpiQuery(("spend",)))["spend"].iloc[0] == total
    fresh = refresh(lake.store, dataset)
    assert fresh.source["version"] == dataset.source["version"] + 1
    assert fresh.rows == 2 * dataset.rows
    again = run_kpis(lake.store, fresh, KpiQuery(("spend",)))["spend"].iloc[0]
    assert math.isclose(again, 2 * total, rel_tol=1e-9)
    for file in table.glob("*.parquet"):  # the table's clean-up removes the version's files
        file.unlink()
    spark.forget(fresh.dataset_id)
    with pytest.raises(KpiLabError, match="were removed \\(VACUUM\\): read the dataset again"):
        run_kpis(lake.store, fresh, KpiQuery(("spend",)))


def test_a_delta_table_is_never_read_as_parquet(delta_table, tmp_path):
    """A Delta folder attached as Parquet read files its log had removed: 2.5x the rows."""
    for path in (str(delta_table), f"{delta_table}/*/*.parquet"):
        code, _, err = _cli(tmp_path / "ws.sqlite", "attach", path)
        assert code == 2 and "is a Delta table" in err and "--format delta" in err, err


def test_delta_tables_read_wrong_from_their_files_alone_are_refused(lake, tmp_path, monkeypatch):
    """Deletion vectors hide rows the files still hold, and a log may point outside the
    table's folder: both are one sentence, never a read."""
    from deltalake import write_deltalake

    rows = duckdb.sql(f"SELECT * FROM '{lake.folder / 'campaigns.parquet'}'").to_arrow_table()
    vectors = lake.folder / "with_vectors"
    write_deltalake(str(vectors), rows, configuration={"delta.enableDeletionVectors": "true"})
    code, _, err = _cli(tmp_path / "ws.sqlite", "attach", str(vectors), "--format", "delta")
    assert code == 2 and "deletion vectors" in err and "Traceback" not in err, err

    elsewhere = lake.folder / "pointing_out"
    write_deltalake(str(elsewhere), rows)
    log = next((elsewhere / "_delta_log").glob("*.json"))
    data = next(elsewhere.glob("*.parquet"))
    outward = log.read_text().replace(f'"path":"{data.name}"', '"path":"../campaigns.parquet"')
    log.write_text(outward)
    code, _, err = _cli(tmp_path / "ws.sqlite", "attach", str(elsewhere), "--format", "delta")
    assert code == 2 and "Traceback" not in err, err  # delta-rs keeps ".." inside the folder

    absolute = [(lake.folder / "campaigns.parquet").as_uri()]  # as a shallow clone's log would
    monkeypatch.setattr("deltalake.DeltaTable.file_uris", lambda *_: absolute)
    code, _, err = _cli(tmp_path / "ws.sqlite", "attach", str(elsewhere), "--format", "delta")
    assert code == 2 and "outside the table's folder" in err, err


def test_a_column_name_with_a_variable_reference_is_read_as_written(lake, tmp_path):
    """``spend_${env:HOME}`` became ``spend_/root`` inside quoted identifiers: the analysis
    failed and its error showed the server's environment."""
    import os

    path = lake.folder / "odd_names.parquet"
    duckdb.sql(
        "COPY (SELECT DATE '2026-01-01' + i::INT AS day, 'c' || (i % 3) AS campaign,"
        ' 10.0 + i AS "spend_${env:HOME}", 3.0 * i AS revenue FROM range(20) t(i))'
        f" TO '{path}' (FORMAT parquet)"
    )
    db = tmp_path / "ws.sqlite"
    code, made, err = _cli(db, "attach", str(path), "--map", "spend_${env:HOME}=spend")
    assert code == 0, err
    code, shown, err = _cli(db, "kpis", made["dataset_id"], "--kpi", "spend")
    assert code == 0, err
    assert shown["rows"][0]["spend"] == sum(10.0 + i for i in range(20))
    assert os.environ["HOME"] not in json.dumps(shown)


def test_attach_reports_what_an_import_reports(lake, tmp_path):
    """Rows without a date, metric cells left empty, negative spend and exact copies of
    another row: the same codes and counts from attach (counted on Spark) as from import."""
    path = lake.folder / "flawed.parquet"
    duckdb.sql(
        "COPY (SELECT CASE WHEN i < 2 THEN NULL ELSE DATE '2026-01-01' + (i % 8)::INT END"
        " AS date, 'c' AS campaign,"
        " CASE WHEN i = 3 THEN NULL WHEN i = 4 THEN -5.0 ELSE 10.0 + (i % 8) END AS spend,"
        " (i % 8) * 2 AS clicks FROM range(12) t(i))"
        f" TO '{path}' (FORMAT parquet)"
    )
    db = tmp_path / "ws.sqlite"
    code, attached, err = _cli(db, "attach", str(path))
    assert code == 0, err
    code, imported, err = _cli(db, "import", str(path), "--name", "flawed copy")
    assert code == 0, err
    codes = {w["code"]: w["count"] for w in attached["warnings"]}
    # rows 8-11 have the days and spends of rows 0-3, but only row 10 equals one (row 2):
    # rows 0 and 1 have no date, and row 3 no spend
    assert codes == {
        "missing_date": 2, "missing_spend": 1, "negative_spend": 1, "duplicate_rows": 1,
    }  # fmt: skip
    from_import = {w["code"]: w["count"] for w in imported["warnings"]}
    assert {k: from_import.get(k) for k in codes} == codes


def test_spark_draws_no_progress_bars_on_stderr(spark_session):
    """The driver draws "[Stage 0:====>" bars on the process's stderr unless told not to
    (a query must run over half a second to draw one, so the setting itself is checked)."""
    conf = spark_session.sparkContext.getConf()
    assert conf.get("spark.ui.showConsoleProgress") == "false"
