"""The command line contract: JSON shapes, exit status 2 and one line for bad input."""

import json
import subprocess
import sys

import pytest

from kpi_engine.cli import main
from tests.conftest import FIXTURES, PROJECT

TINY = str(FIXTURES / "tiny_campaigns.csv")


def run(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() and "--json" in args else None), err


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.duckdb")


def test_import_datasets_kpis_as_a_script_would(db):
    def cli(*args):
        done = subprocess.run(
            [sys.executable, "-m", "kpi_engine", *args, "--db", db, "--json"],
            capture_output=True,
            text=True,
            cwd=PROJECT,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    imported = cli("import", TINY, "--name", "Tiny")
    assert set(imported) >= {"dataset_id", "name", "rows", "columns", "warnings"}
    assert imported["name"] == "Tiny" and imported["rows"] == 5
    assert imported["columns"]["Cost"] == "spend"
    assert [w["code"] for w in imported["warnings"]] == ["date_gaps"]
    listed = cli("datasets")["datasets"]
    assert [(d["dataset_id"], d["name"], d["rows"]) for d in listed] == [
        (imported["dataset_id"], "Tiny", 5)
    ]
    totals = cli("kpis", "Tiny", "--kpi", "spend", "--kpi", "cpa")["rows"]
    assert totals == [{"spend": 145.0, "cpa": pytest.approx(145 / 17)}]


def test_kpis_by_columns_and_dates(capsys, db):
    code, imported, _ = run(capsys, "import", TINY, "--db", db, "--json")
    code, result, _ = run(
        capsys,
        "kpis",
        imported["dataset_id"],
        "--kpi",
        "cpa",
        "--kpi",
        "clicks",
        "--by",
        "campaign",
        "--by",
        "Channel",
        "--start",
        "2026-03-02",
        "--end",
        "2026-03-31",
        "--db",
        db,
        "--json",
    )
    assert code == 0
    assert result["rows"] == [
        {"campaign": "Brand", "Channel": "Search", "cpa": pytest.approx(55 / 5), "clicks": 110.0},
        {"campaign": "Prospecting", "Channel": "Social", "cpa": None, "clicks": 0.0},
    ]


def test_human_output(capsys, db):
    assert main(["import", TINY, "--db", db]) == 0
    assert "imported 5 rows as tiny_campaigns" in capsys.readouterr().out
    assert main(["kpis", "tiny_campaigns", "--kpi", "cpa", "--by", "Campaign", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Campaign\tcpa",
        "Brand\t7.0",
        "Prospecting\t20.0",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["import", "/no/such/file.csv"], "no such file"),
        (["kpis", "nope", "--kpi", "ctr"], "unknown dataset 'nope'"),
        (["kpis", "tiny_campaigns", "--kpi", "ctrr"], "unknown KPI 'ctrr'"),
        (["kpis", "tiny_campaigns"], "--kpi"),
        (["kpis", "tiny_campaigns", "--kpi", "ctr", "--start", "03/01/2026"], "not a date"),
        (
            ["kpis", "tiny_campaigns", "--kpi", "ctr", "--by", 'x"; DROP TABLE datasets; --'],
            "has no column",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, db, args, message):
    main(["import", TINY, "--db", db])
    capsys.readouterr()
    code = main([*args, "--db", db])
    out, err = capsys.readouterr()
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_file_through_a_real_process_has_no_traceback(tmp_path, db):
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    done = subprocess.run(
        [sys.executable, "-m", "kpi_engine", "import", str(bad), "--db", db],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr.startswith("error: photo.csv is not a text CSV")
        and "Traceback" not in done.stderr
    )
