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
    return str(tmp_path / "cli.sqlite")


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
        "CPA: 8.53",  # the total, then the breakdown, numbers as the page writes them
        "Campaign\tcpa",
        "Brand\t7.00",
        "Prospecting\t20.00",
    ]
    euros = FIXTURES / "import" / "multi_currency.csv"
    assert main(["import", str(euros), "--db", db]) == 0
    capsys.readouterr()
    assert main(["kpis", "multi_currency", "--kpi", "spend", "--currency", "EUR", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == ["Spend: €80.00"]


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
            "--by names no column",
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


CORPUS = FIXTURES / "import"


def test_import_with_mapping_preset_and_append(capsys, db):
    bom = str(CORPUS / "utf8_bom.csv")
    code, result, _ = run(
        capsys,
        "import",
        bom,
        "--map",
        "Spend=revenue",
        "--map",
        "Clicks=ignore",
        "--save-preset",
        "mine",
        "--db",
        db,
        "--json",
    )
    assert code == 0 and result["columns"] == {
        "Date": "date",
        "Campaign": "campaign",
        "Spend": "revenue",
    }
    code, presets, _ = run(capsys, "presets", "--db", db, "--json")
    assert presets["saved"] == {
        "mine": {"Date": "date", "Campaign": "campaign", "Spend": "revenue", "Clicks": "ignore"}
    }
    assert "google_ads" in presets["platforms"]
    code, again, _ = run(capsys, "import", bom, "--preset", "mine", "--db", db, "--json")
    assert again["columns"]["Spend"] == "revenue"
    code, appended, _ = run(
        capsys,
        "import",
        bom,
        "--preset",
        "mine",
        "--append",
        result["dataset_id"],
        "--db",
        db,
        "--json",
    )
    assert appended["dataset_id"] == result["dataset_id"]
    assert appended["rows"] == 2 and appended["rows_replaced"] == 2  # same dates and campaigns


def test_inspect_stores_nothing(capsys, db):
    code, plan, _ = run(
        capsys, "inspect", str(CORPUS / "google_ads_preamble_totals.csv"), "--db", db, "--json"
    )
    assert code == 0 and plan["platform"] == "google_ads" and plan["delimiter"] == ","
    roles = {c["column"]: (c["role"], c["confidence"]) for c in plan["columns"]}
    assert roles["Impr."] == ("impressions", 1.0)
    code, listed, _ = run(capsys, "datasets", "--db", db, "--json")
    assert listed == {"datasets": []}


def test_currency_split_and_filter(capsys, db):
    run(capsys, "import", str(CORPUS / "multi_currency.csv"), "--db", db)
    code, split, _ = run(capsys, "kpis", "multi_currency", "--kpi", "spend", "--db", db, "--json")
    assert split["rows"] == [
        {"currency": "EUR", "spend": 80.0},
        {"currency": "USD", "spend": 150.0},
    ]
    code, usd, _ = run(
        capsys,
        "kpis",
        "multi_currency",
        "--kpi",
        "spend",
        "--currency",
        "USD",
        "--db",
        db,
        "--json",
    )
    assert usd["rows"] == [{"spend": 150.0}]


@pytest.mark.parametrize(
    "args, message",
    [
        (["import", str(CORPUS / "utf8_bom.csv"), "--map", "Spend"], "needs the form SOURCE=ROLE"),
        (["import", str(CORPUS / "utf8_bom.csv"), "--map", "Spend=money"], "unknown role 'money'"),
        (["import", str(CORPUS / "utf8_bom.csv"), "--preset", "nope"], "unknown preset 'nope'"),
        (["import", str(CORPUS / "workbook_two_sheets.xlsx"), "--sheet", "Nope"], "has no sheet"),
        (
            ["import", str(CORPUS / "utf8_bom.csv"), "--append", "x", "--replace", "y"],
            "not allowed with argument",
        ),
        (["import", str(CORPUS / "nul_bytes.csv")], "contains NUL bytes"),
    ],
)
def test_bad_import_options_exit_2(capsys, db, args, message):
    code = main([*args, "--db", db])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_catalog_json(capsys):
    assert main(["catalog", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["kpis"]) >= 30
    assert set(doc["kpis"][0]) >= {
        "id",
        "name",
        "family",
        "formula",
        "unit",
        "direction",
        "description",
        "requires",
    }


def test_custom_kpis(capsys, db):
    main(["import", TINY, "--db", db])
    capsys.readouterr()
    code, result, _ = run(
        capsys,
        "kpis",
        "tiny_campaigns",
        "--kpi",
        "spend",
        "--custom",
        "net=(sum(revenue) - sum(spend)) / sum(revenue)",
        "--by",
        "campaign",
        "--db",
        db,
        "--json",
    )
    assert code == 0
    assert result["rows"][0] == {
        "campaign": "Brand",
        "spend": 105.0,
        "net": pytest.approx((700 - 105) / 700),
    }


@pytest.mark.parametrize(
    "custom, message",
    [
        ("net=sum(spend); DROP TABLE datasets", "unexpected character ';' at position 11"),
        ("net=sum(spend", "expected ')'"),
        ("net=avg(revenue) / 2", "'avg' is not an aggregate"),
        ("net=sum(nope)", "needs the column 'nope'"),
        ("1bad=sum(spend)", "use letters, digits and _"),
        ("roas=sum(spend)", "already a catalog KPI"),
        ("no formula here", "needs the form NAME=FORMULA"),
    ],
)
def test_hostile_or_wrong_custom_formulas_exit_2(capsys, db, custom, message):
    main(["import", TINY, "--db", db])
    capsys.readouterr()
    code = main(["kpis", "tiny_campaigns", "--custom", custom, "--db", db])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_prune_reports_what_it_removed(capsys, db):
    code, result, _ = run(capsys, "prune", "--older-than-days", "30", "--db", db, "--json")
    assert code == 0 and result == {"removed": 0, "kept": 0, "files_swept": 0}
    code, _, err = run(capsys, "prune", "--older-than-days", "-2", "--db", db)
    assert code == 2 and err.count("\n") == 1 and "0 or more" in err


def test_a_deeply_nested_view_is_one_line(capsys, db, tmp_path):
    """json.load raised an uncaught RecursionError (issue 24)."""
    view = tmp_path / "nested.json"
    view.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["import", str(FIXTURES / "tiny_campaigns.csv"), "--name", "t", "--db", db]) == 0
    capsys.readouterr()
    assert main(["share", "create", "t", "--view", str(view), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--help"], ["budget", "--help"], ["budget", "--nonsense"]])
def test_help_and_a_wrong_flag_import_no_heavy_library(argv):
    """`python -m kpi_engine --help` answers before scipy, plotly, pandas or the databases load."""
    code = (
        "import sys\n"
        "from kpi_engine.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = ('scipy', 'plotly', 'pandas', 'pyspark', 'duckdb', 'sqlalchemy', 'streamlit')\n"
        "print('LOADED', *[m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, timeout=60
    )
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("LOADED"))
    assert loaded == "LOADED"


def test_a_replacement_without_the_datasets_metrics_needs_force(capsys, db, tmp_path):
    code, first, _ = run(capsys, "import", TINY, "--name", "Tiny", "--db", db, "--json")
    thin = tmp_path / "thin.csv"
    thin.write_text("Day,Campaign,Clicks\n2026-03-20,Brand,2\n")
    code, _, err = run(capsys, "import", str(thin), "--replace", "Tiny", "--db", db, "--json")
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    code, replaced, _ = run(
        capsys, "import", str(thin), "--replace", "Tiny", "--force", "--db", db, "--json"
    )
    assert code == 0 and replaced["rows"] == 1 and replaced["dataset_id"] == first["dataset_id"]


def test_notes_on_the_timeline_from_the_command_line(capsys, db):
    assert main(["import", TINY, "--name", "Tiny", "--db", db]) == 0
    capsys.readouterr()
    code, made, _ = run(
        capsys, "note", "add", "Tiny", "Summer sale", "--on", "2026-03-02:2026-03-03",
        "--exclude", "--db", db, "--json",
    )  # fmt: skip
    assert code == 0 and made["start"] == "2026-03-02" and made["exclude"] is True
    code, listed, _ = run(capsys, "note", "list", "Tiny", "--db", db, "--json")
    assert [n["text"] for n in listed["notes"]] == ["Summer sale"]
    code, _, err = run(capsys, "note", "add", "Tiny", " ", "--on", "2026-03-02", "--db", db)
    assert code == 2 and "is empty" in err
    assert main(["note", "remove", made["annotation_id"], "--db", db]) == 0
    assert f"removed {made['annotation_id']}" in capsys.readouterr().out
